/**
 * The explainer's evidence: everything on the way from a person's bookings and subscriptions to what
 * a provider holds for one space or access target, gathered at one moment. The store says what
 * Lockstep wants and believes; the provider is read live, because "Lockstep thinks it is there" is
 * exactly what an operator cannot take on trust when a guest is standing at the door.
 *
 * Read-only: explaining never changes a booking, a grant or the work queue.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../../store/schema.js';
import type { SecretBox } from '../../security/crypto.js';
import type { ObservedGrant, ObservedUser, ProviderAdapter } from '../../providers/types.js';
import type { DesiredWindow } from '../../domain/facts.js';
import { bookingWindow, computeDesired } from '../../domain/desired.js';
import { loadPersonFacts } from '../../store/facts.js';
import { loadRule, loadRules, paidBookings, partialRule } from '../../store/triggers.js';
import { effectiveTrigger, triggerState } from '../../domain/triggers.js';
import { userKey } from '../reconcile.js';
import { capacityReport, type TargetCapacityReport } from '../capacity.js';

export interface ExplainQuery {
  organisationId: string;
  personId: string;
  /** One of spaceId / targetRef. */
  spaceId?: string;
  targetRef?: string;
  /** Narrows a targetRef (the same ref may exist on two integrations). */
  integrationId?: string;
  at: number;
}

export interface ExplainDeps {
  db: Kysely<Database>;
  secrets: SecretBox;
  adapterFor: (integration: Row<'integrations'>) => ProviderAdapter;
  now: number;
}

export interface BookingEvidence {
  id: string;
  title: string | null;
  spaceId: string;
  status: Row<'bookings'>['status'];
  role: 'organiser' | 'invitee';
  startsAt: number;
  endsAt: number;
  bumpInMinutes: number;
  bumpOutMinutes: number;
  updatedAt: number;
}

export interface SubscriptionEvidence {
  id: string;
  planId: string;
  planName: string;
  via: 'person' | 'company';
  startsAt: number;
  endsAt: number | null;
  cancelledAt: number | null;
  /** Whether the plan opens the target in question (by one of its spaces or directly). */
  coversTarget: boolean;
}

/** How the person opens this target: a PIN Lockstep sets, a code the provider issues, or a card/app. */
export type CredentialWay = 'pin' | 'issued' | 'membership';

export type LiveRead =
  | { read: 'ok'; user: ObservedUser | null; grants: ObservedGrant[] }
  | { read: 'failed'; error: string }
  /** Lockstep holds nothing for this person on the provider, so there is nothing to read back. */
  | { read: 'skipped' };

export interface TargetEvidence {
  integration: Pick<Row<'integrations'>, 'id' | 'name' | 'kind' | 'status' | 'lastError' | 'lastErrorAt' | 'pausedUntil' | 'provisionAheadDays'>;
  targetRef: string;
  targetName: string;
  /** Spaces mapped to this target that the question is about. */
  spaceIds: string[];
  /** Booking windows for this target with the buffers, bump-in and bump-out, by booking id. */
  bookingWindows: Map<string, { from: number; until: number }>;
  /** Whether the booking's trigger rule (on payment, before start) had fired at `at`. */
  triggerFired: Map<string, { fired: boolean; issueOn: string; at: number | null }>;
  /** What Lockstep provisions for this person on this target at `at` (same computation as the engine). */
  desired: DesiredWindow[];
  way: CredentialWay;
  /** Lockstep-managed PIN for the person on this integration (never the digits). */
  pin: { issuedAt: number; digits: number } | null;
  /** Lockstep's record of the provider. */
  user: Pick<Row<'providerUsers'>, 'state' | 'providerRef' | 'pinId'> | null;
  grants: Pick<Row<'providerGrants'>, 'id' | 'state' | 'providerRef' | 'startsAt' | 'endsAt' | 'credentialKind' | 'credentialValidFrom' | 'credentialValidUntil' | 'credentialFirstUseBefore' | 'createdAt'>[];
  live: LiveRead;
  /** The engine's queue entry for this person on this integration, if any. */
  work: Pick<Row<'syncWork'>, 'dueAt' | 'attempts' | 'lastError' | 'claimedBy'> | null;
  /** The target's keypad capacity (null: not limited) and whether this person waits for a free slot. */
  slots: { report: TargetCapacityReport | null; waiting: boolean };
}

