/**
 * Plans (what a membership opens: access targets directly, or spaces via their mappings) and
 * subscriptions (a person or a whole company on a plan, from start until end or cancellation).
 */
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database, Row } from '../../store/schema.js';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso, listQuery } from '../types.js';
import { type Principal, findOwned, organisationForWrite, organisationOf, requireRole } from '../auth.js';
import { badRequest, conflict } from '../errors.js';
import { newId } from '../../store/ids.js';
import { writeAudit } from '../../store/audit.js';
import { instantField, readWindow } from '../time-input.js';

const planTarget = z.object({ integrationId: z.string().min(1), targetRef: z.string().min(1) }).strict();
const planBody = z
  .object({
    organisationId: z.string().optional(),
    name: z.string().trim().min(1).max(200),
    spaceIds: z.array(z.string()).max(500).default([]),
    targets: z.array(planTarget).max(500).default([]),
  })
  .strict();

const subscriptionBody = z
  .object({
    organisationId: z.string().optional(),
    planId: z.string().min(1),
    personId: z.string().optional(),
    companyId: z.string().optional(),
    start: z.string().optional(),
    end: z.string().optional(),
    startLocal: z.string().optional(),
    endLocal: z.string().optional(),
  })
  .strict();

export const membershipRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  const planView = async (p: Row<'plans'>) => {
    const [spaces, targets] = await Promise.all([
      db.selectFrom('planSpaces').select('spaceId').where('planId', '=', p.id).execute(),
      db.selectFrom('planTargets').select(['integrationId', 'targetRef']).where('planId', '=', p.id).execute(),
    ]);
    return { id: p.id, organisationId: p.organisationId, name: p.name, spaceIds: spaces.map((s) => s.spaceId), targets, createdAt: iso(p.createdAt) };
  };
  const loadPlan = (principal: Principal, id: string) => findOwned(db, 'plans', principal, id, 'plan');
  const checkPlanParts = async (organisationId: string, spaceIds: string[], targets: { integrationId: string }[]) => {
    for (const [i, id] of spaceIds.entries()) {
      const s = await db.selectFrom('spaces').select('id').where('id', '=', id).where('organisationId', '=', organisationId).executeTakeFirst();
      if (!s) throw badRequest(`spaceIds.${i}`, `space ${id} does not exist in this organisation`);
    }
    for (const [i, t] of targets.entries()) {
      const integ = await db.selectFrom('integrations').select('id').where('id', '=', t.integrationId).where('organisationId', '=', organisationId).executeTakeFirst();
      if (!integ) throw badRequest(`targets.${i}.integrationId`, `integration ${t.integrationId} does not exist in this organisation; list them with GET /v1/integrations`);
    }
  };
  const writePlanParts = async (trx: Kysely<Database>, planId: string, spaceIds: string[], targets: { integrationId: string; targetRef: string }[]) => {
    await trx.deleteFrom('planSpaces').where('planId', '=', planId).execute();
    await trx.deleteFrom('planTargets').where('planId', '=', planId).execute();
    const uniqueSpaces = [...new Set(spaceIds)];
    if (uniqueSpaces.length) await trx.insertInto('planSpaces').values(uniqueSpaces.map((spaceId) => ({ planId, spaceId }))).execute();
    const uniqueTargets = [...new Map(targets.map((t) => [`${t.integrationId}\0${t.targetRef}`, t])).values()];
    if (uniqueTargets.length) await trx.insertInto('planTargets').values(uniqueTargets.map((t) => ({ planId, ...t }))).execute();
  };

  api.get('/v1/plans', { schema: { tags: ['plans'], security: bearer, querystring: listQuery } }, async (req) => {
    requireRole(req.principal, 'host');
    const rows = await db.selectFrom('plans').selectAll().where('organisationId', '=', organisationOf(req.principal, req.query.organisationId)).orderBy('name').limit(req.query.limit).offset(req.query.offset).execute();
    return { results: await Promise.all(rows.map(planView)) };
  });
  api.get('/v1/plans/:id', { schema: { tags: ['plans'], security: bearer, params: idParams } }, async (req) => {
    requireRole(req.principal, 'host');
    return planView(await loadPlan(req.principal, req.params.id));
  });
  api.post('/v1/plans', { schema: { tags: ['plans'], security: bearer, body: planBody } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const organisationId = await organisationForWrite(db, req.principal, req.body.organisationId);
    await checkPlanParts(organisationId, req.body.spaceIds, req.body.targets);
    const row = { id: newId('pl'), organisationId, name: req.body.name, createdAt: Date.now() };
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('plans').values(row).execute();
      await writePlanParts(trx, row.id, req.body.spaceIds, req.body.targets);
      await writeAudit(trx, { organisationId, actor: req.principal.keyId, action: 'plan.created', subjectType: 'plan', subjectId: row.id, details: { spaceIds: req.body.spaceIds, targets: req.body.targets } });
    });
    return reply.status(201).send(await planView(row));
  });
  api.patch('/v1/plans/:id', { schema: { tags: ['plans'], security: bearer, params: idParams, body: planBody.omit({ organisationId: true }).partial() } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const plan = await loadPlan(req.principal, req.params.id);
    const current = await planView(plan);
    const spaceIds = req.body.spaceIds ?? current.spaceIds;
    const targets = req.body.targets ?? current.targets;
    await checkPlanParts(plan.organisationId, spaceIds, targets);
    await db.transaction().execute(async (trx) => {
      if (req.body.name) await trx.updateTable('plans').set({ name: req.body.name }).where('id', '=', plan.id).execute();
      await writePlanParts(trx, plan.id, spaceIds, targets);
      await writeAudit(trx, { organisationId: plan.organisationId, actor: req.principal.keyId, action: 'plan.updated', subjectType: 'plan', subjectId: plan.id, details: { spaceIds, targets } });
      await app.changes.organisation(plan.organisationId, trx);
    });
    app.engine.wake();
    return planView({ ...plan, name: req.body.name ?? plan.name });
  });
  api.delete('/v1/plans/:id', { schema: { tags: ['plans'], security: bearer, params: idParams } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const plan = await loadPlan(req.principal, req.params.id);
    const sub = await db.selectFrom('subscriptions').select('id').where('planId', '=', plan.id).executeTakeFirst();
    if (sub) throw conflict(`plan ${plan.id} has subscriptions (e.g. ${sub.id}); delete them first`);
    await db.deleteFrom('plans').where('id', '=', plan.id).execute();
    return reply.status(204).send();
  });

  // Subscriptions -------------------------------------------------------------------------------
  const subscriptionView = (s: Row<'subscriptions'>) => ({
    id: s.id,
    organisationId: s.organisationId,
    planId: s.planId,
    personId: s.personId,
    companyId: s.companyId,
    start: iso(s.startsAt),
    end: iso(s.endsAt),
    cancelledAt: iso(s.cancelledAt),
    createdAt: iso(s.createdAt),
  });
  const loadSubscription = (principal: Principal, id: string) => findOwned(db, 'subscriptions', principal, id, 'subscription');
  /** Everyone a subscription covers right now: the person, or every member of the company. */
  const coveredPeople = async (trx: Kysely<Database>, s: { personId: string | null; companyId: string | null }) => {
    if (s.personId) return [s.personId];
    return (await trx.selectFrom('companyMembers').select('personId').where('companyId', '=', s.companyId!).execute()).map((m) => m.personId);
  };
  const zoneFor = async (organisationId: string) =>
    (await db.selectFrom('locations').select('timeZone').where('organisationId', '=', organisationId).orderBy('createdAt').executeTakeFirst())?.timeZone ?? 'UTC';

  api.get('/v1/subscriptions', { schema: { tags: ['subscriptions'], security: bearer, querystring: listQuery.extend({ personId: z.string().optional(), companyId: z.string().optional() }) } }, async (req) => {
    requireRole(req.principal, 'host');
    let q = db.selectFrom('subscriptions').selectAll().where('organisationId', '=', organisationOf(req.principal, req.query.organisationId));
    if (req.query.personId) q = q.where('personId', '=', req.query.personId);
    if (req.query.companyId) q = q.where('companyId', '=', req.query.companyId);
    const rows = await q.orderBy('startsAt').limit(req.query.limit).offset(req.query.offset).execute();
    return { results: rows.map(subscriptionView) };
  });
  api.get('/v1/subscriptions/:id', { schema: { tags: ['subscriptions'], security: bearer, params: idParams } }, async (req) => {
    requireRole(req.principal, 'host');
    return subscriptionView(await loadSubscription(req.principal, req.params.id));
  });
  api.post('/v1/subscriptions', { schema: { tags: ['subscriptions'], security: bearer, body: subscriptionBody } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const body = req.body;
    const organisationId = organisationOf(req.principal, body.organisationId);
    if (!body.personId === !body.companyId) throw badRequest('personId', 'give exactly one of personId (a member) or companyId (covers every member of the company)');
    const plan = await db.selectFrom('plans').select('id').where('id', '=', body.planId).where('organisationId', '=', organisationId).executeTakeFirst();
    if (!plan) throw badRequest('planId', `plan ${body.planId} does not exist in this organisation; create one with POST /v1/plans`);
    if (body.personId) {
      const p = await db.selectFrom('people').select('id').where('id', '=', body.personId).where('organisationId', '=', organisationId).executeTakeFirst();
      if (!p) throw badRequest('personId', `person ${body.personId} does not exist in this organisation`);
    } else {
      const c = await db.selectFrom('companies').select('id').where('id', '=', body.companyId!).where('organisationId', '=', organisationId).executeTakeFirst();
      if (!c) throw badRequest('companyId', `company ${body.companyId} does not exist in this organisation`);
    }
    const window = readWindow(body, await zoneFor(organisationId), { endOptional: true });
    const row: Row<'subscriptions'> = {
      id: newId('sub'),
      organisationId,
      planId: body.planId,
      personId: body.personId ?? null,
      companyId: body.companyId ?? null,
      startsAt: window.startsAt,
      endsAt: window.endsAt,
      cancelledAt: null,
      createdAt: Date.now(),
    };
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('subscriptions').values(row).execute();
      await writeAudit(trx, { organisationId, actor: req.principal.keyId, action: 'subscription.created', subjectType: 'subscription', subjectId: row.id, details: subscriptionView(row) });
      await app.changes.people(organisationId, await coveredPeople(trx, row), trx);
    });
    app.engine.wake();
    return reply.status(201).send(subscriptionView(row));
  });
  api.patch('/v1/subscriptions/:id', { schema: { tags: ['subscriptions'], security: bearer, params: idParams, body: z.object({ end: z.string().nullable().optional() }).strict() } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const sub = await loadSubscription(req.principal, req.params.id);
    if (req.body.end === undefined) throw badRequest('end', 'send the new end (ISO instant with offset) or null for open-ended');
    const endsAt = req.body.end === null ? null : instantField('end', req.body.end);
    if (endsAt !== null && endsAt <= sub.startsAt) throw badRequest('end', 'must be after the subscription start');
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('subscriptions').set({ endsAt }).where('id', '=', sub.id).execute();
      await writeAudit(trx, { organisationId: sub.organisationId, actor: req.principal.keyId, action: 'subscription.updated', subjectType: 'subscription', subjectId: sub.id, details: { end: iso(endsAt) } });
      await app.changes.people(sub.organisationId, await coveredPeople(trx, sub), trx);
    });
    app.engine.wake();
    return subscriptionView({ ...sub, endsAt });
  });
  api.post('/v1/subscriptions/:id/cancel', { schema: { tags: ['subscriptions'], security: bearer, params: idParams, body: z.object({ at: z.string().optional().describe('When access ends; default now') }).strict().optional() } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const sub = await loadSubscription(req.principal, req.params.id);
    const cancelledAt = req.body?.at ? instantField('at', req.body.at) : Date.now();
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('subscriptions').set({ cancelledAt }).where('id', '=', sub.id).execute();
      await writeAudit(trx, { organisationId: sub.organisationId, actor: req.principal.keyId, action: 'subscription.cancelled', subjectType: 'subscription', subjectId: sub.id, details: { at: iso(cancelledAt) } });
      await app.changes.people(sub.organisationId, await coveredPeople(trx, sub), trx);
    });
    app.engine.wake();
    return subscriptionView({ ...sub, cancelledAt });
  });
  api.delete('/v1/subscriptions/:id', { schema: { tags: ['subscriptions'], security: bearer, params: idParams } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const sub = await loadSubscription(req.principal, req.params.id);
    await db.transaction().execute(async (trx) => {
      const people = await coveredPeople(trx, sub);
      await trx.deleteFrom('subscriptions').where('id', '=', sub.id).execute();
      await writeAudit(trx, { organisationId: sub.organisationId, actor: req.principal.keyId, action: 'subscription.deleted', subjectType: 'subscription', subjectId: sub.id });
      await app.changes.people(sub.organisationId, people, trx);
    });
    app.engine.wake();
    return reply.status(204).send();
  });
};
