/**
 * The generic signed booking webhook: POST /v1/sources/:id/bookings — a documented JSON contract any
 * booking system can send (README "Generic booking webhook").
 *
 *   { "event": "booking.upserted" | "booking.cancelled",
 *     "id": "<your booking id>", "version": <integer ≤ 2147483647, grows with every change>,
 *     "status": "confirmed" | "pending",            (upserted; default confirmed, pending grants no access)
 *     "resource": "<your resource id>" | "spaceId": "<Lockstep space id>",
 *     "start": "2026-12-01T09:00:00+01:00", "end": "…",   (ISO 8601 with offset)
 *     "title": "…", "organiser": { "name", "email" }, "attendees": [{ "name", "email" }] }
 *
 * Signed exactly like Lockstep's own outbound webhooks (src/providers/webhook/signing.ts):
 * `Lockstep-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, refused more
 * than five minutes from our clock. Idempotent by (source, id, version): the same version again is a
 * `duplicate`, a lower one `stale`; a cancellation is remembered even before the booking arrives, so an
 * older upsert delivered late does not resurrect it. A `booking.cancelled` needs only event, id and
 * version.
 */
import { z } from 'zod';
import type { App } from '../app.js';
import type { Row } from '../store/schema.js';
import { parseInstant, TimeInputError } from '../domain/time.js';
import { ownValue } from '../domain/text-input.js';
import { SIGNATURE_HEADER, TOLERANCE_SECONDS, verifySignature } from '../providers/webhook/signing.js';
import type { SourceBooking } from './ingest.js';
import { ApiError } from '../domain/errors.js';
import { sourceSettings } from './kinds.js';
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

export { SIGNATURE_HEADER as BOOKING_WEBHOOK_SIGNATURE_HEADER };

const personSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(320),
  })
  .describe('A person: name and e-mail (people are matched by e-mail)');

const instantSchema = z.string().max(64).describe('ISO 8601 instant with UTC offset, e.g. 2026-12-01T09:00:00+01:00');

const common = {
  id: z.string().min(1).max(200).describe('Your booking id; stable across every change of the booking'),
  version: z
    .number()
    .int()
    .min(0)
    .max(2_147_483_647)
    .describe('Grows with every change of this booking: a revision counter, or the change time in Unix SECONDS (at most 2147483647). Equal = duplicate, lower = stale'),
  resource: z.string().min(1).max(200).optional().describe('Your resource id, mapped to a space by settings.spaceByResource'),
  spaceId: z.string().min(1).max(100).optional().describe('The Lockstep space id (instead of resource)'),
  title: z.string().max(500).optional(),
};

export const bookingUpserted = z
  .object({
    event: z.literal('booking.upserted'),
    ...common,
    status: z.enum(['confirmed', 'pending']).default('confirmed').describe('pending: known but no access yet'),
    start: instantSchema,
    end: instantSchema,
    organiser: personSchema,
    attendees: z.array(personSchema).max(200).optional().describe('Invitees; each gets access for the booking'),
  })
  .strict();

export const bookingCancelled = z
  .object({
    event: z.literal('booking.cancelled'),
    ...common,
    start: instantSchema.optional(),
    end: instantSchema.optional(),
    organiser: personSchema.optional(),
    attendees: z.array(personSchema).max(200).optional(),
  })
  .strict();

export const bookingWebhookBody = z.discriminatedUnion('event', [bookingUpserted, bookingCancelled]).describe('A booking change, signed with Lockstep-Signature');

