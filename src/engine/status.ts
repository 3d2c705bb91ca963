/**
 * Sync status of a booking, per person and access target: has the provider got what this booking
 * asks for? Derived from applied state and the work queue, never stored separately, so it cannot
 * disagree with what the engine did.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import { effectiveTrigger, triggerState } from '../domain/triggers.js';
import { bookingWindow } from '../domain/desired.js';
import { loadRule, loadRules, paidBookings, partialRule } from '../store/triggers.js';

/**
 * 'left-valid': the booking no longer wants access but the provider cannot withdraw the credential it
 * issued (offline code); it keeps working until `validUntil`.
 * 'waiting-for-slot': the lock's keypad is full; the code is written when a slot frees (nearest first).
 */
export type AccessState = 'applied' | 'pending' | 'failed' | 'scheduled' | 'awaiting-trigger' | 'waiting-for-slot' | 'revoking' | 'revoked' | 'left-valid';

export interface AccessEntry {
  integrationId: string;
  personId: string;
  targetRef: string;
  state: AccessState;
  /** The window the provider should hold for this booking (buffers included). */
  from: string;
  until: string;
  error?: string;
  attempts?: number;
  nextAttemptAt?: string;
  /** For 'awaiting-trigger': the trigger rule holding access back, and when it fires (null: on payment). */
  trigger?: { issueOn: string; at: string | null };
  /** For 'left-valid': until when the credential still opens the door. */
  validUntil?: string | null;
}

export interface BookingAccessStatus {
  state: AccessState | 'not-mapped';
  entries: AccessEntry[];
}

const DAY = 24 * 60 * 60 * 1000;

export async function bookingAccessStatus(db: Kysely<Database>, booking: Row<'bookings'>, now: number): Promise<BookingAccessStatus> {
  const invitees = await db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', booking.id).execute();
  const people = [...new Set([booking.organiserId, ...invitees.map((i) => i.personId)])];
  const mappings = await db
    .selectFrom('mappings')
    .innerJoin('integrations', 'integrations.id', 'mappings.integrationId')
    .innerJoin('spaces', 'spaces.id', 'mappings.spaceId')
    .select([
      'mappings.integrationId',
      'mappings.targetRef',
      'integrations.bufferBeforeMinutes as intBefore',
      'integrations.bufferAfterMinutes as intAfter',
      'integrations.provisionAheadDays',
      'integrations.status as integrationStatus',
      'spaces.bufferBeforeMinutes as spaceBefore',
      'spaces.bufferAfterMinutes as spaceAfter',
    ])
    .where('mappings.spaceId', '=', booking.spaceId)
    .where('integrations.status', '!=', 'disconnected')
    .execute();
  if (mappings.length === 0) return { state: 'not-mapped', entries: [] };

  const integrationIds = [...new Set(mappings.map((m) => m.integrationId))];
  const [grants, work, slotWaits] = await Promise.all([
    db.selectFrom('providerGrants').selectAll().where('integrationId', 'in', integrationIds).where('personId', 'in', people).execute(),
    db.selectFrom('syncWork').selectAll().where('integrationId', 'in', integrationIds).where('personId', 'in', people).execute(),
    db.selectFrom('slotWaits').select(['integrationId', 'personId', 'targetRef']).where('integrationId', 'in', integrationIds).where('personId', 'in', people).execute(),
  ]);
  const tag = `booking:${booking.id}`;
  // Trigger rules (domain/triggers.ts): access is not issued before the booking's trigger fires.
  const [spaceRule, integrationRules, paid] = await Promise.all([
    loadRule(db, 'space', booking.spaceId),
    loadRules(db, 'integration', integrationIds),
    paidBookings(db, [booking.id]),
  ]);
  const entries: AccessEntry[] = [];
  for (const m of mappings) {
    const { startsAt: from, endsAt: until } = bookingWindow(booking, m.spaceBefore ?? m.intBefore, m.spaceAfter ?? m.intAfter);
    const wanted = booking.status === 'confirmed' && until > now && m.integrationStatus === 'active';
    const rule = effectiveTrigger(partialRule(integrationRules.get(m.integrationId)), partialRule(spaceRule));
    const trigger = triggerState(rule, { startsAt: booking.startsAt, paid: paid.has(booking.id) }, now);
    for (const personId of people) {
      const mine = grants.filter((g) => g.integrationId === m.integrationId && g.personId === personId && g.targetRef === m.targetRef);
      const carrying = mine.filter((g) => (JSON.parse(g.reasons) as string[]).includes(tag));
      const pending = work.find((w) => w.integrationId === m.integrationId && w.personId === personId);
      let state: AccessState;
      const leftValid = carrying.find((g) => g.state === 'left-valid' && (g.credentialValidUntil ?? g.endsAt ?? Infinity) > now);
      const live = carrying.filter((g) => g.state !== 'left-valid');
      if (!wanted) {
        state = live.length ? 'revoking' : leftValid ? 'left-valid' : 'revoked';
      } else if (!trigger.fired) {
        state = live.length ? 'revoking' : 'awaiting-trigger';
      } else if (carrying.some((g) => g.state === 'present' && g.startsAt <= from && (g.endsAt === null || g.endsAt >= until))) {
        state = 'applied';
      } else if (pending?.lastError) {
        state = 'failed';
      } else if (from > now + m.provisionAheadDays * DAY) {
        state = 'scheduled';
      } else if (pending && pending.dueAt > now && !pending.claimedBy) {
        // The engine has synced this person and set itself a time to come back: the provider cannot
        // hold this window yet (membership without windows, or one code per lock behind an earlier one).
        state = 'scheduled';
      } else {
        state = 'pending';
      }
      if ((state === 'revoking') && pending?.lastError) state = 'failed';
      if ((state === 'pending' || state === 'scheduled') && slotWaits.some((w) => w.integrationId === m.integrationId && w.personId === personId && w.targetRef === m.targetRef)) {
        state = 'waiting-for-slot';
      }
      entries.push({
        integrationId: m.integrationId,
        personId,
        targetRef: m.targetRef,
        state,
        from: new Date(from).toISOString(),
        until: new Date(until).toISOString(),
        ...(state === 'left-valid' && leftValid
          ? { validUntil: leftValid.credentialValidUntil ?? leftValid.endsAt ? new Date((leftValid.credentialValidUntil ?? leftValid.endsAt)!).toISOString() : null }
          : {}),
        ...(state === 'awaiting-trigger' && !trigger.fired
          ? { trigger: { issueOn: rule.issueOn, at: trigger.at === null ? null : new Date(trigger.at).toISOString() } }
          : {}),
        ...(state === 'scheduled' && pending && pending.dueAt > now ? { nextAttemptAt: new Date(pending.dueAt).toISOString() } : {}),
        ...(state === 'failed' && pending
          ? { error: pending.lastError!, attempts: pending.attempts, nextAttemptAt: new Date(pending.dueAt).toISOString() }
          : {}),
      });
    }
  }
  return { state: overall(entries), entries };
}

function overall(entries: AccessEntry[]): AccessState {
  const has = (s: AccessState) => entries.some((e) => e.state === s);
  if (has('failed')) return 'failed';
  if (has('pending')) return 'pending';
  if (has('revoking')) return 'revoking';
  if (entries.every((e) => e.state === 'revoked')) return 'revoked';
  if (entries.every((e) => e.state === 'revoked' || e.state === 'left-valid')) return 'left-valid';
  if (has('waiting-for-slot')) return 'waiting-for-slot';
  if (has('scheduled')) return 'scheduled';
  if (has('awaiting-trigger')) return 'awaiting-trigger';
  return 'applied';
}
