/**
 * What the signed push sources (Cal.com, the generic booking webhook) share once a delivery has been
 * authenticated: loading the source, applying deliveries through the ingest core, telling a
 * duplicate from a stale delivery, and keeping `last_event_at` / `last_error` on the source.
 *
 * Nothing here writes before the signature has been checked by the caller: an unauthenticated request
 * changes nothing, not even `last_error` (otherwise anyone could overwrite what the admin sees).
 */
import type { App } from '../app.js';
import type { Row } from '../store/schema.js';
import { ApiError } from '../domain/errors.js';
import { findNul } from '../domain/text-input.js';
import { ingestSourceBooking, SourceBookingError, type IngestOutcome, type SourceBooking } from './ingest.js';
import type { SourceKind } from './kinds.js';

/** What a delivery answers: `duplicate` (this version was already applied) and `stale` (a newer one was) are successes too. */
export type DeliveryOutcome = Exclude<IngestOutcome, 'stale'> | 'duplicate' | 'stale' | 'ignored' | 'ping';

export interface DeliveryAnswer {
  outcome: DeliveryOutcome;
  bookingId: string | null;
  /** Why nothing was done, for `ignored` / `ping`. */
  note?: string;
  /** Cal.com reschedules: what happened to the booking uid it replaced. */
  replaced?: { externalId: string; outcome: DeliveryOutcome; bookingId: string | null };
}

/** The source a delivery is for; 404 for an unknown id or one of another kind (nothing is written). */
export async function loadSource(app: App, id: string, kind: SourceKind): Promise<Row<'bookingSources'> & { secret: string }> {
  const row = await app.store.db.selectFrom('bookingSources').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new ApiError(404, 'not_found', `booking source ${id} does not exist; check the URL you configured in the sending system (GET /v1/sources lists yours)`);
  if (row.kind !== kind) throw new ApiError(404, 'not_found', `booking source ${id} is a ${row.kind} source, not ${kind}; use the delivery URL of its own kind`);
  if (!row.secretSealed) throw new ApiError(401, 'unauthorized', `booking source ${id} has no signing secret; rotate one with PATCH /v1/sources/${id} {"rotateSecret":true}`);
  return { ...row, secret: app.secrets.open(row.secretSealed) };
}

export const unauthorized = (message: string) => new ApiError(401, 'unauthorized', message);

/** 400 naming the field; after authentication it is also recorded as the source's last error. */
export const invalid = (path: string, message: string) => new ApiError(400, 'validation', `${path}: ${message}`, [{ path, message }]);

/**
 * Applies one delivery. `stale` from the ingest core is split: the same version again is a
 * `duplicate` (a retry), a lower one is `stale` (it arrived after a newer one).
 */
export async function applyDelivery(app: App, source: Row<'bookingSources'>, input: SourceBooking): Promise<{ outcome: DeliveryOutcome; bookingId: string | null }> {
  const actor = `source:${source.id}`;
  try {
    const result = await ingestSourceBooking(app, source.organisationId, input, actor);
    if (result.outcome !== 'stale') return result;
    const ledger = await app.store.db
      .selectFrom('sourceEvents')
      .select('version')
      .where('organisationId', '=', source.organisationId)
      .where('source', '=', input.source)
      .where('externalId', '=', input.externalId)
      .executeTakeFirst();
    return { outcome: ledger && ledger.version === input.version ? 'duplicate' : 'stale', bookingId: result.bookingId };
  } catch (err) {
    if (err instanceof SourceBookingError) throw invalid(err.field, err.message);
    throw err;
  }
}

/** The booking this source already holds under an external id (any status), if any. */
export async function existingBooking(app: App, source: Row<'bookingSources'>, sourceKey: string, externalId: string): Promise<Row<'bookings'> | undefined> {
  return app.store.db
    .selectFrom('bookings')
    .selectAll()
    .where('organisationId', '=', source.organisationId)
    .where('source', '=', sourceKey)
    .where('externalId', '=', externalId)
    .executeTakeFirst();
}

/**
 * A cancellation for a booking Lockstep has not seen yet still has to be remembered (so a late
 * create cannot bring it back), and the ingest core only accepts deliveries for a real space. When a
 * cancellation names no usable space, any space of the organisation serves as that token: with no
 * booking to cancel, the core records the tombstone and touches no booking. Null: the organisation
 * has no spaces, so nothing could ever have been booked.
 */
export async function tombstoneSpace(app: App, organisationId: string): Promise<string | null> {
  const row = await app.store.db.selectFrom('spaces').select('id').where('organisationId', '=', organisationId).orderBy('id').limit(1).executeTakeFirst();
  return row?.id ?? null;
}

/** Whether a space id belongs to the organisation (mapped settings may point at a deleted space). */
export async function spaceExists(app: App, organisationId: string, spaceId: string): Promise<boolean> {
  return !!(await app.store.db.selectFrom('spaces').select('id').where('id', '=', spaceId).where('organisationId', '=', organisationId).executeTakeFirst());
}

/** Remembers the outcome on the source: a success clears `last_error`, a refused delivery sets it. */
export async function recordOutcome(app: App, sourceId: string, error: string | null): Promise<void> {
  const now = Date.now();
  await app.store.db
    .updateTable('bookingSources')
    .set(error === null ? { lastEventAt: now, lastError: null } : { lastError: error.slice(0, 1000) })
    .where('id', '=', sourceId)
    .execute();
}

/**
 * Runs an authenticated delivery: records success, or records a 4xx refusal as the source's last
 * error and rethrows it. A 5xx (our fault) is not blamed on the source.
 */
export async function recorded(app: App, sourceId: string, run: () => Promise<DeliveryAnswer>): Promise<DeliveryAnswer> {
  try {
    const answer = await run();
    await recordOutcome(app, sourceId, null);
    return answer;
  } catch (err) {
    if (err instanceof ApiError && err.statusCode < 500) await recordOutcome(app, sourceId, err.message).catch(() => undefined);
    throw err;
  }
}

/** JSON.parse that reports a 400 naming the body instead of throwing a SyntaxError. */
export function parseJsonBody(raw: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    throw invalid('body', `is not valid JSON (${(err as Error).message}); send the event as application/json`);
  }
  const nul = findNul(body, 'body');
  if (nul) throw invalid(nul, 'must not contain the NUL character (U+0000)');
  return body;
}
