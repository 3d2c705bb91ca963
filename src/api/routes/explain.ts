/**
 * GET /v1/access/explain — "why can't this guest get in?" (src/engine/explain). Team admins and hosts
 * ask about anyone in their organisation; a guest key only about its own person.
 */
import { z } from 'zod';
import type { RouteModule } from '../types.js';
import { bearer } from '../types.js';
import { assertSameOrganisation, atLeast } from '../auth.js';
import { ApiError, badRequest, forbidden, notFound } from '../errors.js';
import { explainAccess, ExplainInputError, explanationSchema } from '../../engine/explain/index.js';
import { instantField } from '../time-input.js';

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
