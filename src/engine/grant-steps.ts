/**
 * Carrying out a sync's plan on the provider, step by step: each create, update and delete writes its
 * intent row before the call and its outcome after, so a crash leaves exactly the steps in flight in
 * doubt (the next run reads the provider back; src/engine/adopt.ts). Also: the batch form
 * (one request per person where the provider has it), revoking everything, and a PIN the provider
 * says is taken.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { DesiredWindow } from '../domain/facts.js';
import { newId } from '../store/ids.js';
import { ProviderError, type ProviderIdentity } from '../providers/types.js';
import type { AppliedGrant, GrantStep } from './plan.js';
import { pinRulesFor } from './pin-rules.js';
import { askLaterToYield, reserveSlot, slotFreed, staleForeignCodes, waitForSlot } from './capacity.js';
import { ACTOR, credentialColumns, credentialDetails, reasonText, toApplied, windowDetails, type Call, type Note, type ReconcileContext } from './sync-context.js';

/**
 * A 409 on writing a PIN means the provider already holds that code (perhaps one Lockstep did not
 * issue). A code is never shared: issue a fresh one and let the retry write it everywhere.
 */
export async function replacePinOnConflict(ctx: ReconcileContext, personId: string, err: unknown): Promise<unknown> {
  if (!(err instanceof ProviderError && err.details.status === 409)) return err;
  const { integration, adapter } = ctx;
  await ctx.pins.regenerate(integration.id, personId, pinRulesFor(adapter, integration), integration.organisationId, ACTOR);
  return new ProviderError('transient', 'PIN already in use on the provider; issued a new one');
}

export async function executeStep(
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
        await waitForSlot(db, integration.id, step.targetRef, personId, step.window.startsAt, now);
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
export async function executeSteps(
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
export async function executeBatch(
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

export async function revokeEverything(
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

