/**
 * API keys and the audit log.
 */
import { z } from 'zod';
import type { RouteModule } from '../types.js';
import { bearer, iso } from '../types.js';
import { createApiKey, organisationOf, requireRole, roles } from '../auth.js';
import { badRequest, forbidden, notFound } from '../errors.js';
import { writeAudit } from '../../store/audit.js';

const keyBody = z
  .object({
    role: z.enum(roles),
    name: z.string().trim().min(1).max(200),
    organisationId: z.string().optional(),
    personId: z.string().optional().describe('Required for guest keys: the person the key speaks for'),
  })
  .strict();

export const adminRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  api.post('/v1/api-keys', { schema: { tags: ['api-keys'], security: bearer, body: keyBody, summary: 'Create an API key; the key is shown once' } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const b = req.body;
    if (b.role === 'platform-admin') {
      requireRole(req.principal, 'platform-admin');
      const key = await createApiKey(db, app.secrets, { role: b.role, name: b.name, organisationId: null, personId: null });
      await writeAudit(db, { organisationId: null, actor: req.principal.keyId, action: 'api-key.created', subjectType: 'api-key', subjectId: key.id, details: { role: b.role, name: b.name } });
      return reply.status(201).send({ id: key.id, key: key.key, role: b.role });
    }
    const organisationId = organisationOf(req.principal, b.organisationId);
    const org = await db.selectFrom('organisations').select('id').where('id', '=', organisationId).executeTakeFirst();
    if (!org) throw badRequest('organisationId', `organisation ${organisationId} does not exist`);
    if (b.role === 'guest') {
      if (!b.personId) throw badRequest('personId', 'guest keys speak for one person; give their personId');
      const person = await db.selectFrom('people').select('id').where('id', '=', b.personId).where('organisationId', '=', organisationId).executeTakeFirst();
      if (!person) throw badRequest('personId', `person ${b.personId} does not exist in this organisation`);
    } else if (b.personId) {
      throw badRequest('personId', 'only guest keys are tied to a person');
    }
    const key = await createApiKey(db, app.secrets, { role: b.role, name: b.name, organisationId, personId: b.personId ?? null });
    await writeAudit(db, { organisationId, actor: req.principal.keyId, action: 'api-key.created', subjectType: 'api-key', subjectId: key.id, details: { role: b.role, name: b.name } });
    return reply.status(201).send({ id: key.id, key: key.key, role: b.role, organisationId, personId: b.personId ?? null });
  });

  api.delete('/v1/api-keys/:id', { schema: { tags: ['api-keys'], security: bearer, params: z.object({ id: z.string() }) } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const key = await db.selectFrom('apiKeys').selectAll().where('id', '=', req.params.id).executeTakeFirst();
    if (!key) throw notFound('api key', req.params.id);
    if (req.principal.role !== 'platform-admin' && key.organisationId !== req.principal.organisationId) throw notFound('api key', req.params.id);
    if (key.role === 'platform-admin' && req.principal.role !== 'platform-admin') throw forbidden('only a platform admin can revoke platform-admin keys');
    await app.apiKeys.revoke(key.id);
    await writeAudit(db, { organisationId: key.organisationId, actor: req.principal.keyId, action: 'api-key.revoked', subjectType: 'api-key', subjectId: key.id });
    return reply.status(204).send();
  });

  api.get('/v1/audit', {
    schema: {
      tags: ['audit'],
      security: bearer,
      querystring: z.object({
        organisationId: z.string().optional(),
        subjectId: z.string().optional(),
        action: z.string().optional(),
        before: z.coerce.number().int().optional().describe('Page backwards: entries with id below this'),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      summary: 'Append-only record of grants, changes, revokes, PIN issues and setting changes (newest first)',
    },
  }, async (req) => {
    requireRole(req.principal, 'host');
    let q = db.selectFrom('auditLog').selectAll();
    if (req.principal.role === 'platform-admin') {
      if (req.query.organisationId) q = q.where('organisationId', '=', req.query.organisationId);
    } else {
      q = q.where('organisationId', '=', organisationOf(req.principal, req.query.organisationId));
    }
    if (req.query.subjectId) q = q.where('subjectId', '=', req.query.subjectId);
    if (req.query.action) q = q.where('action', '=', req.query.action);
    if (req.query.before) q = q.where('id', '<', req.query.before);
    const rows = await q.orderBy('id', 'desc').limit(req.query.limit).execute();
    return {
      results: rows.map((r) => ({ id: Number(r.id), at: iso(r.at), organisationId: r.organisationId, actor: r.actor, action: r.action, subjectType: r.subjectType, subjectId: r.subjectId, reason: r.reason, details: JSON.parse(r.details) })),
    };
  });
};
