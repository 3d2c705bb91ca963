/**
 * Reconciles one person on one integration: desired state (from bookings, subscriptions, mappings,
 * settings) against applied state (what we told the provider, re-read when in doubt), closing the gap
 * with the fewest provider calls.
 *
 * Crash safety: every provider call is preceded by a row recording the intent (state 'creating',
 * 'updating', 'deleting') and followed by the outcome. A row left in an intent state means "we may or
 * may not have done this", and the next run reads the provider back before planning.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { DesiredAccess, DesiredWindow } from '../domain/facts.js';
import { computeDesired } from '../domain/desired.js';
import { loadPersonFacts } from '../store/facts.js';
import { writeAudit, type AuditEntry } from '../store/audit.js';
import { newId } from '../store/ids.js';
import { ProviderError, type AccessWindow, type IssuedCredential, type Observation, type ProviderAdapter, type ProviderIdentity } from '../providers/types.js';
import { oneWindowPerTarget, planGrantSteps, startedWindowsOnly, type AppliedGrant, type GrantStep } from './plan.js';
import type { PinService } from './pins.js';
import type { SecretBox } from '../security/crypto.js';
import { pinRulesFor } from './pin-rules.js';
import { applySlotLimits, askLaterToYield, reserveSlot, slotFreed, staleForeignCodes } from './capacity.js';

export interface ReconcileContext {
  db: Kysely<Database>;
  pins: PinService;
  secrets: SecretBox;
  adapter: ProviderAdapter;
  integration: Row<'integrations'>;
  now: number;
  /** Queue these people for a sync now (a keypad slot freed up for them). */
  wake?: (personIds: string[]) => Promise<void>;
  /** Set per run: slots for Lockstep's codes on capacity-limited targets (src/engine/capacity.ts). */
  slots?: { limits: Map<string, number>; retryAt: number | null };
}

export interface ReconcileOutcome {
  /** When time alone will next change this person's access; null = nothing scheduled. */
  nextDueAt: number | null;
  calls: number;
}

const ACTOR = 'engine';

