/**
 * Shared machinery for the security suite (issue 6): the live OpenAPI operations, a sampler that
 * builds schema-valid request bodies from them (so a refusal is the handler's decision, not the
 * validator's), a dump of every table of the store for before/after comparisons and secret scans,
 * and the leak detector used on response bodies and logs.
 */
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Harness } from '../support/harness.js';

export type Role = 'platform-admin' | 'team-admin' | 'host' | 'guest';
/** Lowest first (src/api/auth.ts). */
export const roleOrder: Role[] = ['guest', 'host', 'team-admin', 'platform-admin'];
export const rank = (r: Role) => roleOrder.indexOf(r);

export const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export interface Operation {
  method: string; // upper case
  path: string; // OpenAPI form: /v1/bookings/{id}
  key: string; // "GET /v1/bookings/{id}"
  pathParams: string[];
  query: { name: string; required: boolean; schema: any }[];
  bodySchema: any | null;
  secured: boolean;
}

/** Every operation of the live document, as served by the harness (GET /openapi.json, no key). */
export async function liveOperations(h: Harness): Promise<Operation[]> {
  const res = await fetch(`${h.baseUrl}/openapi.json`);
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { paths: Record<string, Record<string, any>> };
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const params = (op.parameters ?? []) as { in: string; name: string; required?: boolean; schema: any }[];
      ops.push({
        method: m.toUpperCase(),
        path,
        key: `${m.toUpperCase()} ${path}`,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((x) => x[1]),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, required: !!p.required, schema: p.schema })),
        bodySchema: op.requestBody?.content?.['application/json']?.schema ?? null,
        secured: Array.isArray(op.security) && op.security.some((s: Record<string, unknown>) => 'bearerAuth' in s),
      });
    }
  }
  // Sanity: the document is the real one, not an empty shell.
  expect(ops.length).toBeGreaterThan(80);
  return ops;
}

export const fillPath = (path: string, values: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for {${name}} in ${path}`);
    return encodeURIComponent(v);
  });

// Request bodies ------------------------------------------------------------------------------

/** A property that names another object (`spaceId`, `inviteeIds`, `organisationId`, …). */
export const isIdName = (name: string) => /(^id$|Id$|Ids$)/.test(name);

export interface SampleContext {
  /** The id to put in a property named like an id, or undefined to leave an optional one out. */
  ref(name: string): string | undefined;
}

/**
 * A minimal value that satisfies `schema`: required properties, plus every property that names an
 * object (filled through `ctx.ref`). Enums take their first value; strings honour min/max length.
 */
export function sample(schema: any, name: string, ctx: SampleContext): unknown {
  if (!schema) return undefined;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return sample(alternatives.find((s: any) => s.type !== 'null') ?? alternatives[0], name, ctx);
  if (schema.enum) return schema.enum[0];
  if ('const' in schema) return schema.const;
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  if (type === 'string') {
    if (isIdName(name)) {
      const ref = ctx.ref(name);
      if (ref !== undefined) return ref;
    }
    if (schema.format === 'email') return 'someone@example.com';
    if (schema.format === 'uri') return 'https://example.com/';
    if (schema.format === 'date-time') return new Date(Date.now() + 3_600_000).toISOString();
    return 'sample'.padEnd(schema.minLength ?? 1, 'x').slice(0, schema.maxLength ?? 200);
  }
  if (type === 'integer' || type === 'number') return schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
  if (type === 'boolean') return false;
  if (type === 'array') {
    if (/Ids$/.test(name)) {
      const ref = ctx.ref(name);
      return ref === undefined ? [] : [ref];
    }
    const itemNamesObjects = schema.items?.properties && Object.keys(schema.items.properties).some(isIdName);
    if ((schema.minItems ?? 0) > 0 || itemNamesObjects) return [sample(schema.items, name.replace(/s$/, ''), ctx)];
    return [];
  }
  if (type === 'object' || schema.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, s] of Object.entries<any>(schema.properties ?? {})) {
      const required = (schema.required ?? []).includes(k);
      // Optional properties only when they name an object the context knows.
      if (!required && (!isIdName(k) || ctx.ref(k) === undefined)) continue;
      const v = sample(s, k, ctx);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return undefined;
}

/** Names of every id-like property in a body schema (to tell whether a body can name another tenant's object). */
export function idProperties(schema: any, prefix = ''): string[] {
  if (!schema) return [];
  const out: string[] = [];
  for (const [k, s] of Object.entries<any>(schema.properties ?? {})) {
    if (isIdName(k)) out.push(prefix + k);
    if (s?.type === 'array' && s.items?.properties) out.push(...idProperties(s.items, `${prefix}${k}[].`));
  }
  return out;
}

// The store -----------------------------------------------------------------------------------

/**
 * Tables left out of before/after comparisons: the brute-force counters and provider rate buckets
 * (src/store/rate-limits.ts) change with every request or provider call by design and hold no
 * tenant data. The secret scans still read them.
 */
export const volatileTables = (name: string) => /^rate_/.test(name) || /^kysely_/.test(name);

export async function tableNames(h: Harness): Promise<string[]> {
  const db = h.app.store.db;
  const rows =
    h.app.store.dialect === 'postgres'
      ? (await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`.execute(db)).rows
      : (await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(db)).rows;
  return rows.map((r) => r.name).sort();
}