export interface Evidence {
  at: number;
  now: number;
  person: { id: string; name: string };
  /** The space asked about, or the spaces mapped to the target asked about. */
  space: { id: string; name: string } | null;
  timeZone: string;
  bookings: BookingEvidence[];
  subscriptions: SubscriptionEvidence[];
  targets: TargetEvidence[];
}

export class ExplainInputError extends Error {
  constructor(
    readonly field: 'personId' | 'spaceId' | 'targetRef' | 'integrationId',
    message: string,
    readonly notFound = false,
  ) {
    super(message);
  }
}

const DAY = 86_400_000;

export async function gatherEvidence(deps: ExplainDeps, q: ExplainQuery): Promise<Evidence> {
  const { db } = deps;
  const person = await db.selectFrom('people').select(['id', 'name']).where('id', '=', q.personId).where('organisationId', '=', q.organisationId).executeTakeFirst();
  if (!person) throw new ExplainInputError('personId', `person ${q.personId} does not exist in this organisation; list people with GET /v1/people`, true);

  const { mappings, space } = await targetsInQuestion(db, q);
  const integrationIds = [...new Set(mappings.map((m) => m.integrationId))];
  const integrations = integrationIds.length ? await db.selectFrom('integrations').selectAll().where('id', 'in', integrationIds).execute() : [];
  const spaceIds = [...new Set(mappings.map((m) => m.spaceId).filter((s): s is string => s !== null))];
  if (space && !spaceIds.includes(space.id)) spaceIds.push(space.id);

  const zoneSpaceId = space?.id ?? spaceIds[0];
  const zoneRow = zoneSpaceId
    ? await db.selectFrom('spaces').innerJoin('locations', 'locations.id', 'spaces.locationId').select('locations.timeZone').where('spaces.id', '=', zoneSpaceId).executeTakeFirst()
    : undefined;

  const bookings = await personBookings(db, person.id, spaceIds, q.at);
  const subscriptions = await personSubscriptions(db, person.id, spaceIds, mappings);

  const targets: TargetEvidence[] = [];
  for (const integration of integrations) {
    const mine = mappings.filter((m) => m.integrationId === integration.id);
    const shared = await integrationEvidence(deps, integration, person.id, q.at);
    for (const targetRef of [...new Set(mine.map((m) => m.targetRef))]) {
      const ofTarget = mine.filter((m) => m.targetRef === targetRef);
      targets.push(
        await targetEvidence(deps, integration, shared, {
          personId: person.id,
          targetRef,
          targetName: ofTarget.find((m) => m.targetName)?.targetName ?? targetRef,
          spaceIds: [...new Set(ofTarget.map((m) => m.spaceId).filter((s): s is string => s !== null))],
          bookings,
          at: q.at,
        }),
      );
    }
  }
  return { at: q.at, now: deps.now, person, space, timeZone: zoneRow?.timeZone ?? 'UTC', bookings, subscriptions, targets };
}

interface TargetRow {
  integrationId: string;
  targetRef: string;
  targetName: string | null;
  /** null: the target is opened by a plan directly, not through a space. */
  spaceId: string | null;
}

