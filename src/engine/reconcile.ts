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
import type { Database } from '../store/schema.js';
import type { DesiredAccess } from '../domain/facts.js';
import { computeDesired } from '../domain/desired.js';
import { loadManagedGrants, loadSyncSnapshots, type SyncSnapshot } from './snapshot.js';
import { writeAudit, type AuditEntry } from '../store/audit.js';
import type { AccessWindow, ProviderAdapter, ProviderIdentity } from '../providers/types.js';
import { oneWindowPerTarget, planGrantSteps, startedWindowsOnly } from './plan.js';
import { pinRulesFor } from './pin-rules.js';
import { applySlotLimits } from './capacity.js';

import { ACTOR, identityFor, userKey, providerIdentity, toApplied, type Call, type ReconcileContext, type ReconcileOutcome } from './sync-context.js';
import { executeBatch, executeStep, executeSteps, replacePinOnConflict, revokeEverything } from './grant-steps.js';
import { adoptObservation } from './adopt.js';

export { userKey, providerIdentity, type ReconcileContext, type ReconcileOutcome };

/**
 * `snapshot`: what the engine read for this person with the others it claimed (src/engine/snapshot.ts);
 * without it, the sync reads it itself.
 */
export async function reconcilePerson(ctx: ReconcileContext, personId: string, verify: boolean, snapshot?: SyncSnapshot): Promise<ReconcileOutcome> {
  const { db, adapter, integration, now } = ctx;
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
    const read = snapshot ?? (await loadSyncSnapshots(db, integration, [personId], now)).get(personId)!;
    // The person's name and contact, worked out once per sync however many writes need them.
    let identityRead: Promise<ProviderIdentity> | null = null;
    const identity = () => (identityRead ??= identityFor(ctx, personId, read.person));
    const facts = read.facts;
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

    let user = read.user;
    let grants = read.grants;

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
      grants = (await loadManagedGrants(db, integration.id, [personId], now)).get(personId) ?? [];
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
      ? await ctx.pins.ensure(integration.id, personId, pinRulesFor(adapter, integration), integration.organisationId, read.pin)
      : null;

    let userRef: string | undefined;
    if (caps.providerUsers) {
      if (!user) {
        const who = await identity();
        await db
          .insertInto('providerUsers')
          .values({ integrationId: integration.id, personId, userKey: who.key, providerRef: null, state: 'creating', pinId: null, createdAt: now, updatedAt: now })
          .execute();
        const { ref } = await call(() => adapter.createUser(who));
        await db
          .updateTable('providerUsers')
          .set({ providerRef: ref, state: 'present', updatedAt: Date.now() })
          .where('integrationId', '=', integration.id)
          .where('personId', '=', personId)
          .execute();
        note('provider-user.created', { providerRef: ref });
        user = { integrationId: integration.id, personId, userKey: who.key, providerRef: ref, state: 'present', pinId: null, createdAt: now, updatedAt: now };
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
    const stepIdentity = steps.some((s) => s.op === 'create' || s.op === 'update') ? await identity() : null;
    const providerSteps = steps.filter((s) => s.op !== 'relabel');
    if (adapter.applyGrantBatch && caps.providerUsers && userRef && providerSteps.length > 1 && caps.revocable) {
      // One request for all of this person's changes (e.g. Gallagher's cardholder PATCH).
      for (const step of steps) if (step.op === 'relabel') await executeStep(ctx, personId, step, { userRef, identity: stepIdentity, pin: null }, call, note);
      await executeBatch(ctx, personId, providerSteps, userRef, await identity(), call, note);
      return { nextDueAt, calls };
    }
    await executeSteps(ctx, personId, steps, { userRef, identity: stepIdentity, pin: caps.pinOnLock ? pin : null }, call, note);
    // A create that found the keypad full on writing its intent waits like the others.
    const retryAt = ctx.slots?.retryAt ?? null;
    if (retryAt !== null) nextDueAt = nextDueAt === null ? retryAt : Math.min(nextDueAt, retryAt);
    return { nextDueAt, calls };
  } finally {
    await writeAudit(db, audit);
  }
}

/** The adapter, with its keypad read counted as a provider call like every other. */
function countingAdapter(adapter: ProviderAdapter, call: Call): ProviderAdapter {
  if (!adapter.keypadOccupancy) return adapter;
  return Object.assign(Object.create(adapter) as ProviderAdapter, { keypadOccupancy: (ref: string) => call(() => adapter.keypadOccupancy!(ref)) });
}

function roundDesired(desired: DesiredAccess[], round: (w: AccessWindow, targetRef: string) => AccessWindow): DesiredAccess[] {
  return desired.map((d) => ({ ...d, windows: d.windows.map((w) => ({ ...w, ...round({ startsAt: w.startsAt, endsAt: w.endsAt }, d.targetRef) })) }));
}

