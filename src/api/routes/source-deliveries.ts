/**
 * Where booking sources push: Cal.com webhooks and the generic signed booking webhook. These routes
 * take no API key — the sender proves itself with an HMAC over the raw body — so they are registered
 * in their own Fastify scope (outside the API-key hook) with a JSON parser that keeps the body as the
 * exact string received. The scope's parser does not affect any other route (Fastify encapsulation).
 */
import { z } from 'zod';
import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { App } from '../../app.js';
import type { Api } from '../types.js';
import { idParams } from '../types.js';
import { CALCOM_SIGNATURE_HEADER, handleCalcomDelivery } from '../../sources/calcom.js';
import { bookingWebhookBody, handleBookingWebhook } from '../../sources/booking-webhook.js';
import { SIGNATURE_HEADER } from '../../providers/webhook/signing.js';

/** Deliveries are small; a megabyte is far above any real booking. */
const BODY_LIMIT = 1_048_576;

const answer = z.object({
  outcome: z
    .enum(['created', 'updated', 'cancelled', 'unchanged', 'duplicate', 'stale', 'ignored', 'ping'])
    .describe('created/updated/cancelled/unchanged: applied; duplicate: this version was already applied; stale: a newer version was; ignored/ping: nothing to do. All are final: do not retry.'),
  bookingId: z.string().nullable().describe('The Lockstep booking, when there is one'),
  note: z.string().optional(),
  replaced: z
    .object({ externalId: z.string(), outcome: z.string(), bookingId: z.string().nullable() })
    .optional()
    .describe('Cal.com reschedules: what happened to the booking uid it replaced'),
});

const calcomEnvelope = z
  .looseObject({
    triggerEvent: z.string().describe('BOOKING_CREATED, BOOKING_RESCHEDULED, BOOKING_CANCELLED, BOOKING_REQUESTED, BOOKING_REJECTED, BOOKING_PAYMENT_INITIATED, BOOKING_PAID, PING, …'),
    createdAt: z.string().describe('When Cal.com fired the trigger; the delivery version'),
    payload: z.looseObject({
      uid: z.string(),
      iCalUID: z.string().optional(),
      eventTypeId: z.number().optional(),
      type: z.string().optional().describe('Event type slug'),
      startTime: z.string(),
      endTime: z.string(),
      title: z.string().optional(),
      location: z.string().optional(),
      organizer: z.looseObject({ name: z.string(), email: z.string() }).optional(),
      attendees: z.array(z.looseObject({ name: z.string(), email: z.string() })).optional().describe('The booker first, then guests'),
      rescheduleUid: z.string().optional(),
    }),
  })
  .describe("Cal.com's default webhook payload (no custom payload template)");

/** The body is validated by the handlers after the signature check, so a forged body learns nothing. */
const bodyUnchecked: FastifySchemaCompiler<unknown> = (route) => (route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route as never));

const raw = (body: unknown) => (typeof body === 'string' ? body : '');

export async function sourceDeliveryRoutes(api: Api, app: App): Promise<void> {
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  api.post(
    '/v1/sources/:id/calcom',
    {
      schema: {
        tags: ['sources'],
        summary: 'Cal.com webhook delivery (no API key: authenticated by X-Cal-Signature-256)',
        description:
          'Set this URL as the Subscriber URL of a Cal.com webhook and the source secret as its Secret. 200 for applied, duplicate, stale and ignored deliveries; 401 bad or missing signature; 400 malformed body or unmapped event type (the message says which setting to add); 404 unknown source.',
        params: idParams,
        headers: z.object({ [CALCOM_SIGNATURE_HEADER]: z.string().optional().describe('hex HMAC-SHA256 of the raw body with the webhook secret') }),
        body: calcomEnvelope,
        response: { 200: answer },
      },
      validatorCompiler: bodyUnchecked,
    },
    async (req) => handleCalcomDelivery(app, req.params.id, raw(req.body), req.headers[CALCOM_SIGNATURE_HEADER]),
  );

  api.post(
    '/v1/sources/:id/bookings',
    {
      schema: {
        tags: ['sources'],
        summary: 'Generic signed booking webhook (no API key: authenticated by Lockstep-Signature)',
        description:
          'Sign the raw body: Lockstep-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>, within 5 minutes of our clock. Idempotent by (source, id, version). 200 for applied, duplicate and stale deliveries (stop retrying); 401 bad, missing or stale signature; 400 malformed body, unknown event or unmapped resource; 404 unknown source.',
        params: idParams,
        headers: z.object({ [SIGNATURE_HEADER]: z.string().optional().describe('t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>') }),
        body: bookingWebhookBody,
        response: { 200: answer },
      },
      validatorCompiler: bodyUnchecked,
    },
    async (req) => handleBookingWebhook(app, req.params.id, raw(req.body), req.headers[SIGNATURE_HEADER]),
  );
}