export async function reconcilePerson(ctx: ReconcileContext, personId: string, verify: boolean): Promise<ReconcileOutcome> {
  const { db, adapter, integration, now } = ctx;
  ctx = { ...ctx };
  const caps = adapter.capabilities;
  let calls = 0;
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    calls++;
    return fn();
  };
  const audit: AuditEntry[] = [];
  const note = (action: string, details: Record<string, unknown>, reason: string | null = null) =>
    audit.push({ organisationId: integration.organisationId, actor: ACTOR, action, subjectType: 'person', subjectId: personId, reason, details: { integrationId: integration.id, ...details } });

  try {
    const facts = await loadPersonFacts(db, integration.id, personId, now);
    const { access, wakeups } = computeDesired(facts, now);
    let desired = access.filter((a) => a.personId === personId && a.integrationId === integration.id);
    let nextDueAt = wakeups.find((w) => w.personId === personId && w.integrationId === integration.id)?.at ?? null;
    if (!caps.membershipWindows) {
      const started = startedWindowsOnly(desired, now);
      desired = started.desired;
      if (started.nextStart !== null) nextDueAt = nextDueAt === null ? started.nextStart : Math.min(nextDueAt, started.nextStart);
    }

    if (caps.pinOnLock) {
      const single = oneWindowPerTarget(desired, now);
      desired = single.desired;
      if (single.nextChange !== null) nextDueAt = nextDueAt === null ? single.nextChange : Math.min(nextDueAt, single.nextChange);
    }
    if (adapter.roundWindow) desired = roundDesired(desired, adapter.roundWindow.bind(adapter));

    let user = await db
      .selectFrom('providerUsers')
      .selectAll()
      .where('integrationId', '=', integration.id)
      .where('personId', '=', personId)
      .executeTakeFirst();
    await forgetExpiredLeftValid(db, integration.id, personId, now);
    let grants = await loadGrants(db, integration.id, personId);

    const inDoubt = (user && user.state !== 'present') || grants.some((g) => g.state !== 'present');
    if ((verify || inDoubt) && (user || grants.length)) {
      const observation = await call(() =>
        adapter.observe({
          userRef: user?.providerRef ?? undefined,
          key: user?.userKey ?? userKey(ctx, personId),
          grantRefs: grants.filter((g) => g.providerRef).map((g) => ({ ref: g.providerRef!, targetRef: g.targetRef })),
        }),
      );
      // One transaction: a crash half-way (a re-hrefed membership's old row dropped, its new row not
      // yet written) would leave a grant on the provider that Lockstep neither knows nor doubts.
      await db.transaction().execute((trx) => adoptObservation({ ...ctx, db: trx }, personId, user ?? null, grants, observation, note));
      user = await db
        .selectFrom('providerUsers')
        .selectAll()
        .where('integrationId', '=', integration.id)
        .where('personId', '=', personId)
        .executeTakeFirst();
      grants = await loadGrants(db, integration.id, personId);
    }

    if (caps.pinOnLock) {
      // Keypads hold few codes: a person waits for a free slot, or gives a later one up to a nearer.
      const slots = await applySlotLimits({ db, adapter: countingAdapter(adapter, call), integration, now, wake: ctx.wake }, personId, desired, grants);
      desired = slots.desired;
      ctx = { ...ctx, slots: { limits: slots.limits, retryAt: slots.retryAt } };
      if (slots.retryAt !== null) nextDueAt = nextDueAt === null ? slots.retryAt : Math.min(nextDueAt, slots.retryAt);
    }

    if (desired.length === 0) {
      await revokeEverything(ctx, personId, user ?? null, grants, call, note);
      return { nextDueAt, calls };
    }

    const needsPin = caps.pinOnUser || caps.pinOnLock;
    const pin = needsPin
      ? await ctx.pins.ensure(integration.id, personId, pinRulesFor(adapter, integration), integration.organisationId)
      : null;

    let userRef: string | undefined;
    if (caps.providerUsers) {
      if (!user) {
        const identity = await identityFor(ctx, personId);
        await db
          .insertInto('providerUsers')
          .values({ integrationId: integration.id, personId, userKey: identity.key, providerRef: null, state: 'creating', pinId: null, createdAt: now, updatedAt: now })
          .execute();
        const { ref } = await call(() => adapter.createUser(identity));
        await db
          .updateTable('providerUsers')
          .set({ providerRef: ref, state: 'present', updatedAt: Date.now() })
          .where('integrationId', '=', integration.id)
          .where('personId', '=', personId)
          .execute();
        note('provider-user.created', { providerRef: ref });
        user = { integrationId: integration.id, personId, userKey: identity.key, providerRef: ref, state: 'present', pinId: null, createdAt: now, updatedAt: now };
      }
      userRef = user.providerRef ?? undefined;
      if (caps.pinOnUser && pin && user.pinId !== pin.id) {
        try {
          await call(() => adapter.setUserPin(userRef!, pin.pin));
        } catch (err) {
          throw await replacePinOnConflict(ctx, personId, err);
        }
        await db
          .updateTable('providerUsers')
          .set({ pinId: pin.id, updatedAt: Date.now() })
          .where('integrationId', '=', integration.id)
          .where('personId', '=', personId)
          .execute();
        note('pin.applied', { pinId: pin.id });
      }
    }

    const steps = planGrantSteps(desired, grants.map(toApplied), caps.pinOnLock ? (pin?.id ?? null) : null, { updatable: caps.updatableGrants });
    const identity = steps.some((s) => s.op === 'create' || s.op === 'update') ? await identityFor(ctx, personId) : null;
    const providerSteps = steps.filter((s) => s.op !== 'relabel');
    if (adapter.applyGrantBatch && caps.providerUsers && userRef && providerSteps.length > 1 && caps.revocable) {
      // One request for all of this person's changes (e.g. Gallagher's cardholder PATCH).
      for (const step of steps) if (step.op === 'relabel') await executeStep(ctx, personId, step, { userRef, identity, pin: null }, call, note);
      await executeBatch(ctx, personId, providerSteps, userRef, identity ?? (await identityFor(ctx, personId)), call, note);
      return { nextDueAt, calls };
    }
    await executeSteps(ctx, personId, steps, { userRef, identity, pin: caps.pinOnLock ? pin : null }, call, note);
    // A create that found the keypad full on writing its intent waits like the others.
    const retryAt = ctx.slots?.retryAt ?? null;
    if (retryAt !== null) nextDueAt = nextDueAt === null ? retryAt : Math.min(nextDueAt, retryAt);
    return { nextDueAt, calls };
  } finally {
    await writeAudit(db, audit);
  }
}

