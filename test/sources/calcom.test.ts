/**
 * Cal.com webhooks through real HTTP on both stores: the payloads are Cal.com's own (see
 * calcom-payloads.ts for where each comes from), signed the way Cal.com signs them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { calSign, cancelled, created, ping, rescheduled, withTrigger, type Envelope } from './calcom-payloads.js';

for (const kind of storeKinds) {
  describe(`Cal.com webhooks (${kind})`, () => {
    let h: Harness;
    let space: string;
    let sourceId: string;
    let secret: string;

    beforeEach(async () => {
      h = await startHarness(kind);
      space = await h.space();
      const res = await h.call('POST', '/v1/sources', { kind: 'calcom', name: 'Cal.com', settings: { spaceByEventType: { '7': space } } }, h.keys.admin);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      sourceId = res.body.id;
      secret = res.body.secret;
      expect(secret).toMatch(/^lss_/);
    });
    afterEach(async () => h?.close());

    const post = async (body: string, headers: Record<string, string> = {}, id = sourceId) => {
      const res = await fetch(`${h.baseUrl}/v1/sources/${id}/calcom`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    /** Sends an envelope exactly as Cal.com would: JSON.stringify, signed with the secret. */
    const deliver = (e: Envelope | string, key = secret) => {
      const body = typeof e === 'string' ? e : JSON.stringify(e);
      return post(body, { 'x-cal-signature-256': calSign(key, body) });
    };
    const db = () => h.app.store.db;
    const bookings = () => db().selectFrom('bookings').selectAll().where('source', '=', `calcom:${sourceId}`).execute();
    const ledger = () => db().selectFrom('sourceEvents').selectAll().execute();
    const source = async () => (await h.call('GET', `/v1/sources/${sourceId}`, undefined, h.keys.admin)).body;
    const syncState = async (bookingId: string) => (await h.call('GET', `/v1/bookings/${bookingId}/sync`, undefined, h.keys.admin)).body.state;
    const emails = async (bookingId: string) => {
      const b = await db().selectFrom('bookings').innerJoin('people', 'people.id', 'bookings.organiserId').select('people.email').where('bookings.id', '=', bookingId).executeTakeFirstOrThrow();
      const inv = await db().selectFrom('bookingInvitees').innerJoin('people', 'people.id', 'bookingInvitees.personId').select('people.email').where('bookingInvitees.bookingId', '=', bookingId).execute();
      return { organiser: b.email, invitees: inv.map((i) => i.email).sort() };
    };

    it('BOOKING_CREATED makes a booking for the booker and guests, and access is applied on the door', async () => {
      const e = created({ guests: [{ name: 'Guest One', email: 'guest.one@example.com' }] });
      const res = await deliver(e);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.outcome).toBe('created');
      const [b] = await bookings();
      expect(b).toMatchObject({ id: res.body.bookingId, spaceId: space, status: 'confirmed', externalId: 'bFJeNb2uX8ANpT3JL5EfXw@Cal.com', startsAt: Date.parse(e.payload.startTime as string), endsAt: Date.parse(e.payload.endTime as string), title: '60min between Pro Example and John Doe', sourceVersion: Math.floor((Date.parse(e.createdAt) - Date.UTC(2020, 0, 1)) / 1000) });
      // The booker (attendees[0], responses.email) organises; the Cal.com organizer (the host) gets nothing by default.
      expect(await emails(b.id)).toEqual({ organiser: 'john.doe@example.com', invitees: ['guest.one@example.com'] });
      await h.converge();
      expect(await syncState(b.id)).toBe('applied');
      const s = await source();
      expect(s.lastEventAt).not.toBeNull();
      expect(s.lastError).toBeNull();
    });

    it('hostAccess gives the Cal.com organizer access as an invitee', async () => {
      expect((await h.call('PATCH', `/v1/sources/${sourceId}`, { settings: { spaceByEventType: { '60min': space }, hostAccess: true } }, h.keys.admin)).status).toBe(200);
      const res = await deliver(created());
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(await emails(res.body.bookingId)).toEqual({ organiser: 'john.doe@example.com', invitees: ['pro@example.com'] });
    });

    it('BOOKING_RESCHEDULED moves the same booking (new Cal.com uid, same iCalUID); a late older delivery does not undo it', async () => {
      const t = Date.now();
      const first = created({ at: t - 10_000 });
      const made = await deliver(first);
      await h.converge();
      const moved = rescheduled(first, { newUid: 'n5Wv3eHgconAED2j4gcVhP', startH: 3, endH: 5, at: t });
      const res = await deliver(moved);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ outcome: 'updated', bookingId: made.body.bookingId, replaced: { externalId: 'bFJeNb2uX8ANpT3JL5EfXw' } });
      const rows = await bookings();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: made.body.bookingId, status: 'confirmed', startsAt: Date.parse(moved.payload.startTime as string), endsAt: Date.parse(moved.payload.endTime as string) });
      // Cal.com retries and stragglers: the same reschedule again, then the original create again.
      expect((await deliver(moved)).body.outcome).toBe('duplicate');
      expect((await deliver(first)).body.outcome).toBe('stale');
      expect((await bookings())[0].startsAt).toBe(Date.parse(moved.payload.startTime as string));
      await h.converge();
      expect(await syncState(made.body.bookingId)).toBe('applied');
    });

    it('a reschedule without iCalUID (older Cal.com) cancels the replaced uid and books the new one: nothing is left behind', async () => {
      const t = Date.now();
      const first = created({ at: t - 10_000, withICalUID: false });
      const old = await deliver(first);
      const res = await deliver(rescheduled(first, { newUid: 'newUid123', startH: 3, endH: 4, at: t, keepICalUID: false }));
      expect(res.body).toMatchObject({ outcome: 'created', replaced: { externalId: 'bFJeNb2uX8ANpT3JL5EfXw', outcome: 'cancelled', bookingId: old.body.bookingId } });
      const rows = await bookings();
      expect(rows.map((r) => [r.externalId, r.status]).sort()).toEqual([
        ['bFJeNb2uX8ANpT3JL5EfXw', 'cancelled'],
        ['newUid123', 'confirmed'],
      ]);
    });

    it('BOOKING_CANCELLED revokes access; the create replayed afterwards does not resurrect it', async () => {
      const t = Date.now();
      const e = created({ at: t - 10_000 });
      const made = await deliver(e);
      await h.converge();
      expect(await syncState(made.body.bookingId)).toBe('applied');
      const res = await deliver(cancelled(e, t));
      expect(res.body).toMatchObject({ outcome: 'cancelled', bookingId: made.body.bookingId });
      await h.converge();
      expect(await syncState(made.body.bookingId)).toBe('revoked');
      expect((await deliver(e)).body.outcome).toBe('stale');
      expect((await bookings())[0].status).toBe('cancelled');
    });

    it('out of order: a cancellation that arrives before its create leaves no booking', async () => {
      const t = Date.now();
      const e = created({ at: t - 10_000 });
      expect((await deliver(cancelled(e, t))).body.outcome).toBe('cancelled');
      expect((await deliver(e)).body.outcome).toBe('stale');
      expect(await bookings()).toEqual([]);
    });

    it('BOOKING_REQUESTED is pending (no access) until confirmed; BOOKING_REJECTED cancels; payment waits for BOOKING_PAID', async () => {
      const t = Date.now();
      const e = created({ at: t - 30_000 });
      const req = await deliver(withTrigger(e, 'BOOKING_REQUESTED', t - 30_000, 'PENDING'));
      expect(req.body.outcome).toBe('created');
      expect((await bookings())[0].status).toBe('pending');
      expect((await deliver(withTrigger(e, 'BOOKING_CREATED', t - 20_000))).body.outcome).toBe('updated');
      expect((await bookings())[0].status).toBe('confirmed');
      expect((await deliver(cancelled(e, t - 10_000, 'BOOKING_REJECTED'))).body.outcome).toBe('cancelled');

      const paid = created({ uid: 'paidUid', at: t - 5_000 });
      expect((await deliver(withTrigger(paid, 'BOOKING_PAYMENT_INITIATED', t - 5_000))).body.outcome).toBe('created');
      const row = async () => (await bookings()).find((b) => b.externalId === 'paidUid@Cal.com')!;
      expect((await row()).status).toBe('pending');
      expect((await deliver(withTrigger(paid, 'BOOKING_PAID', t))).body.outcome).toBe('updated');
      expect((await row()).status).toBe('confirmed');
    });

    it('PING and non-booking triggers are acknowledged and change nothing', async () => {
      expect((await deliver(ping())).body).toMatchObject({ outcome: 'ping' });
      expect((await deliver(withTrigger(created(), 'MEETING_ENDED', Date.now()))).body).toMatchObject({ outcome: 'ignored' });
      expect(await bookings()).toEqual([]);
      expect(await ledger()).toEqual([]);
    });

    it('a bad, missing or "no-secret-provided" signature, a wrong secret or a tampered body is 401 and writes nothing', async () => {
      const body = JSON.stringify(created());
      const good = calSign(secret, body);
      const cases: [string, Record<string, string>][] = [
        [body, {}],
        [body, { 'x-cal-signature-256': 'no-secret-provided' }],
        [body, { 'x-cal-signature-256': calSign('some-other-secret-value', body) }],
        [body, { 'x-cal-signature-256': good.slice(0, 63) + (good[63] === '0' ? '1' : '0') }],
        [body.replace('john.doe@example.com', 'mallory@example.com'), { 'x-cal-signature-256': good }],
      ];
      for (const [b, headers] of cases) {
        const res = await post(b, headers);
        expect(res.status, JSON.stringify(headers)).toBe(401);
        expect(res.body.error).toBe('unauthorized');
      }
      expect(await bookings()).toEqual([]);
      expect(await ledger()).toEqual([]);
      expect(await db().selectFrom('people').select('email').where('email', 'in', ['john.doe@example.com', 'mallory@example.com']).execute()).toEqual([]);
      const s = await source();
      expect(s.lastEventAt).toBeNull();
      expect(s.lastError).toBeNull();
    });

    it('malformed JSON, a custom template body or an unknown trigger (signed) is 400 and writes no booking', async () => {
      const broken = '{"triggerEvent":"BOOKING_CREATED","payload":{';
      const res = await deliver(broken);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/not valid JSON/);
      const custom = await deliver(JSON.stringify({ content: 'A new event has been scheduled', type: '60min', name: 'x' }));
      expect(custom.status).toBe(400);
      expect(custom.body.message).toMatch(/triggerEvent.*custom payload template/);
      const unknown = await deliver(withTrigger(created(), 'BOOKING_EXPLODED', Date.now()));
      expect(unknown.status).toBe(400);
      expect(unknown.body.issues[0].path).toBe('triggerEvent');
      expect(await bookings()).toEqual([]);
      expect(await ledger()).toEqual([]);
      expect((await source()).lastError).toMatch(/BOOKING_EXPLODED/);
    });

    it('an unmapped event type is 400 naming the setting to add; once mapped, the same delivery applies', async () => {
      const e = created({ eventTypeId: 99, type: 'sauna' });
      const res = await deliver(e);
      expect(res.status).toBe(400);
      expect(res.body.issues[0].path).toBe('payload.eventTypeId');
      expect(res.body.message).toMatch(/id 99, slug "sauna" is not mapped.*settings\.spaceByEventType.*defaultSpaceId/);
      expect(await bookings()).toEqual([]);
      expect(await ledger()).toEqual([]);
      expect((await source()).lastError).toMatch(/not mapped/);

      expect((await h.call('PATCH', `/v1/sources/${sourceId}`, { settings: { spaceByEventType: { sauna: space } } }, h.keys.admin)).status).toBe(200);
      expect((await deliver(e)).body.outcome).toBe('created');
      expect((await source()).lastError).toBeNull();
    });

    it('an unknown source is 404; a non-Cal.com source is 404 too', async () => {
      const body = JSON.stringify(created());
      expect((await post(body, { 'x-cal-signature-256': calSign(secret, body) }, 'src_nope')).status).toBe(404);
      const other = (await h.call('POST', '/v1/sources', { kind: 'webhook', name: 'Other' }, h.keys.admin)).body;
      expect((await post(body, { 'x-cal-signature-256': calSign(other.secret, body) }, other.id)).status).toBe(404);
    });

    it('the route is in the OpenAPI document without bearer auth, and the API keeps its own JSON parsing', async () => {
      const doc = (await h.call('GET', '/openapi.json')).body;
      const op = doc.paths['/v1/sources/{id}/calcom'].post;
      expect(op.security).toBeUndefined();
      expect(op.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'x-cal-signature-256', in: 'header' })]));
      // A malformed body on an ordinary API route is still refused by the default parser there.
      const res = await fetch(`${h.baseUrl}/v1/bookings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${h.keys.admin}` }, body: '{' });
      expect(res.status).toBe(400);
    });
  });
}
