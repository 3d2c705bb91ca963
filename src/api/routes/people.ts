/**
 * People (guests, members, hosts) and companies. A person's access follows from their bookings,
 * invitations and subscriptions; company membership changes re-evaluate the member.
 */
import { z } from 'zod';
import type { Row } from '../../store/schema.js';
import type { RouteModule } from '../types.js';
import { findOrCreatePerson } from '../../commands/people.js';
export { findOrCreatePerson };
import { bearer, idParams, iso, listQuery } from '../types.js';
import { findOwned, organisationForWrite, organisationOf, requireRole, type Principal } from '../auth.js';
import { badRequest, conflict } from '../errors.js';
import { newId } from '../../store/ids.js';
import { writeAudit } from '../../store/audit.js';

export const personRef = z.object({ name: z.string().trim().min(1).max(200), email: z.email().max(320) }).strict();

const personBody = z
  .object({
    organisationId: z.string().optional(),
    name: z.string().trim().min(1, 'must not be empty').max(200),
    email: z.email('must be an e-mail address like guest@example.com').max(320).optional(),
    phone: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'must be in international E.164 form, e.g. +447700900123')
      .optional(),
    externalIds: z.record(z.string(), z.string().max(200)).default({}),
  })
  .strict();

const companyBody = z.object({ organisationId: z.string().optional(), name: z.string().trim().min(1).max(200) }).strict();


export function personView(p: Row<'people'>) {
  return { id: p.id, organisationId: p.organisationId, name: p.name, email: p.email, phone: p.phone, externalIds: JSON.parse(p.externalIds), createdAt: iso(p.createdAt) };
}

