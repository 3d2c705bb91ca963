/**
 * The source ingest core on both stores: deliveries are idempotent by (source, external id, version);
 * duplicates and out-of-order deliveries neither regress a newer booking nor resurrect a cancelled one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { ingestSourceBooking, SourceBookingError, type SourceBooking } from '../../src/sources/ingest.js';
import { storeKinds } from '../support/stores.js';

for (const kind of storeKinds) {
  describe(`source ingest (${kind})`, () => {
    let h: Harness;
    let space: string;
    beforeEach(async () => {
      h = await startHarness(kind);
      space = await h.space();
    });
    afterEach(async () => h?.close());

    const delivery = (version: number, over: Partial<SourceBooking> = {}): SourceBooking => ({
      source: 'webhook:src_test',
      externalId: 'ext-1',
      version,
      status: 'confirmed',
      spaceId: space,
      startsAt: Date.parse(hoursFromNow(1)),
      endsAt: Date.parse(hoursFromNow(2)),
      organiser: { name: 'Ada', email: 'ada@example.com' },
      ...over,
    });
    const ingest = (d: SourceBooking) => ingestSourceBooking(h.app, h.organisationId, d, 'test');
    const bookings = () => h.app.store.db.selectFrom('bookings').selectAll().where('source', '=', 'webhook:src_test').execute();

    it('creates once; a duplicate or older delivery changes nothing; a newer one updates', async () => {
      const first = await ingest(delivery(1));
      expect(first.outcome).toBe('created');
      expect((await ingest(delivery(1))).outcome).toBe('stale');
      const moved = delivery(3, { endsAt: Date.parse(hoursFromNow(4)) });
      expect((await ingest(moved)).outcome).toBe('updated');
      expect((await ingest(delivery(2))).outcome).toBe('stale'); // arrived late: must not undo the move
      const rows = await bookings();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: first.bookingId, endsAt: moved.endsAt, sourceVersion: 3, status: 'confirmed' });
    });

    it('a cancellation wins over an older create that arrives after it, even before the booking existed', async () => {
      expect((await ingest(delivery(5, { status: 'cancelled' }))).outcome).toBe('cancelled');
      expect((await ingest(delivery(4))).outcome).toBe('stale');
      expect(await bookings()).toEqual([]);
      // A later, higher version may legitimately re-book it.
      expect((await ingest(delivery(6))).outcome).toBe('created');
    });

    it('cancels an existing booking and its access goes', async () => {
      const { bookingId } = await ingest(delivery(1, { invitees: [{ name: 'Bob', email: 'bob@example.com' }] }));
      await h.converge();
      expect((await h.call('GET', `/v1/bookings/${bookingId}/sync`, undefined, h.keys.admin)).body.state).toBe('applied');
      expect((await ingest(delivery(2, { status: 'cancelled' }))).outcome).toBe('cancelled');
      await h.converge();
      expect((await h.call('GET', `/v1/bookings/${bookingId}/sync`, undefined, h.keys.admin)).body.state).toBe('revoked');
    });

    it('refuses what can never apply, and writes nothing', async () => {
      await expect(ingest(delivery(1, { spaceId: 'sp_missing' }))).rejects.toBeInstanceOf(SourceBookingError);
      await expect(ingest(delivery(1, { endsAt: Date.parse(hoursFromNow(0.5)) , startsAt: Date.parse(hoursFromNow(1)) }))).rejects.toThrow(/end after it starts/);
      expect(await bookings()).toEqual([]);
      expect(await h.app.store.db.selectFrom('sourceEvents').selectAll().execute()).toEqual([]);
    });

    it('concurrent duplicate deliveries make one booking', async () => {
      const results = await Promise.all([1, 1, 1, 1].map((v) => ingest(delivery(v)).catch((e: Error) => ({ outcome: `error: ${e.message}` }))));
      expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
      expect(await bookings()).toHaveLength(1);
    });
  });
}
