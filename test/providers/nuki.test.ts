import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NukiAdapter } from '../../src/providers/nuki/adapter.js';
import { startNukiEmulator, type NukiEmulator } from '../../src/providers/nuki/emulator.js';
import { nukiProvider } from '../../src/providers/nuki/index.js';
import { ProviderError } from '../../src/providers/types.js';

const TOKEN = 'nuki-test-token-123';
const H = 3_600_000;
const FRONT = '17001001';
const ROOM = '17001002';

let emu: NukiEmulator;
let adapter: NukiAdapter;
const extra: NukiAdapter[] = [];

const identity = (key: string) => ({ key, displayName: `Person ${key}` });

async function catchErr(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the call to fail');
}

async function raw(method: string, path: string, body?: unknown, auth: string | null = TOKEN) {
  const res = await fetch(emu.url + path, {
    method,
    headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const keypadBody = (over: Record<string, unknown> = {}) => ({
  name: 'raw-test',
  type: 13,
  code: 345678,
  remoteAllowed: false,
  allowedFromDate: '2030-01-01T09:00:00.000Z',
  allowedUntilDate: '2030-01-01T11:00:00.000Z',
  ...over,
});

beforeAll(async () => {
  emu = await startNukiEmulator({ port: 0, apiToken: TOKEN, rateLimit: null });
  adapter = new NukiAdapter({ baseUrl: emu.url, apiToken: TOKEN });
});
afterEach(() => {
  emu.faults.clear();
  emu.setRateLimit(null);
});
afterAll(async () => {
  await Promise.all([adapter.close(), ...extra.map((a) => a.close())]);
  await emu.close();
});

describe('nuki provider module', () => {
  it('describes itself, builds an adapter and refuses a missing token', () => {
    expect(nukiProvider.kind).toBe('nuki');
    expect(nukiProvider.credentialFields).toEqual([{ name: 'apiToken', label: 'Nuki Web API token', secret: true, required: true }]);
    const a = nukiProvider.create({ baseUrl: emu.url, credentials: { apiToken: TOKEN } }) as NukiAdapter;
    extra.push(a);
    expect(a).toBeInstanceOf(NukiAdapter);
    expect(a.capabilities).toMatchObject({
      accessGroups: false,
      providerUsers: false,
      membershipWindows: true,
      pinOnUser: false,
      pinOnLock: true,
      revocable: true,
      updatableGrants: true,
      issuesCredentials: false,
    });
    expect(a.pinRules).toEqual({ length: 6, minLength: 6, maxLength: 6, allowedDigits: '123456789', bannedPrefixes: ['12'] });
    for (const credentials of [{}, { apiToken: '  ' }] as Record<string, string>[]) {
      let err: unknown;
      try {
        nukiProvider.create({ baseUrl: emu.url, credentials });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).kind).toBe('auth');
      expect((err as ProviderError).message).toMatch(/API token is missing/);
    }
  });
});

describe('nuki adapter over HTTP', () => {
  it('tests the connection and lists smartlocks as lock targets with descriptions', async () => {
    await adapter.testConnection();
    const targets = await adapter.listTargets();
    expect(targets).toHaveLength(4);
    expect(targets[0]).toEqual({ ref: FRONT, name: 'Front door', kind: 'lock', description: 'Nuki Smart Lock 3.0 / 4th gen, keypad paired' });
    expect(targets[1].description).toBe('Nuki Smart Lock 3.0 / 4th gen, Keypad 2.0 paired');
    expect(targets.find((t) => t.name === 'Courtyard gate')?.description).toMatch(/^Nuki Opener/);
    for (const t of targets) expect(t.kind).toBe('lock');
  });

  it('has no provider users', async () => {
    expect(await adapter.findUser('anyone')).toBeNull();
    expect((await catchErr(adapter.createUser(identity('x')))).kind).toBe('rejected');
    expect((await catchErr(adapter.setUserPin('x', '345678'))).kind).toBe('rejected');
  });

  it('creates, observes, updates and deletes keypad codes', async () => {
    const id = identity('lockstep-pe_roundtrip');
    const start = Date.UTC(2030, 0, 1, 9);
    const { ref } = await adapter.createGrant({ identity: id, targetRef: ROOM, window: { startsAt: start, endsAt: start + 2 * H }, pin: '482913' });
    const { ref: openRef } = await adapter.createGrant({ identity: id, targetRef: FRONT, window: { startsAt: start, endsAt: null }, pin: '482913' });
    expect(ref).toMatch(/^[0-9a-f]{24}$/);
    expect(openRef).not.toBe(ref);

    // What went to Nuki: a type-13 auth named after the key, all weekdays, dates in UTC.
    const [held] = emu.state.auths(Number(ROOM)).filter((a) => a.id === ref);
    expect(held).toMatchObject({
      name: id.key,
      type: 13,
      remoteAllowed: false,
      allowedWeekDays: 127,
      allowedFromDate: '2030-01-01T09:00:00.000Z',
      allowedUntilDate: '2030-01-01T11:00:00.000Z',
    });
    expect(emu.state.codeMatches(ref, '482913')).toBe(true);
    expect(emu.state.codeMatches(ref, '482914')).toBe(false);

    // The emulator enforces the window on its keypad.
    expect(emu.state.canEnter({ code: '482913', smartlockId: Number(ROOM), at: start + H })).toBe(true);
    expect(emu.state.canEnter({ code: '482913', smartlockId: Number(ROOM), at: start - 1 })).toBe(false);
    expect(emu.state.canEnter({ code: '482913', smartlockId: Number(ROOM), at: start + 2 * H })).toBe(false);
    expect(emu.state.canEnter({ code: '482913', smartlockId: 17001003, at: start + H })).toBe(false);

    // Someone else's code on the same lock is not observed as ours.
    await adapter.createGrant({ identity: identity('lockstep-pe_other'), targetRef: ROOM, window: { startsAt: start, endsAt: null }, pin: '654321' });
    let obs = await adapter.observe({ key: id.key, grantRefs: [] });
    expect(obs.user).toBeNull();
    expect(obs.grants).toHaveLength(2);
    expect(obs.grants).toContainEqual({ ref, targetRef: ROOM, window: { startsAt: start, endsAt: start + 2 * H } });
    expect(obs.grants).toContainEqual({ ref: openRef, targetRef: FRONT, window: { startsAt: start, endsAt: null } });

    // Move one window open-ended, bound the other, and change the PIN on one.
    await adapter.updateGrant({ identity: id, grantRef: ref, targetRef: ROOM, window: { startsAt: start - H, endsAt: null }, pin: '482913' });
    await adapter.updateGrant({ identity: id, grantRef: openRef, targetRef: FRONT, window: { startsAt: start, endsAt: start + H }, pin: '915738' });
    obs = await adapter.observe({ key: id.key, grantRefs: [] });
    expect(obs.grants).toContainEqual({ ref, targetRef: ROOM, window: { startsAt: start - H, endsAt: null } });
    expect(obs.grants).toContainEqual({ ref: openRef, targetRef: FRONT, window: { startsAt: start, endsAt: start + H } });
    expect(emu.state.codeMatches(openRef, '915738')).toBe(true);
    expect(emu.state.canEnter({ code: '482913', smartlockId: Number(FRONT), at: start + 1 })).toBe(false);

    await adapter.deleteGrant({ grantRef: ref, targetRef: ROOM });
    await adapter.deleteGrant({ grantRef: ref, targetRef: ROOM }); // already gone = success
    obs = await adapter.observe({ key: id.key, grantRefs: [] });
    expect(obs.grants.map((g) => g.ref)).toEqual([openRef]);
    expect(emu.state.canEnter({ code: '482913', smartlockId: Number(ROOM), at: start })).toBe(false);
  });

  it('rounds windows outward to whole seconds and reports the rounded window back', async () => {
    const id = identity('lockstep-pe_rounding');
    const window = { startsAt: Date.UTC(2030, 1, 1, 9, 0, 0, 750), endsAt: Date.UTC(2030, 1, 1, 10, 0, 0, 250) };
    const rounded = adapter.roundWindow(window);
    expect(rounded).toEqual({ startsAt: Date.UTC(2030, 1, 1, 9), endsAt: Date.UTC(2030, 1, 1, 10, 0, 1) });
    expect(adapter.roundWindow({ startsAt: Date.UTC(2030, 1, 1, 9), endsAt: null })).toEqual({ startsAt: Date.UTC(2030, 1, 1, 9), endsAt: null });
    const { ref } = await adapter.createGrant({ identity: id, targetRef: FRONT, window, pin: '777888' });
    const obs = await adapter.observe({ key: id.key, grantRefs: [] });
    expect(obs.grants).toEqual([{ ref, targetRef: FRONT, window: rounded }]);
  });

  it('enforces the keypad PIN rules and rejects a code already on the lock without revealing it', async () => {
    const id = identity('lockstep-pe_pins');
    const base = { identity: id, targetRef: FRONT, window: { startsAt: Date.UTC(2030, 2, 1), endsAt: null } };
    for (const pin of ['345670', '123456', '34567', '3456789']) {
      const err = await catchErr(adapter.createGrant({ ...base, pin }));
      expect(err.kind).toBe('rejected');
      expect(err.details.status).toBe(400);
      expect(err.message).toContain('code');
      expect(err.message).not.toContain(pin);
    }
    expect((await catchErr(adapter.createGrant({ ...base, pin: '34a567' }))).kind).toBe('rejected');
    expect((await catchErr(adapter.createGrant({ ...base, pin: undefined }))).kind).toBe('rejected');
    expect(emu.state.authsByName(id.key)).toEqual([]);

    await adapter.createGrant({ ...base, pin: '246813' });
    const err = await catchErr(adapter.createGrant({ ...base, identity: identity('lockstep-pe_pins2'), pin: '246813' }));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBe(409); // the engine issues a fresh PIN on 409
    expect(err.message).not.toContain('246813');
    // The same code on another lock is fine.
    await adapter.createGrant({ ...base, targetRef: ROOM, pin: '246813' });
    // An update to a taken code is a 409 too.
    const other = await adapter.createGrant({ ...base, identity: identity('lockstep-pe_pins3'), pin: '246814' });
    const upd = await catchErr(adapter.updateGrant({ ...base, identity: identity('lockstep-pe_pins3'), grantRef: other.ref, pin: '246813' }));
    expect(upd.details.status).toBe(409);
  });

  it('refuses an identity key longer than a Nuki authorization name', async () => {
    const err = await catchErr(
      adapter.createGrant({ identity: identity('k'.repeat(33)), targetRef: FRONT, window: { startsAt: 0, endsAt: null }, pin: '345678' }),
    );
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/32/);
  });

  it('maps a bad token to an auth error that does not contain it', async () => {
    const bad = new NukiAdapter({ baseUrl: emu.url, apiToken: 'wrong-token-xyz' });
    extra.push(bad);
    const err = await catchErr(bad.testConnection());
    expect(err.kind).toBe('auth');
    expect(err.details.status).toBe(401);
    expect(err.message).toMatch(/credentials/);
    expect(err.message).not.toContain('wrong-token-xyz');
    expect((await raw('GET', '/smartlock', undefined, null)).status).toBe(401);
  });

  it('unknown smartlocks and auths are not-found', async () => {
    const err = await catchErr(adapter.updateGrant({ identity: identity('lockstep-pe_nf'), grantRef: 'f'.repeat(24), targetRef: FRONT, window: { startsAt: 0, endsAt: null } }));
    expect(err.kind).toBe('not-found');
    expect((await catchErr(adapter.createGrant({ identity: identity('lockstep-pe_nf'), targetRef: '999', window: { startsAt: 0, endsAt: null }, pin: '345678' }))).kind).toBe('not-found');
  });
});

describe('nuki emulator validates like the API', () => {
  it('answers a create with 204 and no body, then lists it with the code', async () => {
    const r = await raw('PUT', `/smartlock/${FRONT}/auth`, keypadBody({ name: 'raw-204', code: 398765 }));
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    const list = await raw('GET', `/smartlock/${FRONT}/auth?types=13`);
    const created = list.json.find((a: any) => a.name === 'raw-204');
    expect(created).toMatchObject({ type: 13, smartlockId: Number(FRONT), code: 398765, enabled: true });
    expect((await raw('GET', `/smartlock/${FRONT}/auth/${created.id}`)).json.name).toBe('raw-204');
    expect((await raw('GET', `/smartlock/${FRONT}/auth?types=0`)).json).toEqual([]);
  });

  it('rejects missing and malformed fields with 400', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ name: undefined }, /^name: /],
      [{ name: 'n'.repeat(33) }, /^name: .*32/],
      [{ remoteAllowed: undefined }, /^remoteAllowed: /],
      [{ type: 0 }, /^accountUserId: /],
      [{ code: undefined }, /^code: /],
      [{ code: '345678' }, /^code: /],
      [{ allowedFromDate: '2030-01-01T09:00:00' }, /^allowedFromDate: /],
      [{ allowedFromDate: '2030-02-30T09:00:00Z' }, /^allowedFromDate: /],
      [{ allowedUntilDate: '2030-01-01T08:00:00Z' }, /^allowedUntilDate: /],
      [{ allowedWeekDays: 128 }, /^allowedWeekDays: /],
      [{ allowedFromTime: 1440 }, /^allowedFromTime: /],
    ];
    for (const [over, message] of bad) {
      const r = await raw('PUT', `/smartlock/${FRONT}/auth`, keypadBody({ code: 356789, ...over }));
      expect(r.status, JSON.stringify(over)).toBe(400);
      expect(r.json.message).toMatch(message);
    }
    expect((await raw('PUT', `/smartlock/${FRONT}/auth`, [1, 2])).status).toBe(400);
    expect((await raw('POST', `/smartlock/${FRONT}/auth/${'a'.repeat(24)}`, { name: 'x' })).status).toBe(404);
    expect((await raw('GET', '/smartlock/42/auth')).status).toBe(404);
    expect((await raw('GET', '/nothing')).status).toBe(404);
    expect(emu.state.authsByName('raw-test')).toEqual([]);
  });

  it('an update needs the name; null leaves a date unchanged, as the published schema says', async () => {
    await raw('PUT', `/smartlock/${ROOM}/auth`, keypadBody({ name: 'raw-upd', code: 387654 }));
    const [a] = emu.state.authsByName('raw-upd');
    expect((await raw('POST', `/smartlock/${ROOM}/auth/${a.id}`, { allowedUntilDate: null })).status).toBe(400);
    expect((await raw('POST', `/smartlock/${ROOM}/auth/${a.id}`, { name: 'raw-upd', allowedUntilDate: null })).status).toBe(204);
    expect(emu.state.authsByName('raw-upd')[0]).toMatchObject({ allowedFromDate: '2030-01-01T09:00:00.000Z', allowedUntilDate: a.allowedUntilDate });
    expect(a.allowedUntilDate).not.toBeNull();
    expect((await raw('POST', `/smartlock/${ROOM}/auth/${a.id}`, { name: 'raw-upd', code: 123789 })).status).toBe(400);
    expect((await raw('DELETE', `/smartlock/${FRONT}/auth/${a.id}`)).status).toBe(404); // wrong lock
    expect((await raw('DELETE', `/smartlock/${ROOM}/auth/${a.id}`)).status).toBe(204);
  });

  it('enforces the rate limit with 429 and Retry-After', async () => {
    emu.setRateLimit({ limit: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) await adapter.listTargets();
    const err = await catchErr(adapter.listTargets());
    expect(err.kind).toBe('rate-limited');
    expect(err.details.status).toBe(429);
    expect(err.details.retryAfterMs).toBeGreaterThan(0);
    expect(err.details.retryAfterMs).toBeLessThanOrEqual(60_000);
    emu.setRateLimit({ limit: 2, windowMs: 150 });
    await adapter.listTargets();
    await adapter.listTargets();
    expect((await catchErr(adapter.listTargets())).kind).toBe('rate-limited');
    await new Promise((r) => setTimeout(r, 200));
    await adapter.listTargets(); // the window slid on
  });

  it('never puts keypad codes in the state dump', async () => {
    await adapter.createGrant({ identity: identity('lockstep-pe_secret'), targetRef: FRONT, window: { startsAt: 0, endsAt: null }, pin: '918273' });
    const state = await raw('GET', '/_emulator/state', undefined, null);
    expect(state.status).toBe(200);
    expect(state.json.auths.some((a: any) => a.name === 'lockstep-pe_secret')).toBe(true);
    expect(state.text).not.toContain('918273');
    expect(JSON.stringify(emu.state.auths())).not.toContain('918273');
  });

  it('injected faults map through the adapter', async () => {
    emu.faults.add({ match: { path: '/smartlock' }, times: 1, fault: { kind: 'status', status: 503 } });
    expect((await catchErr(adapter.listTargets())).kind).toBe('transient');
    emu.faults.add({ match: { method: 'GET', path: '/smartlock/auth' }, times: 1, fault: { kind: 'drop' } });
    expect((await catchErr(adapter.observe({ key: 'k' }))).kind).toBe('transient');
    expect(await adapter.observe({ key: 'k' })).toEqual({ user: null, grants: [] });
  });
});