/**
 * A 409 on writing a PIN means the provider already holds that code (perhaps one Lockstep did not
 * issue). A code is never shared: issue a fresh one and let the retry write it everywhere.
 */
async function replacePinOnConflict(ctx: ReconcileContext, personId: string, err: unknown): Promise<unknown> {
  if (!(err instanceof ProviderError && err.details.status === 409)) return err;
  const { integration, adapter } = ctx;
  await ctx.pins.regenerate(integration.id, personId, pinRulesFor(adapter, integration), integration.organisationId, ACTOR);
  return new ProviderError('transient', 'PIN already in use on the provider; issued a new one');
}

/** The grants the engine manages; 'left-valid' ones are history the provider cannot take back. */
async function loadGrants(db: Kysely<Database>, integrationId: string, personId: string) {
  return db
    .selectFrom('providerGrants')
    .selectAll()
    .where('integrationId', '=', integrationId)
    .where('personId', '=', personId)
    .where('state', '!=', 'left-valid')
    .orderBy('startsAt')
    .execute();
}

/** A credential left valid is kept on record until it has expired; then there is nothing left to show. */
async function forgetExpiredLeftValid(db: Kysely<Database>, integrationId: string, personId: string, now: number) {
  await db
    .deleteFrom('providerGrants')
    .where('integrationId', '=', integrationId)
    .where('personId', '=', personId)
    .where('state', '=', 'left-valid')
    .where('endsAt', '<=', now)
    .execute();
}

/** The adapter, with its keypad read counted as a provider call like every other. */
function countingAdapter(adapter: ProviderAdapter, call: Call): ProviderAdapter {
  if (!adapter.keypadOccupancy) return adapter;
  return Object.assign(Object.create(adapter) as ProviderAdapter, { keypadOccupancy: (ref: string) => call(() => adapter.keypadOccupancy!(ref)) });
}

function roundDesired(desired: DesiredAccess[], round: (w: AccessWindow, targetRef: string) => AccessWindow): DesiredAccess[] {
  return desired.map((d) => ({ ...d, windows: d.windows.map((w) => ({ ...w, ...round({ startsAt: w.startsAt, endsAt: w.endsAt }, d.targetRef) })) }));
}

/** Sealed columns for a provider-issued credential; the secret itself never reaches the audit log. */
function credentialColumns(ctx: ReconcileContext, credential: IssuedCredential | undefined) {
  if (!credential) return {};
  return {
    credentialKind: credential.kind,
    credentialSealed: ctx.secrets.seal(credential.secret),
    credentialValidFrom: credential.validFrom,
    credentialValidUntil: credential.validUntil,
    credentialInstructions: credential.instructions ?? null,
    credentialFirstUseBefore: credential.firstUseBefore ?? null,
  };
}

const credentialDetails = (c: IssuedCredential) => ({
  credential: c.kind,
  validFrom: new Date(c.validFrom).toISOString(),
  validUntil: c.validUntil === null ? null : new Date(c.validUntil).toISOString(),
});

function toApplied(g: Row<'providerGrants'>): AppliedGrant {
  return {
    id: g.id,
    targetRef: g.targetRef,
    startsAt: g.startsAt,
    endsAt: g.endsAt,
    pinId: g.pinId,
    reasons: JSON.parse(g.reasons),
    ...(g.replaceRequested ? { replace: true } : {}),
    ...(g.fixed ? { fixed: true } : {}),
  };
}

/** Who a person is on this integration's provider (a pseudonym in privacy mode). */
export function providerIdentity(ctx: Pick<ReconcileContext, 'db' | 'secrets' | 'integration'>, personId: string): Promise<ProviderIdentity> {
  return identityFor(ctx, personId);
}

