/**
 * Bookings: the main input. Writes only change desired state (and queue the people concerned);
 * the engine turns that into provider calls. Each write is one transaction, so a rejected request
 * leaves nothing half-written.
 */
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database, Row } from '../../store/schema.js';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso, listQuery } from '../types.js';
import { assertSameOrganisation, organisationOf, requireRole, type Principal } from '../auth.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { readWindow } from '../time-input.js';
import { newId } from '../../store/ids.js';
import { formatLocal } from '../../domain/time.js';
import { bookingAccessStatus } from '../../engine/status.js';
import { findOrCreatePerson, personRef } from './people.js';
import { bookingInvitees, cancelBooking, createBooking, updateBooking } from '../../commands/bookings.js';
import { paidBookings, setPaid } from '../../store/triggers.js';

const minutes = z.number().int().min(0).max(24 * 60);

const timeFields = {
  start: z.string().optional().describe('ISO-8601 instant with UTC offset, e.g. 2026-12-01T09:00:00+01:00'),
  end: z.string().optional(),
  startLocal: z.string().optional().describe('Wall-clock time in the location time zone, e.g. 2026-12-01T09:00'),
  endLocal: z.string().optional(),
};

const createBody = z
  .object({
    organisationId: z.string().optional(),
    spaceId: z.string().min(1),
    organiserId: z.string().optional(),
    organiser: personRef.optional().describe('Find-or-create the organiser by e-mail instead of giving organiserId'),
    inviteeIds: z.array(z.string()).max(500).default([]),
    invitees: z.array(personRef).max(500).default([]),
    ...timeFields,
    bumpInMinutes: minutes.default(0),
    bumpOutMinutes: minutes.default(0),
    status: z.enum(['pending', 'confirmed', 'cancelled']).default('confirmed'),
    title: z.string().max(200).optional(),
    source: z.string().min(1).max(40).default('api'),
    externalId: z.string().min(1).max(200).optional(),
    paid: z.boolean().default(false).describe("Paid already; with the 'on-payment' trigger access is issued only once a booking is paid"),
  })
  .strict();

const updateBody = z
  .object({
    spaceId: z.string().min(1).optional(),
    organiserId: z.string().optional(),
    inviteeIds: z.array(z.string()).max(500).optional(),
    invitees: z.array(personRef).max(500).optional(),
    ...timeFields,
    bumpInMinutes: minutes.optional(),
    bumpOutMinutes: minutes.optional(),
    status: z.enum(['pending', 'confirmed', 'cancelled']).optional(),
    title: z.string().max(200).nullable().optional(),
    paid: z.boolean().optional().describe("Mark paid (true) or unpaid (false); the 'on-payment' trigger issues access once paid"),
  })
  .strict();

const bookingsQuery = listQuery.extend({
  spaceId: z.string().optional(),
  personId: z.string().optional(),
  status: z.enum(['pending', 'confirmed', 'cancelled']).optional(),
  from: z.string().optional().describe('Only bookings ending after this instant'),
});

