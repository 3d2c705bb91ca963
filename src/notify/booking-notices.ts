/**
 * Booking e-mails, level-triggered: for each recently changed booking and each person on it, compare
 * what they were last told (the outbox) with the booking now, and queue the one message that closes the
 * gap — confirmed, moved or cancelled — once the access is on the provider (or the grace has run out).
 */
import type { Row } from '../store/schema.js';
import { bookingAccessStatus, type AccessEntry } from '../engine/status.js';
import type { ScanContext } from './context.js';
import { bookingConfirmed, bookingMoved, bookingRevoked, credentialChanged, type BookingFacts, type DoorAccess, type NotificationKind } from './messages.js';
import { render } from './render.js';
import { spaceDelivery } from '../store/triggers.js';
import { asSms, SMS_PREFIX } from './sms.js';
import { ensureVisit, formatCode, qrPngDataUrl } from '../visits/visits.js';

/** The part of a booking that, when it changes, the guest must hear about. */
export const bookingFingerprint = (b: Row<'bookings'>) => `${b.spaceId}|${b.startsAt}|${b.endsAt}|${b.bumpInMinutes}|${b.bumpOutMinutes}`;

export async function scanBookings(ctx: ScanContext): Promise<number> {
  const recent = await ctx.db
    .selectFrom('bookings')
    .select(['id', 'sourceVersion', 'status'])
    .where('updatedAt', '>=', ctx.now - ctx.lookbackMs)
    .where('status', '!=', 'pending')
    .where('endsAt', '>', ctx.now)
    .execute();
  // A provider-issued code can change without the booking changing (a host asked for a new one):
  // bookings behind recently issued codes are looked at again.
  const issued = await ctx.db
    .selectFrom('providerGrants')
    .select(['reasons', 'createdAt'])
    .where('credentialSealed', 'is not', null)
    .where('createdAt', '>=', ctx.now - ctx.lookbackMs)
    .execute();
  const issuedAt = new Map<string, number>();
  for (const g of issued) {
    for (const reason of JSON.parse(g.reasons) as string[]) {
      if (reason.startsWith('booking:')) issuedAt.set(reason.slice(8), Math.max(issuedAt.get(reason.slice(8)) ?? 0, g.createdAt));
    }
  }
  // A trigger (domain/triggers.ts) can issue access long after the booking last changed (e.g. 24 h
  // before its start): bookings behind recently written grants are looked at again.
  const touched = await ctx.db
    .selectFrom('providerGrants')
    .select('reasons')
    .where('state', '=', 'present')
    .where('updatedAt', '>=', ctx.now - ctx.lookbackMs)
    .execute();
  const touchedIds = new Set<string>();
  for (const g of touched) for (const reason of JSON.parse(g.reasons) as string[]) if (reason.startsWith('booking:')) touchedIds.add(reason.slice(8));
  const recentIds = new Set(recent.map((b) => b.id));
  const missing = [...new Set([...issuedAt.keys(), ...touchedIds])].filter((id) => !recentIds.has(id));
  if (missing.length) {
    recent.push(
      ...(await ctx.db.selectFrom('bookings').select(['id', 'sourceVersion', 'status']).where('id', 'in', missing.slice(0, 1000)).where('status', '!=', 'pending').where('endsAt', '>', ctx.now).execute()),
    );
  }
  const settledKeyOf = (b: { id: string; sourceVersion: number; status: string }) => `booking:${b.id}:${b.sourceVersion}:${b.status}:${issuedAt.get(b.id) ?? 0}`;
  // Most recent bookings were handled on an earlier pass: only the rest are loaded and looked at.
  const open = recent.filter((b) => !ctx.settled.has(settledKeyOf(b))).map((b) => b.id);
  const busy = open.length ? await peopleBeingSynced(ctx) : new Set<string>();
  let queued = 0;
  for (let i = 0; i < open.length; i += 200) {
    const bookings = await ctx.db.selectFrom('bookings').selectAll().where('id', 'in', open.slice(i, i + 200)).orderBy('updatedAt').execute();
    const waiting = await waitingForTheEngine(ctx, bookings, busy);
    for (const booking of bookings) {
      if (ctx.stopping?.()) return queued;
      if (waiting.has(booking.id)) continue;
      queued += await scanBooking(ctx, booking, settledKeyOf(booking));
      await ctx.breathe?.();
    }
  }
  return queued;
}

