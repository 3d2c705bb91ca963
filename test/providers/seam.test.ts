/**
 * The Seam adapter against Seam's own fake (`@seamapi/fake-seam-connect`) over real HTTP, through the
 * fault-injecting proxy; plus a small stub for the answers the fake never gives (errors[] on a code,
 * failed action attempts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SeamAdapter, OPEN_END_ISO, codeName, nameCarriesKey } from '../../src/providers/seam/adapter.js';
import { seamProvider } from '../../src/providers/seam/index.js';
import { startEmulatorServer, type EmulatorServer } from '../../src/providers/emulator-kit.js';
import { ProviderError } from '../../src/providers/types.js';
import { startSeamPeer, type SeamPeer } from '../contract/seam-proxy.js';

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
