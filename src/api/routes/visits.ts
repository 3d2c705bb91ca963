/**
 * Visitor check-in/out.
 *
 * GET  /v1/me/visits             a guest's own visits with their registration code and QR code
 *                                (the code is shown to the guest only: no other route returns it)
 * GET  /v1/bookings/:id/visits   host+: each person's visit status on a booking (no codes)
 * POST /v1/visits/scan           a scanner (a host, team-admin or platform-admin key — a visitor
 *                                kiosk gets its own host key) posts a code: who it is, the visit's
 *                                status, allow/deny with a reason; check-in and check-out change the
 *                                status (audited).
 *
 * An unknown code, a malformed one and another organisation's code get the same answer (200,
 * allowed: false, reason "unknown-code", visit: null) after the same minimum response time, and every
 * key is limited to LOCKSTEP_SCAN_RATE_PER_MINUTE scans (default 60) so codes cannot be guessed.
 */
import { overLimit, tooMany } from '../limits.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso } from '../types.js';
import { assertSameOrganisation, requireRole } from '../auth.js';
import { ApiError, forbidden, notFound } from '../errors.js';
import { writeAudit } from '../../store/audit.js';
import { formatLocal } from '../../domain/time.js';
import type { Row } from '../../store/schema.js';
import {
  decide,
  ensureVisit,
  formatCode,
  hashCode,
  normaliseCode,
  qrPngDataUrl,
  qrSvg,
  reasonText,
  reportedStatus,
  visitFacts,
  type ScanReason,
} from '../../visits/visits.js';

const scanBody = z
  .object({
    code: z.string().min(1).max(64).describe('The registration code as shown (dash and case optional) or as read from the QR code'),
    action: z.enum(['lookup', 'check-in', 'check-out']).default('lookup').describe('lookup changes nothing; check-in and check-out change the visit status when allowed'),
  })
  .strict();

const visitStatus = z.enum(['expected', 'checked-in', 'checked-out', 'cancelled']);

const scanResponse = z.object({
  allowed: z.boolean(),
  reason: z.string().describe('valid, checked-in, already-checked-in, checked-out, unknown-code, cancelled, not-confirmed, too-early, too-late, already-checked-out, not-checked-in'),
  message: z.string(),
  action: z.enum(['lookup', 'check-in', 'check-out']),
  visit: z
    .object({
      id: z.string(),
      status: visitStatus,
      person: z.object({ id: z.string(), name: z.string(), role: z.enum(['organiser', 'invitee']) }),
      booking: z.object({
        id: z.string(),
        title: z.string().nullable(),
        status: z.string(),
        spaceId: z.string(),
        spaceName: z.string().nullable(),
        start: z.string(),
        end: z.string(),
        startLocal: z.string(),
        endLocal: z.string(),
        timeZone: z.string(),
      }),
      admitFrom: z.string().describe('Entry allowed from (booking start − bump-in − buffer)'),
      admitUntil: z.string(),
      checkedInAt: z.string().nullable(),
      checkedOutAt: z.string().nullable(),
    })
    .nullable()
    .describe('null for an unknown code (or one of another organisation)'),
});

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return n;
}