export const peopleRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  const loadPerson = (principal: Principal, id: string) => findOwned(db, 'people', principal, id, 'person');

  api.get('/v1/people', { schema: { tags: ['people'], security: bearer, querystring: listQuery.extend({ email: z.string().optional() }) } }, async (req) => {
    requireRole(req.principal, 'host');
    let q = db.selectFrom('people').selectAll().where('organisationId', '=', organisationOf(req.principal, req.query.organisationId));
    if (req.query.email) q = q.where('email', '=', req.query.email.toLowerCase());
    const rows = await q.orderBy('name').limit(req.query.limit).offset(req.query.offset).execute();
    return { results: rows.map(personView) };
  });

  api.get('/v1/people/:id', { schema: { tags: ['people'], security: bearer, params: idParams } }, async (req) => {
    requireRole(req.principal, 'host');
    return personView(await loadPerson(req.principal, req.params.id));
  });

  api.post('/v1/people', { schema: { tags: ['people'], security: bearer, body: personBody } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const organisationId = await organisationForWrite(db, req.principal, req.body.organisationId);
    const email = req.body.email?.toLowerCase() ?? null;
    if (email) {
      const clash = await db.selectFrom('people').select('id').where('organisationId', '=', organisationId).where('email', '=', email).executeTakeFirst();
      if (clash) throw conflict(`a person with e-mail ${email} already exists (${clash.id}); use that id or PATCH it`);
    }
    const row: Row<'people'> = {
      id: newId('per'),
      organisationId,
      name: req.body.name,
      email,
      phone: req.body.phone ?? null,
      externalIds: JSON.stringify(req.body.externalIds),
      createdAt: Date.now(),
    };
    await db.insertInto('people').values(row).execute();
    return reply.status(201).send(personView(row));
  });

  api.patch('/v1/people/:id', { schema: { tags: ['people'], security: bearer, params: idParams, body: personBody.partial().omit({ organisationId: true }) } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const person = await loadPerson(req.principal, req.params.id);
    const patch: Partial<Row<'people'>> = {};
    if (req.body.name !== undefined) patch.name = req.body.name;
    if (req.body.email !== undefined) patch.email = req.body.email.toLowerCase();
    if (req.body.phone !== undefined) patch.phone = req.body.phone;
    if (req.body.externalIds !== undefined) patch.externalIds = JSON.stringify(req.body.externalIds);
    if (Object.keys(patch).length === 0) throw badRequest('body', 'nothing to change; send at least one of name, email, phone, externalIds');
    await db.updateTable('people').set(patch).where('id', '=', person.id).execute();
    // Name/e-mail travel to providers (outside privacy mode): re-sync so they stay current.
    await app.changes.people(person.organisationId, [person.id]);
    return personView({ ...person, ...patch });
  });

  api.delete('/v1/people/:id', { schema: { tags: ['people'], security: bearer, params: idParams } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const person = await loadPerson(req.principal, req.params.id);
    const [booking, invite, subscription, held] = await Promise.all([
      db.selectFrom('bookings').select('id').where('organiserId', '=', person.id).executeTakeFirst(),
      db.selectFrom('bookingInvitees').select('bookingId').where('personId', '=', person.id).executeTakeFirst(),
      db.selectFrom('subscriptions').select('id').where('personId', '=', person.id).executeTakeFirst(),
      db.selectFrom('providerUsers').select('integrationId').where('personId', '=', person.id).executeTakeFirst(),
    ]);
    if (booking || invite || subscription || held) {
      throw conflict(`person ${person.id} still has bookings, subscriptions or provider access; cancel those first so their access is revoked, then delete`);
    }
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('people').where('id', '=', person.id).execute();
      await writeAudit(trx, { organisationId: person.organisationId, actor: req.principal.keyId, action: 'person.deleted', subjectType: 'person', subjectId: person.id });
    });
    return reply.status(204).send();
  });

  // Companies ------------------------------------------------------------------------------------

  const loadCompany = (principal: Principal, id: string) => findOwned(db, 'companies', principal, id, 'company');
  const companyView = async (c: Row<'companies'>) => ({
    id: c.id,
    organisationId: c.organisationId,
    name: c.name,
    memberIds: (await db.selectFrom('companyMembers').select('personId').where('companyId', '=', c.id).execute()).map((m) => m.personId),
    createdAt: iso(c.createdAt),
  });

  api.get('/v1/companies', { schema: { tags: ['companies'], security: bearer, querystring: listQuery } }, async (req) => {
    requireRole(req.principal, 'host');
    const rows = await db.selectFrom('companies').selectAll().where('organisationId', '=', organisationOf(req.principal, req.query.organisationId)).orderBy('name').limit(req.query.limit).offset(req.query.offset).execute();
    return { results: await Promise.all(rows.map(companyView)) };
  });

  api.get('/v1/companies/:id', { schema: { tags: ['companies'], security: bearer, params: idParams } }, async (req) => {
    requireRole(req.principal, 'host');
    return companyView(await loadCompany(req.principal, req.params.id));
  });

  api.post('/v1/companies', { schema: { tags: ['companies'], security: bearer, body: companyBody } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const row = { id: newId('co'), organisationId: await organisationForWrite(db, req.principal, req.body.organisationId), name: req.body.name, createdAt: Date.now() };
    await db.insertInto('companies').values(row).execute();
    return reply.status(201).send(await companyView(row));
  });

  api.patch('/v1/companies/:id', { schema: { tags: ['companies'], security: bearer, params: idParams, body: companyBody.omit({ organisationId: true }) } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const company = await loadCompany(req.principal, req.params.id);
    await db.updateTable('companies').set({ name: req.body.name }).where('id', '=', company.id).execute();
    return companyView({ ...company, name: req.body.name });
  });

  api.delete('/v1/companies/:id', { schema: { tags: ['companies'], security: bearer, params: idParams } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const company = await loadCompany(req.principal, req.params.id);
    const sub = await db.selectFrom('subscriptions').select('id').where('companyId', '=', company.id).executeTakeFirst();
    if (sub) throw conflict(`company ${company.id} has subscriptions (e.g. ${sub.id}); cancel and delete them first`);
    await db.deleteFrom('companies').where('id', '=', company.id).execute();
    return reply.status(204).send();
  });

  const memberParams = z.object({ id: z.string(), personId: z.string() });
  api.put('/v1/companies/:id/members/:personId', { schema: { tags: ['companies'], security: bearer, params: memberParams, summary: 'Add a member; they get the company subscriptions' } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const company = await loadCompany(req.principal, req.params.id);
    const person = await loadPerson(req.principal, req.params.personId);
    if (person.organisationId !== company.organisationId) throw badRequest('personId', 'person belongs to another organisation');
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('companyMembers').values({ companyId: company.id, personId: person.id }).onConflict((oc) => oc.doNothing()).execute();
      await writeAudit(trx, { organisationId: company.organisationId, actor: req.principal.keyId, action: 'company.member-added', subjectType: 'company', subjectId: company.id, details: { personId: person.id } });
      await app.changes.people(company.organisationId, [person.id], trx);
    });
    app.engine.wake();
    return reply.status(200).send(await companyView(company));
  });

  api.delete('/v1/companies/:id/members/:personId', { schema: { tags: ['companies'], security: bearer, params: memberParams, summary: 'Remove a member; access from company subscriptions is revoked' } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const company = await loadCompany(req.principal, req.params.id);
    // The person is checked like on PUT: another organisation's person id is a 404, and writes nothing.
    const person = await loadPerson(req.principal, req.params.personId);
    if (person.organisationId !== company.organisationId) throw badRequest('personId', 'person belongs to another organisation');
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('companyMembers').where('companyId', '=', company.id).where('personId', '=', person.id).execute();
      await writeAudit(trx, { organisationId: company.organisationId, actor: req.principal.keyId, action: 'company.member-removed', subjectType: 'company', subjectId: company.id, details: { personId: person.id } });
      await app.changes.people(company.organisationId, [person.id], trx);
    });
    app.engine.wake();
    return companyView(company);
  });
};