/** The stable key Lockstep stores on the provider for a person (a pseudonym in privacy mode). */
export function userKey(ctx: Pick<ReconcileContext, 'secrets' | 'integration'>, personId: string): string {
  // In privacy mode the provider sees a pseudonym that cannot be turned back into our person id.
  if (ctx.integration.privacyMode) return `ls-${ctx.secrets.keyedHash(personId, `pseudonym:${ctx.integration.id}`).slice(0, 24)}`;
  return `lockstep-${personId}`;
}

async function identityFor(ctx: Pick<ReconcileContext, 'db' | 'secrets' | 'integration'>, personId: string): Promise<ProviderIdentity> {
  const key = userKey(ctx, personId);
  if (ctx.integration.privacyMode) return { key, displayName: `Guest ${key.slice(3, 11)}` };
  const person = await ctx.db.selectFrom('people').select(['name', 'email', 'phone']).where('id', '=', personId).executeTakeFirst();
  return { key, displayName: person?.name ?? key, email: person?.email ?? undefined, phone: person?.phone ?? undefined };
}

type Call = <T>(fn: () => Promise<T>) => Promise<T>;
type Note = (action: string, details: Record<string, unknown>, reason?: string | null) => void;

const reasonText = (w: DesiredWindow | AppliedGrant) => (w.reasons.length ? w.reasons.join(',') : null);
const windowDetails = (w: { startsAt: number; endsAt: number | null }) => ({
  from: new Date(w.startsAt).toISOString(),
  until: w.endsAt === null ? null : new Date(w.endsAt).toISOString(),
});

async function executeStep(
  ctx: ReconcileContext,
  personId: string,
  step: GrantStep,
  who: { userRef?: string; identity: ProviderIdentity | null; pin: { id: string; pin: string } | null },
  call: Call,
  note: Note,
): Promise<void> {
  const { db, adapter, integration } = ctx;
  const now = Date.now();
  switch (step.op) {
    case 'create': {
      const id = newId('gr');
      const intent = (trx: Kysely<Database>) =>
        trx
        .insertInto('providerGrants')
        .values({
          id,
          integrationId: integration.id,
          personId,
          targetRef: step.targetRef,
          providerRef: null,
          startsAt: step.window.startsAt,
          endsAt: step.window.endsAt,
          state: 'creating',
          pinId: who.pin?.id ?? null,
          reasons: JSON.stringify(step.window.reasons),
          createdAt: now,
          updatedAt: now,
        })
        .execute()
        .then(() => undefined);
      const slots = ctx.slots?.limits.get(step.targetRef);
      if (slots === undefined) await intent(db);
      else if (!(await reserveSlot(db, integration.id, step.targetRef, personId, slots, intent))) {
        // Another sync took the last slot between the ranking and now: wait like anyone else.
        await db
          .insertInto('slotWaits')
          .values({ integrationId: integration.id, targetRef: step.targetRef, personId, startsAt: step.window.startsAt, since: now })
          .onConflict((oc) => oc.columns(['integrationId', 'targetRef', 'personId']).doUpdateSet({ startsAt: step.window.startsAt }))
          .execute();
        // A later code that won the race gives its slot up; rank again shortly in any case.
        await askLaterToYield(ctx, step.targetRef, personId, step.window.startsAt);
        ctx.slots!.retryAt = Math.min(ctx.slots!.retryAt ?? Infinity, now + 5_000);
        note('access.waiting-for-slot', { targetRef: step.targetRef });
        return;
      }
      const { ref, credential, fixed } = await call(() =>
        adapter.createGrant({ userRef: who.userRef, identity: who.identity!, targetRef: step.targetRef, window: step.window, pin: who.pin?.pin }),
      );
      await db
        .updateTable('providerGrants')
        .set({ providerRef: ref, state: 'present', updatedAt: Date.now(), ...(fixed ? { fixed: 1, pinId: null } : {}), ...credentialColumns(ctx, credential) })
        .where('id', '=', id)
        .execute();
      note('access.granted', { targetRef: step.targetRef, ...windowDetails(step.window), ...(credential ? credentialDetails(credential) : {}) }, reasonText(step.window));
      return;
    }
    case 'update': {
      const g = step.grant;
      await db.updateTable('providerGrants').set({ state: 'updating', updatedAt: now }).where('id', '=', g.id).execute();
      const row = await db.selectFrom('providerGrants').select('providerRef').where('id', '=', g.id).executeTakeFirstOrThrow();
      let newRef: string | undefined;
      try {
        const out = await call(() =>
          adapter.updateGrant({ userRef: who.userRef, identity: who.identity!, grantRef: row.providerRef!, targetRef: g.targetRef, window: step.window, pin: who.pin?.pin }),
        );
        newRef = out?.ref;
      } catch (err) {
        if (err instanceof ProviderError && err.kind === 'not-found') {
          // Someone removed it on the provider: forget it, and the retry creates it afresh.
          await db.deleteFrom('providerGrants').where('id', '=', g.id).execute();
          note('drift.grant-missing', { targetRef: g.targetRef });
        }
        throw err;
      }
      await db
        .updateTable('providerGrants')
        .set({
          ...(newRef ? { providerRef: newRef } : {}),
          startsAt: step.window.startsAt,
          endsAt: step.window.endsAt,
          pinId: who.pin?.id ?? g.pinId,
          reasons: JSON.stringify(step.window.reasons),
          state: 'present',
          updatedAt: Date.now(),
        })
        .where('id', '=', g.id)
        .execute();
      note('access.changed', { targetRef: g.targetRef, previous: windowDetails(g), ...windowDetails(step.window) }, reasonText(step.window));
      return;
    }
    case 'relabel': {
      await db
        .updateTable('providerGrants')
        .set({ reasons: JSON.stringify(step.window.reasons), updatedAt: now })
        .where('id', '=', step.grant.id)
        .execute();
      return;
    }
    case 'delete':
      await deleteGrant(ctx, step.grant, who.userRef, call, note);
      return;
  }
}

