/**
 * The property every write endpoint must hold, for one generated request:
 *
 *   1. the answer is not a 5xx, the server neither hangs (REQUEST_TIMEOUT_MS) nor drops the connection;
 *   2. a 4xx leaves every row of every table as it was (audit log included) and has the documented
 *      `{ error, message, issues? }` body whose message names what is wrong;
 *   3. a 2xx leaves the store consistent (store-state.ts `violations`), a 201 with an id stored it, and
 *      nothing — on any answer — pollutes Object.prototype.
 */
import fc from 'fast-check';
import { createApp } from '../../src/app.js';
import { buildServer } from '../../src/api/server.js';
import { createTestDatabase } from '../support/stores.js';
import { secretKey } from '../support/harness.js';
import { describeRequest, describeResponse, errorShapeProblems, namesIn, segment, send, type HttpRequest, type HttpResponse } from './http.js';
import { garbageText, hostile, nearValid, requiredAt, valid, windowArb, type Json, type Mutation, type Operation } from './schema.js';
import { describeDiff, diff, snapshot, stored, violations, type TableDiff } from './store-state.js';
import { coherentTimes, garbageId, victimKindFor, type KeyName, type World } from './world.js';

/** GET /openapi.json of a Lockstep built just for this (the document does not depend on the store). */
export async function liveOpenApiDocument(): Promise<{ paths: Record<string, Record<string, any>> }> {
  const database = await createTestDatabase('sqlite');
  const app = await createApp({ databaseUrl: database.url, secretKey: secretKey() });
  const server = await buildServer(app);
  try {
    const res = await server.inject({ method: 'GET', url: '/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`GET /openapi.json → ${res.statusCode}`);
    return res.json();
  } finally {
    await server.close();
    await app.close();
    await database.drop();
  }
}

export type BodySpec =
  | { kind: 'valid'; value: unknown }
  | { kind: 'near'; value: Json; mutation: Mutation }
  | { kind: 'json'; value: Json }
  | { kind: 'text'; text: string; contentType: string }
  | { kind: 'none' };

export interface RequestSpec {
  key: KeyName;
  params: Record<string, { real: boolean; variant: number; garbage: string }>;
  query: Record<string, string | undefined>;
  body: BodySpec;
  accept: string;
}

const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant<KeyName>('admin') },
  { weight: 4, arbitrary: fc.constant<KeyName>('platform') },
  { weight: 3, arbitrary: fc.constantFrom<KeyName>('host', 'guest', 'foreign-admin', 'revoked', 'garbage', 'none') },
);
const contentTypes = fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/vnd.api+json', 'application/json; charset=latin1');

export function requestArb(op: Operation, w: World): fc.Arbitrary<RequestSpec> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const params = fc.record(
    Object.fromEntries(pathParams.map((p) => [p.name, fc.record({ real: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), variant: fc.nat({ max: 10_000 }), garbage: garbageId })])),
  ) as fc.Arbitrary<RequestSpec['params']>;
  const query = fc.record(
    Object.fromEntries(queryParams.map((p) => [p.name, fc.option(fc.oneof(valid(p.schema, w.hints, p.name, [p.name]).map(String), garbageId), { nil: undefined })])),
  ) as fc.Arbitrary<RequestSpec['query']>;
  let body: fc.Arbitrary<BodySpec>;
  const text = fc.record({ text: garbageText, contentType: contentTypes }).map((t): BodySpec => ({ kind: 'text', ...t }));
  const json = (hostile.json as fc.Arbitrary<Json>).map((value): BodySpec => ({ kind: 'json', value }));
  const none = fc.constant<BodySpec>({ kind: 'none' });
  if (op.body) {
    const validBody = fc
      .tuple(valid(op.body, w.hints), windowArb, fc.constantFrom<'instant' | 'local'>('instant', 'instant', 'local'))
      .map(([v, win, family]) => coherentTimes(v, win, family, w.zone, Object.keys(op.body?.properties ?? {})));
    body = fc.oneof(
      { weight: 4, arbitrary: validBody.map((value): BodySpec => ({ kind: 'valid', value })) },
      { weight: 6, arbitrary: nearValid(validBody, (p) => requiredAt(op.body, p)).map((n): BodySpec => ({ kind: 'near', value: n.body, mutation: n.mutation })) },
      { weight: 1, arbitrary: json },
      { weight: 1, arbitrary: text },
      { weight: 1, arbitrary: none },
    );
  } else {
    body = fc.oneof({ weight: 6, arbitrary: none }, { weight: 1, arbitrary: json }, { weight: 1, arbitrary: text });
  }
  return fc.record({ key: keyArb, params, query, body, accept: fc.constantFrom('application/json', 'application/json', '*/*', 'text/html') });
}

/** Per endpoint: how the answers were distributed (printed after each store's run). */
export const tally = new Map<string, Map<string, number>>();
const count = (op: string, what: string) => {
  const m = tally.get(op) ?? new Map<string, number>();
  m.set(what, (m.get(what) ?? 0) + 1);
  tally.set(op, m);
};

/** Per endpoint: milliseconds spent in snapshots and in the request itself. */
export const timing = new Map<string, { snapshot: number; request: number; runs: number }>();

/** Own keys of Object.prototype and friends, to notice prototype pollution. */
export const prototypeFingerprint = () =>
  [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) => Object.getOwnPropertyNames(p).sort().join(',')).join('|') + `|${({} as Record<string, unknown>).polluted}|${({} as Record<string, unknown>).isAdmin}`;

