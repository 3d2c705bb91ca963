/**
 * Loads the facts desired-state computation needs, scoped to one person and one integration, and
 * finds the people a broad change (mapping, buffer, plan) may affect.
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database, Row } from './schema.js';
import type { BookingFact, Facts, IntegrationFact, PlanFact, SubscriptionFact } from '../domain/facts.js';
import { loadSyncRules, partialRule } from './triggers.js';

/** Bookings that ended longer ago than this cannot hold access any more, whatever the buffers. */
const PAST_HORIZON_MS = 2 * 24 * 60 * 60 * 1000;

export function integrationFact(row: {
  id: string;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  provisionAheadDays: number;
  status: string;
}): IntegrationFact {
  return {
    id: row.id,
    bufferBeforeMinutes: row.bufferBeforeMinutes,
    bufferAfterMinutes: row.bufferAfterMinutes,
    provisionAheadDays: row.provisionAheadDays,
    active: row.status === 'active',
  };
}

/** One person's facts: `loadPeopleFacts` for a group of one. */
export async function loadPersonFacts(db: Kysely<Database>, integration: Row<'integrations'>, personId: string, now: number): Promise<Facts> {
  return (await loadPeopleFacts(db, integration, [personId], now)).get(personId)!;
}

/**
 * The facts of several people on one integration, read in one set of statements (about ten, however
 * many people): the engine claims people in groups, and each statement is a round trip. Each person
 * gets exactly the facts a read of them alone would give: their bookings (organised or invited), their
 * own and their companies' subscriptions, those plans, and the spaces and mappings these name.
 */
export async function loadPeopleFacts(db: Kysely<Database>, integration: Row<'integrations'>, personIds: string[], now: number): Promise<Map<string, Facts>> {
  const ids = [...new Set(personIds)];
  const out = new Map<string, Facts>();
  if (ids.length === 0) return out;
  const since = now - PAST_HORIZON_MS;
  const [companyRows, organised, invited] = await Promise.all([
    db.selectFrom('companyMembers').select(['companyId', 'personId']).where('personId', 'in', ids).execute(),
    db.selectFrom('bookings').selectAll().select(isPaid).where('organiserId', 'in', ids).where('status', '=', 'confirmed').where('endsAt', '>', since).execute(),
    db
      .selectFrom('bookings')
      .innerJoin('bookingInvitees', 'bookingInvitees.bookingId', 'bookings.id')
      .selectAll('bookings')
      .select(['bookingInvitees.personId as inviteeId', isPaid])
      .where('bookingInvitees.personId', 'in', ids)
      .where('bookings.status', '=', 'confirmed')
      .where('bookings.endsAt', '>', since)
      .execute(),
  ]);

  const companyIds = [...new Set(companyRows.map((r) => r.companyId))];
  const subscriptions = await db
    .selectFrom('subscriptions')
    .selectAll()
    .where((eb) => eb.or([eb('personId', 'in', ids), ...(companyIds.length ? [eb('companyId', 'in', companyIds)] : [])]))
    .execute();
  const plans = await loadPlans(db, [...new Set(subscriptions.map((s) => s.planId))]);
  const spaceIds = new Set<string>([...organised, ...invited].map((b) => b.spaceId));
  for (const p of plans) for (const sp of p.spaceIds) spaceIds.add(sp);
  // Only the mappings of these people's spaces: a venue of 500 rooms has a thousand, a person a few
  // (read for every sync, the whole list was the engine's costliest read at that size).
  const spaceList = [...spaceIds];
  const [spaces, mappings] = spaceList.length
    ? await Promise.all([
        db.selectFrom('spaces').select(['id', 'bufferBeforeMinutes', 'bufferAfterMinutes']).where('id', 'in', spaceList).execute(),
        db.selectFrom('mappings').select(['spaceId', 'integrationId', 'targetRef']).where('integrationId', '=', integration.id).where('spaceId', 'in', spaceList).execute(),
      ])
    : [[], []];
  const { integrationRule, spaceRules } = await loadSyncRules(db, integration.id, spaceList);
  const integrations = [{ ...integrationFact(integration), trigger: partialRule(integrationRule) }];

  for (const personId of ids) {
    // `paid` feeds the trigger rules (domain/triggers.ts): whether a booking's access may be issued yet.
    const bookings = new Map<string, BookingFact>();
    for (const b of organised) if (b.organiserId === personId) bookings.set(b.id, { ...toBookingFact(b, []), paid: Boolean(b.paid) });
    for (const b of invited) {
      if (b.inviteeId !== personId) continue;
      const existing = bookings.get(b.id);
      if (existing) existing.inviteeIds.push(personId);
      else bookings.set(b.id, { ...toBookingFact(b, [personId]), paid: Boolean(b.paid) });
    }
    const members = companyRows.filter((r) => r.personId === personId);
    const companies = new Set(members.map((r) => r.companyId));
    const subscriptionFacts: SubscriptionFact[] = subscriptions
      .filter((sub) => sub.personId === personId || (sub.companyId !== null && companies.has(sub.companyId)))
      .map((sub) => ({ id: sub.id, planId: sub.planId, personId: sub.personId, companyId: sub.companyId, startsAt: sub.startsAt, endsAt: sub.endsAt, cancelledAt: sub.cancelledAt }));
    const planIds = new Set(subscriptionFacts.map((sub) => sub.planId));
    const personPlans = plans.filter((p) => planIds.has(p.id));
    const personSpaces = new Set<string>([...bookings.values()].map((b) => b.spaceId));
    for (const p of personPlans) for (const sp of p.spaceIds) personSpaces.add(sp);
    out.set(personId, {
      bookings: [...bookings.values()],
      subscriptions: subscriptionFacts,
      plans: personPlans,
      mappings: mappings.filter((m) => personSpaces.has(m.spaceId)),
      integrations,
      spaces: spaces.filter((sp) => personSpaces.has(sp.id)).map((sp) => ({ ...sp, trigger: partialRule(spaceRules.get(sp.id)) })),
      companyMembers: members,
    });
  }
  return out;
}