/** A failure that concerns one grant only: the person's other grants go ahead. */
function isOneDoorFailure(err: unknown): err is ProviderError {
  return err instanceof ProviderError && (err.kind === 'transient' || err.kind === 'rejected' || err.kind === 'not-found');
}

/**
 * Runs a person's grant steps. Where each grant is its own resource on the provider, the doors go side
 * by side (a booking's front door and room cost one round trip, not two); otherwise one after another.
 * Steps on one door always keep their order (a window withdrawn before the next is written), and each
 * still writes its intent before its call and its outcome after, so a crash leaves exactly the grants
 * in flight in doubt. One door failing does not hold up the others; a rate limit or bad credentials
 * stop the run, and so does a fresh PIN (the remaining steps carry the old one; the retry writes the
 * new). The audit entries keep the steps' order; the error thrown is the stopper, else the first
 * door that failed.
 */
async function executeSteps(
  ctx: ReconcileContext,
  personId: string,
  steps: GrantStep[],
  who: { userRef?: string; identity: ProviderIdentity | null; pin: { id: string; pin: string } | null },
  call: Call,
  note: Note,
): Promise<void> {
  const caps = ctx.adapter.capabilities;
  const sideBySide = caps.independentGrants === true && !caps.pinOnLock;
  const lanes = new Map<string, number[]>();
  steps.forEach((step, i) => {
    const lane = sideBySide ? (step.op === 'create' ? step.targetRef : step.grant.targetRef) : '';
    lanes.set(lane, [...(lanes.get(lane) ?? []), i]);
  });
  const notes: Parameters<Note>[][] = steps.map(() => []);
  const failures: { err: unknown; stops: boolean }[] = [];
  await Promise.all(
    [...lanes.values()].map(async (indexes) => {
      for (const i of indexes) {
        const step = steps[i]!;
        try {
          await executeStep(ctx, personId, step, who, call, (...entry) => void notes[i]!.push(entry));
        } catch (caught) {
          const err = caps.pinOnLock && (step.op === 'create' || step.op === 'update') ? await replacePinOnConflict(ctx, personId, caught) : caught;
          // A refused code on a keypad: perhaps someone filled it by hand; count its codes again.
          if (caps.pinOnLock && step.op === 'create' && err instanceof ProviderError && err.kind === 'rejected') await staleForeignCodes(ctx.db, ctx.integration.id, step.targetRef);
          const freshPin = err !== caught;
          failures[i] = { err, stops: !freshPin && !isOneDoorFailure(err) };
          if (freshPin || failures[i]!.stops) return;
        }
      }
    }),
  );
  for (const entries of notes) for (const entry of entries) note(...entry);
  const failed = failures.filter(Boolean);
  const stopper = failed.find((f) => f.stops);
  if (stopper) throw stopper.err;
  if (failed.length) throw failed[0]!.err;
}