async function targetsInQuestion(db: Kysely<Database>, q: ExplainQuery): Promise<{ mappings: TargetRow[]; space: { id: string; name: string } | null }> {
  const live = (qb: ReturnType<typeof mappingQuery>) => (q.integrationId ? qb.where('mappings.integrationId', '=', q.integrationId) : qb);
  const mappingQuery = () =>
    db
      .selectFrom('mappings')
      .innerJoin('integrations', 'integrations.id', 'mappings.integrationId')
      .select(['mappings.integrationId', 'mappings.targetRef', 'mappings.targetName', 'mappings.spaceId'])
      .where('mappings.organisationId', '=', q.organisationId)
      .where('integrations.status', '!=', 'disconnected');
  if (q.integrationId) {
    const found = await db.selectFrom('integrations').select('id').where('id', '=', q.integrationId).where('organisationId', '=', q.organisationId).executeTakeFirst();
    if (!found) throw new ExplainInputError('integrationId', `integration ${q.integrationId} does not exist in this organisation; list them with GET /v1/integrations`, true);
  }
  if (q.spaceId) {
    const space = await db.selectFrom('spaces').select(['id', 'name']).where('id', '=', q.spaceId).where('organisationId', '=', q.organisationId).executeTakeFirst();
    if (!space) throw new ExplainInputError('spaceId', `space ${q.spaceId} does not exist in this organisation; list spaces with GET /v1/spaces`, true);
    return { mappings: await live(mappingQuery().where('mappings.spaceId', '=', space.id)).execute(), space };
  }
  const ref = q.targetRef!;
  const mapped = await live(mappingQuery().where('mappings.targetRef', '=', ref)).execute();
  // A plan can open a target directly, without any space mapped to it.
  let direct = db
    .selectFrom('planTargets')
    .innerJoin('plans', 'plans.id', 'planTargets.planId')
    .innerJoin('integrations', 'integrations.id', 'planTargets.integrationId')
    .select(['planTargets.integrationId', 'planTargets.targetRef'])
    .where('plans.organisationId', '=', q.organisationId)
    .where('planTargets.targetRef', '=', ref)
    .where('integrations.status', '!=', 'disconnected');
  if (q.integrationId) direct = direct.where('planTargets.integrationId', '=', q.integrationId);
  const planned = await direct.execute();
  const rows: TargetRow[] = [...mapped, ...planned.filter((p) => !mapped.some((m) => m.integrationId === p.integrationId)).map((p) => ({ ...p, targetName: null, spaceId: null }))];
  if (rows.length === 0) {
    throw new ExplainInputError('targetRef', `no space or plan in this organisation uses the access target ${ref}${q.integrationId ? ` on integration ${q.integrationId}` : ''}; map it to a space first (PUT /v1/spaces/{id}/mappings)`, true);
  }
  return { mappings: rows, space: null };
}

/** The person's bookings on these spaces near `at`: a week back, a month ahead, nearest first. */
async function personBookings(db: Kysely<Database>, personId: string, spaceIds: string[], at: number): Promise<BookingEvidence[]> {
  if (spaceIds.length === 0) return [];
  const near = (qb: typeof base) => qb.where('bookings.spaceId', 'in', spaceIds).where('bookings.endsAt', '>', at - 7 * DAY).where('bookings.startsAt', '<', at + 31 * DAY);
  const base = db.selectFrom('bookings').selectAll('bookings');
  const [organised, invited] = await Promise.all([
    near(base.where('bookings.organiserId', '=', personId)).execute(),
    near(base.innerJoin('bookingInvitees', 'bookingInvitees.bookingId', 'bookings.id').where('bookingInvitees.personId', '=', personId)).execute(),
  ]);
  const seen = new Map<string, BookingEvidence>();
  const add = (b: Row<'bookings'>, role: BookingEvidence['role']) => {
    if (!seen.has(b.id)) seen.set(b.id, { id: b.id, title: b.title, spaceId: b.spaceId, status: b.status, role, startsAt: b.startsAt, endsAt: b.endsAt, bumpInMinutes: b.bumpInMinutes, bumpOutMinutes: b.bumpOutMinutes, updatedAt: b.updatedAt });
  };
  for (const b of organised) add(b, 'organiser');
  for (const b of invited) add(b, 'invitee');
  const distance = (b: BookingEvidence) => (at < b.startsAt ? b.startsAt - at : at > b.endsAt ? at - b.endsAt : 0);
  return [...seen.values()].sort((a, b) => distance(a) - distance(b) || a.startsAt - b.startsAt).slice(0, 20);
}

