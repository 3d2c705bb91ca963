import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IgloohomeAdapter, decodeGrantRef } from '../../src/providers/igloohome/adapter.js';
import { DAY_MS, algoPinWindow, igloohomeDate } from '../../src/providers/igloohome/algopin.js';
import { startIgloohomeEmulator, type IgloohomeEmulator } from '../../src/providers/igloohome/emulator.js';
import { defaultTokenUrl, igloohomeProvider } from '../../src/providers/igloohome/index.js';
import { ProviderError } from '../../src/providers/types.js';

const CLIENT_ID = 'client-abc';
const SECRET = 'secret-9f8e7d6c';
const H = 3_600_000;
const LOCK = 'IGM3011a2b3c';
const PADLOCK = 'IGP2024d5e6f';

let emu: IgloohomeEmulator;
let adapter: IgloohomeAdapter;
const extra: IgloohomeAdapter[] = [];

function newAdapter(opts: { clientSecret?: string; timeoutMs?: number; tokenUrl?: string } = {}): IgloohomeAdapter {
  const a = new IgloohomeAdapter({ baseUrl: emu.apiUrl, clientId: CLIENT_ID, clientSecret: opts.clientSecret ?? SECRET, tokenUrl: opts.tokenUrl ?? emu.tokenUrl, timeoutMs: opts.timeoutMs });
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

async function token(scope?: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
  const res = await fetch(emu.tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function rawPost(path: string, body: unknown, bearer?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(emu.apiUrl + path, {
    method: 'POST',
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const identity = (key: string) => ({ key, displayName: `Person ${key}`, email: `${key}@example.com` });
/** A whole hour some hours from now. */
const hour = (n: number) => Math.floor(Date.now() / H) * H + n * H;

beforeAll(async () => {
  emu = await startIgloohomeEmulator({ clients: [{ clientId: CLIENT_ID, clientSecret: SECRET }], seed: 'unit' });
  adapter = newAdapter();
});
afterEach(() => emu.faults.clear());
afterAll(async () => {
  for (const a of extra) await a.close();
  await emu.close();
});

describe('igloohome module', () => {
  it('declares an offline, non-revocable, provider-issued PIN model', () => {
    expect(adapter.capabilities).toMatchObject({ offlineAlgorithmicPin: true, revocable: false, updatableGrants: false, issuesCredentials: true, providerUsers: false, pinOnLock: false });
  });

  it('refuses missing credentials with a clear auth error', () => {
    const e1 = (() => {
      try {
        igloohomeProvider.create({ baseUrl: emu.apiUrl, credentials: { clientId: CLIENT_ID, clientSecret: ' ' } });
      } catch (e) {
        return e as ProviderError;
      }
    })();
    expect(e1?.kind).toBe('auth');
    expect(e1?.message).toMatch(/client secret is missing; enter it in the integration's credentials/);
    expect(() => igloohomeProvider.create({ baseUrl: emu.apiUrl, credentials: { clientSecret: SECRET } })).toThrow(/client ID is missing/);
  });

  it('uses the real token host for the real API and the API host otherwise', () => {
    expect(defaultTokenUrl('https://api.igloodeveloper.co/igloohome')).toBe('https://auth.igloohome.co/oauth2/token');
    expect(defaultTokenUrl('http://127.0.0.1:9000/igloohome')).toBe('http://127.0.0.1:9000/oauth2/token');
  });
});

describe('roundWindow', () => {
  it('rounds to whole hours up to 28 days, never shorter than booked', () => {
    const start = Date.UTC(2026, 0, 10, 9, 15);
    expect(adapter.roundWindow({ startsAt: start, endsAt: start + 90 * 60_000 })).toEqual({ startsAt: Date.UTC(2026, 0, 10, 9), endsAt: Date.UTC(2026, 0, 10, 11) });
    const exact = { startsAt: Date.UTC(2026, 0, 10, 9), endsAt: Date.UTC(2026, 0, 10, 10) };
    expect(adapter.roundWindow(exact)).toEqual(exact);
    const w = adapter.roundWindow({ startsAt: start, endsAt: start + 28 * DAY_MS - H });
    expect(w.endsAt! - w.startsAt).toBe(28 * DAY_MS);
  });

  it('rounds to whole days (same time of day, at least 29) beyond 28 days', () => {
    const start = Date.UTC(2026, 0, 10, 9, 15);
    const w = adapter.roundWindow({ startsAt: start, endsAt: start + 28 * DAY_MS + 30 * 60_000 });
    expect(w).toEqual({ startsAt: Date.UTC(2026, 0, 10, 9), endsAt: Date.UTC(2026, 0, 10, 9) + 29 * DAY_MS });
    const long = adapter.roundWindow({ startsAt: start, endsAt: start + 40 * DAY_MS + 2 * H });
    expect((long.endsAt! - long.startsAt) / DAY_MS).toBe(41);
    expect(new Date(long.endsAt!).getUTCHours()).toBe(new Date(long.startsAt).getUTCHours());
  });

  it('leaves open-ended windows alone (createGrant refuses them)', () => {
    expect(adapter.roundWindow({ startsAt: 5, endsAt: null })).toEqual({ startsAt: 5, endsAt: null });
  });

  it('formats dates the strict igloohome way', () => {
    expect(igloohomeDate(Date.UTC(2026, 2, 5, 7))).toBe('2026-03-05T07:00:00+00:00');
    expect(algoPinWindow(0, 1).endsAt).toBe(H);
  });
});

describe('adapter ↔ emulator', () => {
  it('lists locks with descriptions, not bridges', async () => {
    const targets = await adapter.listTargets();
    expect(targets.map((t) => t.ref)).toEqual([LOCK, PADLOCK, 'IGK345a7b8c9']);
    expect(targets[0]).toMatchObject({ name: 'Front door', kind: 'lock' });
    expect(targets[0].description).toMatch(/offline algoPIN; battery 87%/);
  });

  it('follows nextCursor across pages', async () => {
    const paged = await startIgloohomeEmulator({ clients: [{ clientId: CLIENT_ID, clientSecret: SECRET }], pageSize: 1 });
    const a = new IgloohomeAdapter({ baseUrl: paged.apiUrl, clientId: CLIENT_ID, clientSecret: SECRET, tokenUrl: paged.tokenUrl });
    try {
      expect(await a.listTargets()).toHaveLength(3);
      expect(paged.stats().byRoute['GET /igloohome/devices']).toBe(4);
    } finally {
      await a.close();
      await paged.close();
    }
  });

  it('has no users', async () => {
    expect(await adapter.findUser('lockstep-u')).toBeNull();
    expect((await catchErr(adapter.createUser(identity('u')))).kind).toBe('rejected');
  });

  it('issues an hourly algoPIN with the rounded window and first-use instructions', async () => {
    const window = { startsAt: hour(2) + 10 * 60_000, endsAt: hour(4) + 5 * 60_000 };
    const { ref, credential } = await adapter.createGrant({ identity: identity('lockstep-h1'), targetRef: LOCK, window });
    expect(credential.kind).toBe('pin');
    expect(credential.secret).toMatch(/^\d{9}$/);
    expect(credential.validFrom).toBe(hour(2));
    expect(credential.validUntil).toBe(hour(5));
    expect(credential.firstUseBefore).toBe(hour(2) + DAY_MS);
    expect(credential.instructions).toMatch(/first time before/);
    expect(decodeGrantRef(ref)).toMatchObject({ startsAt: hour(2), endsAt: hour(5) });
    const [rec] = emu.state.pins({ accessName: 'lockstep-h1' });
    expect(rec).toMatchObject({ deviceId: LOCK, type: 'hourly', validFrom: hour(2), validUntil: hour(5) });
    // The keypad: opens inside the window, many times, not before or after, not on another lock.
    expect(emu.state.canEnter(LOCK, credential.secret, hour(2) + 1)).toBe(true);
    expect(emu.state.enter(LOCK, credential.secret, hour(3))).toBe(true);
    expect(emu.state.enter(LOCK, credential.secret, hour(4))).toBe(true);
    expect(emu.state.canEnter(LOCK, credential.secret, hour(2) - 1)).toBe(false);
    expect(emu.state.canEnter(LOCK, credential.secret, hour(5))).toBe(false);
    expect(emu.state.canEnter(PADLOCK, credential.secret, hour(3))).toBe(false);
  });

  it('issues a daily algoPIN beyond 28 days, which must be used within 24 hours of its start', async () => {
    const start = hour(1);
    const { credential } = await adapter.createGrant({ identity: identity('lockstep-d1'), targetRef: PADLOCK, window: { startsAt: start, endsAt: start + 30 * DAY_MS } });
    const [rec] = emu.state.pins({ accessName: 'lockstep-d1' });
    expect(rec.type).toBe('daily');
    expect(credential.validUntil! - credential.validFrom).toBe(30 * DAY_MS);
    expect(emu.state.canEnter(PADLOCK, credential.secret, start + 2 * DAY_MS, start + 23 * H)).toBe(true);
    expect(emu.state.canEnter(PADLOCK, credential.secret, start + 2 * DAY_MS, start + 25 * H)).toBe(false);
    // Not activated within 24 h: never opens.
    expect(emu.state.enter(PADLOCK, credential.secret, start + 26 * H)).toBe(false);
    expect(emu.state.enter(PADLOCK, credential.secret, start + 3 * H)).toBe(true);
    expect(emu.state.canEnter(PADLOCK, credential.secret, start + 20 * DAY_MS)).toBe(true);
  });

  it('gives a second guest with the same slot, and a regenerated code, a different PIN', async () => {
    const window = { startsAt: hour(30), endsAt: hour(32) };
    const a = await adapter.createGrant({ identity: identity('lockstep-s1'), targetRef: LOCK, window });
    const b = await adapter.createGrant({ identity: identity('lockstep-s2'), targetRef: LOCK, window });
    const c = await adapter.createGrant({ identity: identity('lockstep-s1'), targetRef: LOCK, window });
    expect(new Set([a.credential.secret, b.credential.secret, c.credential.secret]).size).toBe(3);
    // Three variances used up: the fourth starts an hour earlier, still covering the window.
    const d = await adapter.createGrant({ identity: identity('lockstep-s3'), targetRef: LOCK, window });
    expect(d.credential.validFrom).toBe(hour(29));
    expect(d.credential.validUntil).toBe(hour(32));
  });

  it('refuses open-ended and over-a-year windows without calling the API', async () => {
    const before = emu.stats().requests;
    const open = await catchErr(adapter.createGrant({ identity: identity('lockstep-o'), targetRef: LOCK, window: { startsAt: hour(1), endsAt: null } }));
    expect(open.kind).toBe('rejected');
    expect(open.message).toMatch(/permanent algoPIN, which can never be withdrawn/);
    const long = await catchErr(adapter.createGrant({ identity: identity('lockstep-o'), targetRef: LOCK, window: { startsAt: hour(1), endsAt: hour(1) + 368 * DAY_MS } }));
    expect(long.kind).toBe('rejected');
    expect(long.message).toMatch(/at most 367 days/);
    expect(emu.stats().requests).toBe(before);
  });

  it('cannot update or withdraw a PIN, and says until when it stays valid', async () => {
    const { ref } = await adapter.createGrant({ identity: identity('lockstep-x'), targetRef: LOCK, window: { startsAt: hour(3), endsAt: hour(4) } });
    const del = await catchErr(adapter.deleteGrant({ grantRef: ref, targetRef: LOCK }));
    expect(del.kind).toBe('rejected');
    expect(del.message).toMatch(/^igloohome: an algoPIN cannot be withdrawn; it stays valid until .* UTC$/);
    expect(del.message).toContain(`${String(new Date(hour(4)).getUTCHours()).padStart(2, '0')}:00 UTC`);
    expect((await catchErr(adapter.updateGrant({ grantRef: ref, identity: identity('lockstep-x'), targetRef: LOCK, window: { startsAt: hour(3), endsAt: hour(6) } }))).kind).toBe('rejected');
  });

  it('observes issued PINs as held until they end, without asking the API', async () => {
    const { ref } = await adapter.createGrant({ identity: identity('lockstep-ob'), targetRef: LOCK, window: { startsAt: hour(1), endsAt: hour(2) } });
    const expired = `old-pin~${hour(-5)}~${hour(-3)}`;
    const before = emu.stats().requests;
    const obs = await adapter.observe({ key: 'lockstep-ob', grantRefs: [{ ref, targetRef: LOCK }, { ref: expired, targetRef: LOCK }] });
    expect(obs.user).toBeNull();
    expect(obs.grants).toEqual([{ ref, targetRef: LOCK, window: { startsAt: hour(1), endsAt: hour(2) } }]);
    expect(emu.stats().requests).toBe(before);
  });

  it('fetches a new token after the old one stops working', async () => {
    const a = newAdapter();
    await a.listTargets();
    const tokensBefore = emu.state.tokenRequests();
    emu.state.expireTokens();
    expect(await a.listTargets()).toHaveLength(3);
    expect(emu.state.tokenRequests()).toBe(tokensBefore + 1);
  });
});

describe('errors', () => {
  it('a wrong client secret is an auth error naming the credentials, never the secret', async () => {
    const err = await catchErr(newAdapter({ clientSecret: 'wrong-secret-4242' }).testConnection());
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/client ID and client secret/);
    expect(err.message).not.toContain('wrong-secret-4242');
    expect(err.message).not.toContain(SECRET);
  });

  it('a token URL that is not a token endpoint says so', async () => {
    const err = await catchErr(newAdapter({ tokenUrl: `${emu.url}/oauth2/token` }).testConnection());
    expect(err.kind).toBe('not-found');
    expect(err.message).toMatch(/no OAuth2 token endpoint at .*; check the integration's token URL/);
  });

  it('429 and 5xx from the API map to rate-limited and transient; unknown lock to not-found', async () => {
    emu.faults.add({ times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 3 } });
    const rl = await catchErr(adapter.listTargets());
    expect(rl.kind).toBe('rate-limited');
    expect(rl.details.retryAfterMs).toBe(3000);
    emu.faults.add({ times: 1, fault: { kind: 'status', status: 503 } });
    expect((await catchErr(adapter.listTargets())).kind).toBe('transient');
    const nf = await catchErr(adapter.createGrant({ identity: identity('lockstep-nf'), targetRef: 'IGM-nope', window: { startsAt: hour(1), endsAt: hour(2) } }));
    expect(nf.kind).toBe('not-found');
  });

  it('a dropped createGrant retried gives the same PIN (the variance is given back)', async () => {
    const window = { startsAt: hour(50), endsAt: hour(51) };
    emu.faults.add({ match: { method: 'POST' }, times: 1, fault: { kind: 'drop' } });
    expect((await catchErr(adapter.createGrant({ identity: identity('lockstep-dr'), targetRef: LOCK, window }))).kind).toBe('transient');
    const { credential } = await adapter.createGrant({ identity: identity('lockstep-dr'), targetRef: LOCK, window });
    expect(emu.state.pins({ accessName: 'lockstep-dr' })).toHaveLength(1);
    expect(emu.state.canEnter(LOCK, credential.secret, hour(50))).toBe(true);
  });
});

describe('emulator rejects what igloohome rejects', () => {
  const base = () => ({ variance: 1, startDate: igloohomeDate(hour(2)), endDate: igloohomeDate(hour(4)), accessName: 'Guest' });

  it('requires a valid bearer token and the right scope', async () => {
    expect((await rawPost(`/devices/${LOCK}/algopin/hourly`, base())).status).toBe(401);
    expect((await rawPost(`/devices/${LOCK}/algopin/hourly`, base(), 'made-up')).status).toBe(401);
    const devicesOnly = await token('igloohomeapi/get-devices');
    expect((await rawPost(`/devices/${LOCK}/algopin/hourly`, base(), devicesOnly)).status).toBe(403);
    expect((await rawPost(`/devices/${LOCK}/algopin/hourly`, base(), await token())).status).toBe(200);
  });

  it('token endpoint: wrong secret, wrong grant type', async () => {
    const res = await fetch(emu.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:nope`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_client' });
    const res2 = await fetch(emu.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password',
    });
    expect(await res2.json()).toEqual({ error: 'unsupported_grant_type' });
  });

  it.each([
    ['startDate without offset', { startDate: '2026-03-05T07:00:00' }, /startDate must be in the format/],
    ['startDate in Z form', { startDate: '2026-03-05T07:00:00Z' }, /startDate must be in the format/],
    ['startDate not on the hour', { startDate: '2026-03-05T07:30:00+00:00' }, /on the hour/],
    ['missing endDate', { endDate: undefined }, /endDate is required/],
    ['end before start', { endDate: igloohomeDate(hour(1)) }, /endDate must be after startDate/],
    ['hourly over 672 h', { endDate: igloohomeDate(hour(2) + 673 * H) }, /1 to 672 hours/],
    ['variance 4', { variance: 4 }, /variance must be an integer from 1 to 3/],
    ['missing accessName', { accessName: undefined }, /accessName is required/],
    ['accessName over 60', { accessName: 'x'.repeat(61) }, /up to 60 characters/],
    ['invalid date', { startDate: '2026-02-30T07:00:00+00:00' }, /not a valid date-time/],
  ])('hourly: %s → 400', async (_name, patch, message) => {
    const res = await rawPost(`/devices/${LOCK}/algopin/hourly`, { ...base(), ...patch }, await token());
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(message);
  });

  it('daily: same time of day, 29 to 367 days', async () => {
    const t = await token();
    const start = hour(2);
    const ok = await rawPost(`/devices/${LOCK}/algopin/daily`, { ...base(), endDate: igloohomeDate(start + 29 * DAY_MS) }, t);
    expect(ok.status).toBe(200);
    expect(ok.json.pin).toMatch(/^\d{9}$/);
    expect(typeof ok.json.pinId).toBe('string');
    const offHour = await rawPost(`/devices/${LOCK}/algopin/daily`, { ...base(), endDate: igloohomeDate(start + 30 * DAY_MS + H) }, t);
    expect(offHour.json.message).toMatch(/same time of day/);
    const short = await rawPost(`/devices/${LOCK}/algopin/daily`, { ...base(), endDate: igloohomeDate(start + 28 * DAY_MS) }, t);
    expect(short.json.message).toMatch(/29 to 367 days/);
    const long = await rawPost(`/devices/${LOCK}/algopin/daily`, { ...base(), endDate: igloohomeDate(start + 368 * DAY_MS) }, t);
    expect(long.json.message).toMatch(/29 to 367 days/);
    // Wall-clock days in the offsets given: 13:00+01:00 → 13:00+02:00 is whole days.
    const dst = await rawPost(`/devices/${LOCK}/algopin/daily`, { ...base(), startDate: '2027-03-01T13:00:00+01:00', endDate: '2027-04-05T13:00:00+02:00' }, t);
    expect(dst.status).toBe(200);
  });

  it('the same request gives the same PIN; another variance another PIN; unknown lock 404; bridges refuse', async () => {
    const t = await token();
    const one = await rawPost(`/devices/${PADLOCK}/algopin/hourly`, base(), t);
    const again = await rawPost(`/devices/${PADLOCK}/algopin/hourly`, base(), t);
    const other = await rawPost(`/devices/${PADLOCK}/algopin/hourly`, { ...base(), variance: 2 }, t);
    expect(again.json).toEqual(one.json);
    expect(other.json.pin).not.toBe(one.json.pin);
    expect((await rawPost('/devices/IGM-none/algopin/hourly', base(), t)).status).toBe(404);
    expect((await rawPost('/devices/IGB4000d1e2f/algopin/hourly', base(), t)).status).toBe(400);
  });

  it('one-time PINs open once within 24 hours of their start', async () => {
    const t = await token();
    const res = await rawPost(`/devices/${PADLOCK}/algopin/onetime`, { variance: 5, startDate: igloohomeDate(hour(100)), accessName: 'Courier' }, t);
    expect(res.status).toBe(200);
    expect(emu.state.canEnter(PADLOCK, res.json.pin, hour(100) + 25 * H)).toBe(false);
    expect(emu.state.enter(PADLOCK, res.json.pin, hour(101))).toBe(true);
    expect(emu.state.enter(PADLOCK, res.json.pin, hour(102))).toBe(false);
  });

  it('never shows a PIN in the state dump', async () => {
    const { credential } = await adapter.createGrant({ identity: identity('lockstep-dump'), targetRef: LOCK, window: { startsAt: hour(7), endsAt: hour(8) } });
    const dump = await (await fetch(`${emu.url}/_emulator/state`)).text();
    expect(dump).toContain('lockstep-dump');
    expect(dump).not.toContain(credential.secret);
  });
});
