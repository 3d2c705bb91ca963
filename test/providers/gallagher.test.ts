import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GallagherAdapter } from '../../src/providers/gallagher/adapter.js';
import { formatGallagherDate, parseGallagherDate } from '../../src/providers/gallagher/dates.js';
import { gallagherMatcher, startGallagherEmulator, type GallagherEmulator } from '../../src/providers/gallagher/emulator.js';
import { gallagherProvider } from '../../src/providers/gallagher/index.js';
import { ProviderError } from '../../src/providers/types.js';

const API_KEY = '0A1B-2C3D-4E5F-6A7B-8C9D-0E1F-2A3B-4C5D';
const H = 3_600_000;
const T0 = Date.UTC(2030, 0, 1, 9);

let emu: GallagherEmulator;
let adapter: GallagherAdapter;
const extra: GallagherAdapter[] = [];

function newAdapter(opts: { apiKey?: string; baseUrl?: string; divisionHref?: string; timeoutMs?: number } = {}): GallagherAdapter {
  const a = new GallagherAdapter({
    baseUrl: opts.baseUrl ?? emu.url,
    apiKey: opts.apiKey ?? API_KEY,
    divisionHref: opts.divisionHref ?? emu.state.divisionHref('5387'),
    timeoutMs: opts.timeoutMs,
  });
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

async function raw(method: string, path: string, body?: unknown, authorization: string | null = `GGL-API-KEY ${API_KEY}`) {
  const res = await fetch(path.startsWith('http') ? path : emu.url + path, {
    method,
    headers: { ...(authorization ? { authorization } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

const identity = (key: string, displayName = `Ada ${key}`) => ({ key, displayName });
const group = (id: string) => emu.state.accessGroupHref(id);
const idOf = (href: string) => href.split('/').pop()!;

beforeAll(async () => {
  emu = await startGallagherEmulator({ port: 0, apiKey: API_KEY });
  adapter = newAdapter();
});
afterEach(() => emu.faults.clear());
afterAll(async () => {
  await Promise.all(extra.map((a) => a.close()));
  await emu.close();
});

describe('gallagher provider module', () => {
  it('describes itself, builds an adapter and refuses missing credentials with a clear message', () => {
    expect(gallagherProvider.kind).toBe('gallagher');
    expect(gallagherProvider.credentialFields.map((f) => [f.name, f.secret, f.required])).toEqual([
      ['apiKey', true, true],
      ['divisionHref', false, true],
    ]);
    const a = gallagherProvider.create({ baseUrl: emu.url, credentials: { apiKey: API_KEY, divisionHref: emu.state.divisionHref('2') } });
    extra.push(a as GallagherAdapter);
    expect(a.kind).toBe('gallagher');
    expect(a.capabilities).toMatchObject({ accessGroups: true, providerUsers: true, membershipWindows: true, pinOnUser: true, pinOnLock: false, revocable: true, updatableGrants: true, issuesCredentials: false });
    expect(a.deletingUserRemovesGrants).toBe(true);
    expect(a.pinRules).toEqual({ length: 6, minLength: 4, maxLength: 8, allowedDigits: '0123456789', bannedPrefixes: ['0000'] });
    expect(typeof a.applyGrantBatch).toBe('function');
    expect(() => gallagherProvider.create({ baseUrl: emu.url, credentials: { divisionHref: 'x' } })).toThrow(/API key is missing/);
    expect(() => gallagherProvider.create({ baseUrl: emu.url, credentials: { apiKey: API_KEY, divisionHref: ' ' } })).toThrow(/division href .* is missing/);
    try {
      gallagherProvider.create({ baseUrl: emu.url, credentials: { apiKey: '', divisionHref: 'x' } });
      throw new Error('expected create to refuse a blank key');
    } catch (err) {
      expect((err as ProviderError).kind).toBe('auth');
    }
  });
});

describe('discovery, connection and targets', () => {
  it('serves /api discovery with feature hrefs and follows them', async () => {
    const r = await raw('GET', '/api');
    expect(r.status).toBe(200);
    expect(r.json.features.cardholders.cardholders.href).toBe(`${emu.url}/api/cardholders`);
    expect(r.json.features.accessGroups.accessGroups.href).toBe(`${emu.url}/api/access_groups`);
    await adapter.listTargets();
    emu.resetStats();
    await adapter.listTargets();
    // Discovery is fetched once per adapter, not per call.
    expect(emu.stats().byRoute['GET /api'] ?? 0).toBe(0);
    await newAdapter().listTargets();
    expect(emu.stats().byRoute['GET /api']).toBe(1);
  });

  it('tests the connection; accepts a base URL ending in /api', async () => {
    await adapter.testConnection();
    await newAdapter({ baseUrl: `${emu.url}/api/` }).testConnection();
  });

  it('reports a bad API key as auth without leaking it, and a wrong scheme is refused too', async () => {
    const err = await catchErr(newAdapter({ apiKey: 'FFFF-EEEE-DDDD-CCCC-BBBB-AAAA-9999-8888' }).testConnection());
    expect(err.kind).toBe('auth');
    expect(err.details.status).toBe(401);
    expect(err.message).toMatch(/credentials/);
    expect(err.message).not.toContain('FFFF-EEEE');
    let r = await raw('GET', '/api/cardholders', undefined, null);
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ message: expect.stringContaining('GGL-API-KEY') });
    r = await raw('GET', '/api/cardholders', undefined, `Bearer ${API_KEY}`);
    expect(r.status).toBe(401);
    r = await raw('GET', '/api/cardholders', undefined, `ggl-api-key ${API_KEY}`);
    expect(r.status).toBe(401);
  });

  it('rejects an unknown division and a base URL without the API', async () => {
    const err = await catchErr(newAdapter({ divisionHref: `${emu.url}/api/divisions/999` }).testConnection());
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/division/);
    const nf = await catchErr(newAdapter({ baseUrl: `${emu.url}/elsewhere` }).testConnection());
    expect(nf.kind).toBe('not-found');
    expect(nf.message).toMatch(/base URL/);
  });

  it('lists access groups with descriptions', async () => {
    const targets = await adapter.listTargets();
    expect(targets).toHaveLength(5);
    expect(targets[0]).toEqual({ ref: group('352'), name: 'Front door', description: 'Street entrance and lobby, all hours', kind: 'access-group' });
    for (const t of targets) expect(t.description).toBeTruthy();
  });

  it('follows next links through every page', async () => {
    const many = Array.from({ length: 2345 }, (_, i) => ({ id: String(10_000 + i), name: `Group ${i}`, description: `Door ${i}` }));
    const big = await startGallagherEmulator({ apiKey: API_KEY, accessGroups: many });
    const a = new GallagherAdapter({ baseUrl: big.url, apiKey: API_KEY, divisionHref: big.state.divisionHref('2') });
    try {
      const targets = await a.listTargets();
      expect(targets).toHaveLength(2345);
      expect(new Set(targets.map((t) => t.ref)).size).toBe(2345);
      expect(targets[2344]).toMatchObject({ name: 'Group 2344', description: 'Door 2344' });
      expect(big.stats().byRoute['GET /api/access_groups']).toBe(3);
      const page = await fetch(`${big.url}/api/access_groups?top=2&fields=href,name`, { headers: { authorization: `GGL-API-KEY ${API_KEY}` } }).then((r) => r.json());
      expect(page.results).toEqual([
        { href: big.state.accessGroupHref('10000'), name: 'Group 0' },
        { href: big.state.accessGroupHref('10001'), name: 'Group 1' },
      ]);
      expect(page.next.href).toContain('pos=2');
      expect(page.next.href).toContain('fields=href%2Cname');
    } finally {
      await a.close();
      await big.close();
    }
  });
});

describe('cardholders', () => {
  it('creates a cardholder keyed by description, finds it exactly and adopts instead of duplicating', async () => {
    const id = identity('lockstep-pe_1', 'Ada Lovelace King');
    expect(await adapter.findUser(id.key)).toBeNull();
    const { ref } = await adapter.createUser(id);
    expect(ref).toMatch(new RegExp(`^${emu.url}/api/cardholders/\\d+$`));
    const ch = emu.state.cardholder(idOf(ref))!;
    expect(ch).toMatchObject({ description: 'lockstep-pe_1', firstName: 'Ada', lastName: 'Lovelace King', authorised: true, divisionId: '5387', hasUsercode: false });

    // '_' is a wildcard in Gallagher searches: a near-miss must not be taken for ours.
    await adapter.createUser(identity('lockstep-peX1', 'Mononym'));
    expect(emu.state.cardholderByDescription('lockstep-peX1')).toMatchObject({ firstName: '', lastName: 'Mononym' });
    expect(await adapter.findUser('lockstep-pe_1')).toEqual({ ref, key: 'lockstep-pe_1' });

    const again = await adapter.createUser(id);
    expect(again.ref).toBe(ref);
    expect(emu.state.cardholders().filter((c) => c.description === id.key)).toHaveLength(1);
  });

  it('takes the new cardholder href from the Location header: one search, one POST', async () => {
    await adapter.listTargets(); // discovery done
    emu.resetStats();
    const { ref } = await adapter.createUser(identity('lockstep-location'));
    expect(emu.stats().byRoute).toEqual({ 'GET /api/cardholders': 1, 'POST /api/cardholders': 1 });
    expect(emu.state.cardholder(idOf(ref))).toMatchObject({ description: 'lockstep-location' });
    expect(ref).toBe(emu.state.cardholderByDescription('lockstep-location')!.href);
  });

  it('sets the usercode (write-only) and enforces its rules without echoing it', async () => {
    const { ref } = await adapter.createUser(identity('lockstep-pin'));
    await adapter.setUserPin(ref, '048213');
    expect(emu.state.usercodeMatches(idOf(ref), '048213')).toBe(true);
    expect(emu.state.usercodeMatches(idOf(ref), '48213')).toBe(false); // leading zero kept
    expect((await raw('GET', ref)).text).not.toContain('048213');
    expect((await raw('GET', '/_emulator/state', undefined, null)).text).not.toContain('048213');
    expect(JSON.stringify(emu.state.snapshot())).not.toContain('048213');
    // Write-only: the provider cannot say whether a PIN is set.
    expect((await adapter.findUser('lockstep-pin'))!.hasPin).toBeUndefined();

    for (const badPin of ['12', '0000', '12a4', '12345678901']) {
      const err = await catchErr(adapter.setUserPin(ref, badPin));
      expect(err.kind).toBe('rejected');
      expect(err.details.status).toBe(400);
      expect(err.message).toContain('usercode');
      expect(err.message).not.toContain(badPin);
    }
    expect(emu.state.usercodeMatches(idOf(ref), '048213')).toBe(true);
  });

  it('deletes a cardholder with its memberships; a second delete is fine', async () => {
    const id = identity('lockstep-gone');
    const { ref } = await adapter.createUser(id);
    await adapter.createGrant({ userRef: ref, identity: id, targetRef: group('355'), window: { startsAt: T0, endsAt: null } });
    await adapter.deleteUser(ref);
    await adapter.deleteUser(ref);
    expect(emu.state.cardholder(idOf(ref))).toBeNull();
    expect(emu.state.memberships(idOf(ref))).toEqual([]);
    expect(await adapter.observe({ userRef: ref, key: id.key, grantRefs: [] })).toEqual({ user: null, grants: [] });
    expect(await adapter.observe({ key: id.key, grantRefs: [] })).toEqual({ user: null, grants: [] });
    expect((await raw('GET', ref)).status).toBe(404);
  });
});

describe('memberships', () => {
  it('grants with windows, observes them, updates them (new href, returned as the new ref) and removes them', async () => {
    const id = identity('lockstep-grants');
    const { ref: userRef } = await adapter.createUser(id);
    await adapter.setUserPin(userRef, '735194');
    const { ref: g1 } = await adapter.createGrant({ userRef, identity: id, targetRef: group('353'), window: { startsAt: T0, endsAt: T0 + 2 * H } });
    const { ref: g2 } = await adapter.createGrant({ identity: id, targetRef: group('352'), window: { startsAt: T0, endsAt: null } });
    expect(g1).toMatch(new RegExp(`^${userRef}/access_groups/`));

    let obs = await adapter.observe({ userRef, key: id.key, grantRefs: [] });
    expect(obs.user).toEqual({ ref: userRef, key: id.key });
    expect(obs.grants).toHaveLength(2);
    expect(obs.grants).toContainEqual({ ref: g1, targetRef: group('353'), window: { startsAt: T0, endsAt: T0 + 2 * H } });
    expect(obs.grants).toContainEqual({ ref: g2, targetRef: group('352'), window: { startsAt: T0, endsAt: null } });
    expect(emu.state.memberships(idOf(userRef)).find((m) => m.href === g1)).toMatchObject({ from: '2030-01-01T09:00:00Z', until: '2030-01-01T11:00:00Z' });

    // The keypad model enforces group and window.
    expect(emu.state.canEnter({ pin: '735194', accessGroupId: '353', at: T0 + H })).toBe(true);
    expect(emu.state.canEnter({ pin: '735194', accessGroupId: '353', at: T0 + 3 * H })).toBe(false);
    expect(emu.state.canEnter({ pin: '735194', accessGroupId: '354', at: T0 + H })).toBe(false);
    expect(emu.state.canEnter({ pin: '111111', accessGroupId: '353', at: T0 + H })).toBe(false);

    const { ref: g1b } = await adapter.updateGrant({ userRef, identity: id, grantRef: g1, targetRef: group('353'), window: { startsAt: T0 - H, endsAt: null } });
    const { ref: g2b } = await adapter.updateGrant({ userRef, identity: id, grantRef: g2, targetRef: group('352'), window: { startsAt: T0, endsAt: T0 + H } });
    // Command Centre gave the updated memberships new hrefs, and updateGrant returned them.
    const held = emu.state.memberships(idOf(userRef));
    expect(held.map((m) => m.href).sort()).toEqual([g1b, g2b].sort());
    expect([g1b, g2b]).not.toContain(g1);
    expect([g1b, g2b]).not.toContain(g2);
    expect(held.find((m) => m.href === g1b)).toMatchObject({ accessGroupId: '353', from: '2030-01-01T08:00:00Z', until: null });
    expect(held.find((m) => m.href === g2b)).toMatchObject({ accessGroupId: '352', from: '2030-01-01T09:00:00Z', until: '2030-01-01T10:00:00Z' });
    obs = await adapter.observe({ userRef, key: id.key, grantRefs: [{ ref: g1b!, targetRef: group('353') }, { ref: g2b!, targetRef: group('352') }] });
    expect(obs.grants).toHaveLength(2);
    expect(obs.grants).toContainEqual({ ref: g1b, targetRef: group('353'), window: { startsAt: T0 - H, endsAt: null } });
    expect(obs.grants).toContainEqual({ ref: g2b, targetRef: group('352'), window: { startsAt: T0, endsAt: T0 + H } });
    // A second update of the same grant, with the ref it now has.
    const { ref: g1c } = await adapter.updateGrant({ userRef, identity: id, grantRef: g1b!, targetRef: group('353'), window: { startsAt: T0, endsAt: T0 + 4 * H } });
    expect(emu.state.memberships(idOf(userRef)).filter((m) => m.accessGroupId === '353')).toEqual([expect.objectContaining({ href: g1c, from: '2030-01-01T09:00:00Z', until: '2030-01-01T13:00:00Z' })]);

    await adapter.deleteGrant({ userRef, grantRef: g1c!, targetRef: group('353') });
    await adapter.deleteGrant({ userRef, grantRef: g1c!, targetRef: group('353') }); // already gone = success
    obs = await adapter.observe({ key: id.key, grantRefs: [{ ref: g2b!, targetRef: group('352') }] });
    expect(obs.grants.map((g) => g.ref)).toEqual([g2b]);
  });

  it('updateGrant and applyGrantBatch return the new hrefs of updated memberships; the old hrefs are gone', async () => {
    const id = identity('lockstep-newhref');
    const { ref: userRef } = await adapter.createUser(id);
    const { ref: g } = await adapter.createGrant({ userRef, identity: id, targetRef: group('352'), window: { startsAt: T0, endsAt: T0 + H } });
    const single = await adapter.updateGrant({ userRef, identity: id, grantRef: g, targetRef: group('352'), window: { startsAt: T0, endsAt: T0 + 2 * H } });
    expect(single.ref).toMatch(new RegExp(`^${userRef}/access_groups/`));
    expect(single.ref).not.toBe(g);
    expect(emu.state.memberships(idOf(userRef))).toEqual([expect.objectContaining({ href: single.ref, accessGroupId: '352', until: '2030-01-01T11:00:00Z' })]);
    expect((await raw('DELETE', g)).status).toBe(404);

    // Batch: two updates on the SAME access group with different windows, a create with the same
    // window as one of them, and a remove: each update gets its own membership's new href, in order.
    const { created: [a, b] } = await adapter.applyGrantBatch({
      userRef,
      identity: id,
      create: [
        { targetRef: group('353'), window: { startsAt: T0, endsAt: T0 + H } },
        { targetRef: group('353'), window: { startsAt: T0 + 5 * H, endsAt: T0 + 6 * H } },
      ],
      update: [],
      remove: [],
    });
    const out = await adapter.applyGrantBatch({
      userRef,
      identity: id,
      create: [{ targetRef: group('353'), window: { startsAt: T0 + 9 * H, endsAt: null } }],
      update: [
        { grantRef: b, targetRef: group('353'), window: { startsAt: T0 + 9 * H, endsAt: null } },
        { grantRef: a, targetRef: group('353'), window: { startsAt: T0 - H, endsAt: T0 + H } },
      ],
      remove: [{ grantRef: single.ref!, targetRef: group('352') }],
    });
    expect(out.updated).toHaveLength(2);
    const [b2, a2] = out.updated as string[];
    const held = emu.state.memberships(idOf(userRef));
    expect(held).toHaveLength(3);
    expect(held.find((m) => m.href === a2)).toMatchObject({ accessGroupId: '353', from: '2030-01-01T08:00:00Z', until: '2030-01-01T10:00:00Z' });
    expect(held.find((m) => m.href === b2)).toMatchObject({ accessGroupId: '353', from: '2030-01-01T18:00:00Z', until: null });
    expect(held.find((m) => m.href === out.created[0])).toMatchObject({ accessGroupId: '353', from: '2030-01-01T18:00:00Z', until: null });
    expect(new Set([a2, b2, out.created[0]]).size).toBe(3);
    for (const old of [a, b, single.ref!]) {
      expect([a2, b2, ...out.created]).not.toContain(old);
      expect((await raw('DELETE', old)).status).toBe(404);
    }
    expect(emu.state.memberships(idOf(userRef))).toHaveLength(3);
  });

  it('a FRESH adapter (Lockstep restarted) observing with the refs the engine recorded sees no difference', async () => {
    const id = identity('lockstep-restart');
    const { ref: userRef } = await adapter.createUser(id);
    // What the engine records: created refs, then the refs the updates return.
    const rec = new Map<string, { ref: string; targetRef: string; window: { startsAt: number; endsAt: number | null } }>();
    const { created } = await adapter.applyGrantBatch({
      userRef,
      identity: id,
      create: [
        { targetRef: group('354'), window: { startsAt: T0, endsAt: T0 + H } },
        { targetRef: group('354'), window: { startsAt: T0 + 4 * H, endsAt: T0 + 5 * H } },
        { targetRef: group('355'), window: { startsAt: T0, endsAt: null } },
      ],
      update: [],
      remove: [],
    });
    rec.set('x', { ref: created[0], targetRef: group('354'), window: { startsAt: T0, endsAt: T0 + H } });
    rec.set('y', { ref: created[1], targetRef: group('354'), window: { startsAt: T0 + 4 * H, endsAt: T0 + 5 * H } });
    rec.set('z', { ref: created[2], targetRef: group('355'), window: { startsAt: T0, endsAt: null } });
    const moved = { startsAt: T0, endsAt: T0 + 2 * H };
    const { ref: x2 } = await adapter.updateGrant({ userRef, identity: id, grantRef: rec.get('x')!.ref, targetRef: group('354'), window: moved });
    rec.set('x', { ...rec.get('x')!, ref: x2!, window: moved });
    const moved2 = { startsAt: T0 + 3 * H, endsAt: T0 + 5 * H };
    const { updated } = await adapter.applyGrantBatch({ userRef, identity: id, create: [], update: [{ grantRef: rec.get('y')!.ref, targetRef: group('354'), window: moved2 }], remove: [] });
    rec.set('y', { ...rec.get('y')!, ref: updated[0]!, window: moved2 });

    const fresh = newAdapter();
    const grantRefs = [...rec.values()].map(({ ref, targetRef }) => ({ ref, targetRef }));
    const obs = await fresh.observe({ userRef, key: id.key, grantRefs });
    expect(obs.user).toEqual({ ref: userRef, key: id.key });
    const byRef = (list: { ref: string }[]) => [...list].sort((p, q) => p.ref.localeCompare(q.ref));
    expect(byRef(obs.grants)).toEqual(byRef([...rec.values()]));
    // The same with the cardholder found by key, and the fresh adapter carries on with those refs.
    expect(byRef((await newAdapter().observe({ key: id.key, grantRefs })).grants)).toEqual(byRef([...rec.values()]));
    const { ref: x3 } = await fresh.updateGrant({ userRef, identity: id, grantRef: x2!, targetRef: group('354'), window: { startsAt: T0, endsAt: T0 + 3 * H } });
    await fresh.deleteGrant({ userRef, grantRef: x3!, targetRef: group('354') });
    await fresh.deleteGrant({ userRef, grantRef: rec.get('y')!.ref, targetRef: group('354') });
    expect(emu.state.memberships(idOf(userRef)).map((m) => m.href)).toEqual([rec.get('z')!.ref]);
  });

  it('a ref that is gone (an update whose new href was never recorded) is reported absent, not guessed', async () => {
    const id = identity('lockstep-lost');
    const { ref: userRef } = await adapter.createUser(id);
    const { ref: g } = await adapter.createGrant({ userRef, identity: id, targetRef: group('354'), window: { startsAt: T0, endsAt: T0 + H } });
    // The PATCH lands, but the new ref never reaches the engine's store (crash).
    const { ref: lost } = await adapter.updateGrant({ userRef, identity: id, grantRef: g, targetRef: group('354'), window: { startsAt: T0, endsAt: T0 + 2 * H } });
    const obs = await newAdapter().observe({ userRef, key: id.key, grantRefs: [{ ref: g, targetRef: group('354') }] });
    // The engine's adoption drops g and adopts the membership under its current href.
    expect(obs.grants).toEqual([{ ref: lost, targetRef: group('354'), window: { startsAt: T0, endsAt: T0 + 2 * H } }]);
    // Removing the gone ref is done; the membership it became is untouched.
    await newAdapter().deleteGrant({ userRef, grantRef: g, targetRef: group('354') });
    expect(emu.state.memberships(idOf(userRef)).map((m) => m.href)).toEqual([lost]);
  });

  it('applies creates, updates and removes for one cardholder in ONE PATCH and returns created refs in order', async () => {
    const id = identity('lockstep-batch');
    const { ref: userRef } = await adapter.createUser(id);
    const { created: first } = await adapter.applyGrantBatch({
      userRef,
      identity: id,
      create: [
        { targetRef: group('352'), window: { startsAt: T0, endsAt: T0 + H } },
        { targetRef: group('353'), window: { startsAt: T0, endsAt: T0 + H } },
      ],
      update: [],
      remove: [],
    });
    expect(first).toHaveLength(2);
    emu.resetStats();
    const { created, updated } = await adapter.applyGrantBatch({
      userRef,
      identity: id,
      create: [
        { targetRef: group('355'), window: { startsAt: T0 + 5 * H, endsAt: T0 + 6 * H } },
        { targetRef: group('354'), window: { startsAt: T0, endsAt: null } },
      ],
      update: [{ grantRef: first[0], targetRef: group('352'), window: { startsAt: T0, endsAt: T0 + 3 * H } }],
      remove: [{ grantRef: first[1], targetRef: group('353') }],
    });
    expect(emu.stats().byRoute['PATCH /api/cardholders/:id']).toBe(1);
    expect(emu.stats().requests).toBe(3); // read, PATCH, read back
    const held = emu.state.memberships(idOf(userRef));
    expect(updated).toEqual([held.find((m) => m.accessGroupId === '352')!.href]);
    expect(created).toEqual([held.find((m) => m.accessGroupId === '355')!.href, held.find((m) => m.accessGroupId === '354')!.href]);
    expect(held.map((m) => [m.accessGroupId, m.from, m.until]).sort()).toEqual([
      ['352', '2030-01-01T09:00:00Z', '2030-01-01T12:00:00Z'],
      ['354', '2030-01-01T09:00:00Z', null],
      ['355', '2030-01-01T14:00:00Z', '2030-01-01T15:00:00Z'],
    ]);
    // Nothing to do: no request at all.
    emu.resetStats();
    expect(await adapter.applyGrantBatch({ userRef, identity: id, create: [], update: [], remove: [] })).toEqual({ created: [], updated: [] });
    expect(emu.stats().requests).toBe(0);
  });

  it('re-adds a membership that was removed inside Command Centre when it is updated', async () => {
    const id = identity('lockstep-readd');
    const { ref: userRef } = await adapter.createUser(id);
    const { ref: g } = await adapter.createGrant({ userRef, identity: id, targetRef: group('352'), window: { startsAt: T0, endsAt: T0 + H } });
    expect((await raw('DELETE', g)).status).toBe(204);
    const { ref: again } = await adapter.updateGrant({ userRef, identity: id, grantRef: g, targetRef: group('352'), window: { startsAt: T0, endsAt: T0 + 2 * H } });
    expect(again).toBeDefined();
    expect(again).not.toBe(g);
    const obs = await adapter.observe({ userRef, key: id.key, grantRefs: [{ ref: again!, targetRef: group('352') }] });
    expect(obs.grants).toEqual([{ ref: again, targetRef: group('352'), window: { startsAt: T0, endsAt: T0 + 2 * H } }]);
  });

  it('rounds windows to whole seconds, outward', () => {
    expect(adapter.roundWindow({ startsAt: T0 + 1500, endsAt: T0 + 2500 })).toEqual({ startsAt: T0 + 1000, endsAt: T0 + 3000 });
    expect(adapter.roundWindow({ startsAt: T0, endsAt: null })).toEqual({ startsAt: T0, endsAt: null });
  });

  it('maps an unknown access group to rejected, naming the field', async () => {
    const id = identity('lockstep-badgroup');
    const { ref: userRef } = await adapter.createUser(id);
    const err = await catchErr(adapter.createGrant({ userRef, identity: id, targetRef: `${emu.url}/api/access_groups/9999`, window: { startsAt: T0, endsAt: null } }));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBe(400);
    expect(err.message).toContain('accessGroups.add[0].accessGroup');
    const nf = await catchErr(adapter.createGrant({ userRef: `${emu.url}/api/cardholders/424242`, identity: id, targetRef: group('352'), window: { startsAt: T0, endsAt: null } }));
    expect(nf.kind).toBe('not-found');
  });
});

describe('the emulator rejects what Command Centre rejects', () => {
  let chHref: string;
  let mHref: string;
  beforeAll(async () => {
    const id = identity('lockstep-raw');
    chHref = (await adapter.createUser(id)).ref;
    mHref = (await adapter.createGrant({ userRef: chHref, identity: id, targetRef: group('352'), window: { startsAt: T0, endsAt: null } })).ref;
  });

  it('POST /api/cardholders: 201 + Location and no body; division and a name are required', async () => {
    const division = { href: emu.state.divisionHref('2') };
    let r = await raw('POST', '/api/cardholders', { lastName: 'Boothroyd', division, shortName: 'Quartermaster-General' });
    expect(r.status).toBe(201);
    expect(r.text).toBe('');
    const loc = r.headers.get('location')!;
    expect(loc).toMatch(new RegExp(`^${emu.url}/api/cardholders/\\d+$`));
    const got = await raw('GET', loc);
    expect(got.json).toMatchObject({ href: loc, lastName: 'Boothroyd', shortName: 'Quartermaster-Ge', authorised: false, division });
    r = await raw('POST', '/api/cardholders', { lastName: 'No division' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ message: expect.stringMatching(/^division: /) });
    r = await raw('POST', '/api/cardholders', { lastName: 'Bad division', division: { href: `${emu.url}/api/divisions/77` } });
    expect(r.status).toBe(400);
    r = await raw('POST', '/api/cardholders', { description: 'nameless', division });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/name/);
    r = await raw('POST', '/api/cardholders', { lastName: 'x', division, authorised: 'yes' });
    expect(r.status).toBe(400);
    r = await raw('POST', '/api/cardholders', '{"lastName":');
    expect(r.status).toBe(400);
  });

  it('PATCH validates dates, the accessGroups block and membership hrefs, atomically', async () => {
    const before = emu.state.memberships(idOf(chHref));
    const cases: [unknown, RegExp][] = [
      [{}, /No fields have been defined/],
      [{ accessGroups: [{ accessGroup: { href: group('353') } }] }, /must be an object/],
      [{ accessGroups: { add: [{ accessGroup: { href: group('353') }, from: '31/12/2030' }] } }, /add\[0\]\.from/],
      [{ accessGroups: { add: [{ accessGroup: { href: group('353') }, from: '2030-02-30T00:00:00Z' }] } }, /add\[0\]\.from/],
      [{ accessGroups: { add: [{ accessGroup: { href: group('353') }, from: '2030-01-02T00:00:00Z', until: '2030-01-01T00:00:00Z' }] } }, /'from' must not be later/],
      [{ accessGroups: { add: [{ from: '2030-01-01' }] } }, /accessGroup: an object holding the href/],
      [{ accessGroups: { update: [{ href: `${chHref}/access_groups/nope`, until: '' }] } }, /update\[0\]\.href/],
      [{ accessGroups: { update: [{ href: mHref, until: '' }], remove: [{ href: mHref }] } }, /same membership href/],
      [{ accessGroups: { add: [{ accessGroup: { href: group('354') } }], remove: [{ href: `${chHref}/access_groups/nope` }] } }, /remove\[0\]\.href/],
    ];
    for (const [body, message] of cases) {
      const r = await raw('PATCH', chHref, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.message).toMatch(message);
    }
    expect(emu.state.memberships(idOf(chHref))).toEqual(before);
  });

  it('accepts Command Centre short date forms and offsets; an update changes the membership href', async () => {
    const r = await raw('PATCH', chHref, { accessGroups: { add: [{ accessGroup: { href: group('356') }, from: '2030-01-01', until: '2030-01-01T10:00+01:00' }] } });
    expect(r.status).toBe(204);
    const m = emu.state.memberships(idOf(chHref)).find((x) => x.accessGroupId === '356')!;
    expect([m.from, m.until]).toEqual(['2030-01-01T00:00:00Z', '2030-01-01T09:00:00Z']);
    const detail = await raw('GET', `${chHref}?fields=accessGroups`);
    expect(Object.keys(detail.json)).toEqual(['accessGroups']);
    expect(detail.json.accessGroups.find((x: any) => x.href === m.href)).toEqual({
      href: m.href,
      accessGroup: { name: 'Parking gate', href: group('356') },
      status: { value: 'Pending', type: 'pending' },
      from: m.from,
      until: m.until,
    });
    expect((await raw('PATCH', chHref, { accessGroups: { update: [{ href: m.href, until: '' }] } })).status).toBe(204);
    const updated = emu.state.memberships(idOf(chHref)).filter((x) => x.accessGroupId === '356');
    expect(updated).toHaveLength(1);
    expect(updated[0].href).not.toBe(m.href);
    expect(updated[0].until).toBeNull();
    expect((await raw('DELETE', m.href)).status).toBe(404);
    expect((await raw('DELETE', updated[0].href)).status).toBe(204);
  });

  it('answers unknown objects and routes with 404 and a message', async () => {
    let r = await raw('GET', '/api/cardholders/999999');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ message: expect.any(String) });
    r = await raw('DELETE', '/api/cardholders/999999');
    expect(r.status).toBe(404);
    r = await raw('GET', '/api/access_groups/1');
    expect(r.status).toBe(404);
    r = await raw('GET', '/api/nothing');
    expect(r.status).toBe(404);
    r = await raw('GET', '/api/cardholders?top=0');
    expect(r.status).toBe(400);
  });

  it('searches descriptions the Gallagher way', async () => {
    const r = await raw('GET', `/api/cardholders?description=${encodeURIComponent('"LOCKSTEP-RAW"')}&fields=href,description`);
    expect(r.json.results).toEqual([{ href: chHref, description: 'lockstep-raw' }]);
    const m = gallagherMatcher('"ab_d"');
    expect([m('abcd'), m('ABXD'), m('abd'), m('xabcd')]).toEqual([true, true, false, false]);
    expect(gallagherMatcher('bc')('abcd')).toBe(true);
    expect(gallagherMatcher('"bc"')('abcd')).toBe(false);
    expect(gallagherMatcher('a%d')('abcd')).toBe(true);
    expect(gallagherMatcher('a%d')('abcde')).toBe(false);
  });
});