async function deleteGrant(ctx: ReconcileContext, g: AppliedGrant, userRef: string | undefined, call: Call, note: Note) {
  const { db, adapter } = ctx;
  if (!adapter.capabilities.revocable || g.fixed) return leaveValid(ctx, g, note);
  await db.updateTable('providerGrants').set({ state: 'deleting', updatedAt: Date.now() }).where('id', '=', g.id).execute();
  const row = await db.selectFrom('providerGrants').select('providerRef').where('id', '=', g.id).executeTakeFirst();
  if (row?.providerRef) {
    try {
      await call(() => adapter.deleteGrant({ userRef, grantRef: row.providerRef!, targetRef: g.targetRef }));
    } catch (err) {
      if (!(err instanceof ProviderError && err.kind === 'not-found')) throw err;
    }
  }
  await db.deleteFrom('providerGrants').where('id', '=', g.id).execute();
  note('access.revoked', { targetRef: g.targetRef, ...windowDetails(g) }, reasonText(g));
  if (adapter.capabilities.pinOnLock) await slotFreed(ctx, g.targetRef);
}

/**
 * The provider cannot withdraw this grant (an offline code is already in the guest's hands and the
 * lock does not ask anyone). Say so: keep the row as 'left-valid' until it ends, so the admin sees a
 * credential that still opens the door, and write that into the audit log.
 */
async function leaveValid(ctx: ReconcileContext, g: AppliedGrant, note: Note) {
  const { db } = ctx;
  const row = await db.selectFrom('providerGrants').select(['providerRef', 'credentialValidUntil']).where('id', '=', g.id).executeTakeFirst();
  const validUntil = row?.credentialValidUntil ?? g.endsAt;
  if (!row?.providerRef || (validUntil !== null && validUntil <= Date.now())) {
    // Never issued (or already expired): nothing opens the door, nothing to keep.
    await db.deleteFrom('providerGrants').where('id', '=', g.id).execute();
    note('access.revoked', { targetRef: g.targetRef, ...windowDetails(g) }, reasonText(g));
    return;
  }
  await db.updateTable('providerGrants').set({ state: 'left-valid', updatedAt: Date.now() }).where('id', '=', g.id).execute();
  note(
    'access.left-valid',
    {
      targetRef: g.targetRef,
      ...windowDetails(g),
      validUntil: validUntil === null ? null : new Date(validUntil).toISOString(),
      why: `${ctx.adapter.kind} cannot withdraw an issued offline code; it keeps opening the door until it expires`,
    },
    reasonText(g),
  );
}