/** People whose sync is due now or running: what the provider holds for them is about to change. */
async function peopleBeingSynced(ctx: ScanContext): Promise<Set<string>> {
  const rows = await ctx.db
    .selectFrom('syncWork')
    .select('personId')
    .where((eb) => eb.or([eb('dueAt', '<=', ctx.now), eb('claimedBy', 'is not', null)]))
    .execute();
  return new Set(rows.map((r) => r.personId));
}

/**
 * Bookings not worth a full look this pass: everyone on them is still to be synced and the grace
 * has not run out, so no message could be ready. Without this a backlog of thousands of bookings
 * (a bulk import, a provider outage) was re-examined in full every pass while the engine caught up.
 */
async function waitingForTheEngine(ctx: ScanContext, bookings: Row<'bookings'>[], busy: Set<string>): Promise<Set<string>> {
  const candidates = bookings.filter((b) => busy.has(b.organiserId) && ctx.now < b.updatedAt + ctx.graceMs);
  if (candidates.length === 0) return new Set();
  const invitees = await ctx.db
    .selectFrom('bookingInvitees')
    .select(['bookingId', 'personId'])
    .where('bookingId', 'in', candidates.map((b) => b.id))
    .execute();
  const notBusy = new Set(invitees.filter((i) => !busy.has(i.personId)).map((i) => i.bookingId));
  return new Set(candidates.filter((b) => !notBusy.has(b.id)).map((b) => b.id));
}

async function scanBooking(ctx: ScanContext, booking: Row<'bookings'>, settledKey: string): Promise<number> {
  if (ctx.stats) ctx.stats.bookingsExamined++;
  const { queued, settled } = await notifyBooking(ctx, booking);
  // Settled: everyone on this version of the booking has been told; later passes skip it.
  if (settled) ctx.settled.add(settledKey);
  return queued;
}