export async function materialise(w: World, op: Operation, spec: RequestSpec): Promise<{ req: HttpRequest; names: Set<string>; mutated?: string[] }> {
  const resolved: Record<string, string> = {};
  let url = op.template;
  for (const p of op.params.filter((x) => x.in === 'path')) {
    const choice = spec.params[p.name];
    const vk = victimKindFor(op.template, p.name);
    const value = choice.real && vk ? await w.victim(vk, choice.variant, { method: op.method, template: op.template, resolved }) : choice.garbage;
    resolved[p.name] = value;
    url = url.replace(`{${p.name}}`, segment(value));
  }
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(spec.query)) if (v !== undefined) qs.set(k, v);
  if ([...qs].length) url += `?${qs}`;

  const headers: Record<string, string> = { accept: spec.accept };
  if (spec.key === 'garbage') headers.authorization = `Bearer ${w.keys.garbage}`;
  else if (spec.key !== 'none') headers.authorization = `Bearer ${w.keys[spec.key]}`;
  let body: string | undefined;
  let parsed: unknown;
  if (spec.body.kind === 'text') {
    body = spec.body.text;
    headers['content-type'] = spec.body.contentType;
  } else if (spec.body.kind !== 'none') {
    parsed = spec.body.value;
    body = JSON.stringify(parsed) ?? 'null';
    headers['content-type'] = 'application/json';
  }
  const names = namesIn(parsed);
  for (const k of requiredAt(op.body, [])) names.add(k);
  for (const p of op.params) names.add(p.name);
  for (const v of Object.values(resolved)) if (v.length <= 200) names.add(v);
  const mutated = spec.body.kind === 'near' ? spec.body.mutation.path.filter((k): k is string => typeof k === 'string') : undefined;
  return { req: { method: op.method, url, headers, body }, names, mutated };
}

/**
 * Tables a refusal may write because counting refusals is their job: the brute-force limits (unknown
 * API keys per address, scans per key, URL-key openings per link; commit d0a2de7) and the per-provider
 * call pacing (a refused mapping may still have asked the provider for its targets). Nothing else.
 */
export const ACCOUNTING_TABLES = new Set(['rate_counters', 'rate_buckets']);
export const withoutAccounting = (d: TableDiff[]) => d.filter((t) => !ACCOUNTING_TABLES.has(t.table));

export interface Verdict {
  req: HttpRequest;
  res: HttpResponse;
  diff: TableDiff[];
}

/**
 * Sends one request and checks the three properties. `allowedOn4xx` may accept a documented write of
 * a refusal (the signed webhooks record their last error on the source).
 */
export async function exercise(
  w: World,
  op: Operation,
  prepared: { req: HttpRequest; names: Set<string>; mutated?: string[]; requireMutatedNamed?: boolean; keyName?: string },
  opts: { allowedOn4xx?: (d: TableDiff[], res: HttpResponse) => string[]; htmlRefusals?: boolean; expectStatus?: (status: number) => string | null } = {},
): Promise<Verdict> {
  const { req } = prepared;
  const db = w.h.app.store.db;
  // The sync engine is stopped (world.ts); drain its queue as a worker would, so it does not grow
  // without bound. What the request itself queues is still in the diff below.
  await db.deleteFrom('syncWork').execute();
  const t0 = performance.now();
  const before = await snapshot(db, w.kind);
  const proto = prototypeFingerprint();
  const t1 = performance.now();
  const res = await send(w.baseUrl, req);
  const t2 = performance.now();
  const after = await snapshot(db, w.kind);
  const t = timing.get(op.id) ?? { snapshot: 0, request: 0, runs: 0 };
  t.snapshot += t1 - t0 + (performance.now() - t2);
  t.request += t2 - t1;
  t.runs += 1;
  timing.set(op.id, t);
  const d = diff(before, after);
  const problems: string[] = [];
  count(op.id, String(res.status));

  if (res.status >= 500) {
    const wrote = withoutAccounting(d);
    problems.push(`a ${res.status}: bad input must never be our fault${wrote.length ? `, and it wrote (a partial write):\n${describeDiff(wrote)}` : ' (it wrote nothing)'}`);
  }
  else if (res.status >= 400) {
    const html = /text\/html/.test(res.contentType);
    if (!(html && opts.htmlRefusals)) problems.push(...errorShapeProblems(res, { names: prepared.names, mutated: prepared.mutated, requireMutatedNamed: prepared.requireMutatedNamed }));
    const rest = withoutAccounting(d);
    const unexplained = opts.allowedOn4xx ? opts.allowedOn4xx(rest, res) : rest.length ? [describeDiff(rest)] : [];
    if (unexplained.length) problems.push(`a ${res.status} changed the store:\n${unexplained.join('\n')}`);
  } else if (res.status >= 200 && res.status < 300) {
    // Only what this request broke: an earlier, already reported violation must not blame it.
    const now = violations(after);
    const known = new Set(now.length ? violations(before) : []);
    const v = now.filter((x) => !known.has(x));
    if (v.length) problems.push(`a ${res.status} left the store inconsistent:\n  ${v.slice(0, 10).join('\n  ')}${d.length ? `\n what changed:\n${describeDiff(d)}` : ''}`);
    const id = (res.json as { id?: unknown } | undefined)?.id;
    if (res.status === 201 && typeof id === 'string' && !stored(after, id)) problems.push(`201 answered id ${id}, but no table holds it`);
  } else problems.push(`unexpected status ${res.status}`);
  if (opts.expectStatus) {
    const p = opts.expectStatus(res.status);
    if (p) problems.push(p);
  }
  if (prototypeFingerprint() !== proto) problems.push('the request polluted a built-in prototype');
  await w.tidy();
  if (problems.length) {
    throw new Error(`${op.id}:\n- ${problems.join('\n- ')}\n\n${describeRequest(req, prepared.keyName)}\n${describeResponse(res)}`);
  }
  return { req, res, diff: d };
}
