import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InletAdapter, type InletAdapterOptions } from '../../src/providers/inlet/adapter.js';
import { startInletEmulator, type InletEmulator } from '../../src/providers/inlet/emulator.js';
import { inletProvider } from '../../src/providers/inlet/index.js';
import { ProviderError, type ProviderIdentity } from '../../src/providers/types.js';

const API_KEY = 'inlet-test-key-77';
const H = 3_600_000;

let emu: InletEmulator;
let adapter: InletAdapter;
const adapters: InletAdapter[] = [];

function newAdapter(opts: Partial<InletAdapterOptions> = {}): InletAdapter {
  const a = new InletAdapter({ baseUrl: emu.url, apiKey: API_KEY, ...opts });
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

async function raw(method: string, path: string, body?: unknown, auth = true): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(emu.url + path, {
    method,
    headers: { ...(auth ? { authorization: `Bearer ${API_KEY}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
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

const who = (key: string, extra: Partial<ProviderIdentity> = {}): ProviderIdentity => ({
  key,
  displayName: `Ada Lovelace ${key}`,
  email: `${key}@example.com`,
  phone: '+4791234567',
  ...extra,
});
const future = (hours: number) => Date.UTC(2031, 4, 1, 9) + hours * H;
const validGrant = (over: Record<string, unknown> = {}) => ({
  operation: 'code',
  lockId: 'lock-room-1',
  uniqueId: 'raw-1',
  startTime: '2031-05-01T09:00:00Z',
  endTime: '2031-05-01T11:00:00+00:00',
  ...over,
});

beforeAll(async () => {
  emu = await startInletEmulator({ port: 0, apiKey: API_KEY });
  adapter = newAdapter();
});

afterEach(() => {
  emu.faults.clear();
});

afterAll(async () => {
  await Promise.all(adapters.map((a) => a.close()));
  await emu.close();
});

describe('inlet provider module', () => {
  it('describes itself and builds an adapter with honest capabilities', () => {
    expect(inletProvider.kind).toBe('inlet');
    expect(inletProvider.credentialFields.map((f) => [f.name, f.secret, f.required])).toEqual([
      ['apiKey', true, true],
      ['credentialType', false, false],
      ['delivery', false, false],
    ]);
    const a = inletProvider.create({ baseUrl: emu.url, credentials: { apiKey: API_KEY } });
    adapters.push(a as InletAdapter);
    expect(a).toBeInstanceOf(InletAdapter);
    expect(a.capabilities).toEqual({
      accessGroups: false,
      providerUsers: false,
      membershipWindows: true,
      pinOnUser: false,
      pinOnLock: false,
      offlineAlgorithmicPin: false,
      mobileCredential: true,
      urlKey: true,
      pulseOpen: true,
      revocable: true,
      updatableGrants: true,
      issuesCredentials: true,
    });
    expect(typeof a.pulseOpen).toBe('function');
  });

  it('refuses missing credentials and unknown settings with clear messages', () => {
    for (const credentials of [{}, { apiKey: '   ' }] as Record<string, string>[]) {
      let err: unknown;
      try {
        inletProvider.create({ baseUrl: emu.url, credentials });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).kind).toBe('auth');
      expect((err as ProviderError).message).toMatch(/inlet: the API key is missing/);
    }
    expect(() => inletProvider.create({ baseUrl: emu.url, credentials: { apiKey: 'k', credentialType: 'card' } })).toThrow(/credentialType must be one of access-code, mobile-key, url-key/);
    expect(() => inletProvider.create({ baseUrl: emu.url, credentials: { apiKey: 'k', delivery: 'fax' } })).toThrow(/delivery must be one of none, sms, email/);
    // Blank non-secret settings take their defaults.
    const a = inletProvider.create({ baseUrl: emu.url, credentials: { apiKey: 'k', credentialType: '', delivery: ' ' } });
    adapters.push(a as InletAdapter);
  });
});

describe('inlet adapter over HTTP', () => {
  it('tests the connection and lists locks as targets with descriptions', async () => {
    await adapter.testConnection();
    const targets = await adapter.listTargets();
    expect(targets.map((t) => t.ref)).toEqual(['lock-main-entrance', 'lock-room-1', 'lock-sauna']);
    for (const t of targets) {
      expect(t.kind).toBe('lock');
      expect(t.description).toBeTruthy();
    }
    expect(targets[0]).toEqual({ ref: 'lock-main-entrance', name: 'Main entrance', description: 'HQ — Street door with keypad, online', kind: 'lock' });
  });

  it('has no provider users', async () => {
    expect(await adapter.findUser('anyone')).toBeNull();
    expect((await catchErr(adapter.createUser(who('u')))).kind).toBe('rejected');
    expect((await catchErr(adapter.setUserPin('u', '123456'))).kind).toBe('rejected');
    await adapter.deleteUser('u'); // nothing to delete
  });

  it('issues an access code for a time frame, updates it in place and revokes it', async () => {
    const id = who('person-code');
    const window = { startsAt: future(0), endsAt: future(2) };
    const { ref, credential } = await adapter.createGrant({ identity: id, targetRef: 'lock-main-entrance', window });
    expect(ref).toMatch(/^ref-/);
    expect(credential.kind).toBe('pin');
    // The main entrance keypad wants #code*: the guest is shown exactly that.
    expect(credential.secret).toMatch(/^#\d{6}\*$/);
    expect(credential.validFrom).toBe(window.startsAt);
    expect(credential.validUntil).toBe(window.endsAt);
    expect(credential.instructions).toBeTruthy();
    expect(credential.instructions).not.toContain(credential.secret.slice(1, 7));

    // The emulator enforces lock and time frame.
    expect(emu.state.credentialOpens(credential.secret, 'lock-main-entrance', future(1))).toBe(true);
    expect(emu.state.credentialOpens(credential.secret, 'lock-main-entrance', future(3))).toBe(false);
    expect(emu.state.credentialOpens(credential.secret, 'lock-main-entrance', future(-1))).toBe(false);
    expect(emu.state.credentialOpens(credential.secret, 'lock-room-1', future(1))).toBe(false);

    let obs = await adapter.observe({ key: id.key, grantRefs: [{ ref, targetRef: 'lock-main-entrance' }] });
    expect(obs).toEqual({ user: null, grants: [{ ref, targetRef: 'lock-main-entrance', window }] });

    const moved = { startsAt: future(4), endsAt: future(7) };
    await adapter.updateGrant({ identity: id, grantRef: ref, targetRef: 'lock-main-entrance', window: moved });
    obs = await adapter.observe({ key: id.key, grantRefs: [] });
    expect(obs.grants).toEqual([{ ref, targetRef: 'lock-main-entrance', window: moved }]);
    expect(emu.state.credentialOpens(credential.secret, 'lock-main-entrance', future(5))).toBe(true);
    expect(emu.state.credentialOpens(credential.secret, 'lock-main-entrance', future(1))).toBe(false);
    // Dates go out as UTC ISO-8601.
    expect(emu.state.accesses(id.key)[0]).toMatchObject({ startTime: '2031-05-01T13:00:00.000Z', endTime: '2031-05-01T16:00:00.000Z' });

    await adapter.deleteGrant({ grantRef: ref, targetRef: 'lock-main-entrance' });
    await adapter.deleteGrant({ grantRef: ref, targetRef: 'lock-main-entrance' }); // already revoked = done
    expect(emu.state.credentialOpens(credential.secret, 'lock-main-entrance', future(5))).toBe(false);
    expect(await adapter.observe({ key: id.key, grantRefs: [{ ref, targetRef: 'lock-main-entrance' }] })).toEqual({ user: null, grants: [] });
  });

  it('updating a revoked grant is not-found, so the engine re-creates it', async () => {
    const err = await catchErr(adapter.updateGrant({ identity: who('x'), grantRef: 'ref-999999', targetRef: 'lock-room-1', window: { startsAt: future(0), endsAt: future(1) } }));
    expect(err.kind).toBe('not-found');
  });

  it('observe finds grants by the pseudonymous id only (crash adoption), never someone else’s', async () => {
    const a = await adapter.createGrant({ identity: who('adopt-me'), targetRef: 'lock-room-1', window: { startsAt: future(0), endsAt: future(1) } });
    await adapter.createGrant({ identity: who('someone-else'), targetRef: 'lock-room-1', window: { startsAt: future(0), endsAt: future(1) } });
    const obs = await adapter.observe({ key: 'adopt-me', grantRefs: [] });
    expect(obs.grants.map((g) => g.ref)).toEqual([a.ref]);
  });

  it('codes on one lock are unique among active accesses', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { credential } = await adapter.createGrant({ identity: who(`uniq-${i}`), targetRef: 'lock-sauna', window: { startsAt: future(0), endsAt: future(1) } });
      expect(credential.secret).toMatch(/^\d{6}#$/);
      codes.add(credential.secret);
    }
    expect(codes.size).toBe(20);
  });

  it('issues URL keys and mobile keys when the integration asks for them', async () => {
    const urlAdapter = newAdapter({ credentialType: 'url-key' });
    const u = await urlAdapter.createGrant({ identity: who('url-guest'), targetRef: 'lock-room-1', window: { startsAt: future(0), endsAt: future(2) } });
    expect(u.credential.kind).toBe('url-key');
    expect(u.credential.secret.startsWith(`${emu.url}/k/`)).toBe(true);
    expect(emu.state.credentialOpens(u.credential.secret, 'lock-room-1', future(1))).toBe(true);

    const mobile = newAdapter({ credentialType: 'mobile-key' });
    const m = await mobile.createGrant({ identity: who('mobile-guest'), targetRef: 'lock-room-1', window: { startsAt: future(0), endsAt: future(2) } });
    expect(m.credential.kind).toBe('mobile-key');
    expect(emu.state.credentialOpens(m.credential.secret, 'lock-room-1', future(1))).toBe(true);
    expect(emu.state.receivedBodies().at(-1)).toEqual({
      route: 'GrantAccess',
      body: { operation: 'mobilekey', lockId: 'lock-room-1', uniqueId: 'mobile-guest', startTime: new Date(future(0)).toISOString(), endTime: new Date(future(2)).toISOString(), phoneNumber: '+4791234567' },
    });

    const before = emu.stats().requests;
    const err = await catchErr(mobile.createGrant({ identity: who('no-phone', { phone: undefined }), targetRef: 'lock-room-1', window: { startsAt: future(0), endsAt: future(2) } }));
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/mobile key needs the guest's phone number/);
    expect(emu.stats().requests).toBe(before); // refused before any call
  });

  it('sends only the pseudonymous id plus what the delivery channel needs — never the name', async () => {
    emu.reset();
    const id = who('ls-pseudonym-123', { displayName: 'Grace Hopper', email: 'grace@example.com', phone: '+44 (20) 7946-0000' });
    const w = { startsAt: future(0), endsAt: future(1) };
    await newAdapter({ delivery: 'none' }).createGrant({ identity: id, targetRef: 'lock-room-1', window: w });
    await newAdapter({ delivery: 'sms' }).createGrant({ identity: id, targetRef: 'lock-room-1', window: w });
    await newAdapter({ delivery: 'email' }).createGrant({ identity: id, targetRef: 'lock-room-1', window: w });
    const [none, sms, email] = emu.state.receivedBodies().map((r) => r.body as Record<string, unknown>);
    expect(Object.keys(none).sort()).toEqual(['endTime', 'lockId', 'operation', 'startTime', 'uniqueId']);
    expect(none.uniqueId).toBe('ls-pseudonym-123');
    expect(sms.phoneNumber).toBe('+442079460000');
    expect(sms.email).toBeUndefined();
    expect(email.email).toBe('grace@example.com');
    expect(email.phoneNumber).toBeUndefined();
    const everything = JSON.stringify(emu.state.receivedBodies());
    expect(everything).not.toContain('Grace');
    expect(everything).not.toContain('Hopper');
    expect(everything).not.toMatch(/"(name|displayName|firstName|lastName)"/);
  });

  it('refuses open-ended access without calling Inlet', async () => {
    const before = emu.stats().requests;
    const err = await catchErr(adapter.createGrant({ identity: who('open'), targetRef: 'lock-room-1', window: { startsAt: future(0), endsAt: null } }));
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/open-ended/);
    expect(emu.stats().requests).toBe(before);
  });

  it('opens a door now only inside a valid window (GrantPulseAccess)', async () => {
    const id = who('pulse-guest');
    await adapter.createGrant({ identity: id, targetRef: 'lock-main-entrance', window: { startsAt: Date.now() - H, endsAt: Date.now() + H } });
    await adapter.createGrant({ identity: id, targetRef: 'lock-room-1', window: { startsAt: Date.now() + 2 * H, endsAt: Date.now() + 3 * H } });
    await adapter.pulseOpen({ identity: id, targetRef: 'lock-main-entrance' });
    expect(emu.state.pulses().filter((p) => p.uniqueId === id.key).map((p) => p.lockId)).toEqual(['lock-main-entrance']);

    const early = await catchErr(adapter.pulseOpen({ identity: id, targetRef: 'lock-room-1' }));
    expect(early.kind).toBe('rejected');
    expect(early.message).toMatch(/no valid access/);
    const stranger = await catchErr(adapter.pulseOpen({ identity: who('stranger'), targetRef: 'lock-main-entrance' }));
    expect(stranger.kind).toBe('rejected');
    expect(emu.state.pulses().filter((p) => p.uniqueId !== id.key)).toEqual([]);
  });
});

describe('inlet emulator validates like the API', () => {
  it('refuses requests without the API key in Inlet’s error shape', async () => {
    const r = await raw('GET', '/GetLocks', undefined, false);
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ status: 'ERROR', code: '401', message: 'missing or invalid API key' });
  });

  it('rejects missing and malformed fields, bad time frames and unknown ids', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ ...validGrant(), operation: undefined }, 422, /operation: is required/],
      [validGrant({ operation: 'card' }), 422, /operation: must be one of/],
      [validGrant({ lockId: undefined }), 422, /lockId: is required/],
      [validGrant({ lockId: 'lock-nope' }), 422, /lockId: unknown lock/],
      [validGrant({ uniqueId: '' }), 422, /uniqueId: is required/],
      [validGrant({ startTime: undefined }), 422, /startTime: is required/],
      [validGrant({ endTime: undefined }), 422, /endTime: is required/],
      [validGrant({ startTime: '2031-05-01 09:00' }), 422, /startTime: must be an ISO-8601/],
      [validGrant({ endTime: '2031-02-30T09:00:00Z' }), 422, /endTime: is not a valid date-time/],
      [validGrant({ endTime: '2031-05-01T09:00:00Z' }), 422, /endTime: must be after startTime/],
      [validGrant({ endTime: '2031-05-01T08:00:00Z' }), 422, /endTime: must be after startTime/],
      [validGrant({ phoneNumber: '12ab' }), 422, /phoneNumber: must be 6 to 15 digits/],
      [validGrant({ phoneNumber: '91234567' }), 422, /countryCode: is required/],
      [validGrant({ phoneNumber: '91234567', countryCode: '47' }), 422, /countryCode: must look like \+47/],
      [validGrant({ email: 'not-an-email' }), 422, /email: is not an e-mail address/],
      [validGrant({ operation: 'mobilekey' }), 422, /phoneNumber: is required for a mobile key/],
      [[1, 2], 400, /body: must be a JSON object/],
    ];
    for (const [body, status, message] of cases) {
      const r = await raw('POST', '/GrantAccess', body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.status).toBe('ERROR');
      expect(r.json.message).toMatch(message);
    }
    expect((await raw('POST', '/GrantAccess', '{nope')).status).toBe(400);
    expect((await raw('POST', '/GrantAccess', validGrant({ phoneNumber: '91234567', countryCode: '+47' }))).status).toBe(200);

    expect((await raw('POST', '/UpdateAccess', { referenceId: 'ref-0', startTime: '2031-05-01T09:00:00Z', endTime: '2031-05-01T10:00:00Z' })).status).toBe(404);
    expect((await raw('POST', '/RevokeAccess', { referenceId: 'ref-0' })).status).toBe(404);
    expect((await raw('POST', '/RevokeAccess', {})).status).toBe(422);
    expect((await raw('GET', '/GetAccess')).status).toBe(422);
    expect((await raw('DELETE', '/GrantAccess')).status).toBe(404);

    const made = (await raw('POST', '/GrantAccess', validGrant())).json;
    const upd = await raw('POST', '/UpdateAccess', { referenceId: made.referenceId, startTime: '2031-05-01T10:00:00Z', endTime: '2031-05-01T09:00:00Z' });
    expect(upd.status).toBe(422);
    expect(upd.json.message).toMatch(/endTime: must be after startTime/);
    const sneaky = await raw('POST', '/UpdateAccess', { referenceId: made.referenceId, startTime: '2031-05-01T09:00:00Z', endTime: '2031-05-01T10:00:00Z', lockId: 'lock-sauna' });
    expect(sneaky.status).toBe(422);
    expect(sneaky.json.message).toMatch(/lockId: cannot be changed/);
  });

  it('gives the secret once: list routes and the state dump never carry it', async () => {
    const made = (await raw('POST', '/GrantAccess', validGrant({ uniqueId: 'secret-check', operation: 'urlkey' }))).json;
    expect(made.urlKey).toBeTruthy();
    const code = (await raw('POST', '/GrantAccess', validGrant({ uniqueId: 'secret-check' }))).json;
    expect(code.code).toMatch(/^\d{6}$/);
    const listed = await raw('GET', '/GetAccess?uniqueId=secret-check');
    expect(listed.json.results).toHaveLength(2);
    const state = await raw('GET', '/_emulator/state', undefined, false);
    for (const text of [listed.text, state.text, JSON.stringify(emu.state.accesses())]) {
      expect(text).not.toContain(made.urlKey);
      expect(text).not.toContain(code.code);
    }
  });
});

describe('inlet error mapping', () => {
  it('reports a bad API key as an auth error with an admin-readable message that does not contain the key', async () => {
    const bad = newAdapter({ apiKey: 'wrong-key-31337' });
    const err = await catchErr(bad.testConnection());
    expect(err.kind).toBe('auth');
    expect(err.retryable).toBe(false);
    expect(err.details.status).toBe(401);
    expect(err.message).toMatch(/credentials/);
    expect(err.message).not.toContain('wrong-key-31337');
  });

  it('says so when the base URL is not an Inlet API', async () => {
    const elsewhere = newAdapter({ baseUrl: `${emu.url}/not-inlet` });
    const err = await catchErr(elsewhere.testConnection());
    expect(err.kind).toBe('not-found');
    expect(err.message).toMatch(/no Inlet Cloud Access Hub API found/);
  });

  it('maps 429, 5xx and dropped connections to retryable errors', async () => {
    const w = { startsAt: future(0), endsAt: future(1) };
    emu.faults.add({ match: { path: '/GrantAccess' }, times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 3 } });
    const limited = await catchErr(adapter.createGrant({ identity: who('f1'), targetRef: 'lock-room-1', window: w }));
    expect(limited.kind).toBe('rate-limited');
    expect(limited.details.retryAfterMs).toBe(3000);

    emu.faults.add({ match: { path: '/GetAccess' }, times: 1, fault: { kind: 'status', status: 503 } });
    expect((await catchErr(adapter.observe({ key: 'f1', grantRefs: [] }))).kind).toBe('transient');

    emu.faults.add({ match: { path: '/RevokeAccess' }, times: 1, fault: { kind: 'drop' } });
    const dropped = await catchErr(adapter.deleteGrant({ grantRef: 'ref-1', targetRef: 'lock-room-1' }));
    expect(dropped.kind).toBe('transient');
    expect(dropped.retryable).toBe(true);

    // The fault was used up: the same request now goes through.
    const ok = await adapter.createGrant({ identity: who('f1'), targetRef: 'lock-room-1', window: w });
    expect(ok.ref).toMatch(/^ref-/);
  });

  it('a rejected grant keeps Inlet’s message but never echoes the credential', async () => {
    const err = await catchErr(adapter.createGrant({ identity: who('bad-lock'), targetRef: 'lock-gone', window: { startsAt: future(0), endsAt: future(1) } }));
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/HTTP 422/);
    expect(err.message).toMatch(/unknown lock/);
    expect(err.message).not.toContain(API_KEY);
  });
});
