import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DemoAdapter } from '../../src/providers/demo/adapter.js';
import { startDemoEmulator, type DemoEmulator } from '../../src/providers/demo/emulator.js';
import { demoProvider } from '../../src/providers/demo/index.js';
import { JsonHttpClient, parseRetryAfter } from '../../src/providers/http.js';
import { ProviderError } from '../../src/providers/types.js';

const API_KEY = 'test-key-123';
const H = 3_600_000;

let emu: DemoEmulator;
let adapter: DemoAdapter;
const extraAdapters: DemoAdapter[] = [];

function newAdapter(opts: { apiKey?: string; timeoutMs?: number } = {}): DemoAdapter {
  const a = new DemoAdapter({ baseUrl: emu.url, apiKey: opts.apiKey ?? API_KEY, timeoutMs: opts.timeoutMs });
  extraAdapters.push(a);
  return a;
}

async function catchErr(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the call to fail');
}

async function raw(method: string, path: string, body?: unknown, auth = true): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(emu.url + path, {
    method,
    headers: {
      ...(auth ? { authorization: `Bearer ${API_KEY}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

const identity = (key: string) => ({ key, displayName: `Person ${key}`, email: `${key}@example.com` });

beforeAll(async () => {
  emu = await startDemoEmulator({ port: 0, apiKey: API_KEY });
  adapter = new DemoAdapter({ baseUrl: emu.url, apiKey: API_KEY });
});

afterEach(() => {
  emu.faults.clear();
});

afterAll(async () => {
  await Promise.all([adapter.close(), ...extraAdapters.map((a) => a.close())]);
  await emu.close();
});

describe('demo provider module', () => {
  it('describes itself and builds an adapter', () => {
    expect(demoProvider.kind).toBe('demo');
    expect(demoProvider.credentialFields).toEqual([{ name: 'apiKey', label: 'API key', secret: true, required: true }]);
    const a = demoProvider.create({ baseUrl: emu.url, credentials: { apiKey: API_KEY } });
    expect(a).toBeInstanceOf(DemoAdapter);
    expect(a.kind).toBe('demo');
    expect(a.capabilities).toMatchObject({ accessGroups: true, providerUsers: true, membershipWindows: true, pinOnUser: true, revocable: true, pinOnLock: false, offlineAlgorithmicPin: false });
    expect(a.pinRules).toEqual({ length: 6, minLength: 4, maxLength: 8, allowedDigits: '0123456789', bannedPrefixes: ['00'] });
    extraAdapters.push(a as DemoAdapter);
    expect(() => demoProvider.create({ baseUrl: emu.url, credentials: {} })).toThrow(ProviderError);
  });
});

describe('demo adapter over HTTP', () => {
  it('tests the connection and lists access groups as targets', async () => {
    await adapter.testConnection();
    const targets = await adapter.listTargets();
    expect(targets.length).toBeGreaterThanOrEqual(5);
    expect(targets.map((t) => t.name)).toContain('Front door');
    for (const t of targets) {
      expect(t.kind).toBe('access-group');
      expect(t.description).toBeTruthy();
    }
  });

  it('round-trips user, PIN and grants', async () => {
    const id = identity('person-roundtrip');
    expect(await adapter.findUser(id.key)).toBeNull();

    const { ref: userRef } = await adapter.createUser(id);
    expect(await adapter.findUser(id.key)).toEqual({ ref: userRef, key: id.key, hasPin: false });

    await adapter.setUserPin(userRef, '482913');
    expect(emu.state.pinMatches(userRef, '482913')).toBe(true);
    expect((await adapter.findUser(id.key))?.hasPin).toBe(true);

    const start = Date.UTC(2030, 0, 1, 9);
    const { ref: grantRef } = await adapter.createGrant({
      userRef,
      identity: id,
      targetRef: 'ag-meeting-1',
      window: { startsAt: start, endsAt: start + 2 * H },
    });
    const { ref: openRef } = await adapter.createGrant({
      userRef,
      identity: id,
      targetRef: 'ag-front-door',
      window: { startsAt: start, endsAt: null },
    });

    let obs = await adapter.observe({ userRef, key: id.key, grantRefs: [] });
    expect(obs.user).toEqual({ ref: userRef, key: id.key, hasPin: true });
    expect(obs.grants).toHaveLength(2);
    expect(obs.grants).toContainEqual({ ref: grantRef, targetRef: 'ag-meeting-1', window: { startsAt: start, endsAt: start + 2 * H } });
    expect(obs.grants).toContainEqual({ ref: openRef, targetRef: 'ag-front-door', window: { startsAt: start, endsAt: null } });

    // The emulator enforces the window.
    expect(emu.state.canEnter({ pin: '482913', accessGroupId: 'ag-meeting-1', at: start + H })).toBe(true);
    expect(emu.state.canEnter({ pin: '482913', accessGroupId: 'ag-meeting-1', at: start + 3 * H })).toBe(false);
    expect(emu.state.canEnter({ pin: '482913', accessGroupId: 'ag-meeting-2', at: start + H })).toBe(false);
    expect(emu.state.canEnter({ pin: '111111', accessGroupId: 'ag-meeting-1', at: start + H })).toBe(false);

    await adapter.updateGrant({ userRef, identity: id, grantRef, targetRef: 'ag-meeting-1', window: { startsAt: start - H, endsAt: null } });
    await adapter.updateGrant({ userRef, identity: id, grantRef: openRef, targetRef: 'ag-front-door', window: { startsAt: start, endsAt: start + H } });
    obs = await adapter.observe({ userRef, key: id.key, grantRefs: [] });
    expect(obs.grants).toContainEqual({ ref: grantRef, targetRef: 'ag-meeting-1', window: { startsAt: start - H, endsAt: null } });
    expect(obs.grants).toContainEqual({ ref: openRef, targetRef: 'ag-front-door', window: { startsAt: start, endsAt: start + H } });

    // Dates go out as UTC with Z.
    expect(emu.state.memberships(userRef).find((m) => m.id === openRef)).toEqual({
      id: openRef,
      accessGroupId: 'ag-front-door',
      from: '2030-01-01T09:00:00.000Z',
      until: '2030-01-01T10:00:00.000Z',
    });

    await adapter.deleteGrant({ userRef, grantRef, targetRef: 'ag-meeting-1' });
    await adapter.deleteGrant({ userRef, grantRef, targetRef: 'ag-meeting-1' }); // already gone = success
    obs = await adapter.observe({ userRef, key: id.key, grantRefs: [] });
    expect(obs.grants.map((g) => g.ref)).toEqual([openRef]);

    // Observe by key when the userRef is not known.
    obs = await adapter.observe({ key: id.key, grantRefs: [] });
    expect(obs.user?.ref).toBe(userRef);

    await adapter.deleteUser(userRef);
    await adapter.deleteUser(userRef); // 404 = already gone
    expect(await adapter.observe({ userRef, key: id.key, grantRefs: [] })).toEqual({ user: null, grants: [] });
    expect(await adapter.observe({ key: id.key, grantRefs: [] })).toEqual({ user: null, grants: [] });
    expect(emu.state.user(userRef)).toBeNull();
    expect(emu.state.memberships(userRef)).toEqual([]);
    // Deleting the user freed its PIN.
    expect(emu.state.canEnter({ pin: '482913', accessGroupId: 'ag-front-door', at: start + 1 })).toBe(false);
  });

  it('creates a grant from the identity key when userRef is missing', async () => {
    const id = identity('person-nouserref');
    const { ref } = await adapter.createUser(id);
    const { ref: grantRef } = await adapter.createGrant({ identity: id, targetRef: 'ag-hot-desks', window: { startsAt: Date.now(), endsAt: null } });
    expect(emu.state.memberships(ref).map((m) => m.id)).toEqual([grantRef]);
    const err = await catchErr(
      adapter.createGrant({ identity: identity('nobody'), targetRef: 'ag-hot-desks', window: { startsAt: Date.now(), endsAt: null } }),
    );
    expect(err.kind).toBe('not-found');
  });

  it('adopts an existing user when createUser answers 409', async () => {
    const id = identity('person-adopt');
    const first = await adapter.createUser(id);
    const second = await adapter.createUser(id);
    expect(second.ref).toBe(first.ref);
    expect(emu.state.users().filter((u) => u.externalId === id.key)).toHaveLength(1);

    // And the conflict really is a 409 on the wire.
    const r = await raw('POST', '/api/users', { externalId: id.key, name: 'x' });
    expect(r.status).toBe(409);
  });

  it('reports a bad API key as an auth error with an admin-readable message', async () => {
    const bad = newAdapter({ apiKey: 'wrong-key' });
    const err = await catchErr(bad.testConnection());
    expect(err.kind).toBe('auth');
    expect(err.retryable).toBe(false);
    expect(err.details.status).toBe(401);
    expect(err.message).toMatch(/credentials/);
    expect(err.message).not.toContain('wrong-key');

    const r = await raw('GET', '/api/access-groups', undefined, false);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ error: 'unauthorized' });
  });

  it('turns 422 into rejected and names the field', async () => {
    const { ref: userRef } = await adapter.createUser(identity('person-422'));
    const base = { userRef, identity: identity('person-422') };

    let err = await catchErr(adapter.createGrant({ ...base, targetRef: 'ag-nope', window: { startsAt: 0, endsAt: 1000 } }));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBe(422);
    expect(err.message).toContain('accessGroupId');

    err = await catchErr(adapter.createGrant({ ...base, targetRef: 'ag-meeting-2', window: { startsAt: 5000, endsAt: 5000 } }));
    expect(err.kind).toBe('rejected');
    expect(err.message).toContain('until');

    err = await catchErr(adapter.setUserPin(userRef, '12'));
    expect(err.kind).toBe('rejected');
    expect(err.message).toContain('pin');

    err = await catchErr(adapter.setUserPin(userRef, '001234'));
    expect(err.kind).toBe('rejected');
    expect(err.message).toContain('pin');

    // Raw API validation.
    let r = await raw('POST', `/api/users/${userRef}/memberships`, { accessGroupId: 'ag-meeting-2', from: '2030-01-01T09:00:00' });
    expect(r.status).toBe(422);
    expect(r.json).toEqual({ error: 'validation', message: expect.stringMatching(/^from: /) });
    r = await raw('POST', `/api/users/${userRef}/memberships`, { accessGroupId: 'ag-meeting-2', from: '2030-02-30T09:00:00Z' });
    expect(r.status).toBe(422);
    r = await raw('POST', `/api/users/${userRef}/memberships`, { accessGroupId: 'ag-meeting-2', from: '2030-01-01T10:00:00+01:00', until: '2030-01-01T09:30:00Z' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ from: '2030-01-01T09:00:00.000Z', until: '2030-01-01T09:30:00.000Z' });
    r = await raw('POST', '/api/users', { name: 'No key' });
    expect(r.status).toBe(422);
    expect(r.json.message).toMatch(/^externalId: /);
    r = await raw('POST', '/api/users', '{"externalId":');
    expect(r.status).toBe(400);
    r = await raw('GET', '/api/nothing-here');
    expect(r.status).toBe(404);
    r = await raw('PATCH', `/api/users/${userRef}/memberships/mbr_999999`, { until: null });
    expect(r.status).toBe(404);
  });

  it('maps a conflicting PIN to rejected without revealing it', async () => {
    const a = await adapter.createUser(identity('pin-owner-a'));
    const b = await adapter.createUser(identity('pin-owner-b'));
    await adapter.setUserPin(a.ref, '735194');
    await adapter.setUserPin(a.ref, '735194'); // same user, same PIN: fine
    const err = await catchErr(adapter.setUserPin(b.ref, '735194'));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBe(409);
    expect(err.message).toContain('pin');
    expect(err.message).not.toContain('735194');
    // Changing A's PIN frees the old one.
    await adapter.setUserPin(a.ref, '735195');
    await adapter.setUserPin(b.ref, '735194');
    expect(emu.state.pinMatches(b.ref, '735194')).toBe(true);
  });
});

describe('fault injection', () => {
  it('429 becomes rate-limited with retryAfterMs', async () => {
    emu.faults.add({ match: { method: 'GET', path: '/api/access-groups' }, times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 7 } });
    const err = await catchErr(adapter.listTargets());
    expect(err.kind).toBe('rate-limited');
    expect(err.retryable).toBe(true);
    expect(err.details).toEqual({ status: 429, retryAfterMs: 7000 });
    // times: 1 → the next call goes through.
    expect((await adapter.listTargets()).length).toBeGreaterThan(0);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2030, 0, 1, 12);
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('503 becomes transient', async () => {
    emu.faults.add({ match: { path: '/api/users' }, times: 1, fault: { kind: 'status', status: 503 } });
    const err = await catchErr(adapter.createUser(identity('person-503')));
    expect(err.kind).toBe('transient');
    expect(err.details.status).toBe(503);
    expect(emu.state.userByExternalId('person-503')).toBeNull();
    await adapter.createUser(identity('person-503'));
    expect(emu.state.userByExternalId('person-503')).not.toBeNull();
  });

  it('a dropped connection becomes transient', async () => {
    emu.faults.add({ match: { method: 'GET' }, times: 1, fault: { kind: 'drop' } });
    const err = await catchErr(adapter.findUser('whoever'));
    expect(err.kind).toBe('transient');
    expect(err.retryable).toBe(true);
    expect(await adapter.findUser('whoever')).toBeNull();
  });

  it('a hanging provider and a short client timeout become transient', async () => {
    const quick = newAdapter({ timeoutMs: 150 });
    emu.faults.add({ match: { path: '/api/access-groups' }, times: 1, fault: { kind: 'hang' } });
    const t0 = Date.now();
    const err = await catchErr(quick.testConnection());
    expect(err.kind).toBe('transient');
    expect(err.message).toMatch(/timed out/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await quick.testConnection();
  });

  it('latency combines with a later status fault', async () => {
    emu.faults.add({ match: { path: '/api/access-groups' }, times: 1, fault: { kind: 'latency', ms: 120 } });
    emu.faults.add({ match: { path: '/api/access-groups' }, times: 1, fault: { kind: 'status', status: 502 } });
    const t0 = Date.now();
    const err = await catchErr(adapter.listTargets());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(err.kind).toBe('transient');
    expect(err.details.status).toBe(502);
    expect(emu.faults.list()).toEqual([]);
  });

  it('accepts rules through the control routes and validates them', async () => {
    let r = await raw('POST', '/_emulator/faults', { match: { method: 'get', path: '/api/access-groups' }, times: 2, fault: { kind: 'status', status: 500 } }, false);
    expect(r.status).toBe(201);
    expect((await catchErr(adapter.listTargets())).kind).toBe('transient');
    expect(emu.faults.list()).toEqual([{ match: { method: 'GET', path: '/api/access-groups' }, times: 1, fault: { kind: 'status', status: 500 } }]);
    r = await raw('DELETE', '/_emulator/faults', undefined, false);
    expect(r.status).toBe(204);
    await adapter.listTargets();
    r = await raw('POST', '/_emulator/faults', { fault: { kind: 'explode' } }, false);
    expect(r.status).toBe(422);
    expect(() => emu.faults.add({ fault: { kind: 'status', status: 200 } })).toThrow();
  });

  it('a refused connection becomes transient', async () => {
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const client = new JsonHttpClient({ baseUrl: `http://127.0.0.1:${port}`, provider: 'demo', timeoutMs: 1000 });
    try {
      const err = await catchErr(client.request('GET', '/api/access-groups'));
      expect(err.kind).toBe('transient');
      expect(err.message).toMatch(/refused/);
    } finally {
      await client.close();
    }
  });
});

describe('stats', () => {
  it('counts API requests by route template, not control routes', async () => {
    emu.resetStats();
    const { ref } = await adapter.createUser(identity('person-stats'));
    await adapter.setUserPin(ref, '650321');
    const { ref: g } = await adapter.createGrant({ userRef: ref, identity: identity('person-stats'), targetRef: 'ag-parking', window: { startsAt: 0, endsAt: null } });
    await adapter.deleteGrant({ userRef: ref, grantRef: g, targetRef: 'ag-parking' });
    await adapter.observe({ userRef: ref, key: 'person-stats', grantRefs: [] });
    await raw('GET', '/_emulator/state', undefined, false);
    expect(emu.stats()).toEqual({
      requests: 6,
      byRoute: {
        'POST /api/users': 1,
        'PUT /api/users/:id/pin': 1,
        'POST /api/users/:id/memberships': 1,
        'DELETE /api/users/:id/memberships/:membershipId': 1,
        'GET /api/users/:id': 1,
        'GET /api/users/:id/memberships': 1,
      },
    });
    emu.resetStats();
    expect(emu.stats()).toEqual({ requests: 0, byRoute: {} });
  });

  it('handles a burst of concurrent requests', async () => {
    const n = 300;
    const refs = await Promise.all(Array.from({ length: n }, (_, i) => adapter.createUser(identity(`burst-${i}`))));
    expect(new Set(refs.map((r) => r.ref)).size).toBe(n);
    await Promise.all(
      refs.map((r, i) => adapter.createGrant({ userRef: r.ref, identity: identity(`burst-${i}`), targetRef: 'ag-hot-desks', window: { startsAt: 0, endsAt: null } })),
    );
    expect(emu.state.snapshot().memberships.filter((m) => m.accessGroupId === 'ag-hot-desks').length).toBeGreaterThanOrEqual(n);
  });
});

describe('PIN secrecy', () => {
  it('never exposes PINs in the state dump, API responses or error messages', async () => {
    const pin = '918273';
    const { ref } = await adapter.createUser(identity('person-secret'));
    await adapter.setUserPin(ref, pin);

    const state = await raw('GET', '/_emulator/state', undefined, false);
    expect(state.status).toBe(200);
    expect(state.text).not.toContain(pin);
    expect(state.json.users.find((u: any) => u.id === ref)).toMatchObject({ hasPin: true });
    expect(JSON.stringify(emu.state.snapshot())).not.toContain(pin);
    expect((await raw('GET', `/api/users/${ref}`)).text).not.toContain(pin);
    expect((await raw('GET', '/api/users')).text).not.toContain(pin);

    const messages: string[] = [];
    const collect = async (p: Promise<unknown>) => messages.push((await catchErr(p)).message);
    const other = await adapter.createUser(identity('person-secret-2'));
    await collect(adapter.setUserPin(other.ref, pin)); // 409 conflict
    await collect(adapter.setUserPin(other.ref, '1234567890')); // 422 too long
    for (const status of [400, 401, 404, 409, 422, 429, 500, 503]) {
      emu.faults.add({ match: { path: '/api/users/' }, times: 1, fault: { kind: 'status', status } });
      await collect(adapter.setUserPin(ref, pin));
    }
    emu.faults.add({ match: { path: '/api/users/' }, times: 1, fault: { kind: 'drop' } });
    await collect(adapter.setUserPin(ref, pin));
    const quick = newAdapter({ timeoutMs: 100 });
    emu.faults.add({ match: { path: '/api/users/' }, times: 1, fault: { kind: 'hang' } });
    await collect(quick.setUserPin(ref, pin));

    expect(messages).toHaveLength(12);
    for (const m of messages) {
      expect(m).not.toContain(pin);
      expect(m).not.toContain('1234567890');
      expect(m).not.toContain(API_KEY);
    }
  });

  it('redacts a PIN a provider echoes back in its error message', async () => {
    const echo = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const { pin } = JSON.parse(text);
        res.writeHead(422, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'validation', message: `pin ${pin} is too weak` }));
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const client = new JsonHttpClient({ baseUrl: `http://127.0.0.1:${(echo.address() as AddressInfo).port}`, provider: 'echo', headers: () => ({ authorization: 'Bearer s3cret-token' }) });
    try {
      const err = await catchErr(client.request('PUT', '/pin', { body: { pin: '246810' } }));
      expect(err.kind).toBe('rejected');
      expect(err.message).toContain('too weak');
      expect(err.message).not.toContain('246810');
      expect(err.message).not.toContain('s3cret-token');
    } finally {
      await client.close();
      echo.closeAllConnections();
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });
});

