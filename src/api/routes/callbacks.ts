/**
 * Change call-backs (integration API, out): an external system registers a URL for one space or all
 * of an organisation's, and Lockstep POSTs every booking create/update/cancel to it, signed (see
 * src/callbacks/dispatcher.ts). The signing secret is shown once, at creation; it is stored sealed.
 * Team admins of the organisation (and platform admins) manage them.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Row } from '../../store/schema.js';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso, listQuery } from '../types.js';
import { assertSameOrganisation, organisationForWrite, organisationOf, requireRole } from '../auth.js';
import { badRequest, notFound } from '../errors.js';
import { newId } from '../../store/ids.js';
import { writeAudit } from '../../store/audit.js';

const callbackUrl = z
  .string()
  .max(2000)
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && !u.hash;
      } catch {
        return false;
      }
    },
    { message: 'must be an absolute http(s) URL without user:password@ or #fragment, e.g. https://controller.example.com/lockstep' },
  );

const createBody = z
  .object({
    organisationId: z.string().optional(),
    url: callbackUrl.describe('Lockstep POSTs each booking change here (HTTPS in production)'),
    spaceId: z.string().min(1).nullable().optional().describe('Only bookings of this space (and bookings that move away from it); omit or null for every space'),
    includeEmails: z.boolean().default(false).describe("Add organiser and attendee e-mails to each event (left out for spaces served by a privacy-mode integration)"),
    description: z.string().trim().max(200).optional(),
  })
  .strict();

const deliveriesQuery = listQuery.omit({ organisationId: true }).extend({
  status: z.enum(['pending', 'delivered', 'failed', 'superseded']).optional(),
  bookingId: z.string().optional(),
});

const deliveryParams = z.object({ id: z.string().min(1), deliveryId: z.string().min(1) });

/** The URL without its query string (which may carry a receiver's token), for the audit log. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid)';
  }
}

const view = (s: Row<'callbackSubscriptions'>) => ({
  id: s.id,
  organisationId: s.organisationId,
  url: s.url,
  spaceId: s.spaceId,
  includeEmails: s.includeEmails === 1,
  description: s.description,
  createdAt: iso(s.createdAt),
});

const deliveryView = (d: Row<'callbackDeliveries'>) => ({
  id: d.id,
  eventType: d.eventType,
  bookingId: d.bookingId,
  version: d.version,
  status: d.status,
  attempts: d.attempts,
  responseCode: d.responseCode,
  lastError: d.lastError,
  createdAt: iso(d.createdAt),
  lastAttemptAt: iso(d.lastAttemptAt),
  nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
  deliveredAt: iso(d.deliveredAt),
  payload: JSON.parse(d.payload) as unknown,
});

export const callbackRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  const owned = async (principal: Parameters<typeof requireRole>[0], id: string) => {
    requireRole(principal, 'team-admin');
    const row = await db.selectFrom('callbackSubscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('call-back subscription', id);
    assertSameOrganisation(principal, row.organisationId, 'call-back subscription', id);
    return row;
  };

  api.post(
    '/v1/callbacks',
    {
      schema: {
        tags: ['integration API'],
        security: bearer,
        body: createBody,
        summary: 'Subscribe a URL to booking changes; the signing secret is in this answer only',
      },
    },
    async (req, reply) => {
      requireRole(req.principal, 'team-admin');
      const body = req.body;
      const organisationId = await organisationForWrite(db, req.principal, body.organisationId);
      if (body.spaceId) {
        const space = await db.selectFrom('spaces').select('id').where('id', '=', body.spaceId).where('organisationId', '=', organisationId).executeTakeFirst();
        if (!space) throw badRequest('spaceId', `space ${body.spaceId} does not exist in this organisation; list spaces with GET /v1/spaces, or omit spaceId for every space`);
      }
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const now = Date.now();
      const row: Row<'callbackSubscriptions'> = {
        id: newId('cb'),
        organisationId,
        spaceId: body.spaceId ?? null,
        url: body.url,
        description: body.description ?? null,
        includeEmails: body.includeEmails ? 1 : 0,
        secretSealed: app.secrets.seal(secret),
        scannedTo: now,
        createdBy: req.principal.keyId,
        createdAt: now,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('callbackSubscriptions').values(row).execute();
        await writeAudit(trx, {
          organisationId,
          actor: req.principal.keyId,
          action: 'callback.created',
          subjectType: 'callback',
          subjectId: row.id,
          details: { url: safeUrl(row.url), spaceId: row.spaceId, includeEmails: body.includeEmails },
        });
      });
      return reply.status(201).send({ ...view(row), signingSecret: secret });
    },
  );

  api.get('/v1/callbacks', { schema: { tags: ['integration API'], security: bearer, querystring: listQuery } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const organisationId = organisationOf(req.principal, req.query.organisationId);
    const rows = await db
      .selectFrom('callbackSubscriptions')
      .selectAll()
      .where('organisationId', '=', organisationId)
      .orderBy('createdAt')
      .limit(req.query.limit)
      .offset(req.query.offset)
      .execute();
    return { results: rows.map(view) };
  });

  api.get('/v1/callbacks/:id', { schema: { tags: ['integration API'], security: bearer, params: idParams } }, async (req) => view(await owned(req.principal, req.params.id)));

  api.delete('/v1/callbacks/:id', { schema: { tags: ['integration API'], security: bearer, params: idParams, summary: 'Unsubscribe; pending deliveries are dropped' } }, async (req, reply) => {
    const row = await owned(req.principal, req.params.id);
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('callbackDeliveries').where('subscriptionId', '=', row.id).execute();
      await trx.deleteFrom('callbackSubscriptions').where('id', '=', row.id).execute();
      await writeAudit(trx, { organisationId: row.organisationId, actor: req.principal.keyId, action: 'callback.deleted', subjectType: 'callback', subjectId: row.id, details: { url: safeUrl(row.url) } });
    });
    return reply.status(204).send();
  });

  api.get(
    '/v1/callbacks/:id/deliveries',
    { schema: { tags: ['integration API'], security: bearer, params: idParams, querystring: deliveriesQuery, summary: 'Delivery log: status, attempts, last error, response code, newest first' } },
    async (req) => {
      const sub = await owned(req.principal, req.params.id);
      let q = db.selectFrom('callbackDeliveries').selectAll().where('subscriptionId', '=', sub.id);
      if (req.query.status) q = q.where('status', '=', req.query.status);
      if (req.query.bookingId) q = q.where('bookingId', '=', req.query.bookingId);
      const rows = await q.orderBy('createdAt', 'desc').orderBy('bookingUpdatedAt', 'desc').limit(req.query.limit).offset(req.query.offset).execute();
      return { results: rows.map(deliveryView) };
    },
  );

  api.post(
    '/v1/callbacks/:id/deliveries/:deliveryId/retry',
    { schema: { tags: ['integration API'], security: bearer, params: deliveryParams, summary: 'Send a failed delivery again now' } },
    async (req) => {
      const sub = await owned(req.principal, req.params.id);
      const row = await db.selectFrom('callbackDeliveries').selectAll().where('id', '=', req.params.deliveryId).where('subscriptionId', '=', sub.id).executeTakeFirst();
      if (!row) throw notFound('delivery', req.params.deliveryId);
      if (row.status !== 'failed') throw badRequest('deliveryId', `only a failed delivery can be retried; this one is ${row.status}`);
      await db.updateTable('callbackDeliveries').set({ status: 'pending', attempts: 0, nextAttemptAt: Date.now() }).where('id', '=', row.id).where('status', '=', 'failed').execute();
      await writeAudit(db, { organisationId: sub.organisationId, actor: req.principal.keyId, action: 'callback.retried', subjectType: 'callback', subjectId: sub.id, details: { deliveryId: row.id } });
      app.callbacks.wake();
      return deliveryView({ ...row, status: 'pending', attempts: 0 });
    },
  );
};
