import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenpathAdapter, splitName } from '../../src/providers/openpath/adapter.js';
import { startAltaEmulator, type AltaEmulator } from '../../src/providers/openpath/emulator.js';
import { openpathProvider } from '../../src/providers/openpath/index.js';
import { ProviderError } from '../../src/providers/types.js';
import { openpathFixture } from '../contract/openpath.js';
import { hoursFromNow, startHarness, type Harness } from '../support/harness.js';
import type { RunningProvider } from '../contract/fixture.js';

const ORG = 4711;
const ADMIN = { email: 'bot@venue.example', password: 'pw-Secret-9931', orgIds: [ORG] };
const H = 3_600_000;

let emu: AltaEmulator;
const adapters: OpenpathAdapter[] = [];

function newAdapter(opts: Partial<{ password: string; orgId: string; mobileCredential: boolean; timeoutMs: number }> = {}): OpenpathAdapter {
  const a = new OpenpathAdapter({
    baseUrl: emu.url,
    email: ADMIN.email,
    password: opts.password ?? ADMIN.password,
    orgId: opts.orgId ?? String(ORG),
    mobileCredential: opts.mobileCredential ?? false,
    timeoutMs: opts.timeoutMs,
  });
  adapters.push(a);
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

async function token(): Promise<string> {
  const res = await fetch(`${emu.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as any).data.token;
}

async function raw(method: string, path: string, body?: unknown, auth: string | null = null): Promise<{ status: number; json: any }> {
  const res = await fetch(emu.url + path, {
    method,
    headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const identity = (key: string, email: string | undefined = `${key}@example.com`) => ({ key, displayName: `Ada Lovelace ${key}`, ...(email ? { email } : {}) });

beforeAll(async () => {
  emu = await startAltaEmulator({ port: 0, admins: [ADMIN] });
});
beforeEach(() => emu.reset());
afterEach(() => emu.faults.clear());
afterAll(async () => {
  await Promise.all(adapters.map((a) => a.close()));
  await emu.close();
});

describe('openpath provider module', () => {
  it('describes itself: password secret, org id and options not; honest capabilities', () => {
    expect(openpathProvider.kind).toBe('openpath');
    expect(openpathProvider.credentialFields.map((f) => [f.name, f.secret, f.required])).toEqual([
      ['email', false, true],
      ['password', true, true],
      ['orgId', false, true],
      ['mobileCredential', false, false],
    ]);
    const a = openpathProvider.create({ baseUrl: emu.url, credentials: { email: ADMIN.email, password: ADMIN.password, orgId: '4711' } });
    adapters.push(a as OpenpathAdapter);
    expect(a).toBeInstanceOf(OpenpathAdapter);
    expect(a.capabilities).toMatchObject({
      accessGroups: true,
      providerUsers: true,
      membershipWindows: false,
      pinOnUser: false,
      pinOnLock: false,
      mobileCredential: true,
      revocable: true,
      updatableGrants: true,
      issuesCredentials: false,
    });
    expect(a.deletingUserRemovesGrants).toBe(true);
  });

  it('refuses missing or malformed credentials with an admin-readable auth error', () => {
    const create = (credentials: Record<string, string>) => () => openpathProvider.create({ baseUrl: emu.url, credentials });
    for (const [credentials, text] of [
      [{ password: 'x', orgId: '1' }, /e-mail is missing/],
      [{ email: 'a@b.c', orgId: '1' }, /password is missing/],
      [{ email: 'a@b.c', password: 'x', orgId: ' ' }, /organisation ID is missing/],
      [{ email: 'a@b.c', password: 'x', orgId: 'venue' }, /must be a number/],
      [{ email: 'a@b.c', password: 'x', orgId: '1', mobileCredential: 'maybe' }, /'yes' or 'no'/],
    ] as const) {
      expect(create(credentials)).toThrow(ProviderError);
      expect(create(credentials)).toThrow(text);
    }
    expect(splitName('Ada King Lovelace')).toEqual({ firstName: 'Ada King', lastName: 'Lovelace' });
    expect(splitName('Cher')).toEqual({ firstName: 'Cher', lastName: '-' });
  });
});

describe('openpath adapter ↔ Alta emulator', () => {
  it('testConnection logs in and checks the organisation is readable', async () => {
    await newAdapter().testConnection();
    expect(emu.state.logins()).toBe(1);
  });

  it('a wrong password is an auth error that names the credentials, not the password', async () => {
    const err = await catchErr(newAdapter({ password: 'Wrong-pw-7719' }).testConnection());
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/credentials/);
    expect(err.message).not.toContain('Wrong-pw-7719');
    expect(err.message).not.toContain(ADMIN.email);
  });

  it('an organisation the login cannot see fails testConnection with a clear auth error', async () => {
    const err = await catchErr(newAdapter({ orgId: '5000' }).testConnection());
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/organisation ID/);
  });

  it('lists access groups with descriptions of the zones and entries they open', async () => {
    const targets = await newAdapter().listTargets();
    expect(targets.map((t) => [t.ref, t.name, t.kind])).toEqual([
      ['101', 'Front door', 'access-group'],
      ['102', 'Meeting room 1', 'access-group'],
      ['103', 'Parking', 'access-group'],
    ]);
    expect(targets[0].description).toBe('Street entrance, all hours · Zones: Lobby · Entries: Main entrance, Lobby turnstile');
    expect(targets[2].description).toBe('Zones: Car park · Entries: Barrier');
  });

  it('creates users with name and e-mail only (plus the opaque key) and finds them by key', async () => {
    const a = newAdapter();
    const { ref } = await a.createUser(identity('k1'));
    expect(emu.state.lastCreateUserBodyKeys()).toEqual({ top: ['externalId', 'identity'], identity: ['email', 'firstName', 'lastName'] });
    const u = emu.state.users(ORG).find((x) => String(x.id) === ref)!;
    expect(u).toMatchObject({ externalId: 'k1', email: 'k1@example.com', firstName: 'Ada Lovelace', lastName: 'k1', mobileCredentials: [] });
    expect(await a.findUser('k1')).toEqual({ ref, key: 'k1' });
    expect(await a.findUser('nobody')).toBeNull();
  });

  it('adopts a user it created earlier but never adopts someone else with the same e-mail', async () => {
    const a = newAdapter();
    const first = await a.createUser(identity('k2', 'same@example.com'));
    expect(await a.createUser(identity('k2', 'same@example.com'))).toEqual(first);
    const err = await catchErr(a.createUser(identity('other', 'same@example.com')));
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/not created by Lockstep/);
    expect(emu.state.users(ORG)).toHaveLength(1);
  });

  it('refuses a person without an e-mail (privacy mode) before calling Alta', async () => {
    const err = await catchErr(newAdapter().createUser({ key: 'anon', displayName: 'Guest 1a2b3c4d' }));
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/e-mail/);
    expect(emu.state.users()).toHaveLength(0);
  });

  it('with mobileCredential on, a new user gets one mobile credential and Alta sends the app invite once', async () => {
    const a = newAdapter({ mobileCredential: true });
    const { ref } = await a.createUser(identity('m1'));
    await a.createGrant({ userRef: ref, identity: identity('m1'), targetRef: '101', window: { startsAt: Date.now(), endsAt: Date.now() + H } });
    // A fresh adapter (restart) re-checks and still creates nothing new.
    await newAdapter({ mobileCredential: true }).createGrant({ userRef: ref, identity: identity('m1'), targetRef: '102', window: { startsAt: Date.now(), endsAt: null } });
    const creds = emu.state.users(ORG)[0].mobileCredentials;
    expect(creds).toHaveLength(1);
    expect(creds[0].setupEmailsSent).toBe(1);
  });

  it('with mobileCredential off, no credential is created', async () => {
    const a = newAdapter();
    const { ref } = await a.createUser(identity('m2'));
    await a.createGrant({ userRef: ref, identity: identity('m2'), targetRef: '101', window: { startsAt: Date.now(), endsAt: null } });
    expect(emu.state.users(ORG)[0].mobileCredentials).toEqual([]);
  });

  it('grants are group memberships: create, observe, re-put on update, delete', async () => {
    const a = newAdapter();
    const { ref: userRef } = await a.createUser(identity('g1'));
    const id = Number(userRef);
    const window = { startsAt: Date.now() - H, endsAt: Date.now() + H };
    const g1 = await a.createGrant({ userRef, identity: identity('g1'), targetRef: '101', window });
    const g2 = await a.createGrant({ identity: identity('g1'), targetRef: '102', window }); // resolves the user by key
    expect([g1.ref, g2.ref]).toEqual(['101', '102']);
    expect(emu.state.isMember(ORG, id, 101) && emu.state.isMember(ORG, id, 102)).toBe(true);

    const seen = await a.observe({ userRef, key: 'g1', grantRefs: [] });
    expect(seen.user).toEqual({ ref: userRef, key: 'g1' });
    // No window on Alta: held groups are reported open-ended.
    expect(seen.grants).toEqual([
      { ref: '101', targetRef: '101', window: { startsAt: 0, endsAt: null } },
      { ref: '102', targetRef: '102', window: { startsAt: 0, endsAt: null } },
    ]);

    emu.state.removeMembership(ORG, id, 101);
    await a.updateGrant({ userRef, identity: identity('g1'), targetRef: '101', grantRef: '101', window: { startsAt: window.startsAt, endsAt: window.endsAt + H } });
    expect(emu.state.isMember(ORG, id, 101)).toBe(true);

    await a.deleteGrant({ userRef, grantRef: '101', targetRef: '101' });
    expect(emu.state.isMember(ORG, id, 101)).toBe(false);
    await a.deleteGrant({ userRef, grantRef: '101', targetRef: '101' }); // already gone: fine
    expect((await a.observe({ userRef, key: 'g1', grantRefs: [] })).grants.map((g) => g.ref)).toEqual(['102']);

    await a.deleteUser(userRef);
    expect(await a.observe({ userRef, key: 'g1', grantRefs: [] })).toEqual({ user: null, grants: [] });
    expect(await a.observe({ key: 'g1', grantRefs: [] })).toEqual({ user: null, grants: [] });
    await a.deleteUser(userRef); // already gone: fine
  });

  it('an unknown group is not-found (Alta 404)', async () => {
    const a = newAdapter();
    const { ref } = await a.createUser(identity('g2'));
    const err = await catchErr(a.createGrant({ userRef: ref, identity: identity('g2'), targetRef: '999', window: { startsAt: 0, endsAt: null } }));
    expect(err.kind).toBe('not-found');
  });

  it('Lockstep writes no PINs to Alta', async () => {
    expect((await catchErr(newAdapter().setUserPin('1', '123456'))).kind).toBe('rejected');
  });

  it('an expired token is replaced by logging in again, once', async () => {
    const a = newAdapter();
    await a.listTargets();
    expect(emu.state.logins()).toBe(1);
    emu.state.expireTokens();
    await a.findUser('x');
    expect(emu.state.logins()).toBe(2);

    emu.faults.add({ match: { path: `/orgs/${ORG}/users` }, times: 2, fault: { kind: 'status', status: 401 } });
    const err = await catchErr(a.findUser('x'));
    expect(err.kind).toBe('auth');
    expect(emu.state.logins()).toBe(3); // one re-login, not a loop
  });

  it('maps 429 and 5xx for the engine to retry', async () => {
    const a = newAdapter();
    emu.faults.add({ match: { path: '/orgs/' }, times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 3 } });
    const limited = await catchErr(a.listTargets());
    expect(limited.kind).toBe('rate-limited');
    expect(limited.details.retryAfterMs).toBe(3000);
    emu.faults.add({ match: { path: '/orgs/' }, times: 1, fault: { kind: 'status', status: 503 } });
    expect((await catchErr(a.listTargets())).kind).toBe('transient');
    emu.faults.add({ match: { path: '/auth/login' }, times: 1, fault: { kind: 'drop' } });
    expect((await catchErr(newAdapter().testConnection())).kind).toBe('transient');
  });
});

describe('Alta emulator validates like the real API', () => {
  it('login needs e-mail and password; a wrong one is 401 without saying which', async () => {
    expect((await raw('POST', '/auth/login', { email: ADMIN.email })).status).toBe(400);
    expect((await raw('POST', '/auth/login', { password: 'x' })).status).toBe(400);
    expect((await raw('POST', '/auth/login', { email: 'not-an-email', password: 'x' })).status).toBe(400);
    const wrong = await raw('POST', '/auth/login', { email: ADMIN.email, password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.json.message).toBe('Invalid email or password');
    const unknown = await raw('POST', '/auth/login', { email: 'who@example.com', password: 'nope' });
    expect(unknown.json).toEqual(wrong.json);
  });

  it('org routes need a valid bearer token scoped to the org', async () => {
    expect((await raw('GET', `/orgs/${ORG}/groups`)).status).toBe(401);
    expect((await raw('GET', `/orgs/${ORG}/groups`, undefined, 'forged')).status).toBe(401);
    const t = await token();
    expect((await raw('GET', `/orgs/${ORG}/groups`, undefined, t)).status).toBe(200);
    expect((await raw('GET', '/orgs/5000/groups', undefined, t)).status).toBe(403);
    const noBearer = await fetch(`${emu.url}/orgs/${ORG}/groups`, { headers: { authorization: t } });
    expect(noBearer.status).toBe(401);
  });

  it('rejects malformed users, ids, filters and page sizes; unknown ids are 404', async () => {
    const t = await token();
    const post = (body: unknown) => raw('POST', `/orgs/${ORG}/users`, body, t);
    expect((await post({ externalId: 'x' })).status).toBe(400);
    expect((await post({ identity: { email: 'bad', firstName: 'A', lastName: 'B' } })).status).toBe(400);
    expect((await post({ identity: { email: 'a@b.example', firstName: 'A' } })).status).toBe(400);
    expect((await post({ identity: { email: 'a@b.example', firstName: ' ', lastName: 'B' } })).status).toBe(400);
    expect((await post({ identity: { email: 'a@b.example', firstName: 'A'.repeat(256), lastName: 'B' } })).status).toBe(400);
    const created = await post({ identity: { email: 'a@b.example', firstName: 'A', lastName: 'B' } });
    expect(created.status).toBe(201);
    expect((await post({ identity: { email: 'A@b.example', firstName: 'C', lastName: 'D' } })).status).toBe(409);
    const userId = created.json.data.id;
    expect((await raw('GET', `/orgs/${ORG}/users/abc`, undefined, t)).status).toBe(400);
    expect((await raw('GET', `/orgs/${ORG}/users/123456`, undefined, t)).status).toBe(404);
    expect((await raw('PUT', `/orgs/${ORG}/groups/999/users/${userId}`, undefined, t)).status).toBe(404);
    expect((await raw('PUT', `/orgs/${ORG}/groups/101/users/123456`, undefined, t)).status).toBe(404);
    expect((await raw('GET', `/orgs/${ORG}/users?preFilter=externalId=x`, undefined, t)).status).toBe(400);
    expect((await raw('GET', `/orgs/${ORG}/groups?limit=1001`, undefined, t)).status).toBe(400);
    expect((await raw('POST', `/orgs/${ORG}/users/${userId}/credentials`, { mobile: { name: 'x' } }, t)).status).toBe(400);
    expect((await raw('POST', `/orgs/${ORG}/users/${userId}/credentials`, { credentialTypeId: 1 }, t)).status).toBe(400);
    expect((await raw('POST', `/orgs/${ORG}/users/${userId}/credentials/1/setupMobile`, undefined, t)).status).toBe(404);
  });

  it('the state dump holds no passwords or tokens', async () => {
    const t = await token();
    const dump = JSON.stringify(await (await fetch(`${emu.url}/_emulator/state`)).json());
    expect(dump).not.toContain(ADMIN.password);
    expect(dump).not.toContain(t);
  });
});

describe('openpath through the whole of Lockstep (windows that have started)', () => {
  let provider: RunningProvider;
  let h: Harness;
  let space: string;
  beforeEach(async () => {
    provider = await openpathFixture.start();
    h = await startHarness('sqlite', { provider });
    space = await h.space(provider.targets.slice(0, 2));
  });
  afterEach(async () => {
    await h?.close();
    await provider?.close();
  });
  const book = async (start: string, end: string, email = 'ada@example.com') => {
    const res = await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada Lovelace', email }, start, end }, h.keys.admin);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; organiserId: string };
  };
  const held = async (personId: string) => (await provider.holdings({ id: personId, name: '', email: null })).map((g) => g.targetRef).sort();

  it('a started booking adds the memberships; a future one waits for its start; cancel removes', async () => {
    const now = await book(hoursFromNow(-1), hoursFromNow(1));
    await h.converge();
    expect(await held(now.organiserId)).toEqual(['101', '102']);

    const later = await book(hoursFromNow(5), hoursFromNow(6), 'bob@example.com');
    await h.converge();
    expect(await held(later.organiserId)).toEqual([]); // membershipWindows false: not before its start

    await h.call('POST', `/v1/bookings/${now.id}/cancel`, undefined, h.keys.admin);
    await h.converge();
    expect(await held(now.organiserId)).toEqual([]);
  });

  it('the engine comes back when a future window starts and adds the memberships then', async () => {
    // Window = booking − 30 min buffer (Alta's default), so this one starts ~2 s from now.
    const start = new Date(Date.now() + 30 * 60_000 + 2_000).toISOString();
    const b = await book(start, hoursFromNow(1));
    await h.converge();
    expect(await held(b.organiserId)).toEqual([]);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await held(b.organiserId)).length < 2) await new Promise((r) => setTimeout(r, 100));
    expect(await held(b.organiserId)).toEqual(['101', '102']);
  });

  it('drift is repaired and 429/503/dropped connections are retried', async () => {
    provider.faults.add({ times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 1 } });
    provider.faults.add({ times: 2, fault: { kind: 'status', status: 503 } });
    provider.faults.add({ times: 1, fault: { kind: 'drop' } });
    const b = await book(hoursFromNow(-1), hoursFromNow(1));
    await h.converge(20_000);
    const p = { id: b.organiserId, name: '', email: null };
    expect(await held(b.organiserId)).toEqual(['101', '102']);

    await provider.removeBehindOurBack(p, 'one-grant');
    await h.app.engine.scheduleDriftCheck();
    await h.converge();
    expect(await held(b.organiserId)).toEqual(['101', '102']);

    await provider.removeBehindOurBack(p, 'everything');
    await h.app.engine.scheduleDriftCheck();
    await h.converge();
    expect(await held(b.organiserId)).toEqual(['101', '102']);
  });
});
