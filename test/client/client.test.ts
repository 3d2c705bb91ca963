/**
 * LockstepClient against a whole Lockstep over real HTTP (the API on a random port, the demo
 * provider emulator behind it): every method, its answer checked field by field against the client's
 * model, and errors as LockstepApiError with the API's code, message and field issues.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { LockstepApiError, LockstepClient, type Booking } from '../../src/client/index.js';
import {
  accessEntryFields,
  auditEntryFields,
  bookingFields,
  createdApiKeyFields,
  createdCallbackFields,
  expectFields,
  integrationStatusFields,
  meFields,
  myPinFields,
  personFields,
  planFields,
  subscriptionFields,
  syncFields,
} from './fields.js';

/** The error a promise rejects with, or a failure if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<LockstepApiError> {
  const outcome = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(LockstepApiError);
  return outcome as LockstepApiError;
}

describe('LockstepClient', () => {
  let h: Harness;
  let admin: LockstepClient;
  let host: LockstepClient;
  let spaceId: string;

  beforeAll(async () => {
    h = await startHarness('sqlite', { notifier: { enabled: false } });
    spaceId = await h.space(['ag-front-door', 'ag-meeting-1']);
    admin = new LockstepClient({ baseUrl: h.baseUrl, apiKey: h.keys.admin });
    host = new LockstepClient({ baseUrl: h.baseUrl, apiKey: h.keys.host });
  });
  afterAll(async () => {
    await h?.close();
  });

  const book = (extra: Partial<Parameters<LockstepClient['createBooking']>[0]> = {}) =>
    admin.createBooking({
      spaceId,
      organiser: { name: 'Ada Lovelace', email: 'ada@example.com' },
      invitees: [{ name: 'Charles Babbage', email: 'charles@example.com' }],
      start: hoursFromNow(1),
      end: hoursFromNow(3),
      ...extra,
    });

  describe('bookings', () => {
    let booking: Booking;

    it('creates, reads and lists a booking', async () => {
      booking = await book({ title: 'Board meeting' });
      expectFields('createBooking', booking, bookingFields);
      expect(booking).toMatchObject({ spaceId, title: 'Board meeting', status: 'confirmed', inviteeIds: [expect.stringMatching(/^per_/)] });

      const got = await admin.getBooking(booking.id);
      expectFields('getBooking', got, bookingFields);
      expect(got).toEqual(booking);

      const listed = await admin.listBookings({ spaceId, status: 'confirmed' });
      expect(listed.map((b) => b.id)).toContain(booking.id);
      for (const b of listed) expectFields('listBookings', b, bookingFields);
      expect(await admin.listBookings({ spaceId, status: 'cancelled' })).toEqual([]);
    });

    it('reports sync per person and door, and waits until the provider holds it', async () => {
      const status = await admin.waitForSync(booking.id, { timeoutMs: 20_000 });
      expectFields('getBookingSync', status, syncFields);
      expect(status).toMatchObject({ bookingId: booking.id, state: 'applied' });
      // Two people × two doors.
      expect(status.entries).toHaveLength(4);
      for (const e of status.entries) {
        expectFields('getBookingSync entry', e, accessEntryFields);
        expect(e.state).toBe('applied');
      }
    });

    it('moves a booking: only the end changes', async () => {
      const end = hoursFromNow(4);
      const moved = await admin.updateBooking(booking.id, { end });
      expectFields('updateBooking', moved, bookingFields);
      expect(moved.end).toBe(new Date(end).toISOString());
      expect(moved.start).toBe(booking.start);
      expect(moved.version).toBe(booking.version + 1);
    });

    it('cancels a booking and its access is revoked', async () => {
      const cancelled = await admin.cancelBooking(booking.id);
      expectFields('cancelBooking', cancelled, bookingFields);
      expect(cancelled.status).toBe('cancelled');
      const status = await admin.waitForSync(booking.id, { until: ['revoked'], timeoutMs: 20_000 });
      expect(status.entries.every((e) => e.state === 'revoked')).toBe(true);
    });

    it('waitForSync gives up with the state it saw', async () => {
      const pending = await book({ status: 'pending' });
      await expect(admin.waitForSync(pending.id, { timeoutMs: 300, intervalMs: 50 })).rejects.toThrow(/is still revoked, not applied/);
    });
  });

  describe('errors', () => {
    it('a refused body is a LockstepApiError with the field issues', async () => {
      const err = await rejection(admin.createBooking({ spaceId: '', start: hoursFromNow(1), end: hoursFromNow(2) } as never));
      expect(err).toMatchObject({ status: 400, code: 'validation', operation: 'POST /v1/bookings' });
      expect(err.issues).toContainEqual({ path: 'body.spaceId', message: expect.any(String) });
      expect(err.message).toMatch(/^POST \/v1\/bookings → 400 validation: body\.spaceId/);
    });

    it('a rule the route checks names its field too', async () => {
      const err = await rejection(admin.createBooking({ spaceId, start: hoursFromNow(1), end: hoursFromNow(2) }));
      expect(err).toMatchObject({ status: 400, code: 'validation', issues: [{ path: 'organiserId', message: expect.stringContaining('exactly one of organiserId or organiser') }] });
    });

    it('not found and forbidden carry the API codes and the route template, not the URL', async () => {
      const missing = await rejection(admin.getBooking('bk_missing'));
      expect(missing).toMatchObject({ status: 404, code: 'not_found', operation: 'GET /v1/bookings/{id}', issues: [] });
      expect(missing.detail).toContain('bk_missing');
      const forbidden = await rejection(admin.myPins());
      expect(forbidden).toMatchObject({ status: 403, code: 'forbidden', operation: 'GET /v1/me/pins' });
    });

    it('an unknown key is a 401, and the key is in no part of the error', async () => {
      const fakeKey = `lsk_${'x'.repeat(40)}`;
      const stranger = new LockstepClient({ baseUrl: h.baseUrl, apiKey: fakeKey });
      const err = await rejection(stranger.me());
      expect(err.status).toBe(401);
      for (const text of [err.message, err.detail, String(err), inspect(err), JSON.stringify(err)]) expect(text).not.toContain(fakeKey);
    });

    it('an answer that is not the API error shape still throws, without quoting it', async () => {
      const proxy = new LockstepClient({ baseUrl: h.baseUrl, apiKey: h.keys.admin, fetch: async () => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'retry-after': '7' } }) });
      const err = await rejection(proxy.getBooking('bk_1'));
      expect(err).toMatchObject({ status: 502, code: 'http_502', detail: 'Bad Gateway', retryAfterSeconds: 7 });
      expect(err.message).not.toContain('<html>');
    });
  });

  describe('people', () => {
    it('creates, reads, lists and finds by e-mail', async () => {
      const grace = await admin.createPerson({ name: 'Grace Hopper', email: 'Grace@Example.com', phone: '+447700900123' });
      expectFields('createPerson', grace, personFields);
      expect(grace).toMatchObject({ name: 'Grace Hopper', email: 'grace@example.com', phone: '+447700900123', externalIds: {} });
      expect(await host.getPerson(grace.id)).toEqual(grace);
      expect((await host.listPeople()).map((p) => p.id)).toContain(grace.id);
      expect(await host.findPersonByEmail('GRACE@example.com')).toEqual(grace);
      expect(await host.findPersonByEmail('nobody@example.com')).toBeNull();

      const renamed = await admin.updatePerson(grace.id, { name: 'Rear Admiral Grace Hopper' });
      expectFields('updatePerson', renamed, personFields);
      expect(renamed.name).toBe('Rear Admiral Grace Hopper');

      const dup = await rejection(admin.createPerson({ name: 'Grace again', email: 'grace@example.com' }));
      expect(dup).toMatchObject({ status: 409, code: 'conflict' });
    });

    it('findOrCreatePerson finds the existing person and creates a new one once', async () => {
      const existing = await admin.findPersonByEmail('grace@example.com');
      expect((await admin.findOrCreatePerson({ name: 'Someone else', email: 'grace@example.com' })).id).toBe(existing!.id);
      const alan = await admin.findOrCreatePerson({ name: 'Alan Turing', email: 'alan@example.com' });
      expect((await admin.findOrCreatePerson({ name: 'Alan Turing', email: 'alan@example.com' })).id).toBe(alan.id);
      expect((await admin.listPeople({ email: 'alan@example.com' })).length).toBe(1);
    });
  });

  describe('plans and subscriptions', () => {
    it('puts a member on a plan, moves its end and cancels it', async () => {
      const member = await admin.createPerson({ name: 'Hedy Lamarr', email: 'hedy@example.com' });
      const plan = await admin.createPlan({ name: 'Hot desk monthly', spaceIds: [spaceId] });
      expectFields('createPlan', plan, planFields);
      expect(plan.spaceIds).toEqual([spaceId]);
      expect((await admin.listPlans()).map((p) => p.id)).toContain(plan.id);

      const sub = await admin.createSubscription({ planId: plan.id, personId: member.id, start: hoursFromNow(0), end: hoursFromNow(24 * 30) });
      expectFields('createSubscription', sub, subscriptionFields);
      expect(sub).toMatchObject({ planId: plan.id, personId: member.id, companyId: null, cancelledAt: null });
      expect(await host.getSubscription(sub.id)).toEqual(sub);
      expect((await host.listSubscriptions({ personId: member.id })).map((s) => s.id)).toEqual([sub.id]);

      const openEnded = await admin.updateSubscription(sub.id, { end: null });
      expectFields('updateSubscription', openEnded, subscriptionFields);
      expect(openEnded.end).toBeNull();

      const at = new Date(Date.parse(hoursFromNow(48))).toISOString();
      const cancelled = await admin.cancelSubscription(sub.id, { at });
      expectFields('cancelSubscription', cancelled, subscriptionFields);
      expect(cancelled.cancelledAt).toBe(at);
      // No body at all: cancels now.
      const now = await admin.cancelSubscription((await admin.createSubscription({ planId: plan.id, personId: member.id, start: hoursFromNow(0) })).id);
      expect(Date.parse(now.cancelledAt!)).toBeLessThanOrEqual(Date.now());
    });
  });

  describe('keys, PINs, explain, status, audit, call-backs', () => {
    let booking: Booking;
    let guest: LockstepClient;

    beforeAll(async () => {
      booking = await book({ organiser: { name: 'Katherine Johnson', email: 'katherine@example.com' }, invitees: [] });
      await admin.waitForSync(booking.id, { timeoutMs: 20_000 });
      const key = await admin.createApiKey({ role: 'guest', name: 'Katherine', personId: booking.organiserId });
      expectFields('createApiKey', key, createdApiKeyFields);
      expect(key).toMatchObject({ role: 'guest', personId: booking.organiserId, organisationId: h.organisationId });
      guest = new LockstepClient({ baseUrl: h.baseUrl, apiKey: key.key });
    });

    it('the guest reads their own PIN, which opens the door during the booking', async () => {
      const me = await guest.me();
      expectFields('me', me, meFields);
      expect(me).toMatchObject({ role: 'guest', person: { id: booking.organiserId } });
      const [pin, ...others] = await guest.myPins();
      expect(others).toEqual([]);
      expectFields('myPins', pin, myPinFields);
      expect(pin.integrationId).toBe(h.integrationId);
      const during = Date.parse(booking.start) + 60_000;
      expect(h.emulator.state.canEnter({ pin: pin.pin, accessGroupId: 'ag-meeting-1', at: during })).toBe(true);
    });

    it('a host regenerates the PIN: the guest sees the new one and the old one stops working', async () => {
      const [before] = await guest.myPins();
      const regenerated = await host.regeneratePin(booking.organiserId, h.integrationId);
      expect(regenerated).toMatchObject({ personId: booking.organiserId, integrationId: h.integrationId, pinId: expect.any(String) });
      expect(JSON.stringify(regenerated)).not.toContain(before.pin);
      const [after] = await guest.myPins();
      expect(after.pin).not.toBe(before.pin);
      await h.converge();
      const during = Date.parse(booking.start) + 60_000;
      expect(h.emulator.state.canEnter({ pin: after.pin, accessGroupId: 'ag-meeting-1', at: during })).toBe(true);
      expect(h.emulator.state.canEnter({ pin: before.pin, accessGroupId: 'ag-meeting-1', at: during })).toBe(false);
    });

    it('explains access: yes during the booking, no a week later', async () => {
      const during = new Date(Date.parse(booking.start) + 60_000).toISOString();
      const yes = await host.explainAccess({ personId: booking.organiserId, spaceId, at: during });
      expect(yes.person.id).toBe(booking.organiserId);
      expect(yes.verdict.canEnter).toBe(true);
      const later = new Date(Date.parse(booking.end) + 7 * 24 * 3_600_000).toISOString();
      const no = await host.explainAccess({ personId: booking.organiserId, spaceId, at: later });
      expect(no.verdict.canEnter).toBe(false);
      expect(no.verdict.broken).not.toBeNull();
      const refused = await rejection(host.explainAccess({ personId: booking.organiserId }));
      expect(refused).toMatchObject({ status: 400, operation: 'GET /v1/access/explain' });
    });

    it('reads what the integration holds', async () => {
      const status = await host.getIntegrationStatus(h.integrationId);
      expectFields('getIntegrationStatus', status, integrationStatusFields);
      expect(status.status).toBe('active');
      expect(status.providerUsers).toBeGreaterThan(0);
      expect(status.grants).toBeGreaterThan(0);
    });

    it('reads the audit log of a booking', async () => {
      const entries = await host.listAudit({ subjectId: booking.id, limit: 10 });
      for (const e of entries) expectFields('listAudit', e, auditEntryFields);
      expect(entries.map((e) => e.action)).toContain('booking.created');
      expect(entries.every((e) => e.subjectId === booking.id)).toBe(true);
    });

    it('subscribes a call-back and gets its signing secret once', async () => {
      const sub = await admin.createCallback({ url: 'https://controller.example.com/lockstep', spaceId });
      expectFields('createCallback', sub, createdCallbackFields);
      expect(sub.signingSecret).toMatch(/^whsec_/);
    });
  });

  describe('options', () => {
    it('uses the fetch it is given, and a base URL with a trailing slash', async () => {
      const seen: string[] = [];
      const client = new LockstepClient({
        baseUrl: `${h.baseUrl}/`,
        apiKey: h.keys.admin,
        fetch: (request) => {
          seen.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get('authorization') === `Bearer ${h.keys.admin}`}`);
          return fetch(request);
        },
      });
      expect((await client.me()).role).toBe('team-admin');
      expect(seen).toEqual(['GET /v1/me true']);
    });

    it('leaves unset query parameters out of the URL', async () => {
      const urls: string[] = [];
      const client = new LockstepClient({ baseUrl: h.baseUrl, apiKey: h.keys.admin, fetch: (request) => (urls.push(request.url), fetch(request)) });
      await client.listBookings({ spaceId: undefined, status: 'confirmed', limit: 5 });
      expect(new URL(urls[0]!).search).toBe('?status=confirmed&limit=5');
    });

    it('encodes path parameters', async () => {
      const err = await rejection(admin.getBooking('a/b?c'));
      expect(err).toMatchObject({ status: 404, code: 'not_found' });
      expect(err.detail).toContain('a/b?c');
    });

    it('keeps the API key out of what a log would print', () => {
      expect(inspect(admin, { depth: 10, showHidden: true })).not.toContain(h.keys.admin);
      expect(JSON.stringify(admin)).not.toContain(h.keys.admin);
      expect(() => new LockstepClient({ baseUrl: h.baseUrl, apiKey: '' })).toThrow(/apiKey is required/);
    });
  });
});
