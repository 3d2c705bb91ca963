/**
 * Shared checks for the API tests: the error shape every refusal must have, and a snapshot of the
 * whole store so a refused request can be shown to have changed nothing.
 */
import { expect } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import type { Harness } from '../support/harness.js';

const tables: (keyof Database)[] = [
  'organisations',
  'locations',
  'spaces',
  'people',
  'companies',
  'companyMembers',
  'bookings',
  'bookingInvitees',
  'plans',
  'planSpaces',
  'planTargets',
  'subscriptions',
  'integrations',
  'mappings',
  'pins',
  'providerUsers',
  'providerGrants',
  'syncWork',
  'apiKeys',
  'auditLog',
];

export interface StoreSnapshot {
  counts: Record<string, number>;
  lastAuditId: number;
  syncWork: string;
  integrations: string;
  bookings: string;
}

/** Row counts of every table plus the rows a refused write could plausibly touch. */
export async function snapshot(h: Harness): Promise<StoreSnapshot> {
  const db = h.app.store.db;
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const row = await db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    counts[t] = Number(row.n);
  }
  const last = await db.selectFrom('auditLog').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const work = await db.selectFrom('syncWork').select(['integrationId', 'personId', 'dueAt', 'generation']).orderBy('integrationId').orderBy('personId').execute();
  const integrations = await db.selectFrom('integrations').selectAll().orderBy('id').execute();
  const bookings = await db.selectFrom('bookings').selectAll().orderBy('id').execute();
  return {
    counts,
    lastAuditId: Number(last?.id ?? 0),
    syncWork: JSON.stringify(work),
    integrations: JSON.stringify(integrations),
    bookings: JSON.stringify(bookings),
  };
}

export interface Refusal {
  status: number;
  error: string;
  /** For 400 validation: the field that must appear in `issues[].path` and in the message. */
  field?: string;
  /** Further text the message must contain (how to fix it). */
  mentions?: (string | RegExp)[];
  /** Text the response must never contain (e.g. a secret that was sent). */
  never?: string[];
}

/** Asserts the `{ error, message, issues? }` shape of a refusal. */
export function expectRefusal(res: { status: number; body: any }, r: Refusal): void {
  const dump = JSON.stringify(res.body);
  expect(res.status, dump).toBe(r.status);
  expect(res.body.error, dump).toBe(r.error);
  expect(typeof res.body.message, dump).toBe('string');
  expect(res.body.message.length, dump).toBeGreaterThan(10);
  if (r.field) {
    expect(res.body.message, dump).toContain(r.field);
    if (r.status === 400 && r.error === 'validation') {
      expect(Array.isArray(res.body.issues), dump).toBe(true);
      expect(res.body.issues.map((i: { path: string }) => i.path), dump).toContain(r.field);
      for (const issue of res.body.issues) expect(typeof issue.message, dump).toBe('string');
    }
  }
  for (const m of r.mentions ?? []) {
    if (typeof m === 'string') expect(res.body.message, dump).toContain(m);
    else expect(res.body.message, dump).toMatch(m);
  }
  for (const secret of r.never ?? []) expect(dump).not.toContain(secret);
}

/**
 * Sends a request that must be refused and checks that it changed nothing: no row anywhere, no
 * audit entry, no sync work. Waits for the engine to settle first so background work cannot blur
 * the before/after comparison.
 */
export async function expectRefused(
  h: Harness,
  req: { method: string; path: string; body?: unknown; key?: string },
  r: Refusal,
): Promise<any> {
  await h.converge();
  const before = await snapshot(h);
  const res = await h.call(req.method, req.path, req.body, req.key);
  // Snapshot straight away: converging first could let the engine consume work a refusal queued.
  const after = await snapshot(h);
  expectRefusal(res, r);
  expect(after).toEqual(before);
  return res.body;
}

/** A raw request (for bodies the JSON helper cannot produce, or no auth header at all). */
export async function rawCall(h: Harness, method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(h.baseUrl + path, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body };
}