/** Whether the booking is marked paid, read with the booking instead of in a statement of its own. */
const isPaid = (eb: ExpressionBuilder<Database, 'bookings'>) =>
  eb.exists(eb.selectFrom('bookingPayments').select('bookingPayments.bookingId').whereRef('bookingPayments.bookingId', '=', 'bookings.id')).as('paid');

function toBookingFact(
  b: { id: string; spaceId: string; status: BookingFact['status']; startsAt: number; endsAt: number; bumpInMinutes: number; bumpOutMinutes: number; organiserId: string },
  inviteeIds: string[],
): BookingFact {
  return {
    id: b.id,
    spaceId: b.spaceId,
    status: b.status,
    startsAt: b.startsAt,
    endsAt: b.endsAt,
    bumpInMinutes: b.bumpInMinutes,
    bumpOutMinutes: b.bumpOutMinutes,
    organiserId: b.organiserId,
    inviteeIds,
  };
}

async function loadPlans(db: Kysely<Database>, planIds: string[]): Promise<PlanFact[]> {
  if (planIds.length === 0) return [];
  const [spaces, targets] = await Promise.all([
    db.selectFrom('planSpaces').selectAll().where('planId', 'in', planIds).execute(),
    db.selectFrom('planTargets').selectAll().where('planId', 'in', planIds).execute(),
  ]);
  return planIds.map((id) => ({
    id,
    spaceIds: spaces.filter((s) => s.planId === id).map((s) => s.spaceId),
    targets: targets.filter((t) => t.planId === id).map((t) => ({ integrationId: t.integrationId, targetRef: t.targetRef })),
  }));
}

/**
 * Everyone whose access on an integration might change after a broad edit: people with current or
 * future bookings or subscriptions in the organisation, plus everyone the integration holds now.
 */
export async function peopleInScope(db: Kysely<Database>, integrationId: string, now: number): Promise<string[]> {
  const integration = await db.selectFrom('integrations').select(['organisationId']).where('id', '=', integrationId).executeTakeFirst();
  if (!integration) return [];
  const org = integration.organisationId;
  const since = now - PAST_HORIZON_MS;
  const rows = await Promise.all([
    db.selectFrom('bookings').select('organiserId as personId').where('organisationId', '=', org).where('endsAt', '>', since).execute(),
    db
      .selectFrom('bookingInvitees')
      .innerJoin('bookings', 'bookings.id', 'bookingInvitees.bookingId')
      .select('bookingInvitees.personId')
      .where('bookings.organisationId', '=', org)
      .where('bookings.endsAt', '>', since)
      .execute(),
    db.selectFrom('subscriptions').select('personId').where('organisationId', '=', org).where('personId', 'is not', null).execute(),
    db
      .selectFrom('subscriptions')
      .innerJoin('companyMembers', 'companyMembers.companyId', 'subscriptions.companyId')
      .select('companyMembers.personId')
      .where('subscriptions.organisationId', '=', org)
      .execute(),
    db.selectFrom('providerUsers').select('personId').where('integrationId', '=', integrationId).execute(),
    db.selectFrom('providerGrants').select('personId').where('integrationId', '=', integrationId).execute(),
  ]);
  const ids = new Set<string>();
  for (const list of rows) for (const r of list) if (r.personId) ids.add(r.personId);
  return [...ids];
}

/** Integrations of an organisation that still want reconciling (active, or revoking on disconnect). */
export async function liveIntegrationIds(db: Kysely<Database>, organisationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('integrations')
    .select('id')
    .where('organisationId', '=', organisationId)
    .where('status', '!=', 'disconnected')
    .execute();
  return rows.map((r) => r.id);
}