/** Applies creates, updates and deletes for one provider user in one provider request. */
async function executeBatch(
  ctx: ReconcileContext,
  personId: string,
  steps: GrantStep[],
  userRef: string,
  identity: ProviderIdentity,
  call: Call,
  note: Note,
): Promise<void> {
  const { db, adapter, integration } = ctx;
  const now = Date.now();
  const creates: { id: string; step: Extract<GrantStep, { op: 'create' }> }[] = [];
  const updates: { ref: string; step: Extract<GrantStep, { op: 'update' }> }[] = [];
  const deletes: { ref: string | null; step: Extract<GrantStep, { op: 'delete' }> }[] = [];
  // Intent rows first: a crash between here and the provider's answer is resolved by read-back.
  for (const step of steps) {
    if (step.op === 'create') {
      const id = newId('gr');
      await db
        .insertInto('providerGrants')
        .values({ id, integrationId: integration.id, personId, targetRef: step.targetRef, providerRef: null, startsAt: step.window.startsAt, endsAt: step.window.endsAt, state: 'creating', pinId: null, reasons: JSON.stringify(step.window.reasons), createdAt: now, updatedAt: now })
        .execute();
      creates.push({ id, step });
    } else if (step.op === 'update' || step.op === 'delete') {
      const state = step.op === 'update' ? 'updating' : 'deleting';
      await db.updateTable('providerGrants').set({ state, updatedAt: now }).where('id', '=', step.grant.id).execute();
      const row = await db.selectFrom('providerGrants').select('providerRef').where('id', '=', step.grant.id).executeTakeFirst();
      if (step.op === 'update') updates.push({ ref: row!.providerRef!, step });
      else deletes.push({ ref: row?.providerRef ?? null, step });
    }
  }
  const window = (w: DesiredWindow) => ({ startsAt: w.startsAt, endsAt: w.endsAt });
  const { created, updated } = await call(() =>
    adapter.applyGrantBatch!({
      userRef,
      identity,
      create: creates.map(({ step }) => ({ targetRef: step.targetRef, window: window(step.window) })),
      update: updates.map(({ ref, step }) => ({ grantRef: ref, targetRef: step.grant.targetRef, window: window(step.window) })),
      remove: deletes.filter((d) => d.ref).map(({ ref, step }) => ({ grantRef: ref!, targetRef: step.grant.targetRef })),
    }),
  );
  const done = Date.now();
  for (const [i, { id, step }] of creates.entries()) {
    await db.updateTable('providerGrants').set({ providerRef: created[i] ?? null, state: 'present', updatedAt: done }).where('id', '=', id).execute();
    note('access.granted', { targetRef: step.targetRef, ...windowDetails(step.window) }, reasonText(step.window));
  }
  for (const [i, { step }] of updates.entries()) {
    const newRef = updated?.[i];
    await db
      .updateTable('providerGrants')
      .set({
        ...(newRef ? { providerRef: newRef } : {}),
        startsAt: step.window.startsAt,
        endsAt: step.window.endsAt,
        reasons: JSON.stringify(step.window.reasons),
        state: 'present',
        updatedAt: done,
      })
      .where('id', '=', step.grant.id)
      .execute();
    note('access.changed', { targetRef: step.grant.targetRef, previous: windowDetails(step.grant), ...windowDetails(step.window) }, reasonText(step.window));
  }
  for (const { step } of deletes) {
    await db.deleteFrom('providerGrants').where('id', '=', step.grant.id).execute();
    note('access.revoked', { targetRef: step.grant.targetRef, ...windowDetails(step.grant) }, reasonText(step.grant));
  }
}

async function revokeEverything(
  ctx: ReconcileContext,
  personId: string,
  user: Row<'providerUsers'> | null,
  grants: Row<'providerGrants'>[],
  call: Call,
  note: Note,
) {
  const { db, adapter, integration } = ctx;
  // Where removing the user removes its grants, one call does it all; the grants are still audited.
  const cascade = Boolean(user?.providerRef && adapter.capabilities.providerUsers && adapter.deletingUserRemovesGrants);
  for (const g of grants) {
    if (!cascade) {
      await deleteGrant(ctx, toApplied(g), user?.providerRef ?? undefined, call, note);
      continue;
    }
    await db.updateTable('providerGrants').set({ state: 'deleting', updatedAt: Date.now() }).where('id', '=', g.id).execute();
  }
  if (!user) return;
  await db
    .updateTable('providerUsers')
    .set({ state: 'deleting', updatedAt: Date.now() })
    .where('integrationId', '=', integration.id)
    .where('personId', '=', personId)
    .execute();
  if (user.providerRef) {
    try {
      await call(() => adapter.deleteUser(user.providerRef!));
    } catch (err) {
      if (!(err instanceof ProviderError && err.kind === 'not-found')) throw err;
    }
  }
  if (cascade) {
    await db.deleteFrom('providerGrants').where('integrationId', '=', integration.id).where('personId', '=', personId).execute();
    for (const g of grants) note('access.revoked', { targetRef: g.targetRef, ...windowDetails(g) }, reasonText(toApplied(g)));
  }
  await db.deleteFrom('providerUsers').where('integrationId', '=', integration.id).where('personId', '=', personId).execute();
  note('provider-user.deleted', { providerRef: user.providerRef });
}