export const bookingRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  api.get('/v1/bookings', { schema: { tags: ['bookings'], security: bearer, querystring: bookingsQuery } }, async (req) => {
    const p = req.principal;
    let q = db.selectFrom('bookings').selectAll('bookings');
    if (p.role === 'guest') {
      q = q.where((eb) =>
        eb.or([
          eb('organiserId', '=', p.personId!),
          eb('id', 'in', eb.selectFrom('bookingInvitees').select('bookingId').where('personId', '=', p.personId!)),
        ]),
      );
    } else {
      q = q.where('organisationId', '=', organisationOf(p, req.query.organisationId));
    }
    if (req.query.spaceId) q = q.where('spaceId', '=', req.query.spaceId);
    if (req.query.status) q = q.where('status', '=', req.query.status);
    if (req.query.personId) {
      const pid = req.query.personId;
      q = q.where((eb) => eb.or([eb('organiserId', '=', pid), eb('id', 'in', eb.selectFrom('bookingInvitees').select('bookingId').where('personId', '=', pid))]));
    }
    if (req.query.from) {
      const from = Date.parse(req.query.from);
      if (Number.isNaN(from)) throw badRequest('querystring.from', 'must be an ISO-8601 instant');
      q = q.where('endsAt', '>', from);
    }
    const rows = await q.orderBy('startsAt').limit(req.query.limit).offset(req.query.offset).execute();
    return { results: await Promise.all(rows.map((b) => bookingView(db, b))) };
  });

  api.get('/v1/bookings/:id', { schema: { tags: ['bookings'], security: bearer, params: idParams } }, async (req) => {
    const booking = await visibleBooking(db, req.principal, req.params.id);
    return bookingView(db, booking);
  });

  api.get('/v1/bookings/:id/sync', { schema: { tags: ['bookings'], security: bearer, params: idParams, summary: 'Access sync status per person and access target' } }, async (req) => {
    const booking = await visibleBooking(db, req.principal, req.params.id);
    return { bookingId: booking.id, ...(await bookingAccessStatus(db, booking, Date.now())) };
  });

  api.post('/v1/bookings', { schema: { tags: ['bookings'], security: bearer, body: createBody } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const body = req.body;
    const organisationId = organisationOf(req.principal, body.organisationId);
    if (!body.organiserId === !body.organiser) throw badRequest('organiserId', 'give exactly one of organiserId or organiser {name, email}');
    const space = await spaceWithZone(db, organisationId, body.spaceId, 'spaceId', body.organiserId);
    const window = readWindow(body, space.timeZone);
    if (body.externalId) {
      const clash = await db
        .selectFrom('bookings')
        .select('id')
        .where('organisationId', '=', organisationId)
        .where('source', '=', body.source)
        .where('externalId', '=', body.externalId)
        .executeTakeFirst();
      if (clash) throw conflict(`a booking from source "${body.source}" with externalId "${body.externalId}" already exists (${clash.id}); PATCH /v1/bookings/${clash.id} to change it`);
    }
    const id = newId('bk');
    const now = Date.now();
    const booking = await db.transaction().execute(async (trx) => {
      const organiserId = body.organiserId
        ? foundOrganiser(space, body.organiserId)
        : await findOrCreatePerson(trx, organisationId, body.organiser!);
      const inviteeIds = await resolveInvitees(trx, organisationId, body.inviteeIds, body.invitees);
      const row: Row<'bookings'> = {
        id,
        organisationId,
        spaceId: space.id,
        organiserId,
        title: body.title ?? null,
        status: body.status,
        startsAt: window.startsAt,
        endsAt: window.endsAt!,
        bumpInMinutes: body.bumpInMinutes,
        bumpOutMinutes: body.bumpOutMinutes,
        source: body.source,
        externalId: body.externalId ?? null,
        sourceVersion: 0,
        createdAt: now,
        updatedAt: now,
      };
      const invitees = inviteeIds.filter((p) => p !== organiserId);
      await createBooking(trx, app.changes, row, invitees, { actor: req.principal.keyId, details: { status: row.status, from: iso(row.startsAt), until: iso(row.endsAt), spaceId: row.spaceId } });
      if (body.paid) await setPaid(trx, id, true);
      return { row, invitees };
    });
    app.engine.wake();
    return reply.status(201).send(await bookingView(db, booking.row, { inviteeIds: booking.invitees, space, paid: body.paid === true }));
  });

  api.patch('/v1/bookings/:id', { schema: { tags: ['bookings'], security: bearer, params: idParams, body: updateBody } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const before = await visibleBooking(db, req.principal, req.params.id);
    const body = req.body;
    const organisationId = before.organisationId;
    const space = await spaceWithZone(db, organisationId, body.spaceId ?? before.spaceId, 'spaceId', body.organiserId);
    const timesGiven = [body.start, body.end, body.startLocal, body.endLocal].some((v) => v !== undefined);
    let startsAt = before.startsAt;
    let endsAt = before.endsAt;
    if (timesGiven) {
      // A partial move (only end, say) keeps the other end where it was.
      const merged = {
        start: body.start ?? (body.startLocal === undefined && body.endLocal === undefined ? iso(before.startsAt)! : undefined),
        end: body.end ?? (body.startLocal === undefined && body.endLocal === undefined ? iso(before.endsAt)! : undefined),
        startLocal: body.startLocal ?? (body.endLocal !== undefined ? formatLocal(before.startsAt, space.timeZone).slice(0, 19) : undefined),
        endLocal: body.endLocal ?? (body.startLocal !== undefined ? formatLocal(before.endsAt, space.timeZone).slice(0, 19) : undefined),
      };
      const w = readWindow(merged, space.timeZone);
      startsAt = w.startsAt;
      endsAt = w.endsAt!;
    }
    const updated = await db.transaction().execute(async (trx) => {
      const organiserId = body.organiserId ? foundOrganiser(space, body.organiserId) : before.organiserId;
      const oldInvitees = await bookingInvitees(trx, before.id);
      // The organiser is never their own invitee: not when the invitees change, nor when an invitee
      // becomes the organiser and the invitees are kept.
      const invitees = body.inviteeIds !== undefined || body.invitees !== undefined ? (await resolveInvitees(trx, organisationId, body.inviteeIds ?? [], body.invitees ?? [])).filter((p) => p !== organiserId) : oldInvitees.filter((p) => p !== organiserId);
      const row: Row<'bookings'> = {
        ...before,
        spaceId: space.id,
        organiserId,
        startsAt,
        endsAt,
        bumpInMinutes: body.bumpInMinutes ?? before.bumpInMinutes,
        bumpOutMinutes: body.bumpOutMinutes ?? before.bumpOutMinutes,
        status: body.status ?? before.status,
        title: body.title === undefined ? before.title : body.title,
        sourceVersion: before.sourceVersion + 1,
        updatedAt: Date.now(),
      };
      await updateBooking(
        trx,
        app.changes,
        { booking: before, inviteeIds: oldInvitees },
        { fields: row, inviteeIds: invitees },
        {
          actor: req.principal.keyId,
          action: row.status === 'cancelled' && before.status !== 'cancelled' ? 'booking.cancelled' : 'booking.updated',
          details: { changed: Object.keys(body), from: iso(row.startsAt), until: iso(row.endsAt), status: row.status },
        },
      );
      if (body.paid !== undefined) await setPaid(trx, before.id, body.paid);
      return row;
    });
    app.engine.wake();
    return bookingView(db, updated);
  });

  const cancel = async (req: { principal: Principal; params: { id: string } }) => {
    requireRole(req.principal, 'team-admin');
    const before = await visibleBooking(db, req.principal, req.params.id);
    if (before.status === 'cancelled') return bookingView(db, before);
    const change = { status: 'cancelled' as const, updatedAt: Date.now(), sourceVersion: before.sourceVersion + 1 };
    await db.transaction().execute((trx) => cancelBooking(trx, app.changes, before, { actor: req.principal.keyId, sourceVersion: change.sourceVersion, now: change.updatedAt }));
    app.engine.wake();
    return bookingView(db, { ...before, ...change });
  };
  api.post('/v1/bookings/:id/cancel', { schema: { tags: ['bookings'], security: bearer, params: idParams, summary: 'Cancel a booking; its access is revoked' } }, cancel);
  api.delete('/v1/bookings/:id', { schema: { tags: ['bookings'], security: bearer, params: idParams, summary: 'Same as cancel: the record is kept for the audit trail' } }, cancel);
};

