/**
 * Commands on bookings that every entry point shares (the REST API, the booking sources; the console
 * goes through the API): one way to create, change and cancel a booking, whoever asks. Each runs
 * inside the caller's transaction, so the booking, its audit entry and the queued syncs commit
 * together or not at all.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import { writeAudit } from '../store/audit.js';
import type { ChangeFeed } from '../engine/changes.js';

/** What a booking write puts in the audit log beside the booking's id. */
export interface BookingAudit {
  actor: string;
  details: Record<string, unknown>;
}

/** The invitees of a booking (the organiser is never one of them). */
export async function bookingInvitees(db: Kysely<Database>, bookingId: string): Promise<string[]> {
  const rows = await db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', bookingId).execute();
  return rows.map((r) => r.personId);
}

/** The organiser and every invitee of a booking. */
export async function bookingPeople(db: Kysely<Database>, b: Pick<Row<'bookings'>, 'id' | 'organiserId'>): Promise<string[]> {
  return [b.organiserId, ...(await bookingInvitees(db, b.id))];
}

/**
 * Writes a new booking: the row, its invitees, an audit entry and a sync queued for everyone on it.
 * The caller has checked the input and resolved the people.
 */
export async function createBooking(trx: Kysely<Database>, changes: Pick<ChangeFeed, 'people'>, booking: Row<'bookings'>, inviteeIds: string[], audit: BookingAudit): Promise<void> {
  await trx.insertInto('bookings').values(booking).execute();
  if (inviteeIds.length) await trx.insertInto('bookingInvitees').values(inviteeIds.map((personId) => ({ bookingId: booking.id, personId }))).execute();
  await writeAudit(trx, { organisationId: booking.organisationId, actor: audit.actor, action: 'booking.created', subjectType: 'booking', subjectId: booking.id, details: audit.details });
  await changes.people(booking.organisationId, [booking.organiserId, ...inviteeIds], trx);
}

/**
 * Changes a booking (move, new organiser or invitees, new status): the row, the invitees when they
 * differ, an audit entry, and a sync queued for everyone who was or is on it, so whoever left it
 * loses the access and whoever joined gets it.
 */
export async function updateBooking(
  trx: Kysely<Database>,
  changes: Pick<ChangeFeed, 'people'>,
  before: { booking: Pick<Row<'bookings'>, 'id' | 'organisationId' | 'organiserId'>; inviteeIds: string[] },
  after: { fields: Partial<Row<'bookings'>> & Pick<Row<'bookings'>, 'organiserId'>; inviteeIds: string[] },
  audit: BookingAudit & { action: 'booking.updated' | 'booking.cancelled' },
): Promise<void> {
  const { id, organisationId } = before.booking;
  const invitees = after.inviteeIds;
  if (invitees.length !== before.inviteeIds.length || invitees.some((p, i) => p !== before.inviteeIds[i])) {
    await trx.deleteFrom('bookingInvitees').where('bookingId', '=', id).execute();
    if (invitees.length) await trx.insertInto('bookingInvitees').values(invitees.map((personId) => ({ bookingId: id, personId }))).execute();
  }
  await trx.updateTable('bookings').set(after.fields).where('id', '=', id).execute();
  await writeAudit(trx, { organisationId, actor: audit.actor, action: audit.action, subjectType: 'booking', subjectId: id, details: audit.details });
  await changes.people(organisationId, [before.booking.organiserId, after.fields.organiserId, ...before.inviteeIds, ...invitees], trx);
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
