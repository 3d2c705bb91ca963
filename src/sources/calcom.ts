/**
 * Cal.com webhooks in: POST /v1/sources/:id/calcom.
 *
 * Authentication. Cal.com signs every delivery with `X-Cal-Signature-256: <hex HMAC-SHA256(secret,
 * raw body)>` (calcom/cal.com packages/features/webhooks/lib/sendPayload.ts, `createWebhookSignature`;
 * with no secret configured it sends the literal `no-secret-provided`, which never verifies here). The
 * HMAC covers the raw bytes, so the body is kept as received and parsed only after it verified. Cal.com
 * signs no timestamp, so a captured delivery can be replayed; replays are harmless because every
 * delivery is idempotent by (source, booking, version) below.
 *
 * Payload. `{ triggerEvent, createdAt, payload }` (the default template; a custom payload template is
 * refused with a 400 telling the admin to remove it). In `payload`: `uid` (the booking), `iCalUID`,
 * `eventTypeId` and `type` (event type id and slug), `startTime`/`endTime` (ISO, UTC), `title`,
 * `location`, `organizer` (the Cal.com user whose calendar was booked), `attendees` ("the event booker &
 * any guests", booker first: handleNewBooking builds `[...invitee, ...guests]`), `responses.email.value`
 * (the booker's e-mail), `status`, and on reschedules `rescheduleUid` (the booking it replaced).
 *
 * People. The Lockstep organiser is the BOOKER (the attendee whose e-mail is `responses.email`, else
 * attendees[0]): the person who booked the space and needs the door. The other attendees (guests)
 * become invitees. The Cal.com organizer is the host — often the venue's own account — and gets access
 * only with `settings.hostAccess: true`.
 *
 * Identity and version. Cal.com gives a rescheduled booking a NEW uid (the old row is cancelled,
 * `rescheduleUid` names it) but keeps its `iCalUID` (`getICalUID({ event: originalRescheduledBooking })`
 * in handleNewBooking), so calendars see one event moving. Lockstep does the same: the external id is
 * `iCalUID` when present (else `uid`), so a reschedule MOVES the same Lockstep booking (same id, same
 * access, a "moved" notice). When the payload has no iCalUID (older Cal.com) the new uid becomes a new
 * booking; either way the `rescheduleUid` booking is cancelled too, so nothing is left behind. The
 * version is the moment Cal.com fired the trigger (`createdAt`), in whole seconds since 2020-01-01 UTC.
 * Events about one booking happen one after another (a person confirms, pays, reschedules, cancels), so
 * it grows with every change; Cal.com's own retries resend the same body, so they carry the same version
 * and are absorbed as duplicates. Seconds, not milliseconds, because `bookings.source_version` is a
 * 32-bit integer on PostgreSQL (seconds since 2020 fit until 2088); two changes to one booking within
 * the same second would count as one (the later is taken for a duplicate).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { App } from '../app.js';
import type { Row } from '../store/schema.js';
import type { SourceBooking, SourcePerson } from './ingest.js';
import { parseInstant, TimeInputError } from '../domain/time.js';
import { ownValue } from '../domain/text-input.js';
import { sourceSettings, type SourceSettings } from './kinds.js';
import {
  applyDelivery,
  existingBooking,
  invalid,
  loadSource,
  parseJsonBody,
  recorded,
  spaceExists,
  tombstoneSpace,
  unauthorized,
  type DeliveryAnswer,
} from './delivery.js';

export const CALCOM_SIGNATURE_HEADER = 'x-cal-signature-256';

/** Triggers that change a booking, and the Lockstep status each one means. */
const bookingTriggers = {
  BOOKING_CREATED: 'confirmed',
  BOOKING_RESCHEDULED: 'confirmed',
  /** Needs the host's confirmation first: known, but no access until BOOKING_CREATED confirms it. */
  BOOKING_REQUESTED: 'pending',
  /** Paid event, payment not made yet: no access until BOOKING_PAID. */
  BOOKING_PAYMENT_INITIATED: 'pending',
  BOOKING_PAID: 'confirmed',
  BOOKING_CANCELLED: 'cancelled',
  /** The host declined a requested booking. */
  BOOKING_REJECTED: 'cancelled',
} as const;
type BookingTrigger = keyof typeof bookingTriggers;

/** Cal.com's other triggers (WebhookTriggerEvents): acknowledged with 200 and ignored. */
const ignoredTriggers = new Set([
  'MEETING_STARTED',
  'MEETING_ENDED',
  'RECORDING_READY',
  'RECORDING_TRANSCRIPTION_GENERATED',
  'FORM_SUBMITTED',
  'FORM_SUBMITTED_NO_EVENT',
  'INSTANT_MEETING',
  'INSTANT_MEETING_CREATED',
  'BOOKING_NO_SHOW_UPDATED',
  'AFTER_HOSTS_CAL_VIDEO_NO_SHOW',
  'AFTER_GUESTS_CAL_VIDEO_NO_SHOW',
  'OOO_CREATED',
  'ROUTING_FORM_FALLBACK_HIT',
  'DELEGATION_CREDENTIAL_ERROR',
  'WRONG_ASSIGNMENT_REPORT',
]);