async function personSubscriptions(db: Kysely<Database>, personId: string, spaceIds: string[], targets: TargetRow[]): Promise<SubscriptionEvidence[]> {
  const companies = (await db.selectFrom('companyMembers').select('companyId').where('personId', '=', personId).execute()).map((c) => c.companyId);
  const rows = await db
    .selectFrom('subscriptions')
    .innerJoin('plans', 'plans.id', 'subscriptions.planId')
    .selectAll('subscriptions')
    .select('plans.name as planName')
    .where((eb) => eb.or([eb('subscriptions.personId', '=', personId), ...(companies.length ? [eb('subscriptions.companyId', 'in', companies)] : [])]))
    .execute();
  if (rows.length === 0) return [];
  const planIds = [...new Set(rows.map((r) => r.planId))];
  const [planSpaces, planTargets] = await Promise.all([
    db.selectFrom('planSpaces').selectAll().where('planId', 'in', planIds).execute(),
    db.selectFrom('planTargets').selectAll().where('planId', 'in', planIds).execute(),
  ]);
  const covers = (planId: string) =>
    planSpaces.some((s) => s.planId === planId && spaceIds.includes(s.spaceId)) ||
    planTargets.some((t) => t.planId === planId && targets.some((m) => m.integrationId === t.integrationId && m.targetRef === t.targetRef));
  return rows.map((s) => ({
    id: s.id,
    planId: s.planId,
    planName: s.planName,
    via: s.personId === personId ? 'person' : 'company',
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    cancelledAt: s.cancelledAt,
    coversTarget: covers(s.planId),
  }));
}

/**
 * What is the same for every target of one integration: the desired state, the adapter, the PIN, the
 * provider user, the queue entry and one live read of the provider (observe answers for the person's
 * whole holding, so a space with two doors reads the provider once, not twice).
 */
interface IntegrationEvidence {
  desired: { targetRef: string; windows: DesiredWindow[] }[];
  adapter: ProviderAdapter | null;
  way: CredentialWay;
  pin: TargetEvidence['pin'];
  user: TargetEvidence['user'];
  grants: (TargetEvidence['grants'][number] & { targetRef: string })[];
  work: TargetEvidence['work'];
  live: LiveRead;
  integrationRule: Awaited<ReturnType<typeof loadRule>>;
  /** The provider's own names for targets, read at most once, only for mappings stored without one. */
  providerName: (targetRef: string) => Promise<string | null>;
}

async function integrationEvidence(deps: ExplainDeps, integration: Row<'integrations'>, personId: string, at: number): Promise<IntegrationEvidence> {
  const { db } = deps;
  // What the engine would provision at `at`: the same facts and the same pure computation.
  const facts = await loadPersonFacts(db, integration, personId, at);
  const desired = computeDesired(facts, at).access.filter((a) => a.personId === personId && a.integrationId === integration.id);

  let adapter: ProviderAdapter | null = null;
  let adapterError: string | null = null;
  try {
    adapter = deps.adapterFor(integration);
  } catch (err) {
    adapterError = (err as Error).message;
  }
  const caps = adapter?.capabilities;
  const way: CredentialWay = caps?.issuesCredentials ? 'issued' : caps?.pinOnUser || caps?.pinOnLock ? 'pin' : 'membership';

  const [pinRow, user, grants, work, integrationRule] = await Promise.all([
    db.selectFrom('pins').select(['createdAt', 'pinEnc']).where('integrationId', '=', integration.id).where('personId', '=', personId).where('revokedAt', 'is', null).executeTakeFirst(),
    db.selectFrom('providerUsers').select(['state', 'providerRef', 'pinId', 'userKey']).where('integrationId', '=', integration.id).where('personId', '=', personId).executeTakeFirst(),
    db
      .selectFrom('providerGrants')
      .select(['id', 'targetRef', 'state', 'providerRef', 'startsAt', 'endsAt', 'credentialKind', 'credentialValidFrom', 'credentialValidUntil', 'credentialFirstUseBefore', 'createdAt'])
      .where('integrationId', '=', integration.id)
      .where('personId', '=', personId)
      .orderBy('startsAt')
      .execute(),
    db.selectFrom('syncWork').select(['dueAt', 'attempts', 'lastError', 'claimedBy']).where('integrationId', '=', integration.id).where('personId', '=', personId).executeTakeFirst(),
    loadRule(db, 'integration', integration.id),
  ]);
  // The number of digits only, to say "a 6-digit PIN"; the digits themselves never leave the box.
  const pin = pinRow ? { issuedAt: pinRow.createdAt, digits: deps.secrets.open(pinRow.pinEnc).length } : null;

  let live: LiveRead = { read: 'skipped' };
  if (adapterError) live = { read: 'failed', error: adapterError };
  else if (adapter && (user || grants.length)) {
    try {
      const observation = await adapter.observe({
        userRef: user?.providerRef ?? undefined,
        key: user?.userKey ?? userKey({ secrets: deps.secrets, integration }, personId),
        grantRefs: grants.filter((g) => g.providerRef).map((g) => ({ ref: g.providerRef!, targetRef: g.targetRef })),
      });
      live = { read: 'ok', user: observation.user, grants: observation.grants };
    } catch (err) {
      // Provider errors are written for admins and carry no credentials.
      live = { read: 'failed', error: (err as Error).message };
    }
  }

  let names: Promise<Map<string, string>> | null = null;
  const providerName = async (targetRef: string) => {
    if (!adapter) return null;
    names ??= adapter.listTargets().then((list) => new Map(list.map((x) => [x.ref, x.name])), () => new Map());
    return (await names).get(targetRef) ?? null;
  };

  return {
    desired,
    adapter,
    way,
    pin,
    user: user ? { state: user.state, providerRef: user.providerRef, pinId: user.pinId } : null,
    grants,
    work: work ?? null,
    live,
    integrationRule,
    providerName,
  };
}

