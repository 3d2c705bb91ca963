import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SecCloudAdapter } from '../../src/providers/seccloud/adapter.js';
import { startSecCloudEmulator, type SecCloudEmulator } from '../../src/providers/seccloud/emulator.js';
import { secCloudProvider } from '../../src/providers/seccloud/index.js';
import { ProviderError } from '../../src/providers/types.js';

const API_KEY = 'sc-test-key-7781';
const SITE = 'site-test';
const H = 3_600_000;
const FRONT = '7d1f0c2a-0001-4c1e-9a00-000000000001';
const STUDIO_A = '7d1f0c2a-0002-4c1e-9a00-000000000002';
const STUDIO_B = '7d1f0c2a-0003-4c1e-9a00-000000000003';
const LOUNGE = '7d1f0c2a-0004-4c1e-9a00-000000000004';

let emu: SecCloudEmulator;
let adapter: SecCloudAdapter;
const extra: SecCloudAdapter[] = [];

function newAdapter(opts: Partial<{ apiKey: string; siteId: string; timeoutMs: number; baseUrl: string }> = {}): SecCloudAdapter {
  const a = new SecCloudAdapter({ baseUrl: opts.baseUrl ?? emu.url, apiKey: opts.apiKey ?? API_KEY, siteId: opts.siteId ?? SITE, timeoutMs: opts.timeoutMs });
  extra.push(a);
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

/** Raw call to the site's API; `body` as a string is sent verbatim. */
async function raw(
  method: string,
  path: string,
  body?: unknown,
  opts: { key?: string | null; contentType?: string | null; site?: string } = {},
): Promise<{ status: number; json: any; text: string }> {
  const key = opts.key === undefined ? API_KEY : opts.key;
  const contentType = opts.contentType === undefined ? 'application/json' : opts.contentType;
  const res = await fetch(`${emu.url}/v1/sites/${opts.site ?? SITE}${path}`, {
    method,
    headers: {
      ...(key !== null ? { 'x-api-key': key } : {}),
      ...(body !== undefined && contentType !== null ? { 'content-type': contentType } : {}),
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
const win = (startsAt: number, endsAt: number | null) => ({ startsAt, endsAt });

beforeAll(async () => {
  emu = await startSecCloudEmulator({ port: 0, apiKey: API_KEY, siteId: SITE });
  adapter = new SecCloudAdapter({ baseUrl: emu.url, apiKey: API_KEY, siteId: SITE });
});

afterEach(() => emu.faults.clear());

afterAll(async () => {
  await Promise.all([adapter.close(), ...extra.map((a) => a.close())]);
  await emu.close();
});

describe('seccloud provider module', () => {
  it('describes itself, builds an adapter and refuses missing credentials', () => {
    expect(secCloudProvider.kind).toBe('seccloud');
    expect(secCloudProvider.credentialFields).toEqual([
      { name: 'apiKey', label: 'API key', secret: true, required: true },
      { name: 'siteId', label: 'Site id', secret: false, required: true },
    ]);
    const a = secCloudProvider.create({ baseUrl: emu.url, credentials: { apiKey: API_KEY, siteId: SITE } });
    extra.push(a as SecCloudAdapter);
    expect(a).toBeInstanceOf(SecCloudAdapter);
    expect(a.capabilities).toEqual({
      accessGroups: true,
      providerUsers: true,
      membershipWindows: true,
      pinOnUser: true,
      pinOnLock: false,
      offlineAlgorithmicPin: false,
      mobileCredential: false,
      urlKey: false,
      pulseOpen: false,
      revocable: true,
      updatableGrants: true,
      issuesCredentials: false,
    });
    expect(a.pinRules).toEqual({ length: 6, minLength: 4, maxLength: 8, allowedDigits: '0123456789', bannedPrefixes: [] });
    expect(a.deletingUserRemovesGrants).toBe(true);

    const missing = (credentials: Record<string, string>) => {
      try {
        secCloudProvider.create({ baseUrl: emu.url, credentials });
      } catch (err) {
        expect(err).toBeInstanceOf(ProviderError);
        return err as ProviderError;
      }
      throw new Error('expected create() to throw');
    };
    let err = missing({ siteId: SITE });
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/^seccloud: the API key is missing; enter it in the integration's credentials$/);
    err = missing({ apiKey: API_KEY, siteId: '  ' });
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/site id is missing/);
    expect(err.message).not.toContain(API_KEY);
  });
});

describe('seccloud adapter over HTTP', () => {
  it('tests the connection and lists access groups with descriptions', async () => {
    await adapter.testConnection();
    const targets = await adapter.listTargets();
    expect(targets).toHaveLength(5);
    expect(targets[0]).toEqual({ ref: FRONT, name: 'Main entrance', description: 'Street door and reception, 06:00–23:00', kind: 'access-group' });
    // A group without a description carries no description key.
    expect(targets.find((t) => t.ref === LOUNGE)).toEqual({ ref: LOUNGE, name: 'Members lounge', kind: 'access-group' });
  });

  it('follows next_cursor across pages for groups, users and memberships', async () => {
    const small = await startSecCloudEmulator({ apiKey: 'k', siteId: 's', maxPageSize: 2 });
    const a = new SecCloudAdapter({ baseUrl: small.url, apiKey: 'k', siteId: 's' });
    try {
      small.resetStats();
      expect((await a.listTargets()).map((t) => t.name)).toEqual(['Main entrance', 'Studio A', 'Studio B', 'Members lounge', 'Bike store']);
      expect(small.stats().byRoute['GET /v1/sites/:site_id/access_groups']).toBe(3);

      const { ref } = await a.createUser(identity('pager'));
      const start = Date.UTC(2030, 0, 1, 9);
      const groups = [FRONT, STUDIO_A, STUDIO_B, LOUNGE, '7d1f0c2a-0005-4c1e-9a00-000000000005'];
      for (const [i, g] of groups.entries()) await a.createGrant({ userRef: ref, identity: identity('pager'), targetRef: g, window: win(start + i * H, null) });
      const obs = await a.observe({ userRef: ref, key: 'pager', grantRefs: [] });
      expect(obs.grants.map((g) => g.targetRef).sort()).toEqual([...groups].sort());

      // The raw API really pages: two per page with a cursor.
      const first = await fetch(`${small.url}/v1/sites/s/memberships?user_id=${ref}`, { headers: { 'x-api-key': 'k' } }).then((r) => r.json());
      expect(first.data).toHaveLength(2);
      expect(typeof first.next_cursor).toBe('string');
    } finally {
      await a.close();
      await small.close();
    }
  });

  it('round-trips user, PIN, grants with windows, update, delete and observe', async () => {
    const id = identity('person-roundtrip');
    expect(await adapter.findUser(id.key)).toBeNull();

    const { ref: userRef } = await adapter.createUser(id);
    expect(await adapter.findUser(id.key)).toEqual({ ref: userRef, key: id.key, hasPin: false });
    expect(emu.state.user(userRef)).toMatchObject({ external_ref: id.key, display_name: id.displayName, email: id.email, pin_set: false });

    await adapter.setUserPin(userRef, '482913');
    expect(emu.state.pinMatches(userRef, '482913')).toBe(true);
    expect((await adapter.findUser(id.key))?.hasPin).toBe(true);

    const start = Date.UTC(2030, 0, 1, 9);
    const { ref: grantRef } = await adapter.createGrant({ userRef, identity: id, targetRef: STUDIO_A, window: win(start, start + 2 * H) });
    const { ref: openRef } = await adapter.createGrant({ userRef, identity: id, targetRef: FRONT, window: win(start, null) });

    let obs = await adapter.observe({ userRef, key: id.key, grantRefs: [] });
    expect(obs.user).toEqual({ ref: userRef, key: id.key, hasPin: true });
    expect(obs.grants).toHaveLength(2);
    expect(obs.grants).toContainEqual({ ref: grantRef, targetRef: STUDIO_A, window: win(start, start + 2 * H) });
    expect(obs.grants).toContainEqual({ ref: openRef, targetRef: FRONT, window: win(start, null) });

    // The emulator enforces the window [valid_from, valid_to).
    expect(emu.state.canEnter({ pin: '482913', accessGroupId: STUDIO_A, at: start + H })).toBe(true);
    expect(emu.state.canEnter({ pin: '482913', accessGroupId: STUDIO_A, at: start + 2 * H })).toBe(false);
    expect(emu.state.canEnter({ pin: '482913', accessGroupId: STUDIO_A, at: start - 1 })).toBe(false);
    expect(emu.state.canEnter({ pin: '482913', accessGroupId: STUDIO_B, at: start + H })).toBe(false);
    expect(emu.state.canEnter({ pin: '111112', accessGroupId: STUDIO_A, at: start + H })).toBe(false);

    await adapter.updateGrant({ userRef, identity: id, grantRef, targetRef: STUDIO_A, window: win(start - H, null) });
    await adapter.updateGrant({ userRef, identity: id, grantRef: openRef, targetRef: FRONT, window: win(start, start + H + 250) });
    obs = await adapter.observe({ userRef, key: id.key, grantRefs: [] });
    expect(obs.grants).toContainEqual({ ref: grantRef, targetRef: STUDIO_A, window: win(start - H, null) });
    expect(obs.grants).toContainEqual({ ref: openRef, targetRef: FRONT, window: win(start, start + H + 250) });

    // Dates on the wire: snake_case, RFC 3339 UTC, whole seconds without a fraction.
    expect(emu.state.memberships(userRef).find((m) => m.id === openRef)).toEqual({
      id: openRef,
      user_id: userRef,
      access_group_id: FRONT,
      valid_from: '2030-01-01T09:00:00Z',
      valid_to: '2030-01-01T10:00:00.250Z',
    });

    await adapter.deleteGrant({ grantRef, targetRef: STUDIO_A }); // no userRef needed
    await adapter.deleteGrant({ grantRef, targetRef: STUDIO_A }); // already gone = success
    obs = await adapter.observe({ key: id.key, grantRefs: [] }); // by key
    expect(obs.user?.ref).toBe(userRef);
    expect(obs.grants.map((g) => g.ref)).toEqual([openRef]);

    await adapter.deleteUser(userRef);
    await adapter.deleteUser(userRef); // 404 = already gone
    expect(await adapter.observe({ userRef, key: id.key, grantRefs: [] })).toEqual({ user: null, grants: [] });
    expect(await adapter.observe({ key: id.key, grantRefs: [] })).toEqual({ user: null, grants: [] });
    // Deleting the user took its memberships and PIN with it.
    expect(emu.state.snapshot().memberships.filter((m) => m.user_id === userRef)).toEqual([]);
    expect(emu.state.canEnter({ pin: '482913', accessGroupId: FRONT, at: start + 1 })).toBe(false);
  });

  it('creates a grant from the identity key when userRef is missing', async () => {
    const id = identity('person-nouserref');
    const { ref } = await adapter.createUser(id);
    const { ref: grantRef } = await adapter.createGrant({ identity: id, targetRef: STUDIO_B, window: win(Date.now(), null) });
    expect(emu.state.memberships(ref).map((m) => m.id)).toEqual([grantRef]);
    const err = await catchErr(adapter.createGrant({ identity: identity('nobody'), targetRef: STUDIO_B, window: win(Date.now(), null) }));
    expect(err.kind).toBe('not-found');
  });

  it('adopts an existing user when createUser answers 409', async () => {
    const id = identity('person-adopt');
    const first = await adapter.createUser(id);
    expect((await adapter.createUser(id)).ref).toBe(first.ref);
    expect(emu.state.users().filter((u) => u.external_ref === id.key)).toHaveLength(1);
    const r = await raw('POST', '/users', { external_ref: id.key, display_name: 'x' });
    expect(r.status).toBe(409);
    expect(r.json).toEqual({ code: 'already_exists', message: expect.stringMatching(/^external_ref: /) });
  });

  it('adopts only an exact external_ref match, even if the API filter were loose', async () => {
    // A stub whose filter behaves like a prefix / case-insensitive search.
    const stub = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [{ id: 'u-other', external_ref: 'exact-ref-1', display_name: 'Other', pin_set: false }], next_cursor: null }));
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const a = newAdapter({ baseUrl: `http://127.0.0.1:${(stub.address() as AddressInfo).port}` });
    try {
      expect(await a.findUser('exact-ref')).toBeNull();
      expect(await a.findUser('EXACT-REF-1')).toBeNull();
      expect(await a.findUser('exact-ref-1')).toEqual({ ref: 'u-other', key: 'exact-ref-1', hasPin: false });
    } finally {
      await a.close();
      stub.closeAllConnections();
      await new Promise<void>((resolve) => stub.close(() => resolve()));
    }
  });
});

describe('PIN rules', () => {
  it('enforces digits, length, weak codes and uniqueness without revealing the PIN', async () => {
    const { ref: a } = await adapter.createUser(identity('pin-a'));
    const { ref: b } = await adapter.createUser(identity('pin-b'));
    for (const bad of ['123', '123456789', '12a456', ' 48291']) {
      const err = await catchErr(adapter.setUserPin(a, bad));
      expect(err.kind).toBe('rejected');
      expect(err.details.status).toBe(400);
      expect(err.message).toContain('pin: must be a string of 4 to 8 digits');
    }
    for (const weak of ['7777', '123456', '98765']) {
      const err = await catchErr(adapter.setUserPin(a, weak));
      expect(err.message).toContain('too weak');
      expect(err.message).not.toContain(weak);
    }
    // 4 and 8 digits, and a leading zero, are accepted.
    await adapter.setUserPin(a, '0472');
    await adapter.setUserPin(a, '04729183');
    await adapter.setUserPin(a, '735194');
    await adapter.setUserPin(a, '735194'); // same user, same PIN: fine
    const err = await catchErr(adapter.setUserPin(b, '735194'));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBe(409);
    expect(err.message).toContain('pin');
    expect(err.message).not.toContain('735194');
    // Changing A's PIN frees the old one.
    await adapter.setUserPin(a, '735195');
    await adapter.setUserPin(b, '735194');
    expect(emu.state.pinMatches(b, '735194')).toBe(true);
    expect(emu.state.pinMatches(a, '735194')).toBe(false);
    // DELETE /users/{id}/pin clears it.
    expect((await raw('DELETE', `/users/${b}/pin`)).status).toBe(204);
    expect((await adapter.findUser('pin-b'))?.hasPin).toBe(false);
  });

  it('never exposes PINs or the key in responses, the state dump or error messages', async () => {
    const pin = '918273';
    const { ref } = await adapter.createUser(identity('person-secret'));
    await adapter.setUserPin(ref, pin);
    const state = await fetch(`${emu.url}/_emulator/state`).then((r) => r.text());
    expect(state).not.toContain(pin);
    expect(state).not.toContain(API_KEY);
    expect(JSON.stringify(emu.state.snapshot())).not.toContain(pin);
    expect((await raw('GET', `/users/${ref}`)).text).not.toContain(pin);
    expect((await raw('GET', '/users')).text).not.toContain(pin);

    const messages: string[] = [];
    for (const status of [400, 401, 404, 409, 429, 500, 503]) {
      emu.faults.add({ match: { path: '/v1/sites/' }, times: 1, fault: { kind: 'status', status } });
      messages.push((await catchErr(adapter.setUserPin(ref, pin))).message);
    }
    emu.faults.add({ times: 1, fault: { kind: 'drop' } });
    messages.push((await catchErr(adapter.setUserPin(ref, pin))).message);
    expect(messages).toHaveLength(8);
    for (const m of messages) {
      expect(m).not.toContain(pin);
      expect(m).not.toContain(API_KEY);
    }
  });
});

describe('emulator validation (as the assumed API rejects)', () => {
  let userRef: string;
  beforeAll(async () => {
    userRef = (await adapter.createUser(identity('person-validation'))).ref;
  });

  it('refuses a missing or wrong X-Api-Key with 401 { code, message }', async () => {
    let r = await raw('GET', '/access_groups', undefined, { key: null });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ code: 'unauthenticated', message: 'missing or invalid X-Api-Key header' });
    r = await raw('GET', '/access_groups', undefined, { key: 'nope' });
    expect(r.status).toBe(401);
    // A Bearer token (the demo's scheme) is not SecCloud's.
    const res = await fetch(`${emu.url}/v1/sites/${SITE}/access_groups`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(res.status).toBe(401);
  });

  it('answers 404 for an unknown site, user, membership or route', async () => {
    expect((await raw('GET', '/access_groups', undefined, { site: 'other-site' })).json).toEqual({ code: 'not_found', message: 'site other-site not found' });
    expect((await raw('GET', '/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await raw('PATCH', '/memberships/00000000-0000-4000-8000-000000000000', { valid_to: null })).status).toBe(404);
    expect((await raw('DELETE', '/memberships/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await raw('GET', '/doors')).status).toBe(404);
    expect((await raw('GET', '/memberships', undefined)).status).toBe(400); // user_id filter required
  });

  it('requires the user fields and checks their formats', async () => {
    const cases: [unknown, RegExp][] = [
      [{ display_name: 'No ref' }, /^external_ref: is required/],
      [{ external_ref: 'x-1' }, /^display_name: is required/],
      [{ external_ref: '   ', display_name: 'Blank' }, /^external_ref: must not be blank/],
      [{ external_ref: 'x-2', display_name: 'y'.repeat(101) }, /^display_name: must be at most 100/],
      [{ external_ref: 'r'.repeat(129), display_name: 'Long' }, /^external_ref: must be at most 128/],
      [{ external_ref: 'x-3', display_name: 'Mail', email: 'not-an-email' }, /^email: /],
      [{ external_ref: 'x-4', display_name: 'Phone', phone: '01632 960000' }, /^phone: must be in E\.164/],
      [{ external_ref: 42, display_name: 'Num' }, /^external_ref: must be a string/],
    ];
    for (const [body, message] of cases) {
      const r = await raw('POST', '/users', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.code).toBe('invalid_argument');
      expect(r.json.message).toMatch(message);
    }
    expect((await raw('POST', '/users', { external_ref: 'x-5', display_name: 'Ok', phone: '+441632960000' })).status).toBe(201);
  });

  it('requires memberships fields and RFC 3339 dates with seconds and an offset', async () => {
    const base = { user_id: userRef, access_group_id: STUDIO_A };
    const bad: [unknown, RegExp][] = [
      [{ access_group_id: STUDIO_A, valid_from: '2030-01-01T09:00:00Z' }, /^user_id: is required/],
      [{ user_id: userRef, valid_from: '2030-01-01T09:00:00Z' }, /^access_group_id: is required/],
      [{ ...base }, /^valid_from: is required/],
      [{ ...base, access_group_id: 'grp-nope', valid_from: '2030-01-01T09:00:00Z' }, /^access_group_id: no such access group/],
      [{ ...base, user_id: 'usr-nope', valid_from: '2030-01-01T09:00:00Z' }, /^user_id: no such user/],
      [{ ...base, valid_from: '2030-01-01T09:00:00' }, /^valid_from: must be an RFC 3339/], // no offset
      [{ ...base, valid_from: '2030-01-01T09:00Z' }, /^valid_from: must be an RFC 3339/], // no seconds
      [{ ...base, valid_from: '2030-02-30T09:00:00Z' }, /^valid_from: is not a valid date-time/],
      [{ ...base, valid_from: 1893488400000 }, /^valid_from: must be an RFC 3339 date-time string/],
      [{ ...base, valid_from: '2030-01-01T09:00:00Z', valid_to: '2030-01-01T09:00:00Z' }, /^valid_to: must be after valid_from/],
      [{ ...base, valid_from: '2030-01-01T10:00:00+01:00', valid_to: '2030-01-01T08:59:59Z' }, /^valid_to: must be after valid_from/],
    ];
    for (const [body, message] of bad) {
      const r = await raw('POST', '/memberships', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json).toEqual({ code: 'invalid_argument', message: expect.stringMatching(message) });
    }
    const ok = await raw('POST', '/memberships', { ...base, valid_from: '2030-01-01T10:00:00+01:00', valid_to: '2030-01-01T09:30:00Z' });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ user_id: userRef, access_group_id: STUDIO_A, valid_from: '2030-01-01T09:00:00Z', valid_to: '2030-01-01T09:30:00Z' });
    const p = await raw('PATCH', `/memberships/${ok.json.id}`, { access_group_id: FRONT });
    expect(p.status).toBe(400);
    expect(p.json.message).toMatch(/^access_group_id: cannot be changed/);
    expect((await raw('PATCH', `/memberships/${ok.json.id}`, { valid_from: null })).status).toBe(400);
  });

  it('refuses bodies that are not JSON objects and bad paging parameters', async () => {
    expect((await raw('POST', '/users', '{"external_ref":')).status).toBe(400);
    expect((await raw('POST', '/users', '[1,2]')).status).toBe(400);
    const r = await raw('POST', '/users', { external_ref: 'ct', display_name: 'CT' }, { contentType: 'text/plain' });
    expect(r.status).toBe(415);
    expect(r.json.code).toBe('unsupported_media_type');
    expect((await raw('GET', '/access_groups?limit=0')).status).toBe(400);
    expect((await raw('GET', '/access_groups?limit=abc')).status).toBe(400);
    expect((await raw('GET', '/access_groups?cursor=not-ours')).json).toEqual({ code: 'invalid_argument', message: 'cursor: is not a cursor this API issued' });
  });

  it('caps memberships per user at 100 (409 → rejected)', async () => {
    const id = identity('person-limit');
    const { ref } = await adapter.createUser(id);
    for (let i = 0; i < 100; i++) await adapter.createGrant({ userRef: ref, identity: id, targetRef: FRONT, window: win(i * H, null) });
    const err = await catchErr(adapter.createGrant({ userRef: ref, identity: id, targetRef: FRONT, window: win(0, null) }));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBe(409);
    expect(err.message).toContain('limit_exceeded');
  });
});

describe('error mapping', () => {
  it('a bad key is an auth error with a clear message that does not contain the key', async () => {
    const bad = newAdapter({ apiKey: 'wrong-key-9931' });
    const err = await catchErr(bad.testConnection());
    expect(err.kind).toBe('auth');
    expect(err.retryable).toBe(false);
    expect(err.details.status).toBe(401);
    expect(err.message).toMatch(/credentials/);
    expect(err.message).not.toContain('wrong-key-9931');
    expect(err.message).not.toContain(SITE);
  });

  it('a wrong site id is not-found with a message naming the setting', async () => {
    const err = await catchErr(newAdapter({ siteId: 'site-typo' }).testConnection());
    expect(err.kind).toBe('not-found');
    expect(err.message).toContain('site id');
    expect(err.message).toContain('site-typo');
  });

  it('429 is rate-limited with retryAfterMs; 503 and drops are transient; a base path is kept', async () => {
    emu.faults.add({ match: { method: 'GET' }, times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 7 } });
    let err = await catchErr(adapter.listTargets());
    expect(err.kind).toBe('rate-limited');
    expect(err.details).toEqual({ status: 429, retryAfterMs: 7000 });
    emu.faults.add({ match: { method: 'POST', path: `/v1/sites/${SITE}/users` }, times: 1, fault: { kind: 'status', status: 503 } });
    err = await catchErr(adapter.createUser(identity('person-503')));
    expect(err.kind).toBe('transient');
    expect(emu.state.userByExternalRef('person-503')).toBeNull();
    emu.faults.add({ times: 1, fault: { kind: 'drop' } });
    err = await catchErr(adapter.findUser('whoever'));
    expect(err.kind).toBe('transient');
    expect(await adapter.findUser('whoever')).toBeNull();
    // A trailing slash on the base URL does not break the site path.
    expect((await newAdapter({ baseUrl: `${emu.url}/` }).listTargets()).length).toBe(5);
  });

  it('a hanging provider and a short timeout become transient', async () => {
    emu.faults.add({ times: 1, fault: { kind: 'hang' } });
    const err = await catchErr(newAdapter({ timeoutMs: 150 }).testConnection());
    expect(err.kind).toBe('transient');
    expect(err.message).toMatch(/timed out/);
  });
});

describe('emulator lifecycle', () => {
  it('resets users, memberships, PINs, faults and stats; ids are not reused', async () => {
    const other = await startSecCloudEmulator({ accessGroups: [{ id: 'g1', name: 'Gate', description: 'The only gate' }] });
    const a = new SecCloudAdapter({ baseUrl: other.url, apiKey: other.apiKey, siteId: other.siteId });
    try {
      expect(await a.listTargets()).toEqual([{ ref: 'g1', name: 'Gate', description: 'The only gate', kind: 'access-group' }]);
      const { ref } = await a.createUser(identity('reset-me'));
      await a.setUserPin(ref, '583920');
      other.faults.add({ match: { path: '/nowhere' }, fault: { kind: 'drop' } });
      expect((await fetch(`${other.url}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
      expect(other.state.snapshot()).toMatchObject({ users: [], memberships: [] });
      expect(other.faults.list()).toEqual([]);
      expect(other.stats().requests).toBe(0);
      expect(other.state.canEnter({ pin: '583920', accessGroupId: 'g1' })).toBe(false);
      expect((await a.createUser(identity('reset-me'))).ref).not.toBe(ref);
    } finally {
      await a.close();
      await other.close();
    }
  });
});
