/**
 * Previews of mapping and buffer changes: how many bookings and subscriptions would change, before
 * an admin commits to it. Read-only; the same checks as the writes they preview.
 */
import { z } from 'zod';
import type { RouteModule } from '../types.js';
import { bearer } from '../types.js';
import { findOwned, requireRole } from '../auth.js';
import { badRequest } from '../errors.js';
import { previewBuffers, previewMapping } from '../../engine/preview.js';

const bufferMinutes = z.number().int().min(0, 'must be 0 or more minutes').max(24 * 60, 'must be at most 1440 minutes (a day)');

const previewResult = z.object({ bookings: z.number(), subscriptions: z.number(), people: z.number(), summary: z.string() });

export const previewRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  api.post('/v1/preview/mapping', {
    schema: {
      tags: ['mappings'],
      security: bearer,
      summary: "What setting a space's access targets on one integration would change (nothing is written)",
      body: z.object({ spaceId: z.string().min(1), integrationId: z.string().min(1), targetRefs: z.array(z.string().min(1)).max(500) }).strict(),
      response: { 200: previewResult.extend({ added: z.array(z.string()), removed: z.array(z.string()) }) },
    },
  }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const space = await findOwned(db, 'spaces', req.principal, req.body.spaceId, 'space');
    const integration = await db.selectFrom('integrations').select(['id', 'status']).where('id', '=', req.body.integrationId).where('organisationId', '=', space.organisationId).executeTakeFirst();
    if (!integration) throw badRequest('integrationId', `integration ${req.body.integrationId} does not exist in this organisation`);
    if (integration.status !== 'active') throw badRequest('integrationId', `integration ${integration.id} is ${integration.status}`);
    return previewMapping(db, { spaceId: space.id, integrationId: integration.id, targetRefs: req.body.targetRefs }, Date.now());
  });

  api.post('/v1/preview/buffers', {
    schema: {
      tags: ['integrations'],
      security: bearer,
      summary: 'What new buffers for an integration or a space would change (nothing is written)',
      body: z
        .object({
          integrationId: z.string().min(1).optional(),
          spaceId: z.string().min(1).optional(),
          bufferBeforeMinutes: bufferMinutes.nullable().optional().describe("null (spaces only) = use the integration's"),
          bufferAfterMinutes: bufferMinutes.nullable().optional(),
        })
        .strict(),
      response: { 200: previewResult },
    },
  }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const b = req.body;
    if (!b.integrationId === !b.spaceId) throw badRequest('integrationId', 'give exactly one of integrationId (its buffers) or spaceId (the space override)');
    if (b.integrationId) {
      const integration = await findOwned(db, 'integrations', req.principal, b.integrationId, 'integration');
      if (b.bufferBeforeMinutes === null) throw badRequest('bufferBeforeMinutes', 'an integration always has a buffer; send minutes (0 for none)');
      if (b.bufferAfterMinutes === null) throw badRequest('bufferAfterMinutes', 'an integration always has a buffer; send minutes (0 for none)');
      return previewBuffers(db, { integrationId: integration.id, bufferBeforeMinutes: b.bufferBeforeMinutes, bufferAfterMinutes: b.bufferAfterMinutes }, Date.now());
    }
    const space = await findOwned(db, 'spaces', req.principal, b.spaceId!, 'space');
    return previewBuffers(db, { spaceId: space.id, bufferBeforeMinutes: b.bufferBeforeMinutes, bufferAfterMinutes: b.bufferAfterMinutes }, Date.now());
  });
};