const stringify = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : Buffer.isBuffer(x) ? x.toString('hex') : x));

/** Every row of every table (column names as the store returns them, camelCase), rows sorted. */
export async function dumpStore(h: Harness, opts: { includeVolatile?: boolean } = {}): Promise<Record<string, Record<string, unknown>[]>> {
  const db = h.app.store.db;
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const name of await tableNames(h)) {
    if (!opts.includeVolatile && volatileTables(name)) continue;
    const rows = (await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(name)}`.execute(db)).rows;
    out[name] = rows.map((r) => JSON.parse(stringify(r))).sort((a, b) => (stringify(a) < stringify(b) ? -1 : 1));
  }
  return out;
}

/** Tables (with a sample of rows) that differ between two dumps; empty when equal. */
export function storeDiff(before: Record<string, unknown[]>, after: Record<string, unknown[]>): string[] {
  const diffs: string[] = [];
  for (const t of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = (before[t] ?? []).map(stringify);
    const b = (after[t] ?? []).map(stringify);
    if (a.join('\n') === b.join('\n')) continue;
    const gone = a.filter((x) => !b.includes(x));
    const added = b.filter((x) => !a.includes(x));
    diffs.push(`${t}: -${gone.slice(0, 2).join(' -')} +${added.slice(0, 2).join(' +')}`.slice(0, 1500));
  }
  return diffs;
}

/** The same dump without the rows of one organisation (for writes that legitimately act in the caller's own). */
export function withoutOrganisation(dump: Record<string, Record<string, unknown>[]>, organisationId: string) {
  return Object.fromEntries(Object.entries(dump).map(([t, rows]) => [t, rows.filter((r) => r.organisationId !== organisationId && r.id !== organisationId)]));
}

// Leaks ---------------------------------------------------------------------------------------

/**
 * Whether `text` contains `secret`. An all-digit secret (a PIN, a provider's 6-digit code) counts
 * only as a word of its own — not next to another letter or digit — so it is not "found" by
 * coincidence inside a timestamp, a hex digest or base64 ciphertext. Written anywhere as itself
 * (a JSON value, "PIN: 12345678", a URL segment) it is found.
 */
export function contains(text: string, secret: string): boolean {
  if (/^\d+$/.test(secret)) return new RegExp(`(?<![0-9A-Za-z])${secret}(?![0-9A-Za-z])`).test(text);
  return text.includes(secret);
}

/** The plain text and the encodings a careless implementation might store or log instead. */
export function encodings(secret: string): string[] {
  const out = [secret];
  // A prefixed secret (lsk_…, whsec_…, sk_live_…) without its prefix.
  const prefixed = /^[a-z][a-z0-9]*_(?:[a-z]+_)?(.{16,})$/.exec(secret);
  if (prefixed) out.push(prefixed[1]);
  if (secret.length >= 8) {
    const buf = Buffer.from(secret, 'utf8');
    out.push(buf.toString('hex'), buf.toString('base64').replace(/=+$/, ''), buf.toString('base64url'));
  }
  return out;
}

/** The raw (request/response) call, with the status, the body text and the parsed body. */
export async function callRaw(h: Harness, method: string, path: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(h.baseUrl + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, text, body };
}

export async function must(h: Harness, method: string, path: string, body?: unknown, key?: string): Promise<any> {
  const res = await h.call(method, path, body, key);
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls `check` until it returns a value (or throws after `timeoutMs`). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
