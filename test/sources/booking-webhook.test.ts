/**
 * The generic signed booking webhook through real HTTP on both stores, signed with Lockstep's own
 * scheme (src/providers/webhook/signing.ts) — the contract documented in the README.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { signatureHeader } from '../../src/providers/webhook/signing.js';

for (const kind of storeKinds) {
  describe(`generic booking webhook (${kind})`, () => {
    let h: Harness;
    let space: string;
    let sourceId: string;
    let secret: string;

    beforeEach(async () => {
      h = await startHarness(kind);
      space = await h.space();
      const res = await h.call('POST', '/v1/sources', { kind: 'webhook', name: 'Room system', settings: { spaceByResource: { 'room-7': space } } }, h.keys.admin);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      sourceId = res.body.id;
      secret = res.body.secret;
    });
    afterEach(async () => h?.close());

    const post = async (body: string, headers: Record<string, string> = {}, id = sourceId) => {
      const res = await fetch(`${h.baseUrl}/v1/sources/${id}/bookings`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const now = () => Math.floor(Date.now() / 1000);
    const deliver = (event: object | string, opts: { key?: string; t?: number } = {}) => {
      const body = typeof event === 'string' ? event : JSON.stringify(event);
      return post(body, { 'lockstep-signature': signatureHeader(opts.key ?? secret, opts.t ?? now(), body) });
    };
    const upserted = (version: number, over: Record<string, unknown> = {}) => ({
      event: 'booking.upserted',
      id: 'bk-1001',
      version,
      resource: 'room-7',
      start: hoursFromNow(1).replace('Z', '+00:00'),
      end: hoursFromNow(2),
      title: 'Board meeting',
      organiser: { name: 'Ada Lovelace', email: 'ada@example.com' },
      attendees: [{ name: 'Charles Babbage', email: 'charles@example.com' }],
      ...over,
    });
    const cancelledEvent = (version: number) => ({ event: 'booking.cancelled', id: 'bk-1001', version });
    const db = () => h.app.store.db;
    const bookings = () => db().selectFrom('bookings').selectAll().where('source', '=', `webhook:${sourceId}`).execute();
    const ledger = () => db().selectFrom('sourceEvents').selectAll().execute();
    const source = async () => (await h.call('GET', `/v1/sources/${sourceId}`, undefined, h.keys.admin)).body;
    const syncState = async (id: string) => (await h.call('GET', `/v1/bookings/${id}/sync`, undefined, h.keys.admin)).body.state;

    it('upserted → booking with invitees and access on the door; a newer version moves it; cancelled → revoked', async () => {
      const first = await deliver(upserted(1));
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.outcome).toBe('created');
      const id = first.body.bookingId;
      const [b] = await bookings();
      expect(b).toMatchObject({ id, spaceId: space, status: 'confirmed', externalId: 'bk-1001', sourceVersion: 1, title: 'Board meeting' });
      const invitees = await db().selectFrom('bookingInvitees').innerJoin('people', 'people.id', 'bookingInvitees.personId').select('people.email').where('bookingId', '=', id).execute();
      expect(invitees.map((i) => i.email)).toEqual(['charles@example.com']);
      await h.converge();
      expect(await syncState(id)).toBe('applied');

      const end = hoursFromNow(4);
      expect((await deliver(upserted(2, { end }))).body).toEqual({ outcome: 'updated', bookingId: id });
      expect((await bookings())[0].endsAt).toBe(Date.parse(end));

      expect((await deliver(cancelledEvent(3))).body).toEqual({ outcome: 'cancelled', bookingId: id });
      await h.converge();
      expect(await syncState(id)).toBe('revoked');
      expect((await source()).lastEventAt).not.toBeNull();
    });

    it('duplicates and out-of-order deliveries are absorbed with 200: nothing regresses, nothing is resurrected', async () => {
      const made = await deliver(upserted(2));
      expect((await deliver(upserted(2))).body).toEqual({ outcome: 'duplicate', bookingId: made.body.bookingId });
      expect((await deliver(upserted(1, { title: 'old' }))).body).toEqual({ outcome: 'stale', bookingId: made.body.bookingId });
      expect((await bookings())[0].title).toBe('Board meeting');

      // Cancel before create, for another booking: the late create does not bring it back.
      expect((await deliver({ event: 'booking.cancelled', id: 'bk-2', version: 5 })).body.outcome).toBe('cancelled');
      const late = await deliver(upserted(4, { id: 'bk-2' }));
      expect(late.status).toBe(200);
      expect(late.body.outcome).toBe('stale');
      expect((await bookings()).map((b) => b.externalId)).toEqual(['bk-1001']);
      expect((await deliver(upserted(6, { id: 'bk-2' }))).body.outcome).toBe('created');
    });

    it('missing, malformed, wrong-secret, tampered or stale signatures are 401 and write nothing', async () => {
      const body = JSON.stringify(upserted(1));
      const t = now();
      const cases: Record<string, string>[] = [
        {},
        { 'lockstep-signature': 'v1=abc' },
        { 'lockstep-signature': signatureHeader('another-secret-entirely', t, body) },
        { 'lockstep-signature': signatureHeader(secret, t, body.replace('ada@', 'eve@')) },
        { 'lockstep-signature': signatureHeader(secret, t - 301, body) },
        { 'lockstep-signature': signatureHeader(secret, t + 301, body) },
      ];
      for (const headers of cases) {
        const res = await post(body, headers);
        expect(res.status, JSON.stringify(headers)).toBe(401);
      }
      expect((await post(body, { 'lockstep-signature': signatureHeader(secret, t - 301, body) })).body.message).toMatch(/seconds old/);
      expect(await bookings()).toEqual([]);
      expect(await ledger()).toEqual([]);
      const s = await source();
      expect([s.lastEventAt, s.lastError]).toEqual([null, null]);
    });

    it('malformed JSON, an unknown event, missing fields or an unmapped resource are 400 with a helpful message', async () => {
      const broken = await deliver('{"event":"booking.upserted",');
      expect(broken.status).toBe(400);
      expect(broken.body.message).toMatch(/not valid JSON/);

      const unknown = await deliver({ ...upserted(1), event: 'booking.deleted' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.issues[0].path).toBe('event');

      const noEnd = await deliver({ ...upserted(1), end: undefined });
      expect(noEnd.status).toBe(400);
      expect(noEnd.body.message).toMatch(/^end:/);

      const noOffset = await deliver(upserted(1, { start: '2030-01-01T09:00:00' }));
      expect(noOffset.status).toBe(400);
      expect(noOffset.body.message).toMatch(/start: .*no UTC offset/);

      const unmapped = await deliver(upserted(1, { resource: 'room-99' }));
      expect(unmapped.status).toBe(400);
      expect(unmapped.body.issues[0].path).toBe('resource');
      expect(unmapped.body.message).toMatch(/"room-99" is not mapped.*settings\.spaceByResource/);
      expect((await source()).lastError).toMatch(/room-99/);

      expect(await bookings()).toEqual([]);
      expect(await ledger()).toEqual([]);

      // spaceId works without a mapping, and a success clears the last error.
      expect((await deliver(upserted(1, { resource: undefined, spaceId: space }))).body.outcome).toBe('created');
      expect((await source()).lastError).toBeNull();
    });

    it('unknown source → 404; the OpenAPI document describes the contract', async () => {
      const body = JSON.stringify(upserted(1));
      expect((await post(body, { 'lockstep-signature': signatureHeader(secret, now(), body) }, 'src_missing')).status).toBe(404);
      const doc = (await h.call('GET', '/openapi.json')).body;
      const op = doc.paths['/v1/sources/{id}/bookings'].post;
      expect(op.security).toBeUndefined();
      expect(JSON.stringify(op.requestBody.content['application/json'].schema)).toMatch(/booking\.upserted.*booking\.cancelled|booking\.cancelled.*booking\.upserted/);
      expect(op.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'lockstep-signature', in: 'header' })]));
    });
  });
}
