/**
 * Change call-backs through real HTTP: a receiver that checks every signature, bookings created,
 * moved and cancelled through the API and written directly by a source, a receiver that is down and
 * comes back, e-mails only when opted in, and no duplicates after a restart or with two dispatchers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, secretKey, type Harness } from '../support/harness.js';
import { createTestDatabase, storeKinds, type TestDatabase } from '../support/stores.js';
import { CallbackDispatcher } from '../../src/callbacks/dispatcher.js';
import { newId } from '../../src/store/ids.js';
import { startReceiver, waitFor, type Receiver } from './receiver.js';

describe.each(storeKinds)('change call-backs on %s', (kind) => {
  let h: Harness;
  let rx: Receiver;
  let database: TestDatabase;
  const key = secretKey();
  let spaceA: string;
  let spaceB: string;

  const subscribe = async (path: string, body: Record<string, unknown>) => {
    const res = await h.call('POST', '/v1/callbacks', { url: rx.url + path, ...body }, h.keys.admin);
    expect(res.status).toBe(201);
    rx.secrets.set(path, res.body.signingSecret);
    return res.body;
  };
  const book = async (spaceId: string, extra: Record<string, unknown> = {}) => {
    const res = await h.call(
      'POST',
      '/v1/bookings',
      { spaceId, organiser: { name: 'Ada', email: 'ada@example.com' }, invitees: [{ name: 'Charles', email: 'charles@example.com' }], start: hoursFromNow(2), end: hoursFromNow(3), ...extra },
      h.keys.admin,
    );
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    rx = await startReceiver();
    h = await startHarness(kind, { database, secretKey: key });
    spaceA = await h.space();
    spaceB = await h.space(['ag-front-door']);
  });
  afterAll(async () => {
    await h?.close();
    await rx?.close();
    await database?.drop();
  });

  it('creates a subscription with a secret shown once, sealed at rest; only team admins manage them', async () => {
    const sub = await subscribe('/roles', { spaceId: spaceA });
    expect(sub.signingSecret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);
    const got = await h.call('GET', `/v1/callbacks/${sub.id}`, undefined, h.keys.admin);
    expect(got.status).toBe(200);
    expect(got.body.signingSecret).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(sub.signingSecret);
    const row = await h.app.store.db.selectFrom('callbackSubscriptions').selectAll().where('id', '=', sub.id).executeTakeFirstOrThrow();
    expect(row.secretSealed).not.toContain(sub.signingSecret);
    expect(h.app.secrets.open(row.secretSealed)).toBe(sub.signingSecret);
    const audit = await h.app.store.db.selectFrom('auditLog').select('details').where('subjectId', '=', sub.id).execute();
    expect(audit.length).toBe(1);
    expect(JSON.stringify(audit)).not.toContain(sub.signingSecret);

    expect((await h.call('POST', '/v1/callbacks', { url: rx.url + '/x' }, h.keys.host)).status).toBe(403);
    expect((await h.call('GET', '/v1/callbacks', undefined, h.keys.host)).status).toBe(403);
    expect((await h.call('GET', `/v1/callbacks/${sub.id}/deliveries`, undefined, h.keys.host)).status).toBe(403);
    const bad = await h.call('POST', '/v1/callbacks', { url: 'ftp://example.com/x' }, h.keys.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toContain('url');
    const noSpace = await h.call('POST', '/v1/callbacks', { url: rx.url + '/y', spaceId: 'sp_nope' }, h.keys.admin);
    expect(noSpace.status).toBe(400);
    const count = await h.app.store.db.selectFrom('callbackSubscriptions').select('id').execute();
    expect(count.length).toBe(1);
    expect((await h.call('DELETE', `/v1/callbacks/${sub.id}`, undefined, h.keys.admin)).status).toBe(204);
    expect((await h.call('GET', `/v1/callbacks/${sub.id}`, undefined, h.keys.admin)).status).toBe(404);
  });

  it('create, move and cancel → one signed delivery each, in order, with the right payload; other spaces are not sent', async () => {
    const sub = await subscribe('/space-a', { spaceId: spaceA });
    const booking = await book(spaceA);
    await book(spaceB); // not subscribed
    const created = await waitFor('created event', () => rx.accepted('/space-a')[0]);
    expect(created.signatureOk).toBe(true);
    expect(created.eventId).toBe(created.body.id);
    expect(created.body.type).toBe('booking.created');
    expect(created.body.subscriptionId).toBe(sub.id);
    expect(created.body.data).toMatchObject({ bookingId: booking.id, spaceId: spaceA, status: 'confirmed', start: booking.start, end: booking.end, version: 0, emailsIncluded: false, timeZone: 'Europe/London' });
    expect(created.body.data.organiser).toBeUndefined();
    expect(JSON.stringify(created.body)).not.toContain('example.com');

    const newEnd = hoursFromNow(5);
    expect((await h.call('PATCH', `/v1/bookings/${booking.id}`, { end: newEnd }, h.keys.admin)).status).toBe(200);
    const moved = await waitFor('moved event', () => rx.accepted('/space-a')[1]);
    expect(moved.body.type).toBe('booking.updated');
    expect(moved.body.data).toMatchObject({ bookingId: booking.id, end: newEnd, version: 1, status: 'confirmed' });

    expect((await h.call('POST', `/v1/bookings/${booking.id}/cancel`, undefined, h.keys.admin)).status).toBe(200);
    const cancelled = await waitFor('cancelled event', () => rx.accepted('/space-a')[2]);
    expect(cancelled.body.type).toBe('booking.cancelled');
    expect(cancelled.body.data).toMatchObject({ bookingId: booking.id, status: 'cancelled', version: 2 });

    await new Promise((r) => setTimeout(r, 400));
    const all = rx.received.filter((x) => x.path === '/space-a');
    expect(all.map((x) => x.body.type)).toEqual(['booking.created', 'booking.updated', 'booking.cancelled']);
    expect(new Set(all.map((x) => x.eventId)).size).toBe(3);
    expect(all.every((x) => x.body.data.spaceId === spaceA)).toBe(true);

    const log = await h.call('GET', `/v1/callbacks/${sub.id}/deliveries`, undefined, h.keys.admin);
    expect(log.status).toBe(200);
    expect(log.body.results.map((d: any) => [d.eventType, d.status, d.attempts, d.responseCode, d.lastError])).toEqual([
      ['booking.cancelled', 'delivered', 1, 200, null],
      ['booking.updated', 'delivered', 1, 200, null],
      ['booking.created', 'delivered', 1, 200, null],
    ]);
  });

  it('includes organiser and attendee e-mails only when the subscription opted in', async () => {
    await subscribe('/with-emails', { includeEmails: true });
    await subscribe('/without-emails', {});
    const booking = await book(spaceB, { organiser: { name: 'Grace', email: 'grace@example.com' }, invitees: [{ name: 'Alan', email: 'alan@example.com' }] });
    const withE = await waitFor('event with e-mails', () => rx.accepted('/with-emails').find((x) => x.body.data.bookingId === booking.id));
    expect(withE.body.data.emailsIncluded).toBe(true);
    expect(withE.body.data.organiser).toEqual({ email: 'grace@example.com' });
    expect(withE.body.data.attendees).toEqual([{ email: 'alan@example.com' }]);
    const withoutE = await waitFor('event without e-mails', () => rx.accepted('/without-emails').find((x) => x.body.data.bookingId === booking.id));
    expect(withoutE.body.data.emailsIncluded).toBe(false);
    expect(JSON.stringify(withoutE.body)).not.toContain('@example.com');
  });

  it('omits e-mails for a space served by a privacy-mode integration even when opted in', async () => {
    const patched = await h.call('PATCH', `/v1/integrations/${h.integrationId}`, { privacyMode: true });
    expect(patched.status).toBe(200);
    try {
      const booking = await book(spaceA, { organiser: { name: 'Hedy', email: 'hedy@example.com' } });
      const ev = await waitFor('private event', () => rx.accepted('/with-emails').find((x) => x.body.data.bookingId === booking.id));
      expect(ev.body.data.emailsIncluded).toBe(false);
      expect(JSON.stringify(ev.body)).not.toContain('hedy@example.com');
    } finally {
      expect((await h.call('PATCH', `/v1/integrations/${h.integrationId}`, { privacyMode: false })).status).toBe(200);
    }
  });

  it('delivers bookings a source wrote straight into the store (level-triggered)', async () => {
    const organiser = await h.app.store.db.selectFrom('people').select('id').where('organisationId', '=', h.organisationId).executeTakeFirstOrThrow();
    const id = newId('bk');
    const now = Date.now();
    await h.app.store.db
      .insertInto('bookings')
      .values({ id, organisationId: h.organisationId, spaceId: spaceA, organiserId: organiser.id, title: 'From iCal', status: 'confirmed', startsAt: now + 3_600_000, endsAt: now + 7_200_000, bumpInMinutes: 0, bumpOutMinutes: 0, source: 'ical', externalId: 'uid-1', sourceVersion: 7, createdAt: now, updatedAt: now })
      .execute();
    const ev = await waitFor('source booking event', () => rx.accepted('/space-a').find((x) => x.body.data.bookingId === id));
    expect(ev.body.type).toBe('booking.created');
    expect(ev.body.data).toMatchObject({ source: 'ical', externalId: 'uid-1', version: 7, title: 'From iCal' });
  });

  it('retries with back-off while the receiver answers 503, then delivers; the log shows the attempts', async () => {
    const sub = await subscribe('/flaky', { spaceId: spaceB });
    rx.status = 503;
    let booking: any;
    try {
      booking = await book(spaceB);
      const failing = await waitFor('two failed attempts', async () => {
        const log = await h.call('GET', `/v1/callbacks/${sub.id}/deliveries`, undefined, h.keys.admin);
        const d = log.body.results[0];
        return d && d.attempts >= 2 ? d : null;
      });
      expect(failing.status).toBe('pending');
      expect(failing.responseCode).toBe(503);
      expect(failing.lastError).toContain('503');
      expect(failing.nextAttemptAt).not.toBeNull();
      expect(rx.accepted('/flaky')).toHaveLength(0);
    } finally {
      rx.status = 200;
    }
    const delivered = await waitFor('delivered after recovery', () => rx.accepted('/flaky')[0]);
    expect(delivered.body.data.bookingId).toBe(booking.id);
    const attempts = rx.received.filter((x) => x.path === '/flaky');
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(new Set(attempts.map((x) => x.eventId)).size).toBe(1); // the same event each time
    expect(attempts.map((x) => x.attemptHeader)).toEqual(attempts.map((_, i) => String(i + 1)));
    const log = await waitFor('log says delivered', async () => {
      const res = await h.call('GET', `/v1/callbacks/${sub.id}/deliveries?status=delivered`, undefined, h.keys.admin);
      return res.body.results[0];
    });
    expect(log).toMatchObject({ status: 'delivered', responseCode: 200, lastError: null, attempts: attempts.length });
  });

  it('sends nothing twice after a full re-scan, with two dispatchers, or after a restart', async () => {
    const countRows = async () => (await h.app.store.db.selectFrom('callbackDeliveries').select('id').execute()).length;
    await waitFor('all delivered', async () => !(await h.app.store.db.selectFrom('callbackDeliveries').select('id').where('status', '=', 'pending').executeTakeFirst()));
    const before = rx.received.length;
    const rowsBefore = await countRows();

    // Forget the cursor: everything is read again.
    await h.app.store.db.updateTable('callbackSubscriptions').set({ scannedTo: 0 }).execute();
    const other = new CallbackDispatcher({ db: h.app.store.db, secrets: h.app.secrets }, { workerId: 'second-worker' });
    await Promise.all([h.app.callbacks.runOnce(), other.runOnce(), other.scan(), h.app.callbacks.scan()]);
    expect(await countRows()).toBe(rowsBefore);

    // Restart on the same database; a change made while no dispatcher ran is sent once on start.
    const booking = (await h.call('GET', `/v1/bookings?spaceId=${spaceB}&status=confirmed`, undefined, h.keys.admin)).body.results[0];
    const orgId = h.organisationId;
    await h.close();
    const { openStore } = await import('../../src/store/db.js');
    const store = openStore(database.url);
    await store.db.updateTable('bookings').set({ endsAt: booking ? Date.parse(booking.end) + 3_600_000 : 0, updatedAt: Date.now(), sourceVersion: (booking?.version ?? 0) + 1 }).where('id', '=', booking.id).execute();
    await store.close();

    h = await startHarness(kind, { database, secretKey: key });
    const flaky = await waitFor('the offline change delivered', () => rx.accepted('/flaky').find((x) => x.body.data.bookingId === booking.id && x.body.type === 'booking.updated'));
    expect(flaky.body.data.version).toBe(booking.version + 1);
    await new Promise((r) => setTimeout(r, 500));
    const after = rx.received.slice(before);
    // Only the moved booking's update, once per subscription that covers space B.
    expect(after.every((x) => x.body.data.bookingId === booking.id && x.body.type === 'booking.updated')).toBe(true);
    const perPath = new Map<string, number>();
    for (const x of after) perPath.set(x.path, (perPath.get(x.path) ?? 0) + 1);
    expect([...perPath.entries()].sort()).toEqual([['/flaky', 1], ['/with-emails', 1], ['/without-emails', 1]]);
    expect(orgId).toBeTruthy();
  });
});