async function visibleBooking(db: Kysely<Database>, p: Principal, id: string): Promise<Row<'bookings'>> {
  const booking = await db.selectFrom('bookings').selectAll().where('id', '=', id).executeTakeFirst();
  if (!booking) throw notFound('booking', id);
  if (p.role === 'guest') {
    const invited = await db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', id).where('personId', '=', p.personId!).executeTakeFirst();
    if (booking.organiserId !== p.personId && !invited) throw notFound('booking', id);
  } else {
    assertSameOrganisation(p, booking.organisationId, 'booking', id);
  }
  return booking;
}

/**
 * The space a booking names, with its location's time zone. Given `organiserId`, the same round
 * trip also says whether that person is in the organisation (`organiserFound`), so a write checks
 * both in one statement.
 */
async function spaceWithZone(db: Kysely<Database>, organisationId: string, spaceId: string, field: string, organiserId?: string) {
  const space = await db
    .selectFrom('spaces')
    .innerJoin('locations', 'locations.id', 'spaces.locationId')
    .select(['spaces.id', 'spaces.name', 'locations.timeZone'])
    .select((eb) =>
      eb
        .selectFrom('people')
        .select('people.id')
        .where('people.id', '=', organiserId ?? '')
        .where('people.organisationId', '=', organisationId)
        .as('organiserFound'),
    )
    .where('spaces.id', '=', spaceId)
    .where('spaces.organisationId', '=', organisationId)
    .executeTakeFirst();
  if (!space) throw badRequest(field, `space ${spaceId} does not exist in this organisation; list spaces with GET /v1/spaces`);
  return space;
}

