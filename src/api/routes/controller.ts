/**
 * For site-side controllers (integration API, out): a space's bookings for one local day with the
 * organiser's and attendees' e-mails, and the e-mail → access card number store, so a controller can
 * match the card presented at the door to a booking.
 *
 * Card numbers are sealed at rest (SecretBox), looked up for uniqueness through a keyed hash, and never
 * written to a log, an error or the audit log.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso, listQuery } from '../types.js';
import { findOwned, organisationForWrite, organisationOf, requireRole } from '../auth.js';
import { ApiError, badRequest, conflict, notFound } from '../errors.js';
import { writeAudit } from '../../store/audit.js';
import { formatLocal } from '../../domain/time.js';
import type { SecretBox } from '../../security/crypto.js';

const email = z.string().trim().toLowerCase().email('must be an e-mail address').max(254);
const cardNumber = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[0-9A-Za-z:._-]+$/, 'may contain only letters, digits and : . _ -');

const cardParams = z.object({ email });
const orgQuery = z.object({ organisationId: z.string().optional().describe('Platform-admin keys: which organisation') });
const putCardBody = z.object({ organisationId: z.string().optional(), cardNumber, label: z.string().trim().max(100).nullable().optional() }).strict();

const dailyQuery = z.object({
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-03-29')
    .describe("The day, in the location's time zone (YYYY-MM-DD)"),
  includeCancelled: z.enum(['true', 'false']).default('false').describe('Also list cancelled bookings'),
});

const cardHash = (secrets: SecretBox, organisationId: string, card: string) => secrets.keyedHash(`${organisationId}\u0001${card}`, 'access-card');

/** Card numbers by lower-case e-mail for these addresses in one organisation. */
async function cardsFor(db: Kysely<Database>, secrets: SecretBox, organisationId: string, emails: string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(emails.map((e) => e.toLowerCase()))];
  if (wanted.length === 0) return new Map();
  const rows = await db.selectFrom('accessCards').select(['email', 'cardSealed']).where('organisationId', '=', organisationId).where('email', 'in', wanted).execute();
  return new Map(rows.map((r) => [r.email, secrets.open(r.cardSealed)]));
}