async function notifyBooking(ctx: ScanContext, booking: Row<'bookings'>): Promise<{ queued: number; settled: boolean }> {
  const { db } = ctx;
  const invitees = await db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', booking.id).execute();
  const personIds = [...new Set([booking.organiserId, ...invitees.map((i) => i.personId)])];
  const people = await db.selectFrom('people').select(['id', 'name', 'email', 'phone']).where('id', 'in', personIds).execute();
  const status = await bookingAccessStatus(db, booking, ctx.now);
  // A space with no doors mapped gives no access, so there is nothing to tell about access.
  if (status.state === 'not-mapped') return { queued: 0, settled: true };
  const windowFingerprint = bookingFingerprint(booking);
  // Trigger rules: how the PIN reaches guests of this space ('email', 'sms' or 'dashboard' only).
  const delivery = await spaceDelivery(db, booking.spaceId);
  let queued = 0;
  let settled = true;
  for (const person of people) {
    const bySms = delivery === 'sms' && !!person.phone;
    if (!person.email && !bySms) continue;
    const entries = status.entries.filter((e) => e.personId === person.id);
    // Access not issued yet (on-payment, before-start): nothing to tell until the trigger fires.
    if (booking.status === 'confirmed' && entries.some((e) => e.state === 'awaiting-trigger')) {
      settled = false;
      continue;
    }
    const codes = await codesFingerprint(ctx, booking, person.id);
    const fingerprint = `${windowFingerprint}#${codes}`;
    const last = await ctx.outbox.lastBookingMessage(booking.id, person.id);
    const [lastWindow, lastCodes = ''] = (last?.fingerprint ?? '').split('#');
    let kind: NotificationKind;
    let dedupeKey: string;
    if (booking.status === 'confirmed') {
      if (!last || last.kind === 'booking.revoked') kind = 'booking.confirmed';
      else if (lastWindow !== windowFingerprint) kind = 'booking.moved';
      else if (codes && codes !== lastCodes) kind = 'credential.changed';
      else continue;
      dedupeKey = kind === 'credential.changed' ? `${kind}:${booking.id}:${person.id}:${codes}` : `${kind}:${booking.id}:${person.id}:v${booking.sourceVersion}`;
    } else {
      // Only someone who was told about their access is told it was withdrawn.
      if (!last || last.kind === 'booking.revoked') continue;
      kind = 'booking.revoked';
      dedupeKey = `${kind}:${booking.id}:${person.id}:v${booking.sourceVersion}`;
    }
    const ready =
      kind === 'booking.revoked'
        ? entries.every((e) => e.state === 'revoked' || e.state === 'left-valid')
        : entries.every((e) => e.state === 'applied' || e.state === 'scheduled');
    // A new code is only announced once the engine is done with this person (no half-replaced set),
    // and never "pending": until then the guest's dashboard shows what is current.
    const graceOver = kind !== 'credential.changed' && ctx.now >= booking.updatedAt + ctx.graceMs;
    const quiet = kind !== 'credential.changed' || (await syncSettled(ctx, person.id, entries));
    if (!(ready && quiet) && !graceOver) {
      settled = false;
      continue;
    }
    const facts = await bookingFacts(ctx, booking, person, entries, !ready);
    const withheld = delivery !== 'email' && !bySms;
    if (withheld) {
      // 'dashboard' (or 'sms' for someone without a phone number): no e-mail carries the PIN or codes.
      facts.pins = [];
      facts.doors = facts.doors.map((d) => ({ ...d, credential: undefined }));
    }
    const content =
      kind === 'booking.confirmed' ? bookingConfirmed(facts) : kind === 'booking.moved' ? bookingMoved(facts) : kind === 'credential.changed' ? credentialChanged(facts) : bookingRevoked(facts);
    if (withheld && booking.status === 'confirmed') content.paragraphs.push('Your PIN and access codes are shown on your guest page, not sent by e-mail.');
    const rendered = render(content);
    const added = await ctx.outbox.add(
      {
        organisationId: booking.organisationId,
        personId: person.id,
        toAddress: bySms ? `${SMS_PREFIX}${person.phone}` : person.email!,
        kind,
        dedupeKey,
        bookingId: booking.id,
        fingerprint,
        message: bySms ? asSms(content, rendered) : rendered,
      },
      bySms ? !!ctx.smsDeliver : ctx.deliver,
      ctx.now,
    );
    if (added) queued++;
  }
  return { queued, settled };
}

/** A keyed hash of the provider-issued codes this booking gives the person ('' when none). */
async function codesFingerprint(ctx: ScanContext, booking: Row<'bookings'>, personId: string): Promise<string> {
  const tag = `booking:${booking.id}`;
  const grants = await ctx.db
    .selectFrom('providerGrants')
    .select(['reasons', 'credentialSealed'])
    .where('personId', '=', personId)
    .where('state', '=', 'present')
    .where('credentialSealed', 'is not', null)
    .execute();
  const secrets = grants.filter((g) => (JSON.parse(g.reasons) as string[]).includes(tag)).map((g) => ctx.secrets.open(g.credentialSealed!));
  return secrets.length ? ctx.secrets.keyedHash(secrets.sort().join('\n'), 'notify:codes').slice(0, 24) : '';
}