function parseContract(body: unknown): z.infer<typeof bookingWebhookBody> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('body', 'must be a JSON object');
  const event = (body as { event?: unknown }).event;
  if (event !== 'booking.upserted' && event !== 'booking.cancelled') {
    throw invalid('event', `must be "booking.upserted" or "booking.cancelled"${typeof event === 'string' ? ` (got ${JSON.stringify(event.slice(0, 64))})` : ''}`);
  }
  const parsed = bookingWebhookBody.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.length ? i.path.join('.') : 'body', message: i.message }));
  throw new ApiError(400, 'validation', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

function instant(value: string, path: string): number {
  try {
    return parseInstant(value);
  } catch (err) {
    if (err instanceof TimeInputError) throw invalid(path, err.message);
    throw err;
  }
}

export async function handleBookingWebhook(app: App, sourceId: string, rawBody: string, signature: string | string[] | undefined): Promise<DeliveryAnswer> {
  const source = await loadSource(app, sourceId, 'webhook');
  const check = verifySignature({ secret: source.secret, header: signature, rawBody, nowSeconds: Math.floor(Date.now() / 1000) });
  if (!check.ok) {
    const why = {
      missing: 'missing Lockstep-Signature header; sign the raw body as t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>',
      malformed: 'Lockstep-Signature is not of the form t=<unix seconds>,v1=<64 hex digits>',
      mismatch: 'Lockstep-Signature does not match the body; sign the exact bytes you send with this source\'s secret',
      stale: `Lockstep-Signature timestamp is more than ${TOLERANCE_SECONDS} seconds old; sign each delivery (and each retry) when you send it`,
      future: `Lockstep-Signature timestamp is more than ${TOLERANCE_SECONDS} seconds in the future; check the sender's clock`,
    }[check.reason];
    throw unauthorized(why);
  }
  return recorded(app, source.id, () => applyContract(app, source, parseContract(parseJsonBody(rawBody))));
}

async function applyContract(app: App, source: Row<'bookingSources'>, b: z.infer<typeof bookingWebhookBody>): Promise<DeliveryAnswer> {
  const settings = sourceSettings.webhook.parse(JSON.parse(source.settings));
  const key = `webhook:${source.id}`;
  if (b.resource !== undefined && b.spaceId !== undefined) throw invalid('resource', 'send resource or spaceId, not both');
  const mapped = b.spaceId ?? ownValue(settings.spaceByResource, b.resource) ?? (b.resource === undefined ? settings.defaultSpaceId : undefined);

  if (b.event === 'booking.cancelled') {
    // Cancels what exists, or remembers the cancellation for a booking not seen yet; never needs a mapping.
    const existing = await existingBooking(app, source, key, b.id);
    const spaceId =
      (existing && (await spaceExists(app, source.organisationId, existing.spaceId)) ? existing.spaceId : null) ??
      (mapped && (await spaceExists(app, source.organisationId, mapped)) ? mapped : null) ??
      (await tombstoneSpace(app, source.organisationId));
    if (!spaceId) return { outcome: 'ignored', bookingId: null, note: 'this organisation has no spaces, so there is nothing to cancel' };
    const now = Date.now();
    return applyDelivery(app, source, {
      source: key,
      externalId: b.id,
      version: b.version,
      status: 'cancelled',
      spaceId,
      startsAt: existing?.startsAt ?? now,
      endsAt: existing?.endsAt ?? now + 60_000,
      organiser: b.organiser ?? { name: 'cancelled', email: 'cancelled@invalid' },
    });
  }

  if (!mapped) {
    throw b.resource !== undefined
      ? invalid('resource', `resource "${b.resource}" is not mapped to a Lockstep space; add it to settings.spaceByResource (PATCH /v1/sources/${source.id} {"settings":{"spaceByResource":{"${b.resource}":"<space id>"}}}) or send spaceId`)
      : invalid('resource', `name the space: send resource (mapped in settings.spaceByResource) or spaceId, or set settings.defaultSpaceId on source ${source.id}`);
  }
  const delivery: SourceBooking = {
    source: key,
    externalId: b.id,
    version: b.version,
    status: b.status,
    spaceId: mapped,
    startsAt: instant(b.start, 'start'),
    endsAt: instant(b.end, 'end'),
    title: b.title ?? null,
    organiser: b.organiser,
    invitees: b.attendees ?? [],
  };
  return applyDelivery(app, source, delivery);
}