describe('dates', () => {
  it('parses Command Centre date-times and writes UTC whole seconds', () => {
    expect(parseGallagherDate('2030-01-01T09:00:00Z')).toBe(T0);
    expect(parseGallagherDate('2030-01-01T09:00:00.1234567Z')).toBe(T0);
    expect(parseGallagherDate('2030-01-01T10:00+01:00')).toBe(T0);
    expect(parseGallagherDate('2030-01-01T01:00:00-0800')).toBe(T0);
    expect(parseGallagherDate('2030-01-01T21:00+12')).toBe(T0);
    expect(parseGallagherDate('2030-01')).toBe(Date.UTC(2030, 0, 1));
    expect(parseGallagherDate('2030-13-01')).toBeNull();
    expect(parseGallagherDate('2030-01-01 09:00')).toBeNull();
    expect(parseGallagherDate('tomorrow')).toBeNull();
    expect(formatGallagherDate(T0 + 999)).toBe('2030-01-01T09:00:00Z');
  });
});

describe('faults and error mapping', () => {
  it('429 → rate-limited with retryAfterMs; 503 and drops → transient', async () => {
    emu.faults.add({ match: { path: '/api/access_groups' }, times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 4 } });
    let err = await catchErr(adapter.listTargets());
    expect(err.kind).toBe('rate-limited');
    expect(err.details).toEqual({ status: 429, retryAfterMs: 4000 });
    emu.faults.add({ match: { method: 'PATCH' }, times: 1, fault: { kind: 'status', status: 503 } });
    const { ref } = await adapter.createUser(identity('lockstep-faults'));
    err = await catchErr(adapter.setUserPin(ref, '918273'));
    expect(err.kind).toBe('transient');
    expect(err.message).not.toContain('918273');
    emu.faults.add({ match: { method: 'GET', path: '/api/cardholders' }, times: 1, fault: { kind: 'drop' } });
    err = await catchErr(adapter.findUser('lockstep-faults'));
    expect(err.kind).toBe('transient');
    expect(await adapter.findUser('lockstep-faults')).toEqual({ ref, key: 'lockstep-faults' });
  });

  it('a hanging server and a short timeout → transient', async () => {
    const quick = newAdapter({ timeoutMs: 150 });
    emu.faults.add({ match: { path: '/api' }, times: 1, fault: { kind: 'hang' } });
    const err = await catchErr(quick.testConnection());
    expect(err.kind).toBe('transient');
    expect(err.message).toMatch(/timed out/);
  });

  it('reset clears cardholders and usercodes but keeps groups', async () => {
    const other = await startGallagherEmulator();
    const a = new GallagherAdapter({ baseUrl: other.url, apiKey: other.apiKey, divisionHref: other.state.divisionHref('2') });
    try {
      const { ref } = await a.createUser(identity('lockstep-reset'));
      await a.setUserPin(ref, '5555');
      expect((await fetch(`${other.url}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
      expect(other.state.cardholders()).toEqual([]);
      expect(other.state.canEnter({ pin: '5555', accessGroupId: '352' })).toBe(false);
      expect(await a.listTargets()).toHaveLength(5);
      const again = await a.createUser(identity('lockstep-reset'));
      expect(again.ref).not.toBe(ref); // ids are not reused
    } finally {
      await a.close();
      await other.close();
    }
  });
});