async function targetEvidence(
  deps: ExplainDeps,
  integration: Row<'integrations'>,
  shared: IntegrationEvidence,
  t: { personId: string; targetRef: string; targetName: string; spaceIds: string[]; bookings: BookingEvidence[]; at: number },
): Promise<TargetEvidence> {
  const { db } = deps;
  const desired = shared.desired.find((a) => a.targetRef === t.targetRef)?.windows ?? [];

  const spaceRows = t.spaceIds.length ? await db.selectFrom('spaces').select(['id', 'bufferBeforeMinutes', 'bufferAfterMinutes']).where('id', 'in', t.spaceIds).execute() : [];
  const onTarget = t.bookings.filter((b) => t.spaceIds.includes(b.spaceId));
  const [spaceRules, paid] = await Promise.all([loadRules(db, 'space', t.spaceIds), paidBookings(db, onTarget.map((b) => b.id))]);
  const bookingWindows = new Map<string, { from: number; until: number }>();
  const triggerFired = new Map<string, { fired: boolean; issueOn: string; at: number | null }>();
  for (const b of onTarget) {
    const space = spaceRows.find((s) => s.id === b.spaceId);
    const before = space?.bufferBeforeMinutes ?? integration.bufferBeforeMinutes;
    const after = space?.bufferAfterMinutes ?? integration.bufferAfterMinutes;
    const w = bookingWindow(b, before, after);
    bookingWindows.set(b.id, { from: w.startsAt, until: w.endsAt });
    const rule = effectiveTrigger(partialRule(shared.integrationRule), partialRule(spaceRules.get(b.spaceId)));
    const state = triggerState(rule, { startsAt: b.startsAt, paid: paid.has(b.id) }, t.at);
    triggerFired.set(b.id, { fired: state.fired, issueOn: rule.issueOn, at: state.fired ? null : state.at });
  }

  // A mapping made without a name (an import, an older version): the provider's own name for it.
  const targetName = t.targetName === t.targetRef ? ((await shared.providerName(t.targetRef)) ?? t.targetName) : t.targetName;
  const live: LiveRead = shared.live.read === 'ok' ? { ...shared.live, grants: shared.live.grants.filter((g) => g.targetRef === t.targetRef) } : shared.live;

  const [report] = await capacityReport(db, integration.id, t.targetRef);
  const slots = { report: report && report.capacity !== null ? report : null, waiting: report?.waiting.some((w) => w.personId === t.personId) ?? false };

  return {
    slots,
    integration,
    targetRef: t.targetRef,
    targetName,
    spaceIds: t.spaceIds,
    bookingWindows,
    triggerFired,
    desired,
    way: shared.way,
    pin: shared.pin,
    user: shared.user,
    grants: shared.grants.filter((g) => g.targetRef === t.targetRef).map(({ targetRef: _ref, ...g }) => g),
    live,
    work: shared.work,
  };
}
