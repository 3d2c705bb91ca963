/**
 * End-to-end behaviour of the sync engine over real HTTP: API → store → engine → demo emulator.
 * The same scenarios run against SQLite and PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from './support/harness.js';
import { storeKinds } from './support/stores.js';
import { startDemoEmulator } from '../src/providers/demo/emulator.js';

const MIN = 60_000;

describe.each(storeKinds)('sync engine on %s', (kind) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(kind);
  });
  afterEach(async () => {
    await h?.close();
  });

  const userOf = (personId: string) => h.emulator.state.userByExternalId(`lockstep-${personId}`);
  const groupsOf = (personId: string) => {
    const u = userOf(personId);
    return u ? h.emulator.state.memberships(u.id).map((m) => ({ group: m.accessGroupId, from: m.from, until: m.until })) : [];
  };
  const guestPin = async (personId: string) => {
    const key = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId }, h.keys.admin)).body.key;
    const pins = await h.call('GET', '/v1/me/pins', undefined, key);
    return pins.body.results[0]?.pin as string | undefined;
  };
  const book = async (spaceId: string, start: string, end: string, extra: Record<string, unknown> = {}) => {
    const res = await h.call('POST', '/v1/bookings', { spaceId, organiser: { name: 'Ada Guest', email: 'ada@example.com' }, start, end, ...extra }, h.keys.admin);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  it('turns a booking into a provider user with a PIN and buffered memberships, and the sync status says applied', async () => {
    const space = await h.space();
    const start = hoursFromNow(2);
    const end = hoursFromNow(4);
    const booking = await book(space, start, end);
    await h.converge();

    const user = userOf(booking.organiserId)!;
    expect(user).toBeTruthy();
    expect(user.name).toBe('Ada Guest');
    expect(user.hasPin).toBe(true);
    const from = new Date(Date.parse(start) - 15 * MIN).toISOString();
    const until = new Date(Date.parse(end) + 15 * MIN).toISOString();
    expect(groupsOf(booking.organiserId).sort((a, b) => a.group.localeCompare(b.group))).toEqual([
      { group: 'ag-front-door', from, until },
      { group: 'ag-meeting-1', from, until },
    ]);
    const pin = (await guestPin(booking.organiserId))!;
    expect(pin).toMatch(/^\d{6}$/);
    expect(h.emulator.state.pinMatches(user.id, pin)).toBe(true);
    expect(h.emulator.state.canEnter({ pin, accessGroupId: 'ag-meeting-1', at: Date.parse(start) - 10 * MIN })).toBe(true);
    expect(h.emulator.state.canEnter({ pin, accessGroupId: 'ag-meeting-1', at: Date.parse(start) - 20 * MIN })).toBe(false);

    const sync = await h.call('GET', `/v1/bookings/${booking.id}/sync`, undefined, h.keys.host);
    expect(sync.body.state).toBe('applied');
    expect(sync.body.entries).toHaveLength(2);

    const audit = await h.call('GET', `/v1/audit?subjectId=${booking.organiserId}`, undefined, h.keys.admin);
    const actions = audit.body.results.map((r: any) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['pin.issued', 'provider-user.created', 'pin.applied', 'access.granted']));
    expect(audit.body.results.find((r: any) => r.action === 'access.granted').reason).toBe(`booking:${booking.id}`);
    expect(JSON.stringify(audit.body)).not.toContain(pin);
  });

  it("sends a booking's doors to the provider side by side, not one after the other", async () => {
    const space = await h.space();
    const booking = await book(space, hoursFromNow(2), hoursFromNow(4));
    await h.converge();
    // The person exists now; a second booking on both doors is two membership writes. Each is held
    // open 150 ms by the emulator, so both are in its hands at once only if they were sent together.
    h.emulator.faults.add({ match: { method: 'PATCH', path: '/api/users/' }, fault: { kind: 'latency', ms: 150 } });
    h.emulator.resetStats();
    const end = hoursFromNow(5);
    expect((await h.call('PATCH', `/v1/bookings/${booking.id}`, { end }, h.keys.admin)).status).toBe(200);
    await h.converge();
    expect(h.emulator.stats().byRoute).toEqual({ 'PATCH /api/users/:id/memberships/:membershipId': 2 });
    expect(h.emulator.peakInFlight()).toBe(2);
    const until = new Date(Date.parse(end) + 15 * MIN).toISOString();
    expect(groupsOf(booking.organiserId).map((g) => g.until)).toEqual([until, until]);
  });

  it("sizes the provider's connection pool to the engine's lanes: two per lane", async () => {
    await h.close();
    h = await startHarness(kind, { engine: { laneSize: 1 } });
    const space = await h.space(['ag-front-door', 'ag-meeting-1', 'ag-meeting-2']);
    const booking = await book(space, hoursFromNow(2), hoursFromNow(4));
    await h.converge();
    // Three doors go side by side, each held 150 ms by the emulator; one lane's pool has two
    // connections, so the third waits for one of them (the default pool of 64 would send all three).
    h.emulator.faults.add({ match: { method: 'PATCH', path: '/api/users/' }, fault: { kind: 'latency', ms: 150 } });
    h.emulator.resetStats();
    expect((await h.call('PATCH', `/v1/bookings/${booking.id}`, { end: hoursFromNow(5) }, h.keys.admin)).status).toBe(200);
    await h.converge();
    expect(h.emulator.stats().byRoute).toEqual({ 'PATCH /api/users/:id/memberships/:membershipId': 3 });
    expect(h.emulator.peakInFlight()).toBe(2);
  });

  it('a door the provider refuses holds up neither the other door nor its own retry, and nothing is sent twice', async () => {
    const space = await h.space();
    const first = await book(space, hoursFromNow(2), hoursFromNow(3));
    await h.converge();
    h.emulator.resetStats();
    h.emulator.faults.add({ match: { method: 'POST', path: '/api/users/' }, times: 1, fault: { kind: 'status', status: 503 } });
    const second = await book(space, hoursFromNow(6), hoursFromNow(7));
    expect(second.organiserId).toBe(first.organiserId);
    await h.converge();
    // Two new memberships; the refused one is in doubt (a 503 may have gone through), so the retry
    // reads the user back, then sends it once more; the one that went through is not re-sent.
    expect(h.emulator.stats().byRoute).toEqual({ 'GET /api/users/:id': 1, 'GET /api/users/:id/memberships': 1, 'POST /api/users/:id/memberships': 3 });
    expect(groupsOf(first.organiserId)).toHaveLength(4);
  });

  it('reuses the user and PIN for a second booking and merges back-to-back bookings into one window', async () => {
    const space = await h.space(['ag-meeting-1']);
    const [t2, t3, t4] = [hoursFromNow(2), hoursFromNow(3), hoursFromNow(4)];
    const first = await book(space, t2, t3);
    await h.converge();
    const pinBefore = await guestPin(first.organiserId);
    h.emulator.resetStats();
    await book(space, t3, t4);
    await h.converge();

    const windows = groupsOf(first.organiserId);
    expect(windows).toEqual([
      { group: 'ag-meeting-1', from: new Date(Date.parse(t2) - 15 * MIN).toISOString(), until: new Date(Date.parse(t4) + 15 * MIN).toISOString() },
    ]);
    expect(h.emulator.state.users()).toHaveLength(1);
    expect(await guestPin(first.organiserId)).toBe(pinBefore);
    // The second booking needed one call: extend the existing membership.
    expect(h.emulator.stats().byRoute).toEqual({ 'PATCH /api/users/:id/memberships/:membershipId': 1 });
  });

  it('moves the membership when the booking moves, keeping the PIN, and revokes everything on cancel', async () => {
    const space = await h.space(['ag-meeting-1']);
    const booking = await book(space, hoursFromNow(2), hoursFromNow(3));
    await h.converge();
    const pin = await guestPin(booking.organiserId);
    const membershipId = h.emulator.state.memberships(userOf(booking.organiserId)!.id)[0].id;

    const t5 = hoursFromNow(5);
    const moved = await h.call('PATCH', `/v1/bookings/${booking.id}`, { start: t5, end: hoursFromNow(7) }, h.keys.admin);
    expect(moved.status).toBe(200);
    await h.converge();
    const after = h.emulator.state.memberships(userOf(booking.organiserId)!.id);
    expect(after).toHaveLength(1);
    expect(after[0].id).toBe(membershipId);
    expect(after[0].from).toBe(new Date(Date.parse(t5) - 15 * MIN).toISOString());
    expect(await guestPin(booking.organiserId)).toBe(pin);

    h.emulator.resetStats();
    const cancelled = await h.call('POST', `/v1/bookings/${booking.id}/cancel`, undefined, h.keys.admin);
    expect(cancelled.body.status).toBe('cancelled');
    await h.converge();
    expect(userOf(booking.organiserId)).toBeNull();
    // Deleting the user takes its membership with it: one call, not two.
    expect(h.emulator.stats().byRoute).toEqual({ 'DELETE /api/users/:id': 1 });
    expect(h.emulator.state.users()).toHaveLength(0);
    const sync = await h.call('GET', `/v1/bookings/${booking.id}/sync`, undefined, h.keys.admin);
    expect(sync.body.state).toBe('revoked');
  });

  it('gives invitees their own PIN and access, and removes an invitee dropped from the booking', async () => {
    const space = await h.space(['ag-meeting-2']);
    const booking = await book(space, hoursFromNow(1), hoursFromNow(2), {
      invitees: [{ name: 'Bob', email: 'bob@example.com' }, { name: 'Cy', email: 'cy@example.com' }],
    });
    await h.converge();
    expect(booking.inviteeIds).toHaveLength(2);
    const pins = await Promise.all([booking.organiserId, ...booking.inviteeIds].map(guestPin));
    expect(new Set(pins).size).toBe(3);
    for (const id of booking.inviteeIds) expect(groupsOf(id).map((g) => g.group)).toEqual(['ag-meeting-2']);

    await h.call('PATCH', `/v1/bookings/${booking.id}`, { inviteeIds: [booking.inviteeIds[0]] }, h.keys.admin);
    await h.converge();
    expect(userOf(booking.inviteeIds[0])).toBeTruthy();
    expect(userOf(booking.inviteeIds[1])).toBeNull();
  });

  it('company subscriptions cover members added later and stop for members removed', async () => {
    const plan = (await h.call('POST', '/v1/plans', { name: 'Resident', targets: [{ integrationId: h.integrationId, targetRef: 'ag-hot-desks' }] }, h.keys.admin)).body;
    const company = (await h.call('POST', '/v1/companies', { name: 'Acme' }, h.keys.admin)).body;
    const subStart = hoursFromNow(-24);
    const sub = await h.call('POST', '/v1/subscriptions', { planId: plan.id, companyId: company.id, start: subStart }, h.keys.admin);
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    const alice = (await h.call('POST', '/v1/people', { name: 'Alice', email: 'alice@acme.test' }, h.keys.admin)).body;
    await h.converge();
    expect(userOf(alice.id)).toBeNull();

    await h.call('PUT', `/v1/companies/${company.id}/members/${alice.id}`, undefined, h.keys.admin);
    await h.converge();
    expect(groupsOf(alice.id)).toEqual([{ group: 'ag-hot-desks', from: new Date(Date.parse(subStart)).toISOString(), until: null }]);

    await h.call('DELETE', `/v1/companies/${company.id}/members/${alice.id}`, undefined, h.keys.admin);
    await h.converge();
    expect(userOf(alice.id)).toBeNull();
  });

  it('a mapping changed during an in-progress booking reaches the provider', async () => {
    const space = await h.space(['ag-meeting-1']);
    const booking = await book(space, hoursFromNow(-1), hoursFromNow(1));
    await h.converge();
    const added = await h.call('POST', '/v1/mappings', { spaceId: space, integrationId: h.integrationId, targetRef: 'ag-parking' }, h.keys.admin);
    expect(added.status).toBe(201);
    await h.converge();
    expect(groupsOf(booking.organiserId).map((g) => g.group).sort()).toEqual(['ag-meeting-1', 'ag-parking']);

    const mappings = (await h.call('GET', `/v1/mappings?spaceId=${space}`, undefined, h.keys.admin)).body.results;
    const meeting = mappings.find((m: any) => m.targetRef === 'ag-meeting-1');
    expect((await h.call('DELETE', `/v1/mappings/${meeting.id}`, undefined, h.keys.admin)).status).toBe(204);
    await h.converge();
    expect(groupsOf(booking.organiserId).map((g) => g.group)).toEqual(['ag-parking']);
  });

  it('buffer changes per integration and per space move the window', async () => {
    const space = await h.space(['ag-meeting-1']);
    const start = hoursFromNow(2);
    const end = hoursFromNow(3);
    const booking = await book(space, start, end, { bumpInMinutes: 30 });
    await h.converge();
    expect(groupsOf(booking.organiserId)[0].from).toBe(new Date(Date.parse(start) - 45 * MIN).toISOString());

    await h.call('PATCH', `/v1/integrations/${h.integrationId}`, { bufferAfterMinutes: 60 }, h.keys.admin);
    await h.converge();
    expect(groupsOf(booking.organiserId)[0].until).toBe(new Date(Date.parse(end) + 60 * MIN).toISOString());

    await h.call('PATCH', `/v1/spaces/${space}`, { bufferBeforeMinutes: 0 }, h.keys.admin);
    await h.converge();
    expect(groupsOf(booking.organiserId)[0].from).toBe(new Date(Date.parse(start) - 30 * MIN).toISOString());
  });

  it('regenerating a PIN replaces it on the provider; the old one stops working', async () => {
    const space = await h.space(['ag-meeting-1']);
    const booking = await book(space, hoursFromNow(-1), hoursFromNow(1));
    await h.converge();
    const oldPin = (await guestPin(booking.organiserId))!;
    const res = await h.call('POST', `/v1/people/${booking.organiserId}/pins/regenerate`, { integrationId: h.integrationId }, h.keys.host);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain(oldPin);
    await h.converge();
    const newPin = (await guestPin(booking.organiserId))!;
    expect(newPin).not.toBe(oldPin);
    const user = userOf(booking.organiserId)!;
    expect(h.emulator.state.pinMatches(user.id, newPin)).toBe(true);
    expect(h.emulator.state.canEnter({ pin: oldPin, accessGroupId: 'ag-meeting-1' })).toBe(false);
    const audit = await h.call('GET', `/v1/audit?action=pin.regenerated`, undefined, h.keys.admin);
    expect(audit.body.results).toHaveLength(1);
  });

  it('retries through 429 (honouring Retry-After), 5xx and dropped connections', async () => {
    const space = await h.space(['ag-meeting-1']);
    h.emulator.faults.add({ match: { method: 'POST', path: '/api/users' }, times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 1 } });
    h.emulator.faults.add({ match: { method: 'PUT' }, times: 2, fault: { kind: 'status', status: 503 } });
    h.emulator.faults.add({ match: { method: 'POST', path: '/api/users/' }, times: 1, fault: { kind: 'drop' } });
    const began = Date.now();
    const booking = await book(space, hoursFromNow(1), hoursFromNow(2));
    await h.converge();
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    expect(groupsOf(booking.organiserId)).toHaveLength(1);
    expect(h.emulator.state.users()).toHaveLength(1);
    const status = await h.call('GET', `/v1/integrations/${h.integrationId}/status`, undefined, h.keys.admin);
    expect(status.body.failing).toEqual([]);
    expect(status.body.lastError).toBeNull();
  });

  it('issues a fresh PIN when the provider says the code is already in use', async () => {
    const space = await h.space(['ag-meeting-1']);
    h.emulator.faults.add({ match: { method: 'PUT' }, times: 1, fault: { kind: 'status', status: 409 } });
    const booking = await book(space, hoursFromNow(1), hoursFromNow(2));
    await h.converge();
    const pin = (await guestPin(booking.organiserId))!;
    expect(h.emulator.state.pinMatches(userOf(booking.organiserId)!.id, pin)).toBe(true);
    const audit = await h.call('GET', `/v1/audit?subjectId=${booking.organiserId}`, undefined, h.keys.admin);
    const actions = audit.body.results.map((r: any) => `${r.action}:${r.actor}`);
    expect(actions).toEqual(expect.arrayContaining(['pin.issued:engine', 'pin.regenerated:engine']));
  });

  it('shows a failing provider as failed with the reason, then recovers', async () => {
    const space = await h.space(['ag-meeting-1']);
    h.emulator.faults.add({ fault: { kind: 'status', status: 500 } });
    const booking = await book(space, hoursFromNow(1), hoursFromNow(2));
    await new Promise((r) => setTimeout(r, 300));
    const sync = await h.call('GET', `/v1/bookings/${booking.id}/sync`, undefined, h.keys.host);
    expect(sync.body.state).toBe('failed');
    expect(sync.body.entries[0].error).toMatch(/transient/);
    expect(sync.body.entries[0].attempts).toBeGreaterThan(0);
    h.emulator.faults.clear();
    await h.converge(10_000);
    expect((await h.call('GET', `/v1/bookings/${booking.id}/sync`, undefined, h.keys.host)).body.state).toBe('applied');
  });

  it('a provider that is down gets a few probes per pause, not a retry per waiting guest, and everyone is synced once it is back', async () => {
    const space = await h.space(['ag-meeting-1']);
    h.emulator.faults.add({ fault: { kind: 'status', status: 503 } });
    h.emulator.resetStats();
    const guests = 40;
    const bookings = [];
    for (let i = 0; i < guests; i++) bookings.push(await book(space, hoursFromNow(1), hoursFromNow(2), { organiser: { name: `Guest ${i}`, email: `guest${i}@example.com` } }));
    const outageMs = 2_000;
    await new Promise((r) => setTimeout(r, outageMs));
    // Each guest's own back-off (20 → 200 ms here) alone would retry every one of them ten times or
    // more in two seconds (over 400 requests); the breaker keeps it to a few lanes per pause.
    const during = h.emulator.stats().requests;
    expect(during).toBeGreaterThan(4);
    expect(during).toBeLessThan(120);
    const integration = (await h.call('GET', `/v1/integrations/${h.integrationId}`)).body;
    expect(integration.lastError).toMatch(/HTTP 503/);
    expect(integration.pausedUntil).not.toBeNull();

    h.emulator.faults.clear();
    await h.converge(10_000);
    for (const b of bookings) expect(groupsOf(b.organiserId).map((g) => g.group)).toEqual(['ag-meeting-1']);
    expect((await h.call('GET', `/v1/integrations/${h.integrationId}`)).body.lastError).toBeNull();
  });

  it('repairs drift: a user or membership deleted inside the provider is put back on the next read-back', async () => {
    const space = await h.space(['ag-meeting-1', 'ag-front-door']);
    const booking = await book(space, hoursFromNow(1), hoursFromNow(2));
    await h.converge();
    const user = userOf(booking.organiserId)!;
    const doomed = h.emulator.state.memberships(user.id).find((m) => m.accessGroupId === 'ag-front-door')!;
    const del = await fetch(`${h.emulator.url}/api/users/${user.id}/memberships/${doomed.id}`, { method: 'DELETE', headers: { authorization: 'Bearer test-key' } });
    expect(del.status).toBe(204);
    await h.app.engine.scheduleDriftCheck();
    await h.converge();
    expect(groupsOf(booking.organiserId).map((g) => g.group).sort()).toEqual(['ag-front-door', 'ag-meeting-1']);

    await fetch(`${h.emulator.url}/api/users/${user.id}`, { method: 'DELETE', headers: { authorization: 'Bearer test-key' } });
    await h.app.engine.scheduleDriftCheck();
    await h.converge();
    const again = userOf(booking.organiserId)!;
    expect(again.id).not.toBe(user.id);
    expect(again.hasPin).toBe(true);
    expect(groupsOf(booking.organiserId)).toHaveLength(2);
    const audit = await h.call('GET', `/v1/audit?subjectId=${booking.organiserId}`, undefined, h.keys.admin);
    expect(audit.body.results.map((r: any) => r.action)).toEqual(expect.arrayContaining(['drift.grant-missing', 'drift.user-missing']));
  });

  it('one failing integration never blocks another', async () => {
    const second = await startDemoEmulator({ port: 0, apiKey: 'k2' });
    try {
      const other = await h.call('POST', '/v1/integrations', { organisationId: h.organisationId, kind: 'demo', name: 'Broken', baseUrl: second.url, credentials: { apiKey: 'k2' } });
      expect(other.status).toBe(201);
      const space = await h.space(['ag-meeting-1']);
      await h.call('POST', '/v1/mappings', { spaceId: space, integrationId: other.body.id, targetRef: 'ag-meeting-1' }, h.keys.admin);
      second.faults.add({ fault: { kind: 'hang' } });
      const booking = await book(space, hoursFromNow(1), hoursFromNow(2));
      // The healthy integration converges while the other one hangs.
      await expect.poll(() => groupsOf(booking.organiserId).length, { timeout: 5_000 }).toBe(1);
      expect(second.state.users()).toHaveLength(0);
    } finally {
      second.faults.clear();
      await second.close();
    }
  });

  it('forgets a credential left valid once it has expired, and keeps one still valid, on the next sync', async () => {
    const space = await h.space();
    const booking = await book(space, hoursFromNow(2), hoursFromNow(3));
    await h.converge();
    const db = h.app.store.db;
    const leftValid = (id: string, endsAt: number) => ({
      id,
      integrationId: h.integrationId,
      personId: booking.organiserId,
      targetRef: 'ag-old-door',
      providerRef: `ref-${id}`,
      startsAt: Date.now() - 5 * 60 * MIN,
      endsAt,
      state: 'left-valid' as const,
      pinId: null,
      reasons: '[]',
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
    await db.insertInto('providerGrants').values([leftValid('pg_expired', Date.now() - MIN), leftValid('pg_still_valid', Date.now() + 60 * MIN)]).execute();
    // Any change of this person's booking makes the engine sync them again.
    expect((await h.call('PATCH', `/v1/bookings/${booking.id}`, { title: 'moved on' }, h.keys.admin)).status).toBe(200);
    await h.converge();
    const kept = await db.selectFrom('providerGrants').select('id').where('personId', '=', booking.organiserId).where('state', '=', 'left-valid').execute();
    expect(kept.map((g) => g.id)).toEqual(['pg_still_valid']);
    expect(groupsOf(booking.organiserId)).toHaveLength(2);
  });

  it('disconnect with revoke removes everything Lockstep granted; keep leaves it in place', async () => {
    const space = await h.space(['ag-meeting-1']);
    await book(space, hoursFromNow(1), hoursFromNow(2));
    await h.converge();
    expect(h.emulator.state.users()).toHaveLength(1);
    const res = await h.call('POST', `/v1/integrations/${h.integrationId}/disconnect`, { mode: 'revoke' });
    expect(res.body.status).toBe('revoking');
    await h.converge();
    expect(h.emulator.state.users()).toHaveLength(0);
    expect((await h.call('GET', `/v1/integrations/${h.integrationId}`)).body.status).toBe('disconnected');
  });
});
