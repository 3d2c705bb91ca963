/**
 * The Seam adapter against Seam's own fake (`@seamapi/fake-seam-connect`) over real HTTP, through the
 * fault-injecting proxy; plus a small stub for the answers the fake never gives (errors[] on a code,
 * failed action attempts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SeamAdapter, OPEN_END_ISO, codeName, nameCarriesKey, roundOfflineWindow, SeamReplanNeeded } from '../../src/providers/seam/adapter.js';
import { seamProvider } from '../../src/providers/seam/index.js';
import { startEmulatorServer, type EmulatorServer } from '../../src/providers/emulator-kit.js';
import { ProviderError } from '../../src/providers/types.js';
import { startSeamPeer, type SeamPeer } from '../contract/seam-proxy.js';
import { startSeamOfflineStub, STUB_API_KEY, ONLINE_LOCK, OFFLINE_LOCK, type SeamOfflineStub } from '../contract/seam-offline-stub.js';
import type { Harness } from '../support/harness.js';

const H = 3_600_000;
const T0 = Date.parse('2030-03-01T10:00:00.000Z');

let peer: SeamPeer;
let adapter: SeamAdapter;
const adapters: SeamAdapter[] = [];

function newAdapter(opts: { apiKey?: string; baseUrl?: string } = {}): SeamAdapter {
  const a = new SeamAdapter({ baseUrl: opts.baseUrl ?? peer.proxy.url, apiKey: opts.apiKey ?? peer.apiKey, timeoutMs: 3_000, actionAttemptWaitMs: 500 });
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

/** Straight to the fake (no proxy): what the real API answers to malformed requests. */
async function rawFake(path: string, body: unknown, auth: string | null = peer.apiKey) {
  const res = await fetch(peer.fakeUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
}

interface FakeCode {
  access_code_id: string;
  device_id: string;
  name: string;
  code: string;
  type: string;
  status: string;
  starts_at?: string;
  ends_at?: string;
}
const fakeCodes = async (): Promise<FakeCode[]> => (await peer.fake.toJSON()).access_codes as unknown as FakeCode[];
const fakeCode = async (id: string) => (await fakeCodes()).find((c) => c.access_code_id === id);

const identity = (key: string) => ({ key, displayName: `Person ${key}` });
const win = (fromH: number, toH: number | null) => ({ startsAt: T0 + fromH * H, endsAt: toH === null ? null : T0 + toH * H });

beforeAll(async () => {
  peer = await startSeamPeer();
  adapter = newAdapter();
});
afterEach(() => peer.proxy.faults.clear());
afterAll(async () => {
  for (const a of adapters) await a.close();
  await peer.close();
});

describe('targets', () => {
  it('lists the devices that take online access codes as locks, with names and descriptions', async () => {
    const targets = await adapter.listTargets();
    const refs = targets.map((t) => t.ref).sort();
    expect(refs).toEqual([peer.devices.frontDoor, peer.devices.backDoor, peer.devices.schlage].sort());
    const front = targets.find((t) => t.ref === peer.devices.frontDoor)!;
    expect(front).toMatchObject({ name: 'Front Door', kind: 'lock' });
    expect(front.description).toMatch(/august/i);
  });

  it("carries a device's supported code lengths and code constraints as its PIN rules", async () => {
    peer.fake.database.addDevice({
      device_id: 'nuki_device_1',
      connected_account_id: 'john_connected_account_id',
      device_type: 'nuki_lock',
      name: 'Gym Door',
      workspace_id: 'seed_workspace_1',
      can_program_online_access_codes: true,
      properties: {
        manufacturer: 'nuki',
        supported_code_lengths: [6],
        code_constraints: [{ constraint_type: 'no_zeros' }, { constraint_type: 'cannot_start_with_12' }, { constraint_type: 'name_length', max_length: 20 }],
      },
    } as never);
    const gym = (await newAdapter().listTargets()).find((t) => t.ref === 'nuki_device_1')!;
    expect(gym.pinRules).toEqual({ minLength: 6, maxLength: 6, allowedDigits: '123456789', bannedPrefixes: ['12'] });
    expect(gym.description).toMatch(/6–6 digits/);
  });
});

describe('grants as access codes', () => {
  it('has no provider users', async () => {
    expect(adapter.capabilities).toMatchObject({ providerUsers: false, pinOnLock: true, pinOnUser: false, revocable: true, updatableGrants: true });
    expect(await adapter.findUser('k-any')).toBeNull();
    expect((await catchErr(adapter.createUser(identity('k-any')))).kind).toBe('rejected');
  });

  it('creates a time-bound code named after the identity key, with our PIN and window', async () => {
    const { ref } = await adapter.createGrant({ identity: identity('k-create'), targetRef: peer.devices.frontDoor, window: win(0, 2), pin: '734591' });
    const c = (await fakeCode(ref))!;
    expect(c).toMatchObject({ device_id: peer.devices.frontDoor, code: '734591', type: 'time_bound', name: 'k-create Person k-create' });
    expect(Date.parse(c.starts_at!)).toBe(T0);
    expect(Date.parse(c.ends_at!)).toBe(T0 + 2 * H);
  });

  it('sends an open-ended window with a far end and reads it back as open-ended', async () => {
    const { ref } = await adapter.createGrant({ identity: identity('k-open'), targetRef: peer.devices.backDoor, window: win(1, null), pin: '845962' });
    expect((await fakeCode(ref))!.ends_at).toBe(OPEN_END_ISO);
    const obs = await adapter.observe({ key: 'k-open', grantRefs: [] });
    expect(obs.grants).toEqual([{ ref, targetRef: peer.devices.backDoor, window: win(1, null) }]);
  });

  it('updates window and PIN in place and waits on the action attempt', async () => {
    const { ref } = await adapter.createGrant({ identity: identity('k-upd'), targetRef: peer.devices.frontDoor, window: win(0, 1), pin: '356789' });
    peer.proxy.resetStats();
    await adapter.updateGrant({ grantRef: ref, identity: identity('k-upd'), targetRef: peer.devices.frontDoor, window: win(3, 5), pin: '963852' });
    const c = (await fakeCode(ref))!;
    expect(c.code).toBe('963852');
    expect([Date.parse(c.starts_at!), Date.parse(c.ends_at!)]).toEqual([T0 + 3 * H, T0 + 5 * H]);
    expect(peer.proxy.stats().byRoute['POST (forwarded)']).toBeGreaterThanOrEqual(2); // update + action_attempts/get
  });

  it('updating a code deleted behind our back is not-found (the engine then re-creates it)', async () => {
    const { ref } = await adapter.createGrant({ identity: identity('k-gone'), targetRef: peer.devices.frontDoor, window: win(0, 1), pin: '415926' });
    await rawFake('/access_codes/delete', { access_code_id: ref });
    const err = await catchErr(adapter.updateGrant({ grantRef: ref, identity: identity('k-gone'), targetRef: peer.devices.frontDoor, window: win(0, 2), pin: '415926' }));
    expect(err.kind).toBe('not-found');
  });

  it('deletes a code; deleting it again is a no-op', async () => {
    const { ref } = await adapter.createGrant({ identity: identity('k-del'), targetRef: peer.devices.backDoor, window: win(0, 1), pin: '271828' });
    await adapter.deleteGrant({ grantRef: ref, targetRef: peer.devices.backDoor });
    expect(await fakeCode(ref)).toBeUndefined();
    await adapter.deleteGrant({ grantRef: ref, targetRef: peer.devices.backDoor });
  });

  it("observes only this person's codes, on every device, and not codes being removed", async () => {
    const a = await adapter.createGrant({ identity: identity('k-1'), targetRef: peer.devices.frontDoor, window: win(0, 1), pin: '583947' });
    const b = await adapter.createGrant({ identity: identity('k-1'), targetRef: peer.devices.schlage, window: win(2, 3), pin: '583947' });
    await adapter.createGrant({ identity: identity('k-10'), targetRef: peer.devices.frontDoor, window: win(0, 1), pin: '694158' });
    // No grantRefs: a create that crashed before we recorded its id is still found by the key in its name.
    let obs = await adapter.observe({ key: 'k-1', grantRefs: [] });
    expect(obs.user).toBeNull();
    expect(obs.grants.map((g) => g.ref).sort()).toEqual([a.ref, b.ref].sort());
    expect(obs.grants.find((g) => g.ref === b.ref)).toEqual({ ref: b.ref, targetRef: peer.devices.schlage, window: win(2, 3) });
    peer.fake.database.updateAccessCode({ access_code_id: a.ref, status: 'removing' } as never);
    obs = await adapter.observe({ key: 'k-1', grantRefs: [{ ref: a.ref, targetRef: peer.devices.frontDoor }] });
    expect(obs.grants.map((g) => g.ref)).toEqual([b.ref]);
  });

  it('a PIN already on the lock is a 409 ProviderError (the engine issues a new PIN), without the PIN in it', async () => {
    await adapter.createGrant({ identity: identity('k-dup-a'), targetRef: peer.devices.backDoor, window: win(0, 1), pin: '918273' });
    const err = await catchErr(adapter.createGrant({ identity: identity('k-dup-b'), targetRef: peer.devices.backDoor, window: win(5, 6), pin: '918273' }));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBe(409);
    expect(err.message).toMatch(/duplicate/);
    expect(err.message).not.toContain('918273');
  });

  it("a second window for the same person on the same lock is refused without a 409 (a new PIN would not help)", async () => {
    await adapter.createGrant({ identity: identity('k-two'), targetRef: peer.devices.schlage, window: win(0, 1), pin: '628473' });
    const err = await catchErr(adapter.createGrant({ identity: identity('k-two'), targetRef: peer.devices.schlage, window: win(24, 25), pin: '628473' }));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBeUndefined();
    expect(err.message).toMatch(/one code per PIN per lock/);
  });

  it('refuses a window that ends before it starts', async () => {
    const err = await catchErr(adapter.createGrant({ identity: identity('k-bad'), targetRef: peer.devices.frontDoor, window: win(2, 1), pin: '357951' }));
    expect(err.kind).toBe('rejected');
  });

  it('an unknown device is not-found', async () => {
    const err = await catchErr(adapter.createGrant({ identity: identity('k-x'), targetRef: 'no_such_device', window: win(0, 1), pin: '357951' }));
    expect(err.kind).toBe('not-found');
  });
});

describe('PIN rules', () => {
  it('defaults fit every brand: 4–8 digits, no zeros, no leading 12', () => {
    expect(adapter.pinRules).toEqual({ length: 6, minLength: 4, maxLength: 8, allowedDigits: '123456789', bannedPrefixes: ['12'] });
  });

  it("enforces a device's own constraints before writing, without naming the PIN", async () => {
    const a = newAdapter();
    await a.listTargets(); // learns nuki_device_1 (added above)
    for (const pin of ['305678', '1234', '123789']) {
      const err = await catchErr(a.createGrant({ identity: identity('k-pin'), targetRef: 'nuki_device_1', window: win(0, 1), pin }));
      expect(err.kind).toBe('rejected');
      expect(err.message).not.toContain(pin);
    }
    expect((await fakeCodes()).some((c) => c.device_id === 'nuki_device_1')).toBe(false);
    await a.createGrant({ identity: identity('k-pin'), targetRef: 'nuki_device_1', window: win(0, 1), pin: '345678' });
    expect((await fakeCodes()).some((c) => c.device_id === 'nuki_device_1')).toBe(true);
  });

  it("keeps the key whole when a device limits code names", () => {
    expect(codeName('lockstep-p1', 'Ada Lovelace', 14)).toBe('lockstep-p1 Ad');
    expect(codeName('lockstep-p1', 'Ada Lovelace', 5)).toBe('lockstep-p1');
    expect(nameCarriesKey('lockstep-p1 Ad', 'lockstep-p1')).toBe(true);
    expect(nameCarriesKey('lockstep-p10 Ad', 'lockstep-p1')).toBe(false);
  });
});

describe('what the API rejects (the fake, as the real API)', () => {
  it('refuses a missing device_id, an unparsable date, a half window, no auth and an unknown device', async () => {
    const ok = { device_id: peer.devices.frontDoor, name: 'x', code: '567891', starts_at: '2030-01-01T10:00:00Z', ends_at: '2030-01-01T11:00:00Z' };
    expect((await rawFake('/access_codes/create', { ...ok, device_id: undefined })).json.error.type).toBe('invalid_input');
    expect((await rawFake('/access_codes/create', { ...ok, starts_at: 'tomorrow' })).status).toBe(400);
    expect((await rawFake('/access_codes/create', { ...ok, ends_at: undefined })).status).toBe(400);
    expect((await rawFake('/access_codes/create', ok, null)).status).toBe(401);
    expect((await rawFake('/access_codes/create', { ...ok, device_id: 'nope' })).status).toBe(404);
  });
});

describe('errors', () => {
  it('a bad API key is an auth error that says so and does not contain the key', async () => {
    const err = await catchErr(newAdapter({ apiKey: 'seam_badkey_7777' }).testConnection());
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/credentials/);
    expect(err.message).not.toContain('seam_badkey_7777');
    await newAdapter().testConnection();
  });

  it('a missing API key is refused when the adapter is built', () => {
    let err: unknown;
    try {
      seamProvider.create({ baseUrl: peer.proxy.url, credentials: { apiKey: '  ' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('auth');
    expect((err as ProviderError).message).toMatch(/API key is missing/);
  });

  it('429 is rate-limited with Retry-After; 503 and dropped connections are transient', async () => {
    peer.proxy.faults.add({ times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 3 } });
    const limited = await catchErr(adapter.listTargets());
    expect(limited.kind).toBe('rate-limited');
    expect(limited.details.retryAfterMs).toBe(3_000);
    peer.proxy.faults.add({ times: 1, fault: { kind: 'status', status: 503 } });
    expect((await catchErr(adapter.listTargets())).kind).toBe('transient');
    peer.proxy.faults.add({ times: 1, fault: { kind: 'drop' } });
    expect((await catchErr(adapter.listTargets())).kind).toBe('transient');
    expect((await adapter.listTargets()).length).toBeGreaterThan(0);
  });
});

describe('answers the fake never gives (stub)', () => {
  let stub: EmulatorServer;
  const deleted: string[] = [];
  let attemptStatus: 'pending' | 'success' | 'error' = 'error';
  let attemptError = 'failed_to_set_on_device';
  beforeAll(async () => {
    const device = { device_id: 'd1', can_program_online_access_codes: true, properties: {} };
    stub = await startEmulatorServer({
      route: (_method, segs) => {
        const path = `/${segs.join('/')}`;
        return {
          template: path,
          handle(req) {
            const body = (req.body ?? {}) as Record<string, string>;
            if (path === '/devices/get') return { status: 200, body: { device } };
            if (path === '/access_codes/create')
              return {
                status: 200,
                body: { access_code: { access_code_id: 'ac1', device_id: 'd1', name: body.name, code: body.code, type: 'time_bound', status: 'unset', errors: [{ error_code: 'duplicate_code_on_device', message: 'dup' }] } },
              };
            if (path === '/access_codes/delete') {
              deleted.push(body.access_code_id);
              return { status: 200, body: { action_attempt: { action_attempt_id: 'aa0', status: 'success' } } };
            }
            if (path === '/access_codes/update') return { status: 200, body: { action_attempt: { action_attempt_id: 'aa1', status: 'pending' } } };
            if (path === '/action_attempts/get')
              return { status: 200, body: { action_attempt: { action_attempt_id: 'aa1', status: attemptStatus, error: attemptStatus === 'error' ? { type: attemptError, message: 'x' } : null } } };
            return { status: 404, body: { error: { type: 'not_found' } } };
          },
        };
      },
    });
  });
  afterAll(() => stub.close());

  it('a created code reporting duplicate_code_on_device is removed again and answered with 409', async () => {
    const a = newAdapter({ baseUrl: stub.url });
    const err = await catchErr(a.createGrant({ identity: identity('k-s'), targetRef: 'd1', window: win(0, 1), pin: '456789' }));
    expect(err.details.status).toBe(409);
    expect(deleted).toContain('ac1');
  });

  it('an update whose action attempt fails on the device is transient; a duplicate is 409; still pending is accepted', async () => {
    const a = newAdapter({ baseUrl: stub.url });
    const update = () => a.updateGrant({ grantRef: 'ac1', identity: identity('k-s'), targetRef: 'd1', window: win(0, 1), pin: '456789' });
    const failed = await catchErr(update());
    expect(failed.kind).toBe('transient');
    expect(failed.message).toMatch(/failed_to_set_on_device/);
    attemptError = 'duplicate_code_on_device';
    expect((await catchErr(update())).details.status).toBe(409);
    attemptStatus = 'pending';
    await update();
  });
});

describe('offline-only devices (igloohome algoPIN via Seam; stub, as the fake drops is_offline_access_code)', () => {
  let stub: SeamOfflineStub;
  const M = 60_000;
  const stubAdapter = () => newAdapter({ baseUrl: stub.url, apiKey: STUB_API_KEY });
  const creates = () => stub.requests.filter((r) => r.path === '/access_codes/create');
  beforeAll(async () => {
    stub = await startSeamOfflineStub();
  });
  afterAll(() => stub.close());

  it('lists an offline-only lock as a target that says its codes cannot be withdrawn', async () => {
    const targets = await stubAdapter().listTargets();
    expect(targets.map((t) => t.ref).sort()).toEqual([OFFLINE_LOCK, ONLINE_LOCK].sort());
    const shed = targets.find((t) => t.ref === OFFLINE_LOCK)!;
    expect(shed).toMatchObject({ kind: 'lock', name: 'Shed' });
    expect(shed.description).toContain("offline codes (issued by the lock's algorithm; cannot be withdrawn)");
    expect(shed.pinRules).toBeUndefined();
  });

  it('rounds outward to whole hours (≤ 672 h) or whole days (to 367), only for offline devices', async () => {
    const a = stubAdapter();
    await a.listTargets();
    const w = { startsAt: T0 + 15 * M, endsAt: T0 + 2 * H + 45 * M };
    expect(a.roundWindow(w, OFFLINE_LOCK)).toEqual({ startsAt: T0, endsAt: T0 + 3 * H });
    expect(a.roundWindow(w, ONLINE_LOCK)).toEqual(w);
    expect(a.roundWindow({ startsAt: T0, endsAt: T0 + 672 * H }, OFFLINE_LOCK)).toEqual({ startsAt: T0, endsAt: T0 + 672 * H });
    const long = a.roundWindow({ startsAt: T0 + 30 * M, endsAt: T0 + 672 * H + 30 * M }, OFFLINE_LOCK);
    expect(long).toEqual({ startsAt: T0, endsAt: T0 + 29 * 24 * H }); // daily-bound: same time of day
    expect(roundOfflineWindow({ startsAt: T0, endsAt: T0 + 400 * 24 * H })).toMatchObject({ maxTimeRounding: '1d', units: 400 });
    // Rounding a rounded window changes nothing (the engine plans with it and reads it back).
    expect(a.roundWindow(long!, OFFLINE_LOCK)).toEqual(long);
    expect(a.roundWindow({ startsAt: T0, endsAt: null }, OFFLINE_LOCK)).toEqual({ startsAt: T0, endsAt: null });
  });

  it('creates an offline code without a PIN and returns it as a fixed credential with the rounded window', async () => {
    const a = stubAdapter();
    await a.listTargets();
    const window = a.roundWindow({ startsAt: T0 + 15 * M, endsAt: T0 + 2 * H + 45 * M }, OFFLINE_LOCK);
    const out = await a.createGrant({ identity: identity('k-off'), targetRef: OFFLINE_LOCK, window, pin: '734591' });
    const sent = creates().at(-1)!.body;
    expect(sent).toEqual({
      device_id: OFFLINE_LOCK,
      name: 'k-off Person k-off',
      is_offline_access_code: true,
      max_time_rounding: '1h',
      starts_at: new Date(T0).toISOString(),
      ends_at: new Date(T0 + 3 * H).toISOString(),
    });
    const held = stub.codes.find((c) => c.access_code_id === out.ref)!;
    expect(out).toEqual({
      ref: held.access_code_id,
      fixed: true,
      credential: { kind: 'pin', secret: held.code, validFrom: T0, validUntil: T0 + 3 * H, instructions: expect.stringMatching(/keypad/) },
    });
    expect(out.credential!.secret).not.toBe('734591');
    // Observe reports it (the engine knows its ref) with the window the engine asked for.
    const obs = await a.observe({ key: 'k-off', grantRefs: [{ ref: out.ref, targetRef: OFFLINE_LOCK }] });
    expect(obs.grants).toEqual([{ ref: out.ref, targetRef: OFFLINE_LOCK, window }]);
  });

  it('a code over 24 h must be used within the first 24 h; a daily-bound code is sent with "1d"', async () => {
    const a = stubAdapter();
    await a.listTargets();
    const two = await a.createGrant({ identity: identity('k-2d'), targetRef: OFFLINE_LOCK, window: { startsAt: T0, endsAt: T0 + 48 * H } });
    expect(two.credential).toMatchObject({ firstUseBefore: T0 + 24 * H, instructions: expect.stringMatching(/within 24 hours/) });
    const window = a.roundWindow({ startsAt: T0 + 10 * M, endsAt: T0 + 40 * 24 * H - 10 * M }, OFFLINE_LOCK);
    const month = await a.createGrant({ identity: identity('k-40d'), targetRef: OFFLINE_LOCK, window });
    expect(creates().at(-1)!.body).toMatchObject({ max_time_rounding: '1d', starts_at: new Date(T0).toISOString(), ends_at: new Date(T0 + 40 * 24 * H).toISOString() });
    expect(month.credential).toMatchObject({ validFrom: T0, validUntil: T0 + 40 * 24 * H, firstUseBefore: T0 + 24 * H });
  });

  it('refuses open-ended and over-367-day windows with a clear rejection, without calling Seam', async () => {
    const a = stubAdapter();
    const before = creates().length;
    const open = await catchErr(a.createGrant({ identity: identity('k-x'), targetRef: OFFLINE_LOCK, window: { startsAt: T0, endsAt: null } }));
    expect(open.kind).toBe('rejected');
    expect(open.message).toMatch(/must end/);
    const long = await catchErr(a.createGrant({ identity: identity('k-x'), targetRef: OFFLINE_LOCK, window: { startsAt: T0, endsAt: T0 + 368 * 24 * H } }));
    expect(long.kind).toBe('rejected');
    expect(long.message).toMatch(/at most 367 days/);
    expect(creates().length).toBe(before);
  });

  it('the stub refuses what Seam refuses: a custom code, a missing or inconsistent max_time_rounding', async () => {
    const post = (body: Record<string, unknown>) =>
      fetch(`${stub.url}/access_codes/create`, { method: 'POST', headers: { authorization: `Bearer ${STUB_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ok = { device_id: OFFLINE_LOCK, name: 'x', is_offline_access_code: true, max_time_rounding: '1h', starts_at: new Date(T0).toISOString(), ends_at: new Date(T0 + H).toISOString() };
    expect((await post(ok)).status).toBe(200);
    expect((await post({ ...ok, code: '123456' })).status).toBe(400);
    expect((await post({ ...ok, max_time_rounding: undefined })).status).toBe(400);
    expect((await post({ ...ok, ends_at: new Date(T0 + H + 30 * M).toISOString() })).status).toBe(400);
    expect((await post({ ...ok, ends_at: new Date(T0 + 673 * H).toISOString() })).status).toBe(400);
    expect((await post({ ...ok, max_time_rounding: '1d', ends_at: new Date(T0 + 29 * 24 * H + H).toISOString() })).status).toBe(400);
    expect((await post({ ...ok, max_time_rounding: '1d', ends_at: new Date(T0 + 29 * 24 * H).toISOString() })).status).toBe(200);
  });

  it('an offline code is neither changed nor withdrawn remotely: the refusal says until when it stays valid', async () => {
    const a = stubAdapter();
    await a.listTargets();
    const { ref } = await a.createGrant({ identity: identity('k-fix'), targetRef: OFFLINE_LOCK, window: { startsAt: T0, endsAt: T0 + 2 * H } });
    const calls = stub.requests.length;
    const upd = await catchErr(a.updateGrant({ grantRef: ref, identity: identity('k-fix'), targetRef: OFFLINE_LOCK, window: { startsAt: T0, endsAt: T0 + 3 * H } }));
    const del = await catchErr(a.deleteGrant({ grantRef: ref, targetRef: OFFLINE_LOCK }));
    for (const err of [upd, del]) {
      expect(err.kind).toBe('rejected');
      expect(err.message).toContain(`cannot be changed or withdrawn remotely; it stays valid until ${new Date(T0 + 2 * H).toISOString()}`);
    }
    expect(stub.requests.slice(calls).map((r) => r.path)).not.toContain('/access_codes/delete');
    expect(stub.codes.some((c) => c.access_code_id === ref)).toBe(true);
  });

  it('a code Seam assigns later is read back once; still missing is transient, and the retry asks for the same code', async () => {
    const a = stubAdapter();
    await a.listTargets();
    stub.codeDelayGets = 2;
    try {
      const input = { identity: identity('k-late'), targetRef: OFFLINE_LOCK, window: { startsAt: T0, endsAt: T0 + H } };
      const before = creates().length;
      const err = await catchErr(a.createGrant(input));
      expect(err.kind).toBe('transient');
      expect(err.retryable).toBe(true);
      // Not adopted by observe without its credential: the engine drops its unfinished row and creates again.
      expect((await a.observe({ key: 'k-late', grantRefs: [] })).grants).toEqual([]);
      const out = await a.createGrant(input);
      expect(creates().length).toBe(before + 1);
      expect(out.credential!.secret).toMatch(/^\d{6}$/);
    } finally {
      stub.codeDelayGets = 0;
    }
  });

  it('a fresh adapter plans unrounded before it has seen the device, and refuses to write that plan', async () => {
    const a = stubAdapter();
    const w = { startsAt: T0 + 15 * M, endsAt: T0 + H + 15 * M };
    expect(a.roundWindow(w, OFFLINE_LOCK)).toEqual(w); // cold: unknown device, not rounded
    const before = creates().length;
    const err = await a.createGrant({ identity: identity('k-cold'), targetRef: OFFLINE_LOCK, window: w }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeamReplanNeeded);
    expect(err).not.toBeInstanceOf(ProviderError); // so the engine ends the run instead of carrying on with the stale plan
    expect(creates().length).toBe(before);
    const rounded = a.roundWindow(w, OFFLINE_LOCK); // warm now
    expect(rounded).toEqual({ startsAt: T0, endsAt: T0 + 2 * H });
    const out = await a.createGrant({ identity: identity('k-cold'), targetRef: OFFLINE_LOCK, window: rounded });
    // Another fresh adapter reads the code back with exactly the window the engine asked for.
    const obs = await stubAdapter().observe({ key: 'k-cold', grantRefs: [{ ref: out.ref, targetRef: OFFLINE_LOCK }] });
    expect(obs.grants).toEqual([{ ref: out.ref, targetRef: OFFLINE_LOCK, window: rounded }]);
  });

  describe('through the whole of Lockstep', () => {
    let h: Harness;
    let hoursFromNow: (hours: number) => string;
    beforeAll(async () => {
      // Loaded here so the adapter tests above do not depend on the whole app building.
      const harness = await import('../support/harness.js');
      hoursFromNow = harness.hoursFromNow;
      h = await harness.startHarness('sqlite', { provider: { kind: 'seam', baseUrl: stub.url, credentials: { apiKey: STUB_API_KEY } } as never });
    });
    afterAll(() => h?.close());

    it('booking → the guest sees the offline code; a restart changes nothing; cancel → left valid, and the audit says so', async () => {
      const space = await h.space([OFFLINE_LOCK]);
      const [start, end] = [hoursFromNow(2), hoursFromNow(4)];
      const res = await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada', email: 'ada-offline@example.com' }, start, end }, h.keys.admin);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const b = res.body as { id: string; organiserId: string };
      await h.converge();

      const guest = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId: b.organiserId }, h.keys.admin)).body.key as string;
      const creds = (await h.call('GET', '/v1/me/credentials', undefined, guest)).body.results as { targetRef: string; secret: string; validFrom: string; validUntil: string }[];
      expect(creds).toHaveLength(1);
      const code = stub.codes.find((c) => c.device_id === OFFLINE_LOCK && c.name.startsWith(`lockstep-${b.organiserId}`))!;
      expect(creds[0]).toMatchObject({ targetRef: OFFLINE_LOCK, secret: code.code, validFrom: code.starts_at, validUntil: code.ends_at });
      expect(Date.parse(code.starts_at) % H).toBe(0);
      expect(Date.parse(code.starts_at)).toBeLessThanOrEqual(Date.parse(start) - 15 * M);
      expect(Date.parse(code.ends_at)).toBeGreaterThanOrEqual(Date.parse(end) + 15 * M);
      expect((await h.call('GET', `/v1/bookings/${b.id}/sync`, undefined, h.keys.admin)).body.state).toBe('applied');

      // A restart: a fresh adapter plans once without rounding, refuses to write it, and re-plans.
      const offlineCreates = () => stub.requests.filter((r) => r.path === '/access_codes/create' && r.body.device_id === OFFLINE_LOCK).length;
      const made = offlineCreates();
      (h.app.engine as unknown as { adapters: Map<string, unknown> }).adapters.clear();
      await h.app.engine.scheduleDriftCheck();
      await h.converge();
      expect(offlineCreates()).toBe(made);
      const audit = (await h.call('GET', `/v1/audit?subjectId=${b.organiserId}`, undefined, h.keys.admin)).body.results as { action: string }[];
      expect(audit.filter((a) => a.action.startsWith('drift.') || a.action === 'access.left-valid')).toEqual([]);
      expect((await h.call('GET', '/v1/me/credentials', undefined, guest)).body.results).toEqual(creds);

      expect((await h.call('POST', `/v1/bookings/${b.id}/cancel`, undefined, h.keys.admin)).status).toBeLessThan(300);
      await h.converge();
      const sync = (await h.call('GET', `/v1/bookings/${b.id}/sync`, undefined, h.keys.admin)).body;
      expect(sync.state).toBe('left-valid');
      expect(sync.entries[0].validUntil).toBe(code.ends_at);
      const left = (await h.call('GET', `/v1/audit?subjectId=${b.organiserId}&action=access.left-valid`, undefined, h.keys.admin)).body.results;
      expect(left).toHaveLength(1);
      expect(left[0].details.why).toMatch(/cannot withdraw/);
      expect(stub.codes.some((c) => c.access_code_id === code.access_code_id)).toBe(true);
      expect(stub.requests.some((r) => r.path === '/access_codes/delete' && r.body.access_code_id === code.access_code_id)).toBe(false);
      expect((await h.call('GET', '/v1/me/credentials', undefined, guest)).body.results).toEqual([]);
    });
  });
});
