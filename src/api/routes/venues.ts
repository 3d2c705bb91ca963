/**
 * Organisations, locations (each with its IANA time zone) and spaces (with optional buffer overrides).
 */
import { z } from 'zod';
import type { Row } from '../../store/schema.js';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso, listQuery } from '../types.js';
import { type Principal, assertSameOrganisation, findOwned, organisationOf, requireRole } from '../auth.js';
import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import { newId } from '../../store/ids.js';
import { writeAudit } from '../../store/audit.js';
import { isValidTimeZone } from '../../domain/time.js';

export const spaceKinds = ['room', 'desk', 'office', 'equipment', 'parking', 'court', 'other'] as const;

const timeZone = z
  .string()
  .refine(isValidTimeZone, { message: 'must be an IANA time zone name such as Europe/London or America/New_York' });
const bufferMinutes = z.number().int().min(0, 'must be 0 or more minutes').max(24 * 60, 'must be at most 1440 minutes (a day)');

const locationBody = z.object({ organisationId: z.string().optional(), name: z.string().trim().min(1).max(200), timeZone }).strict();
const spaceBody = z
  .object({
    organisationId: z.string().optional(),
    locationId: z.string().min(1),
    name: z.string().trim().min(1).max(200),
    kind: z.enum(spaceKinds),
    bufferBeforeMinutes: bufferMinutes.nullable().optional().describe("Overrides the integration's buffer for this space; null = use the integration's"),
    bufferAfterMinutes: bufferMinutes.nullable().optional(),
  })
  .strict();

const orgView = (o: Row<'organisations'>) => ({ id: o.id, name: o.name, createdAt: iso(o.createdAt) });
const locationView = (l: Row<'locations'>) => ({ id: l.id, organisationId: l.organisationId, name: l.name, timeZone: l.timeZone, createdAt: iso(l.createdAt) });
const spaceView = (s: Row<'spaces'>) => ({
  id: s.id,
  organisationId: s.organisationId,
  locationId: s.locationId,
  name: s.name,
  kind: s.kind,
  bufferBeforeMinutes: s.bufferBeforeMinutes,
  bufferAfterMinutes: s.bufferAfterMinutes,
  createdAt: iso(s.createdAt),
});

