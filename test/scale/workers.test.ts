/**
 * Scale-out on PostgreSQL: several Lockstep processes' worth of apps on one database.
 * - two workers share the sync work: both do some, no (integration, person) is synced by two at once,
 *   and the provider ends up holding exactly what the bookings ask for, once;
 * - a dead worker's claim is left alone until its lease runs out, then picked up;
 * - an API-only node's writes reach the workers at once through NOTIFY, not by polling;
 * - a provider account's pace holds across workers: with pacing, two workers stay inside the Nuki
 *   emulator's rate limit; without it, the same work runs into 429s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { buildServer } from '../../src/api/server.js';
import type { Api } from '../../src/api/types.js';
import type { EngineLogger } from '../../src/engine/runner.js';
import { startNukiEmulator, type NukiEmulator } from '../../src/providers/nuki/emulator.js';
import { hoursFromNow, startHarness, type Harness } from '../support/harness.js';

interface SyncSpan {
  worker: string;
  key: string;
  startedAt: number;
  at: number;
}

const capture = () => {
  const lines: string[] = [];
  const logger: EngineLogger = {
    info: () => {},
    warn: (o, m) => void lines.push(`${m} ${JSON.stringify(o)}`),
    error: (o, m) => void lines.push(`${m} ${JSON.stringify(o)}`),
  };
  return { lines, logger };
};

describe('several workers on one PostgreSQL', () => {
  let h: Harness;
  const extra: App[] = [];
  const servers: Api[] = [];
  let nuki: NukiEmulator | null = null;
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    for (const a of extra.splice(0)) await a.close();
    await h?.close();
    await nuki?.close();
    nuki = null;
  });

  const spans: SyncSpan[] = [];
  const recorder = (worker: string) => (e: { integrationId: string; personId: string; startedAt: number; at: number }) =>
    void spans.push({ worker, key: `${e.integrationId}|${e.personId}`, startedAt: e.startedAt, at: e.at });

  /** Another worker process's app on the harness's database (same master key). */
  const secondWorker = async (h: Harness, secret: string, opts: { pollMs?: number; logger?: EngineLogger } = {}) => {
    const app = await createApp({
      databaseUrl: h.database.url,
      secretKey: secret,
      engine: { pollMs: opts.pollMs ?? 50, driftCheckMs: 0, backoff: { baseMs: 20, maxMs: 200 }, providerTimeoutMs: 2_000, workerId: 'worker-2', onSynced: recorder('worker-2'), ...(opts.logger ? { logger: opts.logger } : {}) },
      notifier: { pollMs: 100 },
    });
    extra.push(app);
    await app.startBackground();
    return app;
  };

  const idleAll = async (apps: App[]) => {
    // Idle means: the shared queue is settled and no engine has anything in flight; check twice.
    for (let round = 0; round < 2; round++) for (const a of apps) await a.engine.idle(60_000);
  };

  it('two workers share the work without syncing anyone twice at once, and the provider holds each grant once', async () => {
    spans.length = 0;
    const secret = 'a'.repeat(64);
    h = await startHarness('postgres', { secretKey: secret, engine: { workerId: 'worker-1', onSynced: recorder('worker-1'), laneSize: 2 } });
    const w2 = await secondWorker(h, secret);
    const spaces = [await h.space(['ag-front-door', 'ag-meeting-1']), await h.space(['ag-front-door', 'ag-meeting-2'])];

    // 40 bookings for 20 people, some moved and some cancelled while the workers run.
    const bookings: { id: string; organiserId: string }[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await h.call('POST', '/v1/bookings', { spaceId: spaces[i % 2], organiser: { name: `Guest ${i % 20}`, email: `g${i % 20}@example.com` }, start: hoursFromNow(2 + (i % 5) * 3), end: hoursFromNow(3 + (i % 5) * 3) }, h.keys.admin);
      expect(res.status).toBe(201);
      bookings.push(res.body);
    }
    for (const b of bookings.slice(0, 6)) expect((await h.call('POST', `/v1/bookings/${b.id}/cancel`, {}, h.keys.admin)).status).toBe(200);
    for (const b of bookings.slice(6, 10)) expect((await h.call('PATCH', `/v1/bookings/${b.id}`, { start: hoursFromNow(30), end: hoursFromNow(31) }, h.keys.admin)).status).toBe(200);
    await idleAll([h.app, w2]);

    const byWorker = new Map<string, number>();
    for (const s of spans) byWorker.set(s.worker, (byWorker.get(s.worker) ?? 0) + 1);
    expect(byWorker.get('worker-1') ?? 0).toBeGreaterThan(0);
    expect(byWorker.get('worker-2') ?? 0).toBeGreaterThan(0);

    // No two syncs of one (integration, person) overlap in time, whichever workers ran them.
    const byKey = new Map<string, SyncSpan[]>();
    for (const s of spans) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
    for (const list of byKey.values()) {
      list.sort((a, b) => a.startedAt - b.startedAt);
      for (let i = 1; i < list.length; i++) expect(list[i]!.startedAt, `overlap on ${list[i]!.key}`).toBeGreaterThanOrEqual(list[i - 1]!.at);
    }

    // The provider holds exactly what the live bookings ask for: one user per person, and per door
    // the bookings' windows (15-minute buffers, overlapping ones merged), each once.
    const snapshot = await (await fetch(`${h.emulator.url}/_emulator/state`)).json();
    const users = snapshot.users as { id: string; externalId: string }[];
    expect(new Set(users.map((u) => u.externalId)).size).toBe(users.length);
    const memberships = snapshot.memberships as { userId: string; accessGroupId: string; from: string; until: string }[];
    const held = memberships.map((m) => `${m.userId}|${m.accessGroupId}|${Date.parse(m.from)}|${Date.parse(m.until)}`);
    expect(new Set(held).size).toBe(held.length);
    const live = await h.app.store.db.selectFrom('bookings').select(['organiserId', 'spaceId', 'startsAt', 'endsAt']).where('status', '=', 'confirmed').execute();
    const windows = new Map<string, [number, number][]>();
    for (const b of live) {
      const user = users.find((u) => u.externalId === `lockstep-${b.organiserId}`);
      expect(user, `a user for ${b.organiserId}`).toBeTruthy();
      for (const g of b.spaceId === spaces[0] ? ['ag-front-door', 'ag-meeting-1'] : ['ag-front-door', 'ag-meeting-2']) {
        const key = `${user!.id}|${g}`;
        windows.set(key, [...(windows.get(key) ?? []), [b.startsAt - 15 * 60_000, b.endsAt + 15 * 60_000]]);
      }
    }
    const want = new Set<string>();
    for (const [key, list] of windows) {
      list.sort((a, b) => a[0] - b[0]);
      const merged: [number, number][] = [];
      for (const w of list) {
        const last = merged[merged.length - 1];
        if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
        else merged.push([...w]);
      }
      for (const [from, until] of merged) want.add(`${key}|${from}|${until}`);
    }
    expect(new Set(held)).toEqual(want);
  });

  it("leaves a dead worker's claim alone until its lease runs out, then picks the work up", async () => {
    h = await startHarness('postgres');
    const space = await h.space(['ag-meeting-1']);
    const res = await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada', email: 'ada@example.com' }, start: hoursFromNow(2), end: hoursFromNow(3) }, h.keys.admin);
    const person = res.body.organiserId as string;
    await h.converge();

    // A worker claims Ada's next change, then dies (never completes, never renews).
    await h.app.engine.stop();
    const movedTo = hoursFromNow(5);
    expect((await h.call('PATCH', `/v1/bookings/${res.body.id}`, { start: movedTo, end: hoursFromNow(6) }, h.keys.admin)).status).toBe(200);
    const claimed = await h.app.queue.claim('dead-worker', Date.now(), 10, 1_500);
    expect(claimed.map((c) => c.personId)).toEqual([person]);

    await h.app.engine.start();
    const windowOf = () => h.emulator.state.memberships(h.emulator.state.userByExternalId(`lockstep-${person}`)!.id)[0]!.from;
    const before = windowOf();
    await new Promise((r) => setTimeout(r, 700));
    expect(windowOf()).toBe(before); // still claimed by the dead worker: nobody touched it
    await h.converge(10_000); // its lease runs out; this worker claims and syncs it
    expect(Date.parse(windowOf())).toBe(Date.parse(movedTo) - 15 * 60_000);
    const row = await h.app.store.db.selectFrom('syncWork').selectAll().where('personId', '=', person).executeTakeFirst();
    expect(row === undefined || row.claimedBy !== 'dead-worker').toBe(true);
  });

  it("an API-only node's writes wake the workers at once through NOTIFY (the workers' own poll is a minute)", async () => {
    const secret = 'b'.repeat(64);
    // The harness is the worker here, polling only once a minute.
    h = await startHarness('postgres', { secretKey: secret, engine: { pollMs: 60_000 } });
    await h.app.startBackground(); // LISTEN (the harness starts the loops itself, but not the listener)
    const space = await h.space(['ag-meeting-1']);
    await h.converge();
    // The API node: its own app on the same database, nothing running in the background.
    const apiApp = await createApp({ databaseUrl: h.database.url, secretKey: secret });
    extra.push(apiApp);
    const api = await buildServer(apiApp);
    servers.push(api);
    const url = await api.listen({ port: 0, host: '127.0.0.1' });
    const t0 = Date.now();
    const res = await fetch(`${url}/v1/bookings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.keys.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ spaceId: space, organiser: { name: 'Nora', email: 'nora@example.com' }, start: hoursFromNow(2), end: hoursFromNow(3) }),
    });
    expect(res.status).toBe(201);
    const person = ((await res.json()) as { organiserId: string }).organiserId;
    while (!h.emulator.state.userByExternalId(`lockstep-${person}`) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
    expect(h.emulator.state.userByExternalId(`lockstep-${person}`)).toBeTruthy();
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('a key revoked through one API node is refused at once by another that had just let it in', async () => {
    const secret = 'd'.repeat(64);
    h = await startHarness('postgres', { secretKey: secret });
    const nodeB = await createApp({ databaseUrl: h.database.url, secretKey: secret });
    extra.push(nodeB);
    const apiB = await buildServer(nodeB);
    servers.push(apiB);
    const urlB = await apiB.listen({ port: 0, host: '127.0.0.1' });
    const key = (await h.call('POST', '/v1/api-keys', { role: 'host', name: 'temp desk' }, h.keys.admin)).body;
    const onB = () => fetch(`${urlB}/v1/bookings`, { headers: { authorization: `Bearer ${key.key}` } }).then((r) => r.status);
    expect(await onB()).toBe(200); // node B now remembers the key's principal (for 10 s)
    expect((await h.call('DELETE', `/v1/api-keys/${key.id}`, undefined, h.keys.admin)).status).toBe(204);
    // The revoke's NOTIFY reaches B well within the 10 s it would otherwise remember the key.
    const t0 = Date.now();
    let status = await onB();
    while (status === 200 && Date.now() - t0 < 3_000) {
      await new Promise((r) => setTimeout(r, 20));
      status = await onB();
    }
    expect(status).toBe(401);
  });

  /** 20 people booked on two Nuki locks, synced by two workers; returns the 429s the workers saw. */
  const nukiRun = async (rateLimitPerMinute: number) => {
    const secret = 'c'.repeat(64);
    nuki = await startNukiEmulator({ port: 0, apiToken: 'tok', rateLimit: { limit: 40, windowMs: 2_000 } });
    const one = capture();
    const two = capture();
    h = await startHarness('postgres', { secretKey: secret, engine: { logger: one.logger }, provider: { kind: 'nuki', baseUrl: nuki.url, credentials: { apiToken: 'tok' } } as never });
    expect((await h.call('PATCH', `/v1/integrations/${h.integrationId}`, { rateLimitPerMinute }, h.keys.admin)).status).toBe(200);
    const w2 = await secondWorker(h, secret, { logger: two.logger });
    const locks = nuki.state.smartlocks().slice(0, 2).map((l) => String(l.smartlockId));
    const space = await h.space(locks);
    for (let i = 0; i < 20; i++) {
      const res = await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: `Guest ${i}`, email: `n${i}@example.com` }, start: hoursFromNow(2 + i), end: hoursFromNow(2.5 + i) }, h.keys.admin);
      expect(res.status).toBe(201);
    }
    await idleAll([h.app, w2]);
    expect(nuki.state.auths()).toHaveLength(40);
    return [...one.lines, ...two.lines].filter((l) => l.includes('HTTP 429')).length;
  };

  it('a provider account paced at 240/min by two workers together never runs into the provider\'s limit', async () => {
    expect(await nukiRun(240)).toBe(0);
  }, 90_000);

  it('without pacing, the same two workers run into 429s (so the test above can fail)', async () => {
    expect(await nukiRun(0)).toBeGreaterThan(0);
  }, 90_000);
});