/** No sync of this person is due, running or failing on the booking's integrations. */
async function syncSettled(ctx: ScanContext, personId: string, entries: AccessEntry[]): Promise<boolean> {
  const integrationIds = [...new Set(entries.map((e) => e.integrationId))];
  if (integrationIds.length === 0) return true;
  const busy = await ctx.db
    .selectFrom('syncWork')
    .select('personId')
    .where('personId', '=', personId)
    .where('integrationId', 'in', integrationIds)
    .where((eb) => eb.or([eb('dueAt', '<=', ctx.now), eb('claimedBy', 'is not', null), eb('lastError', 'is not', null)]))
    .executeTakeFirst();
  return !busy;
}

async function bookingFacts(
  ctx: ScanContext,
  booking: Row<'bookings'>,
  person: { id: string; name: string },
  entries: AccessEntry[],
  stillPending: boolean,
): Promise<BookingFacts> {
  const { db } = ctx;
  const place = await db
    .selectFrom('spaces')
    .innerJoin('locations', 'locations.id', 'spaces.locationId')
    .select(['spaces.name as spaceName', 'locations.name as locationName', 'locations.timeZone'])
    .where('spaces.id', '=', booking.spaceId)
    .executeTakeFirstOrThrow();
  const mappings = await db
    .selectFrom('mappings')
    .innerJoin('integrations', 'integrations.id', 'mappings.integrationId')
    .select(['mappings.integrationId', 'mappings.targetRef', 'mappings.targetName', 'integrations.name as integrationName'])
    .where('mappings.spaceId', '=', booking.spaceId)
    .execute();
  const grants = await db
    .selectFrom('providerGrants')
    .selectAll()
    .where('personId', '=', person.id)
    .where('integrationId', 'in', mappings.length ? [...new Set(mappings.map((m) => m.integrationId))] : [''])
    .execute();
  const tag = `booking:${booking.id}`;
  const doors: DoorAccess[] = [];
  for (const e of entries) {
    const m = mappings.find((x) => x.integrationId === e.integrationId && x.targetRef === e.targetRef);
    const carrying = grants.filter((g) => g.integrationId === e.integrationId && g.targetRef === e.targetRef && (JSON.parse(g.reasons) as string[]).includes(tag));
    // The live code, not one it replaced (a replaced offline code lingers as 'left-valid').
    const grant = carrying.find((g) => g.state === 'present');
    doors.push({
      targetName: m?.targetName ?? e.targetRef,
      from: Date.parse(e.from),
      until: Date.parse(e.until),
      credential:
        grant?.credentialSealed && grant.state === 'present' && booking.status === 'confirmed'
          ? {
              kind: grant.credentialKind ?? 'code',
              secret: ctx.secrets.open(grant.credentialSealed),
              instructions: grant.credentialInstructions,
              validFrom: grant.credentialValidFrom ?? grant.startsAt,
              validUntil: grant.credentialValidUntil ?? grant.endsAt,
              firstUseBefore: grant.credentialFirstUseBefore,
            }
          : undefined,
      leftValidUntil: e.state === 'left-valid' && e.validUntil ? Date.parse(e.validUntil) : undefined,
    });
  }
  const pins: BookingFacts['pins'] = [];
  if (booking.status === 'confirmed') {
    for (const integrationId of new Set(entries.map((e) => e.integrationId))) {
      const pin = await ctx.pins.find(integrationId, person.id);
      if (pin) pins.push({ integrationName: mappings.find((m) => m.integrationId === integrationId)?.integrationName ?? integrationId, pin: pin.pin });
    }
  }
  // The visitor registration code (made on first use, stable afterwards) for check-in at the venue.
  let visit: BookingFacts['visit'];
  if (booking.status === 'confirmed') {
    const v = await ensureVisit(db, ctx.secrets, booking, person.id);
    if (v) visit = { code: formatCode(v.code), qrDataUrl: await qrPngDataUrl(v.code) };
  }
  return {
    bookingId: booking.id,
    title: booking.title,
    spaceName: place.spaceName,
    locationName: place.locationName,
    timeZone: place.timeZone,
    startsAt: booking.startsAt,
    endsAt: booking.endsAt,
    personName: person.name,
    pins,
    doors,
    stillPending,
    visit,
  };
}