export const visitRoutes: RouteModule = (api, app) => {
  const db = app.store.db;
  const minResponseMs = intEnv('LOCKSTEP_SCAN_MIN_RESPONSE_MS', 40);

  const place = (spaceId: string) =>
    db
      .selectFrom('spaces')
      .innerJoin('locations', 'locations.id', 'spaces.locationId')
      .select(['spaces.name', 'locations.timeZone'])
      .where('spaces.id', '=', spaceId)
      .executeTakeFirst();

  const bookingSummary = async (b: Row<'bookings'>) => {
    const space = await place(b.spaceId);
    const zone = space?.timeZone ?? 'UTC';
    return {
      id: b.id,
      title: b.title,
      status: b.status,
      spaceId: b.spaceId,
      spaceName: space?.name ?? null,
      start: iso(b.startsAt)!,
      end: iso(b.endsAt)!,
      startLocal: formatLocal(b.startsAt, zone),
      endLocal: formatLocal(b.endsAt, zone),
      timeZone: zone,
    };
  };

  api.post('/v1/visits/scan', {
    schema: {
      tags: ['visits'],
      security: bearer,
      body: scanBody,
      response: { 200: scanResponse },
      summary: 'Scanner: look up, check in or check out a visit by its registration code (host role or higher; rate-limited per key)',
    },
  }, async (req, reply) => {
    const started = Date.now();
    const p = req.principal;
    requireRole(p, 'host');
    // Counted in the store, so the limit holds across API nodes.
    const retryAfter = await overLimit(app, `scan:${p.keyId}`, app.limits.scan);
    if (retryAfter !== null) throw tooMany(retryAfter, `too many scans with this key: at most ${app.limits.scan.limit} a minute`);
    const action = req.body.action;
    const answer = async () => {
      const unknown = { allowed: false, reason: 'unknown-code' as ScanReason, message: reasonText['unknown-code'], action, visit: null };
      // A malformed code is hashed and looked up like any other, so it takes the same path.
      const code = normaliseCode(req.body.code) ?? req.body.code.slice(0, 64);
      const visit = await db.selectFrom('visits').selectAll().where('codeHash', '=', hashCode(app.secrets, code)).executeTakeFirst();
      // Another organisation's code is indistinguishable from an unknown one.
      if (!visit || (p.role !== 'platform-admin' && visit.organisationId !== p.organisationId)) return unknown;
      const booking = await db.selectFrom('bookings').selectAll().where('id', '=', visit.bookingId).executeTakeFirstOrThrow();
      const person = await db.selectFrom('people').select(['id', 'name']).where('id', '=', visit.personId).executeTakeFirstOrThrow();
      const facts = await visitFacts(db, visit, booking);
      const now = Date.now();
      const verdict = decide(action, facts, now);
      let current = visit;
      if (verdict.next) {
        const from = verdict.next === 'checked-in' ? 'expected' : 'checked-in';
        const changes = verdict.next === 'checked-in' ? { status: verdict.next, checkedInAt: now, updatedAt: now } : { status: verdict.next, checkedOutAt: now, updatedAt: now };
        const changed = await db.transaction().execute(async (trx) => {
          // Conditional on the status read: of two kiosks scanning at once, one changes it.
          const res = await trx.updateTable('visits').set(changes).where('id', '=', visit.id).where('status', '=', from).executeTakeFirst();
          if (Number(res.numUpdatedRows) !== 1) return false;
          await writeAudit(trx, {
            organisationId: visit.organisationId,
            actor: p.keyId,
            action: verdict.next === 'checked-in' ? 'visit.checked-in' : 'visit.checked-out',
            subjectType: 'visit',
            subjectId: visit.id,
            details: { bookingId: booking.id, personId: visit.personId, spaceId: booking.spaceId },
          });
          return true;
        });
        current = (await db.selectFrom('visits').selectAll().where('id', '=', visit.id).executeTakeFirstOrThrow());
        if (!changed) {
          // Someone else changed it in between: answer from what it is now.
          const again = decide(action, { ...facts, visitStatus: current.status }, now);
          Object.assign(verdict, { allowed: again.allowed, reason: again.reason });
        }
      } else if (!verdict.allowed && action !== 'lookup') {
        await writeAudit(db, {
          organisationId: visit.organisationId,
          actor: p.keyId,
          action: 'visit.denied',
          subjectType: 'visit',
          subjectId: visit.id,
          reason: verdict.reason,
          details: { bookingId: booking.id, personId: visit.personId, attempted: action },
        });
      }
      return {
        allowed: verdict.allowed,
        reason: verdict.reason,
        message: reasonText[verdict.reason],
        action,
        visit: {
          id: current.id,
          status: reportedStatus({ visitStatus: current.status, cancelled: facts.cancelled }),
          person: { id: person.id, name: person.name, role: booking.organiserId === person.id ? ('organiser' as const) : ('invitee' as const) },
          booking: await bookingSummary(booking),
          admitFrom: iso(facts.opensAt)!,
          admitUntil: iso(facts.closesAt)!,
          checkedInAt: iso(current.checkedInAt),
          checkedOutAt: iso(current.checkedOutAt),
        },
      };
    };
    const result = await answer();
    // Constant-ish time: known and unknown codes answer after the same floor.
    const left = minResponseMs - (Date.now() - started);
    if (left > 0) await sleep(left);
    return result;
  });

  api.get('/v1/me/visits', {
    schema: {
      tags: ['me'],
      security: bearer,
      querystring: z.object({ qr: z.enum(['svg', 'png', 'both', 'none']).default('both').describe('Which QR code renderings to include') }),
      summary: "The guest's visits (recent and upcoming bookings) with their registration code and its QR code",
    },
  }, async (req) => {
    const p = req.principal;
    if (p.role !== 'guest' || !p.personId) throw forbidden('only a guest key (tied to one person) can read its registration codes');
    const personId = p.personId;
    const bookings = await db
      .selectFrom('bookings')
      .selectAll()
      .where('organisationId', '=', p.organisationId!)
      .where('endsAt', '>', Date.now() - 86_400_000)
      .where((eb) => eb.or([eb('organiserId', '=', personId), eb('id', 'in', eb.selectFrom('bookingInvitees').select('bookingId').where('personId', '=', personId))]))
      .orderBy('startsAt')
      .limit(500)
      .execute();
    const results = [];
    for (const b of bookings) {
      // Codes are made for confirmed bookings; a cancelled one shows the code it had, if any.
      let vc: { visit: Row<'visits'>; code: string } | null = null;
      if (b.status === 'confirmed') vc = await ensureVisit(db, app.secrets, b, personId);
      else {
        const v = await db.selectFrom('visits').selectAll().where('bookingId', '=', b.id).where('personId', '=', personId).executeTakeFirst();
        if (v) vc = { visit: v, code: app.secrets.open(v.codeSealed) };
      }
      if (!vc) continue;
      const facts = await visitFacts(db, vc.visit, b);
      const q = req.query.qr;
      results.push({
        visitId: vc.visit.id,
        booking: await bookingSummary(b),
        status: reportedStatus(facts),
        code: formatCode(vc.code),
        admitFrom: iso(facts.opensAt),
        admitUntil: iso(facts.closesAt),
        checkedInAt: iso(vc.visit.checkedInAt),
        checkedOutAt: iso(vc.visit.checkedOutAt),
        qr: {
          content: vc.code,
          svg: q === 'svg' || q === 'both' ? await qrSvg(vc.code) : null,
          pngDataUrl: q === 'png' || q === 'both' ? await qrPngDataUrl(vc.code) : null,
        },
      });
    }
    return { results };
  });

  api.get('/v1/bookings/:id/visits', {
    schema: { tags: ['visits'], security: bearer, params: idParams, summary: "Front desk: each person's visit status on a booking (codes are never shown here)" },
  }, async (req) => {
    requireRole(req.principal, 'host');
    const booking = await db.selectFrom('bookings').selectAll().where('id', '=', req.params.id).executeTakeFirst();
    if (!booking) throw notFound('booking', req.params.id);
    assertSameOrganisation(req.principal, booking.organisationId, 'booking', booking.id);
    const invitees = await db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', booking.id).execute();
    const personIds = [...new Set([booking.organiserId, ...invitees.map((i) => i.personId)])];
    const people = await db.selectFrom('people').select(['id', 'name']).where('id', 'in', personIds).execute();
    const visits = await db.selectFrom('visits').selectAll().where('bookingId', '=', booking.id).execute();
    const cancelled = booking.status === 'cancelled';
    return {
      bookingId: booking.id,
      results: personIds.map((id) => {
        const v = visits.find((x) => x.personId === id);
        return {
          personId: id,
          name: people.find((x) => x.id === id)?.name ?? null,
          visitId: v?.id ?? null,
          codeIssued: !!v,
          status: reportedStatus({ visitStatus: v?.status ?? 'expected', cancelled }),
          checkedInAt: iso(v?.checkedInAt ?? null),
          checkedOutAt: iso(v?.checkedOutAt ?? null),
        };
      }),
    };
  });
};