describe('emulator lifecycle', () => {
  it('resets state, faults and stats', async () => {
    const other = await startDemoEmulator({ accessGroups: [{ id: 'g1', name: 'Gate', description: 'The only gate' }] });
    const a = new DemoAdapter({ baseUrl: other.url, apiKey: 'demo-key' });
    try {
      expect(await a.listTargets()).toEqual([{ ref: 'g1', name: 'Gate', description: 'The only gate', kind: 'access-group' }]);
      const { ref } = await a.createUser(identity('reset-me'));
      other.faults.add({ match: { path: '/nowhere' }, fault: { kind: 'drop' } });
      const r = await fetch(`${other.url}/_emulator/reset`, { method: 'POST' });
      expect(r.status).toBe(204);
      expect(other.state.snapshot()).toMatchObject({ users: [], memberships: [], faults: [] });
      expect(other.stats().requests).toBe(0);
      // Ids are not reused after a reset.
      const { ref: again } = await a.createUser(identity('reset-me'));
      expect(again).not.toBe(ref);
      other.reset();
      expect(other.state.users()).toEqual([]);
    } finally {
      await a.close();
      await other.close();
    }
  });

  it('closes promptly even with a hanging request in flight', async () => {
    const other = await startDemoEmulator();
    const a = new DemoAdapter({ baseUrl: other.url, apiKey: 'demo-key', timeoutMs: 10_000 });
    other.faults.add({ fault: { kind: 'hang' } });
    const pending = catchErr(a.listTargets());
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect((await pending).kind).toBe('transient');
    await a.close();
  });
});
