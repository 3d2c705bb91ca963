/**
 * GET /v1/access/explain — "why can't this guest get in?" (src/engine/explain). Team admins and hosts
 * ask about anyone in their organisation; a guest key only about its own person.
 */
import { z } from 'zod';
import type { RouteModule } from '../types.js';
import { bearer } from '../types.js';
import { assertSameOrganisation, atLeast } from '../auth.js';
import { ApiError, badRequest, forbidden, notFound } from '../errors.js';
import { explainAccess, ExplainInputError } from '../../engine/explain/index.js';
import { instantField } from '../time-input.js';

const links = z.enum(['integration', 'mapping', 'booking', 'subscription', 'trigger', 'window', 'capacity', 'credential', 'sync', 'provider']);
const window = z.object({ from: z.string(), until: z.string().nullable() });

export const explanationSchema = z.object({
  at: z.string(),
  timeZone: z.string(),
  person: z.object({ id: z.string(), name: z.string() }),
  space: z.object({ id: z.string(), name: z.string() }).nullable(),
  verdict: z.object({ canEnter: z.boolean(), broken: links.nullable().describe('The link of the chain that breaks; null when the person can enter'), text: z.string() }),
  targets: z.array(
    z.object({
      integrationId: z.string(),
      integrationName: z.string(),
      provider: z.string(),
      targetRef: z.string(),
      targetName: z.string(),
      canEnter: z.boolean(),
      broken: links.nullable(),
      window: window.nullable(),
      way: z.string().nullable().describe('PIN, URL key, mobile key, or card or mobile credential'),
      chain: z.array(z.object({ link: links, ok: z.boolean(), says: z.string() })),
      pin: z.object({ issuedAt: z.string(), masked: z.string() }).nullable(),
      credentials: z.array(z.object({ kind: z.string(), validFrom: z.string().nullable(), validUntil: z.string().nullable(), firstUseBefore: z.string().nullable(), state: z.string() })),
      recorded: z.object({ user: z.string().nullable(), grants: z.array(z.object({ state: z.string(), from: z.string(), until: z.string().nullable() })) }),
      live: z.object({
        read: z.enum(['ok', 'failed', 'skipped']).describe('What the provider holds, read at the time of the request'),
        error: z.string().optional(),
        user: z.object({ hasPin: z.boolean().nullable() }).nullable().optional(),
        grants: z.array(window).optional(),
      }),
      sync: z.object({ dueAt: z.string(), attempts: z.number(), lastError: z.string().nullable(), running: z.boolean() }).nullable(),
      integration: z.object({ status: z.string(), lastError: z.string().nullable(), pausedUntil: z.string().nullable() }),
    }),
  ),
  bookings: z.array(
    z.object({ id: z.string(), title: z.string().nullable(), status: z.string(), role: z.string(), spaceId: z.string(), start: z.string(), end: z.string(), local: z.object({ start: z.string(), end: z.string() }) }),
  ),
  subscriptions: z.array(z.object({ id: z.string(), planName: z.string(), via: z.string(), start: z.string(), end: z.string().nullable(), cancelledAt: z.string().nullable(), opensThis: z.boolean() })),
});

const query = z.object({
  personId: z.string().min(1),
  spaceId: z.string().min(1).optional(),
  targetRef: z.string().min(1).optional(),
  integrationId: z.string().min(1).optional().describe('With targetRef: which integration the target is on'),
  at: z.string().optional().describe('ISO-8601 instant with UTC offset; default now'),
});

export const explainRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  api.get('/v1/access/explain', {
    schema: {
      tags: ['access'],
      security: bearer,
      querystring: query,
      summary: "Why can (or can't) this person get in? Walks booking → space → mapping → window → subscription → credential → provider (read live) and names the link that breaks",
      response: { 200: explanationSchema },
    },
  }, async (req) => {
    const p = req.principal;
    const q = req.query;
    if (!q.spaceId === !q.targetRef) throw badRequest('querystring', 'give exactly one of spaceId (a space) or targetRef (an access target, with integrationId if it exists on two integrations)');
    if (!atLeast(p, 'host') && p.personId !== q.personId) throw forbidden('a guest key can only ask about its own person');
    const at = q.at ? instantField('querystring.at', q.at) : Date.now();
    const person = await db.selectFrom('people').select(['id', 'organisationId']).where('id', '=', q.personId).executeTakeFirst();
    if (!person) throw notFound('person', q.personId);
    assertSameOrganisation(p, person.organisationId, 'person', person.id);
    try {
      return await explainAccess(
        { db, secrets: app.secrets, adapterFor: (i) => app.engine.adapterFor(i), now: Date.now() },
        { organisationId: person.organisationId, personId: person.id, spaceId: q.spaceId, targetRef: q.targetRef, integrationId: q.integrationId, at },
      );
    } catch (err) {
      if (err instanceof ExplainInputError) {
        if (err.notFound) throw new ApiError(404, 'not_found', err.message);
        throw badRequest(`querystring.${err.field}`, err.message);
      }
      throw err;
    }
  });
};