/**
 * Makes our applied-state rows agree with what the provider holds: adopt a user or grant a crashed
 * run created but never recorded, drop what someone deleted inside the provider, and take the
 * provider's window where it was edited there. Planning then repairs any difference from desired.
 */
async function adoptObservation(
  ctx: ReconcileContext,
  personId: string,
  user: Row<'providerUsers'> | null,
  grants: Row<'providerGrants'>[],
  obs: Observation,
  note: Note,
) {
  const { db, integration } = ctx;
  const now = Date.now();
  const keyUser = { integrationId: integration.id, personId };
  if (user) {
    if (!obs.user) {
      await db.deleteFrom('providerUsers').where('integrationId', '=', keyUser.integrationId).where('personId', '=', personId).execute();
      if (user.state === 'present') note('drift.user-missing', { providerRef: user.providerRef });
      // Grants hang off the user; with it gone, so are they.
      if (ctx.adapter.capabilities.providerUsers) {
        await db.deleteFrom('providerGrants').where('integrationId', '=', integration.id).where('personId', '=', personId).execute();
        return;
      }
    } else {
      const pinKnown = obs.user.hasPin === false ? null : user.pinId;
      if (user.state === 'present' && obs.user.hasPin === false && user.pinId) note('drift.pin-missing', {});
      await db
        .updateTable('providerUsers')
        .set({ providerRef: obs.user.ref, state: 'present', pinId: pinKnown, updatedAt: now })
        .where('integrationId', '=', integration.id)
        .where('personId', '=', personId)
        .execute();
    }
  }

  // Codes we already left valid are history, not something to adopt again.
  const leftValid = await db
    .selectFrom('providerGrants')
    .select('providerRef')
    .where('integrationId', '=', integration.id)
    .where('personId', '=', personId)
    .where('state', '=', 'left-valid')
    .execute();
  const history = new Set(leftValid.map((r) => r.providerRef));
  const unclaimed = obs.grants.filter((o) => !history.has(o.ref));
  const take = (pred: (o: (typeof unclaimed)[number]) => boolean) => {
    const i = unclaimed.findIndex(pred);
    return i === -1 ? null : unclaimed.splice(i, 1)[0];
  };
  for (const g of grants) {
    const seen =
      (g.providerRef && take((o) => o.ref === g.providerRef)) ||
      (!g.providerRef && take((o) => o.targetRef === g.targetRef && o.window.startsAt === g.startsAt && o.window.endsAt === g.endsAt));
    if (!seen) {
      await db.deleteFrom('providerGrants').where('id', '=', g.id).execute();
      if (g.state === 'present') note('drift.grant-missing', { targetRef: g.targetRef, ...windowDetails(g) });
      continue;
    }
    // A provider without membership windows only says "member or not": keep the window we applied.
    const window = ctx.adapter.capabilities.membershipWindows ? seen.window : { startsAt: g.startsAt, endsAt: g.endsAt };
    const edited = window.startsAt !== g.startsAt || window.endsAt !== g.endsAt;
    if (edited && g.state === 'present') note('drift.grant-changed', { targetRef: g.targetRef, ...windowDetails(window) });
    await db
      .updateTable('providerGrants')
      .set({ providerRef: seen.ref, startsAt: window.startsAt, endsAt: window.endsAt, state: 'present', updatedAt: now })
      .where('id', '=', g.id)
      .execute();
  }
  // Grants on a user we created are ours even if a crash kept us from recording them.
  if (ctx.adapter.capabilities.providerUsers && obs.user && !user) {
    await db
      .insertInto('providerUsers')
      .values({ ...keyUser, userKey: obs.user.key, providerRef: obs.user.ref, state: 'present', pinId: null, createdAt: now, updatedAt: now })
      .execute();
  }
  for (const o of unclaimed) {
    await db
      .insertInto('providerGrants')
      .values({
        id: newId('gr'),
        integrationId: integration.id,
        personId,
        targetRef: o.targetRef,
        providerRef: o.ref,
        startsAt: o.window.startsAt,
        endsAt: o.window.endsAt,
        state: 'present',
        pinId: null,
        reasons: '[]',
        createdAt: now,
        updatedAt: now,
      })
      .execute();
  }
}
