/**
 * The one way a booking source (Cal.com, signed webhook, iCal feed) writes a booking.
 *
 * Sources deliver at-least-once and out of order. Every delivery carries (source, external id,
 * version); the `source_events` ledger keeps the highest version seen per booking and whether it was a
 * cancellation. A delivery whose version is not higher changes nothing, so duplicates are absorbed and
 * an old "created" arriving after a "cancelled" cannot resurrect the booking. The ledger update and
 * the booking write share one transaction: a failure leaves neither.
 */
import type { Kysely, Transaction } from 'kysely';
import type { SourceDeps } from './deps.js';
import type { Database, Row } from '../store/schema.js';
import { newId } from '../store/ids.js';
import { findOrCreatePerson } from '../commands/people.js';
import { bookingInvitees, cancelBooking, createBooking, updateBooking } from '../commands/bookings.js';

export interface SourcePerson {
  name: string;
  email: string;
}

export interface SourceBooking {
  /** e.g. `calcom:<sourceId>`, `webhook:<sourceId>`, `ical:<sourceId>` — the namespace of externalId. */
  source: string;
  externalId: string;
  /** Monotonic per (source, externalId): higher wins, equal or lower is a duplicate or stale. */
  version: number;
  status: 'confirmed' | 'pending' | 'cancelled';
  spaceId: string;
  startsAt: number;
  endsAt: number;
  title?: string | null;
  organiser: SourcePerson;
  invitees?: SourcePerson[];
}

export type IngestOutcome = 'created' | 'updated' | 'cancelled' | 'unchanged' | 'stale';

export interface IngestResult {
  outcome: IngestOutcome;
  bookingId: string | null;
}

export class SourceBookingError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Applies one delivery. `actor` is written to the audit log (e.g. the source id). Throws
 * SourceBookingError for input that can never be applied (unknown space, end before start).
 */
export async function ingestSourceBooking(app: SourceDeps, organisationId: string, input: SourceBooking, actor: string): Promise<IngestResult> {
  if (!(input.endsAt > input.startsAt)) throw new SourceBookingError('end', 'the booking must end after it starts');
  if (!Number.isSafeInteger(input.version) || input.version < 0) throw new SourceBookingError('version', 'version must be a non-negative integer');
  const space = await app.store.db
    .selectFrom('spaces')
    .select('id')
    .where('id', '=', input.spaceId)
    .where('organisationId', '=', organisationId)
    .executeTakeFirst();
  if (!space) throw new SourceBookingError('spaceId', `space ${input.spaceId} does not exist in this organisation; map the source to one of GET /v1/spaces`);

  const result = await app.store.db.transaction().execute((trx) => applyInTransaction(app, trx, organisationId, input, actor));
  if (result.outcome !== 'stale' && result.outcome !== 'unchanged') app.engine.wake();
  return result;
}

async function applyInTransaction(app: SourceDeps, trx: Transaction<Database>, organisationId: string, input: SourceBooking, actor: string): Promise<IngestResult> {
  const now = Date.now();
  const cancelled = input.status === 'cancelled' ? 1 : 0;
  // Compare-and-set on the ledger: only a strictly higher version gets through.
  const claimed = await trx
    .insertInto('sourceEvents')
    .values({ organisationId, source: input.source, externalId: input.externalId, version: input.version, cancelled, bookingId: null, updatedAt: now })
    .onConflict((oc) =>
      oc
        .columns(['organisationId', 'source', 'externalId'])
        .doUpdateSet({ version: input.version, cancelled, updatedAt: now })
        .where('sourceEvents.version', '<', input.version),
    )
    .executeTakeFirst();
  const ledger = await trx
    .selectFrom('sourceEvents')
    .selectAll()
    .where('organisationId', '=', organisationId)
    .where('source', '=', input.source)
    .where('externalId', '=', input.externalId)
    .executeTakeFirstOrThrow();
  if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0 || ledger.version !== input.version) {
    return { outcome: 'stale', bookingId: ledger.bookingId };
  }

  const existing = await trx
    .selectFrom('bookings')
    .selectAll()
    .where('organisationId', '=', organisationId)
    .where('source', '=', input.source)
    .where('externalId', '=', input.externalId)
    .executeTakeFirst();

  if (cancelled) {
    if (!existing) return { outcome: 'cancelled', bookingId: null }; // the ledger now keeps it from coming back
    if (existing.status === 'cancelled') return { outcome: 'unchanged', bookingId: existing.id };
    await cancelBooking(trx, app.changes, existing, { actor, sourceVersion: input.version, now, details: { source: input.source, version: input.version } });
    return { outcome: 'cancelled', bookingId: existing.id };
  }

  const organiserId = await findOrCreatePerson(trx, organisationId, input.organiser);
  const inviteeIds = [...new Set(await Promise.all((input.invitees ?? []).map((p) => findOrCreatePerson(trx, organisationId, p))))].filter((id) => id !== organiserId);
  const fields = {
    spaceId: input.spaceId,
    organiserId,
    title: input.title ?? null,
    status: input.status,
    startsAt: input.startsAt,
    endsAt: input.endsAt,
    sourceVersion: input.version,
    updatedAt: now,
  };

  if (!existing) {
    const id = newId('bk');
    const row: Row<'bookings'> = {
      id,
      organisationId,
      bumpInMinutes: 0,
      bumpOutMinutes: 0,
      source: input.source,
      externalId: input.externalId,
      createdAt: now,
      ...fields,
    };
    await createBooking(trx, app.changes, row, inviteeIds, { actor, details: auditDetails(input) });
    await linkLedger(trx, organisationId, input, id);
    return { outcome: 'created', bookingId: id };
  }

  // A newer version of a known booking: it may also un-cancel it (the source re-confirmed it).
  const before = { booking: existing, inviteeIds: await bookingInvitees(trx, existing.id) };
  await updateBooking(trx, app.changes, before, { fields, inviteeIds }, { actor, action: 'booking.updated', details: auditDetails(input) });
  await linkLedger(trx, organisationId, input, existing.id);
  return { outcome: 'updated', bookingId: existing.id };
}

/** What the audit log says a delivery did to its booking. */
function auditDetails(input: SourceBooking): Record<string, unknown> {
  return { source: input.source, version: input.version, status: input.status, from: new Date(input.startsAt).toISOString(), until: new Date(input.endsAt).toISOString(), spaceId: input.spaceId };
}

/** Links the source's ledger entry to the booking. */
async function linkLedger(trx: Kysely<Database>, organisationId: string, input: SourceBooking, bookingId: string): Promise<void> {
  await trx
    .updateTable('sourceEvents')
    .set({ bookingId })
    .where('organisationId', '=', organisationId)
    .where('source', '=', input.source)
    .where('externalId', '=', input.externalId)
    .execute();
}

