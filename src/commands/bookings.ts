/**
 * Commands on bookings that every entry point shares (the REST API, the booking sources; the console
 * goes through the API). Each runs inside the caller's transaction, so the booking, its audit entry
 * and the queued syncs commit together or not at all.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import { writeAudit } from '../store/audit.js';
import type { ChangeFeed } from '../engine/changes.js';

/** The organiser and every invitee of a booking. */
export async function bookingPeople(db: Kysely<Database>, b: Pick<Row<'bookings'>, 'id' | 'organiserId'>): Promise<string[]> {
  const invitees = await db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', b.id).execute();
  return [b.organiserId, ...invitees.map((r) => r.personId)];
}

/**
 * Cancels a booking: its status and version, an audit entry, and a sync queued for everyone on it
 * (the engine revokes their access). The record is kept for the audit trail.
 */
export async function cancelBooking(
  trx: Kysely<Database>,
  changes: Pick<ChangeFeed, 'people'>,
  booking: Pick<Row<'bookings'>, 'id' | 'organisationId' | 'organiserId'>,
  opts: { actor: string; sourceVersion: number; now: number; details?: Record<string, unknown> },
): Promise<void> {
  const people = await bookingPeople(trx, booking);
  await trx.updateTable('bookings').set({ status: 'cancelled', sourceVersion: opts.sourceVersion, updatedAt: opts.now }).where('id', '=', booking.id).execute();
  await writeAudit(trx, { organisationId: booking.organisationId, actor: opts.actor, action: 'booking.cancelled', subjectType: 'booking', subjectId: booking.id, ...(opts.details ? { details: opts.details } : {}) });
  await changes.people(booking.organisationId, people, trx);
}