/** The organiser `spaceWithZone` looked up, or the same 400 as `personInOrg`. */
function foundOrganiser(space: { organiserFound: string | null }, personId: string): string {
  if (space.organiserFound === null) throw missingPerson('organiserId', personId);
  return space.organiserFound;
}

const missingPerson = (field: string, personId: string) => badRequest(field, `person ${personId} does not exist in this organisation; create them with POST /v1/people`);

async function personInOrg(db: Kysely<Database>, organisationId: string, personId: string, field: string) {
  const person = await db.selectFrom('people').select('id').where('id', '=', personId).where('organisationId', '=', organisationId).executeTakeFirst();
  if (!person) throw missingPerson(field, personId);
  return person;
}

async function resolveInvitees(db: Kysely<Database>, organisationId: string, ids: string[], refs: z.infer<typeof personRef>[]): Promise<string[]> {
  const out: string[] = [];
  for (const [i, id] of ids.entries()) out.push((await personInOrg(db, organisationId, id, `inviteeIds.${i}`)).id);
  for (const ref of refs) out.push(await findOrCreatePerson(db, organisationId, ref));
  return [...new Set(out)];
}

/**
 * What a writer already holds: the booking it just wrote in this request, so its answer needs no
 * second read of the same rows (three statements of a booking write's thirteen, on the hot path).
 */
export interface KnownBookingParts {
  inviteeIds: string[];
  space: { name: string; timeZone: string };
  paid: boolean;
}

export async function bookingView(db: Kysely<Database>, b: Row<'bookings'>, known?: KnownBookingParts) {
  const [inviteeIds, space, paid] = known
    ? [known.inviteeIds, known.space, known.paid]
    : await Promise.all([
        db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', b.id).execute().then((rows) => rows.map((r) => r.personId)),
        db
          .selectFrom('spaces')
          .innerJoin('locations', 'locations.id', 'spaces.locationId')
          .select(['spaces.name', 'locations.timeZone'])
          .where('spaces.id', '=', b.spaceId)
          .executeTakeFirst(),
        paidBookings(db, [b.id]).then((set) => set.has(b.id)),
      ]);
  const zone = space?.timeZone ?? 'UTC';
  return {
    id: b.id,
    organisationId: b.organisationId,
    spaceId: b.spaceId,
    spaceName: space?.name ?? null,
    title: b.title,
    status: b.status,
    start: iso(b.startsAt),
    end: iso(b.endsAt),
    startLocal: formatLocal(b.startsAt, zone),
    endLocal: formatLocal(b.endsAt, zone),
    timeZone: zone,
    bumpInMinutes: b.bumpInMinutes,
    bumpOutMinutes: b.bumpOutMinutes,
    organiserId: b.organiserId,
    inviteeIds,
    source: b.source,
    externalId: b.externalId,
    version: b.sourceVersion,
    paid,
    createdAt: iso(b.createdAt),
    updatedAt: iso(b.updatedAt),
  };
}