export const controllerRoutes: RouteModule = (api, app) => {
  const db = app.store.db;
  const secrets = app.secrets;

  api.get(
    '/v1/spaces/:id/bookings',
    {
      schema: {
        tags: ['integration API'],
        security: bearer,
        params: idParams,
        querystring: dailyQuery,
        summary: "A space's bookings on one local day, with organiser and attendee e-mails and card numbers (host or higher)",
      },
    },
    async (req) => {
      requireRole(req.principal, 'host');
      const space = await findOwned(db, 'spaces', req.principal, req.params.id, 'space');
      const location = await db.selectFrom('locations').select('timeZone').where('id', '=', space.locationId).executeTakeFirstOrThrow();
      const zone = location.timeZone;
      const day = DateTime.fromISO(req.query.date, { zone });
      if (!day.isValid) throw badRequest('querystring.date', `${req.query.date} is not a calendar date`);
      const from = day.startOf('day');
      const until = from.plus({ days: 1 }).startOf('day');
      let q = db
        .selectFrom('bookings')
        .selectAll()
        .where('spaceId', '=', space.id)
        .where('startsAt', '<', until.toMillis())
        .where('endsAt', '>', from.toMillis());
      if (req.query.includeCancelled !== 'true') q = q.where('status', '!=', 'cancelled');
      const bookings = await q.orderBy('startsAt').orderBy('id').limit(1000).execute();
      const ids = bookings.map((b) => b.id);
      const invitees = ids.length ? await db.selectFrom('bookingInvitees').select(['bookingId', 'personId']).where('bookingId', 'in', ids).execute() : [];
      const personIds = [...new Set([...bookings.map((b) => b.organiserId), ...invitees.map((i) => i.personId)])];
      const people = personIds.length ? await db.selectFrom('people').select(['id', 'name', 'email']).where('id', 'in', personIds).execute() : [];
      const personById = new Map(people.map((p) => [p.id, p]));
      const cards = await cardsFor(db, secrets, space.organisationId, people.flatMap((p) => (p.email ? [p.email] : [])));
      const person = (id: string) => {
        const p = personById.get(id);
        const mail = p?.email ?? null;
        return { personId: id, name: p?.name ?? null, email: mail, cardNumber: mail ? (cards.get(mail.toLowerCase()) ?? null) : null };
      };
      return {
        spaceId: space.id,
        spaceName: space.name,
        date: req.query.date,
        timeZone: zone,
        from: from.toISO(),
        until: until.toISO(),
        bookings: bookings.map((b) => ({
          id: b.id,
          status: b.status,
          title: b.title,
          start: iso(b.startsAt),
          end: iso(b.endsAt),
          startLocal: formatLocal(b.startsAt, zone),
          endLocal: formatLocal(b.endsAt, zone),
          version: b.sourceVersion,
          organiser: person(b.organiserId),
          attendees: invitees.filter((i) => i.bookingId === b.id).map((i) => person(i.personId)),
        })),
      };
    },
  );

  // Card store -----------------------------------------------------------------------------------

  api.get('/v1/cards', { schema: { tags: ['integration API'], security: bearer, querystring: listQuery, summary: 'E-mail → card number mappings (team admin)' } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const organisationId = organisationOf(req.principal, req.query.organisationId);
    const rows = await db.selectFrom('accessCards').selectAll().where('organisationId', '=', organisationId).orderBy('email').limit(req.query.limit).offset(req.query.offset).execute();
    return { results: rows.map((r) => ({ email: r.email, cardNumber: secrets.open(r.cardSealed), label: r.label, updatedAt: iso(r.updatedAt) })) };
  });

  api.get('/v1/cards/:email', { schema: { tags: ['integration API'], security: bearer, params: cardParams, querystring: orgQuery } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const organisationId = organisationOf(req.principal, req.query.organisationId);
    const row = await db.selectFrom('accessCards').selectAll().where('organisationId', '=', organisationId).where('email', '=', req.params.email).executeTakeFirst();
    if (!row) throw new ApiError(404, 'not_found', `no card is stored for ${req.params.email}; add one with PUT /v1/cards/{email}`);
    return { email: row.email, cardNumber: secrets.open(row.cardSealed), label: row.label, updatedAt: iso(row.updatedAt) };
  });

  api.put(
    '/v1/cards/:email',
    { schema: { tags: ['integration API'], security: bearer, params: cardParams, body: putCardBody, summary: "Set the card number for an e-mail (replaces any earlier one)" } },
    async (req) => {
      requireRole(req.principal, 'team-admin');
      const organisationId = await organisationForWrite(db, req.principal, req.body.organisationId);
      const mail = req.params.email;
      const hash = cardHash(secrets, organisationId, req.body.cardNumber);
      const holder = await db.selectFrom('accessCards').select('email').where('organisationId', '=', organisationId).where('cardHash', '=', hash).executeTakeFirst();
      if (holder && holder.email !== mail) throw conflict(`this card number is already mapped to ${holder.email}; DELETE /v1/cards/${holder.email} first`);
      const now = Date.now();
      const existing = await db.selectFrom('accessCards').select('createdAt').where('organisationId', '=', organisationId).where('email', '=', mail).executeTakeFirst();
      const values = { cardSealed: secrets.seal(req.body.cardNumber), cardHash: hash, label: req.body.label ?? null, updatedAt: now };
      await db.transaction().execute(async (trx) => {
        if (existing) await trx.updateTable('accessCards').set(values).where('organisationId', '=', organisationId).where('email', '=', mail).execute();
        else await trx.insertInto('accessCards').values({ organisationId, email: mail, ...values, createdAt: now }).execute();
        await writeAudit(trx, { organisationId, actor: req.principal.keyId, action: existing ? 'card.replaced' : 'card.added', subjectType: 'card', subjectId: mail });
      });
      return { email: mail, cardNumber: req.body.cardNumber, label: values.label, updatedAt: iso(now) };
    },
  );

  api.delete('/v1/cards/:email', { schema: { tags: ['integration API'], security: bearer, params: cardParams, querystring: orgQuery } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const organisationId = organisationOf(req.principal, req.query.organisationId);
    const gone = await db.transaction().execute(async (trx) => {
      const res = await trx.deleteFrom('accessCards').where('organisationId', '=', organisationId).where('email', '=', req.params.email).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) return false;
      await writeAudit(trx, { organisationId, actor: req.principal.keyId, action: 'card.removed', subjectType: 'card', subjectId: req.params.email });
      return true;
    });
    if (!gone) throw notFound('card for', req.params.email);
    return reply.status(204).send();
  });
};