/** 2020-01-01T00:00:00Z: versions count seconds from here so they fit a 32-bit column until 2088. */
const VERSION_EPOCH_MS = Date.UTC(2020, 0, 1);

/** The delivery version of a Cal.com event fired at `createdAtMs`. */
export function calcomVersion(createdAtMs: number): number {
  const v = Math.floor((createdAtMs - VERSION_EPOCH_MS) / 1000);
  if (v < 0 || v > 2_147_483_647) throw invalid('createdAt', 'is outside the range Lockstep accepts (2020 to 2088)');
  return v;
}

/** Constant-time check of `X-Cal-Signature-256` against the raw body. */
export function verifyCalcomSignature(secret: string, header: string | string[] | undefined, rawBody: string): boolean {
  if (typeof header !== 'string') return false;
  const given = header.trim().toLowerCase().replace(/^sha256=/, '');
  if (!/^[0-9a-f]{64}$/.test(given)) return false;
  const expected = createHmac('sha256', secret).update(rawBody, 'utf8').digest();
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}

/** Signs a body the way Cal.com does (tests, and the README's curl example). */
export function calcomSignature(secret: string, rawBody: string): string {
  return createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex');
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function instant(v: unknown, path: string): number {
  // Cal.com sends UTC ISO instants ("2023-05-25T09:30:00Z"); anything without a zone is ambiguous.
  try {
    if (typeof v !== 'string') throw new TimeInputError('must be an ISO 8601 date-time with a zone, as Cal.com sends it (e.g. "2023-05-25T09:30:00Z")');
    return parseInstant(v);
  } catch (err) {
    if (err instanceof TimeInputError) throw invalid(path, err.message);
    throw err;
  }
}

function person(v: unknown): SourcePerson | null {
  if (!isObj(v)) return null;
  const email = str(v.email);
  if (!email || !EMAIL.test(email)) return null;
  return { name: str(v.name) ?? email, email };
}

/** Booker first, then guests; the booker is the attendee whose e-mail the booking form captured. */
function people(payload: Json): { booker: SourcePerson; guests: SourcePerson[] } {
  const attendees = Array.isArray(payload.attendees) ? payload.attendees.map(person).filter((p): p is SourcePerson => p !== null) : [];
  const responses = isObj(payload.responses) ? payload.responses : {};
  const formEmail = isObj(responses.email) ? str(responses.email.value)?.toLowerCase() : undefined;
  const index = formEmail ? attendees.findIndex((a) => a.email.toLowerCase() === formEmail) : -1;
  const booker = attendees[index >= 0 ? index : 0];
  if (!booker) throw invalid('payload.attendees', 'names no attendee with an e-mail address; Lockstep needs the booker to give them access');
  return { booker, guests: attendees.filter((a) => a !== booker) };
}

/** The mapped space: event type id, then slug, then location, then the default. Null when unmapped. */
function mappedSpace(settings: SourceSettings<'calcom'>, payload: Json): string | null {
  const id = payload.eventTypeId;
  const idKey = typeof id === 'number' || (typeof id === 'string' && id) ? String(id) : undefined;
  const slug = str(payload.type);
  const location = str(payload.location);
  return (
    ownValue(settings.spaceByEventType, idKey) ||
    ownValue(settings.spaceByEventType, slug) ||
    ownValue(settings.spaceByLocation, location) ||
    settings.defaultSpaceId ||
    null
  );
}

/** Handles one authenticated-or-not delivery; throws ApiError (401/400/404) or answers. */
export async function handleCalcomDelivery(app: App, sourceId: string, rawBody: string, signature: string | string[] | undefined): Promise<DeliveryAnswer> {
  const source = await loadSource(app, sourceId, 'calcom');
  if (signature === undefined) {
    throw unauthorized('missing X-Cal-Signature-256; set the secret of this Lockstep source as the webhook secret in Cal.com (Settings → Developer → Webhooks)');
  }
  if (!verifyCalcomSignature(source.secret, signature, rawBody)) {
    throw unauthorized('X-Cal-Signature-256 does not match the body; the webhook secret in Cal.com must be the secret of this Lockstep source');
  }
  return recorded(app, source.id, () => applyCalcom(app, source, parseJsonBody(rawBody)));
}

async function applyCalcom(app: App, source: Row<'bookingSources'>, body: unknown): Promise<DeliveryAnswer> {
  if (!isObj(body)) throw invalid('body', 'must be a JSON object');
  const trigger = body.triggerEvent;
  if (typeof trigger !== 'string' || !trigger) {
    throw invalid('triggerEvent', 'is missing; Lockstep reads Cal.com\'s default payload ({triggerEvent, createdAt, payload}) — remove any custom payload template from the webhook in Cal.com');
  }
  if (trigger === 'PING') return { outcome: 'ping', bookingId: null, note: 'Cal.com test delivery: signature verified' };
  if (ignoredTriggers.has(trigger)) return { outcome: 'ignored', bookingId: null, note: `${trigger} does not change a booking` };
  if (!Object.hasOwn(bookingTriggers, trigger)) {
    throw invalid('triggerEvent', `unknown Cal.com trigger "${trigger.slice(0, 100)}"; Lockstep handles ${Object.keys(bookingTriggers).join(', ')} (and acknowledges PING and meeting/recording/form triggers)`);
  }
  const payload = body.payload;
  if (!isObj(payload)) throw invalid('payload', 'must be an object (Cal.com\'s booking data)');
  const version = calcomVersion(instant(body.createdAt, 'createdAt'));

  const settings = sourceSettings.calcom.parse(JSON.parse(source.settings));
  const key = `calcom:${source.id}`;
  const uid = str(payload.uid);
  if (!uid) throw invalid('payload.uid', 'is missing; Cal.com identifies every booking by its uid');
  // A reschedule keeps the iCalUID of the booking it replaces: the same Lockstep booking moves.
  const externalId = str(payload.iCalUID) ?? uid;
  const status = bookingTriggers[trigger as BookingTrigger];
  const replacedUid = str(payload.rescheduleUid) ?? str(payload.fromReschedule);

  const answer =
    status === 'cancelled'
      ? await cancel(app, source, key, externalId, version)
      : await upsert(app, source, settings, key, externalId, version, payload, status === 'confirmed' && str(payload.status)?.toUpperCase() === 'PENDING' ? 'pending' : status);

  if (trigger === 'BOOKING_RESCHEDULED' && replacedUid && replacedUid !== externalId) {
    // The uid it replaced is cancelled in Cal.com; cancel it here too (if it was keyed by uid) or at
    // least remember it as cancelled, so a late delivery about it cannot bring it back.
    const replaced = await cancel(app, source, key, replacedUid, version);
    return { ...answer, replaced: { externalId: replacedUid, outcome: replaced.outcome, bookingId: replaced.bookingId } };
  }
  return answer;
}

async function upsert(
  app: App,
  source: Row<'bookingSources'>,
  settings: SourceSettings<'calcom'>,
  key: string,
  externalId: string,
  version: number,
  payload: Json,
  status: 'confirmed' | 'pending',
): Promise<DeliveryAnswer> {
  const spaceId = mappedSpace(settings, payload);
  if (!spaceId) {
    const what = [payload.eventTypeId !== undefined && payload.eventTypeId !== null ? `id ${String(payload.eventTypeId)}` : null, str(payload.type) ? `slug "${str(payload.type)}"` : null].filter(Boolean).join(', ');
    throw invalid(
      'payload.eventTypeId',
      `Cal.com event type ${what || '(none given)'} is not mapped to a Lockstep space; add it to settings.spaceByEventType (e.g. PATCH /v1/sources/${source.id} {"settings":{"spaceByEventType":{"${str(payload.type) ?? String(payload.eventTypeId ?? '')}":"<space id>"}}}) or set settings.defaultSpaceId`,
    );
  }
  const startsAt = instant(payload.startTime, 'payload.startTime');
  const endsAt = instant(payload.endTime, 'payload.endTime');
  const { booker, guests } = people(payload);
  const host = settings.hostAccess ? person(payload.organizer) : null;
  const delivery: SourceBooking = {
    source: key,
    externalId,
    version,
    status,
    spaceId,
    startsAt,
    endsAt,
    title: str(payload.title)?.slice(0, 500) ?? null,
    organiser: booker,
    invitees: host ? [...guests, host] : guests,
  };
  return applyDelivery(app, source, delivery);
}

async function cancel(app: App, source: Row<'bookingSources'>, key: string, externalId: string, version: number): Promise<DeliveryAnswer> {
  // A cancellation needs no mapping: it cancels what exists, or leaves a tombstone for what may come late.
  const existing = await existingBooking(app, source, key, externalId);
  const spaceId = existing && (await spaceExists(app, source.organisationId, existing.spaceId)) ? existing.spaceId : await tombstoneSpace(app, source.organisationId);
  if (!spaceId) return { outcome: 'ignored', bookingId: null, note: 'this organisation has no spaces, so there is nothing to cancel' };
  const now = Date.now();
  return applyDelivery(app, source, {
    source: key,
    externalId,
    version,
    status: 'cancelled',
    spaceId,
    startsAt: existing?.startsAt ?? now,
    endsAt: existing?.endsAt ?? now + 60_000,
    organiser: { name: 'cancelled', email: 'cancelled@invalid' },
  });
}