export const venueRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  // Organisations -------------------------------------------------------------------------------
  api.get('/v1/organisations', { schema: { tags: ['organisations'], security: bearer } }, async (req) => {
    let q = db.selectFrom('organisations').selectAll();
    if (req.principal.role !== 'platform-admin') q = q.where('id', '=', req.principal.organisationId!);
    return { results: (await q.orderBy('name').execute()).map(orgView) };
  });
  api.post('/v1/organisations', { schema: { tags: ['organisations'], security: bearer, body: z.object({ name: z.string().trim().min(1).max(200) }).strict() } }, async (req, reply) => {
    requireRole(req.principal, 'platform-admin');
    const row = { id: newId('org'), name: req.body.name, createdAt: Date.now() };
    await db.insertInto('organisations').values(row).execute();
    await writeAudit(db, { organisationId: row.id, actor: req.principal.keyId, action: 'organisation.created', subjectType: 'organisation', subjectId: row.id });
    return reply.status(201).send(orgView(row));
  });
  api.patch('/v1/organisations/:id', { schema: { tags: ['organisations'], security: bearer, params: idParams, body: z.object({ name: z.string().trim().min(1).max(200) }).strict() } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const org = await db.selectFrom('organisations').selectAll().where('id', '=', req.params.id).executeTakeFirst();
    if (!org) throw notFound('organisation', req.params.id);
    assertSameOrganisation(req.principal, org.id, 'organisation', org.id);
    await db.updateTable('organisations').set({ name: req.body.name }).where('id', '=', org.id).execute();
    return orgView({ ...org, name: req.body.name });
  });

  // Locations -----------------------------------------------------------------------------------
  const loadLocation = (principal: Principal, id: string) => findOwned(db, 'locations', principal, id, 'location');
  api.get('/v1/locations', { schema: { tags: ['locations'], security: bearer, querystring: listQuery } }, async (req) => {
    requireRole(req.principal, 'host');
    const rows = await db.selectFrom('locations').selectAll().where('organisationId', '=', organisationOf(req.principal, req.query.organisationId)).orderBy('name').limit(req.query.limit).offset(req.query.offset).execute();
    return { results: rows.map(locationView) };
  });
  api.get('/v1/locations/:id', { schema: { tags: ['locations'], security: bearer, params: idParams } }, async (req) => {
    requireRole(req.principal, 'host');
    return locationView(await loadLocation(req.principal, req.params.id));
  });
  api.post('/v1/locations', { schema: { tags: ['locations'], security: bearer, body: locationBody } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const organisationId = organisationOf(req.principal, req.body.organisationId);
    const org = await db.selectFrom('organisations').select('id').where('id', '=', organisationId).executeTakeFirst();
    if (!org) throw badRequest('organisationId', `organisation ${organisationId} does not exist`);
    const row = { id: newId('loc'), organisationId, name: req.body.name, timeZone: req.body.timeZone, createdAt: Date.now() };
    await db.insertInto('locations').values(row).execute();
    return reply.status(201).send(locationView(row));
  });
  api.patch('/v1/locations/:id', { schema: { tags: ['locations'], security: bearer, params: idParams, body: locationBody.partial().omit({ organisationId: true }) } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const loc = await loadLocation(req.principal, req.params.id);
    const patch = { ...(req.body.name ? { name: req.body.name } : {}), ...(req.body.timeZone ? { timeZone: req.body.timeZone } : {}) };
    if (Object.keys(patch).length === 0) throw badRequest('body', 'nothing to change; send name and/or timeZone');
    await db.updateTable('locations').set(patch).where('id', '=', loc.id).execute();
    await writeAudit(db, { organisationId: loc.organisationId, actor: req.principal.keyId, action: 'location.updated', subjectType: 'location', subjectId: loc.id, details: patch });
    // Stored instants do not move when a zone is corrected; only how they are shown does.
    return locationView({ ...loc, ...patch });
  });
  api.delete('/v1/locations/:id', { schema: { tags: ['locations'], security: bearer, params: idParams } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const loc = await loadLocation(req.principal, req.params.id);
    const space = await db.selectFrom('spaces').select('id').where('locationId', '=', loc.id).executeTakeFirst();
    if (space) throw conflict(`location ${loc.id} still has spaces (e.g. ${space.id}); delete or move them first`);
    await db.deleteFrom('locations').where('id', '=', loc.id).execute();
    return reply.status(204).send();
  });

  // Spaces --------------------------------------------------------------------------------------
  const loadSpace = (principal: Principal, id: string) => findOwned(db, 'spaces', principal, id, 'space');
  api.get('/v1/spaces', { schema: { tags: ['spaces'], security: bearer, querystring: listQuery.extend({ locationId: z.string().optional() }) } }, async (req) => {
    if (req.principal.role === 'guest') throw forbidden('guests cannot list spaces');
    let q = db.selectFrom('spaces').selectAll().where('organisationId', '=', organisationOf(req.principal, req.query.organisationId));
    if (req.query.locationId) q = q.where('locationId', '=', req.query.locationId);
    const rows = await q.orderBy('name').limit(req.query.limit).offset(req.query.offset).execute();
    return { results: rows.map(spaceView) };
  });
  api.get('/v1/spaces/:id', { schema: { tags: ['spaces'], security: bearer, params: idParams } }, async (req) => {
    requireRole(req.principal, 'host');
    return spaceView(await loadSpace(req.principal, req.params.id));
  });
  api.post('/v1/spaces', { schema: { tags: ['spaces'], security: bearer, body: spaceBody } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const organisationId = organisationOf(req.principal, req.body.organisationId);
    const loc = await db.selectFrom('locations').select('id').where('id', '=', req.body.locationId).where('organisationId', '=', organisationId).executeTakeFirst();
    if (!loc) throw badRequest('locationId', `location ${req.body.locationId} does not exist in this organisation; create one with POST /v1/locations`);
    const row: Row<'spaces'> = {
      id: newId('sp'),
      organisationId,
      locationId: loc.id,
      name: req.body.name,
      kind: req.body.kind,
      bufferBeforeMinutes: req.body.bufferBeforeMinutes ?? null,
      bufferAfterMinutes: req.body.bufferAfterMinutes ?? null,
      createdAt: Date.now(),
    };
    await db.insertInto('spaces').values(row).execute();
    return reply.status(201).send(spaceView(row));
  });
  api.patch('/v1/spaces/:id', { schema: { tags: ['spaces'], security: bearer, params: idParams, body: spaceBody.partial().omit({ organisationId: true, locationId: true }) } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const space = await loadSpace(req.principal, req.params.id);
    const patch: Partial<Row<'spaces'>> = {};
    for (const key of ['name', 'kind', 'bufferBeforeMinutes', 'bufferAfterMinutes'] as const) {
      if (req.body[key] !== undefined) (patch as Record<string, unknown>)[key] = req.body[key];
    }
    if (Object.keys(patch).length === 0) throw badRequest('body', 'nothing to change; send name, kind, bufferBeforeMinutes or bufferAfterMinutes');
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('spaces').set(patch).where('id', '=', space.id).execute();
      await writeAudit(trx, { organisationId: space.organisationId, actor: req.principal.keyId, action: 'space.updated', subjectType: 'space', subjectId: space.id, details: patch });
      if ('bufferBeforeMinutes' in patch || 'bufferAfterMinutes' in patch) await app.changes.organisation(space.organisationId, trx);
    });
    app.engine.wake();
    return spaceView({ ...space, ...patch });
  });
  api.delete('/v1/spaces/:id', { schema: { tags: ['spaces'], security: bearer, params: idParams } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const space = await loadSpace(req.principal, req.params.id);
    const booking = await db.selectFrom('bookings').select('id').where('spaceId', '=', space.id).executeTakeFirst();
    if (booking) throw conflict(`space ${space.id} has bookings (e.g. ${booking.id}); it is kept for their history`);
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('spaces').where('id', '=', space.id).execute();
      // Trigger rules name their scope without a foreign key (a space or an integration): remove by hand.
      await trx.deleteFrom('triggerRules').where('scopeType', '=', 'space').where('scopeId', '=', space.id).execute();
      await writeAudit(trx, { organisationId: space.organisationId, actor: req.principal.keyId, action: 'space.deleted', subjectType: 'space', subjectId: space.id });
      await app.changes.organisation(space.organisationId, trx);
    });
    app.engine.wake();
    return reply.status(204).send();
  });
};
