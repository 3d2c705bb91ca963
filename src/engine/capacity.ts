/**
 * Keypads that fill up. A lock holds a limited number of codes (the provider's figure, or the admin's
 * per-target setting). Codes Lockstep did not create count against it and are never touched.
 *
 * Who gets a slot is level-triggered like the rest of the engine: everyone who wants a code on the
 * target (holders and waiters) is ranked by the start of their window, nearest first, and each
 * person's sync decides for itself whether it may hold a slot:
 * - a code whose window has started is never removed for anyone;
 * - a later code not started yet gives its slot up to a nearer one (it is written again when a slot
 *   frees: the later one waits);
 * - otherwise the person waits in `slot_waits` ("waiting for a free slot"), and is woken when a code
 *   on the target is deleted, or at the end of the earliest code on it at the latest.
 * The last check happens when the intent row is written: counting the target's codes and inserting the
 * intent are one transaction, so two syncs racing for the last slot cannot both take it.
 */
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { DesiredAccess } from '../domain/facts.js';
import type { ProviderAdapter } from '../providers/types.js';

/** Codes on the lock Lockstep did not create are re-read this often (they change rarely, by hand). */
export const FOREIGN_CODES_TTL_MS = 10 * 60_000;

/** States of a grant row that occupy a slot on the lock (left-valid: an offline code still working). */
const OCCUPYING = ['creating', 'present', 'updating', 'deleting', 'left-valid'] as const;

export interface SlotContext {
  db: Kysely<Database>;
  adapter: ProviderAdapter;
  integration: Pick<Row<'integrations'>, 'id'>;
  now: number;
  /** Queue these people for a sync now (a slot has freed up, or one of them must give theirs up). */
  wake?: (personIds: string[]) => Promise<void>;
}

export interface SlotOutcome {
  /** `desired` without the targets this person may not hold a code on now. */
  desired: DesiredAccess[];
  /** Per capacity-limited target this person keeps or gets a code on: slots for Lockstep's codes. */
  limits: Map<string, number>;
  /** When to look again (a waiting person). */
  retryAt: number | null;
}

export interface TargetSlots {
  capacity: number | null;
  foreignCodes: number;
}

/** The capacity in force (setting, else the provider's figure) and the foreign codes, refreshed when stale. */
export async function targetSlots(ctx: Pick<SlotContext, 'db' | 'adapter' | 'integration' | 'now'>, targetRef: string): Promise<TargetSlots> {
  const { db, integration, now } = ctx;
  let row = await db.selectFrom('targetCapacity').selectAll().where('integrationId', '=', integration.id).where('targetRef', '=', targetRef).executeTakeFirst();
  if (ctx.adapter.keypadOccupancy && (!row || row.foreignReadAt === null || now - row.foreignReadAt > FOREIGN_CODES_TTL_MS)) {
    const seen = await ctx.adapter.keypadOccupancy(targetRef);
    const values = { reported: seen.capacity, foreignCodes: seen.foreignCodes, foreignReadAt: now, updatedAt: now };
    await db
      .insertInto('targetCapacity')
      .values({ integrationId: integration.id, targetRef, setting: null, ...values })
      .onConflict((oc) => oc.columns(['integrationId', 'targetRef']).doUpdateSet(values))
      .execute();
    row = { integrationId: integration.id, targetRef, setting: row?.setting ?? null, ...values };
  }
  return { capacity: row?.setting ?? row?.reported ?? null, foreignCodes: row?.foreignCodes ?? 0 };
}

/** Forget the foreign-code count of a target (the provider refused a code: someone may have added one). */
export async function staleForeignCodes(db: Kysely<Database>, integrationId: string, targetRef: string): Promise<void> {
  await db.updateTable('targetCapacity').set({ foreignReadAt: null }).where('integrationId', '=', integrationId).where('targetRef', '=', targetRef).execute();
}

/**
 * Applies the capacity of each target this person wants a code on. `held`: the person's grant rows.
 * Called before planning, so a person who must wait or give up a slot simply has no window there.
 */
export async function applySlotLimits(ctx: SlotContext, personId: string, desired: DesiredAccess[], held: Pick<Row<'providerGrants'>, 'targetRef' | 'startsAt' | 'state'>[]): Promise<SlotOutcome> {
  const { db, integration, now } = ctx;
  const limits = new Map<string, number>();
  const kept: DesiredAccess[] = [];
  let retryAt: number | null = null;
  const wantedTargets = new Set<string>();
  for (const d of desired) {
    const window = d.windows[0];
    if (!window) {
      kept.push(d);
      continue;
    }
    wantedTargets.add(d.targetRef);
    const { capacity, foreignCodes } = await targetSlots(ctx, d.targetRef);
    if (capacity === null) {
      kept.push(d);
      continue;
    }
    const slots = Math.max(0, capacity - foreignCodes);
    const [holders, waiters] = await Promise.all([
      db.selectFrom('providerGrants').select(['personId', 'startsAt']).where('integrationId', '=', integration.id).where('targetRef', '=', d.targetRef).where('state', 'in', OCCUPYING).execute(),
      db.selectFrom('slotWaits').select(['personId', 'startsAt']).where('integrationId', '=', integration.id).where('targetRef', '=', d.targetRef).execute(),
    ]);
    const mine = held.find((g) => g.targetRef === d.targetRef && (OCCUPYING as readonly string[]).includes(g.state));
    const started = (startsAt: number) => startsAt <= now;
    const before = (other: { personId: string; startsAt: number }) => other.startsAt < window.startsAt || (other.startsAt === window.startsAt && other.personId < personId);
    const otherHolders = holders.filter((h) => h.personId !== personId);
    const otherWaiters = waiters.filter((w) => w.personId !== personId && !holders.some((h) => h.personId === w.personId));
    // Ahead of me: anyone nearer, and any holder whose window has started (never removed for anyone).
    const ahead = otherHolders.filter((h) => before(h) || started(h.startsAt)).length + otherWaiters.filter(before).length;
    const mayHold = (mine !== undefined && started(mine.startsAt)) || ahead < slots;
    if (mayHold && (mine || otherHolders.length < slots)) {
      limits.set(d.targetRef, slots);
      kept.push(d);
      // A person about to create keeps their place in the queue until the intent row is written
      // (reserveSlot), so a sync racing for the same slot still sees them ahead.
      if (mine) await db.deleteFrom('slotWaits').where('integrationId', '=', integration.id).where('targetRef', '=', d.targetRef).where('personId', '=', personId).execute();
      continue;
    }
    // Waiting (or giving a later code's slot up to a nearer one).
    await waitForSlot(db, integration.id, d.targetRef, personId, window.startsAt, now);
    // My turn, but a later code not started yet holds the slot: ask its holder to give it up.
    if (mayHold) await askLaterToYield(ctx, d.targetRef, personId, window.startsAt);
    const firstEnd = await db
      .selectFrom('providerGrants')
      .select((eb) => eb.fn.min('endsAt').as('at'))
      .where('integrationId', '=', integration.id)
      .where('targetRef', '=', d.targetRef)
      .where('state', 'in', OCCUPYING)
      .executeTakeFirst();
    const at = firstEnd?.at === null || firstEnd?.at === undefined ? now + FOREIGN_CODES_TTL_MS : Math.max(now + 1_000, Number(firstEnd.at));
    retryAt = retryAt === null ? at : Math.min(retryAt, at);
  }
  // Nothing wanted on a target any more: stop waiting there.
  const stale = await db.selectFrom('slotWaits').select('targetRef').where('integrationId', '=', integration.id).where('personId', '=', personId).execute();
  const gone = stale.map((s) => s.targetRef).filter((t) => !wantedTargets.has(t));
  if (gone.length) await db.deleteFrom('slotWaits').where('integrationId', '=', integration.id).where('personId', '=', personId).where('targetRef', 'in', gone).execute();
  return { desired: kept, limits, retryAt };
}

/**
 * Writes a create's intent row only if a slot is free: the count and the insert in one transaction
 * (PostgreSQL: the target's capacity row locked first, so racing workers take turns). False: full.
 */
export async function reserveSlot(db: Kysely<Database>, integrationId: string, targetRef: string, personId: string, slots: number, insertIntent: (trx: Kysely<Database>) => Promise<void>): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`select 1 from target_capacity where integration_id = ${integrationId} and target_ref = ${targetRef} for update`.execute(trx);
    const row = await trx
      .selectFrom('providerGrants')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('integrationId', '=', integrationId)
      .where('targetRef', '=', targetRef)
      .where('state', 'in', OCCUPYING)
      .executeTakeFirst();
    if (Number(row?.n ?? 0) >= slots) return false;
    await insertIntent(trx);
    await trx.deleteFrom('slotWaits').where('integrationId', '=', integrationId).where('targetRef', '=', targetRef).where('personId', '=', personId).execute();
    return true;
  });
}

/** Puts a person in the target's queue (or moves their place to a new window start); `since` is kept. */
export async function waitForSlot(db: Kysely<Database>, integrationId: string, targetRef: string, personId: string, startsAt: number, now: number): Promise<void> {
  await db
    .insertInto('slotWaits')
    .values({ integrationId, targetRef, personId, startsAt, since: now })
    .onConflict((oc) => oc.columns(['integrationId', 'targetRef', 'personId']).doUpdateSet({ startsAt }))
    .execute();
}

/** Wakes the holder of the latest code on the target that has not started and starts after `startsAt`. */
export async function askLaterToYield(ctx: Pick<SlotContext, 'db' | 'integration' | 'now' | 'wake'>, targetRef: string, personId: string, startsAt: number): Promise<void> {
  const later = await ctx.db
    .selectFrom('providerGrants')
    .select('personId')
    .where('integrationId', '=', ctx.integration.id)
    .where('targetRef', '=', targetRef)
    .where('state', 'in', OCCUPYING)
    .where('personId', '!=', personId)
    .where('startsAt', '>', Math.max(ctx.now, startsAt))
    .orderBy('startsAt', 'desc')
    .executeTakeFirst();
  if (later) await ctx.wake?.([later.personId]);
}

/** A code on a capacity-limited target was deleted: wake the nearest people waiting there. */
export async function slotFreed(ctx: Pick<SlotContext, 'db' | 'integration' | 'wake'>, targetRef: string): Promise<void> {
  if (!ctx.wake) return;
  const waiting = await ctx.db.selectFrom('slotWaits').select('personId').where('integrationId', '=', ctx.integration.id).where('targetRef', '=', targetRef).orderBy('startsAt').limit(20).execute();
  if (waiting.length) await ctx.wake(waiting.map((w) => w.personId));
}

export interface TargetCapacityReport {
  targetRef: string;
  /** In force: the admin's setting, else what the provider reports; null = not limited. */
  capacity: number | null;
  setting: number | null;
  reported: number | null;
  /** Codes on the lock Lockstep did not create (last read). */
  foreignCodes: number;
  /** Codes Lockstep holds there now. */
  lockstepCodes: number;
  /** Free slots (null when not limited). */
  free: number | null;
  /** People waiting for a free slot, nearest window first. */
  waiting: { personId: string; startsAt: number; since: number }[];
}

/**
 * Capacity, use and waiting list of each target of an integration that has a capacity row or waiters,
 * plus the targets in `alsoFor` (reported as not limited when nothing is known of them).
 */
export async function capacityReport(db: Kysely<Database>, integrationId: string, targetRef?: string, alsoFor: string[] = []): Promise<TargetCapacityReport[]> {
  const where = <T extends { where: (...a: any[]) => T }>(qb: T) => (targetRef === undefined ? qb : qb.where('targetRef', '=', targetRef));
  const [rows, counts, waits] = await Promise.all([
    where(db.selectFrom('targetCapacity').selectAll().where('integrationId', '=', integrationId)).execute(),
    where(db.selectFrom('providerGrants').select(['targetRef', (eb) => eb.fn.countAll<number>().as('n')]).where('integrationId', '=', integrationId).where('state', 'in', OCCUPYING).groupBy('targetRef')).execute(),
    where(db.selectFrom('slotWaits').select(['targetRef', 'personId', 'startsAt', 'since']).where('integrationId', '=', integrationId).orderBy('startsAt')).execute(),
  ]);
  const refs = [...new Set([...rows.map((r) => r.targetRef), ...waits.map((w) => w.targetRef), ...alsoFor])].sort();
  return refs.map((ref) => {
    const row = rows.find((r) => r.targetRef === ref);
    const capacity = row?.setting ?? row?.reported ?? null;
    const foreignCodes = row?.foreignCodes ?? 0;
    const lockstepCodes = Number(counts.find((c) => c.targetRef === ref)?.n ?? 0);
    return {
      targetRef: ref,
      capacity,
      setting: row?.setting ?? null,
      reported: row?.reported ?? null,
      foreignCodes,
      lockstepCodes,
      free: capacity === null ? null : Math.max(0, capacity - foreignCodes - lockstepCodes),
      waiting: waits.filter((w) => w.targetRef === ref).map(({ personId, startsAt, since }) => ({ personId, startsAt, since })),
    };
  });
}

/** The admin's per-target capacity (null: back to the provider's figure, or unlimited). */
export async function setTargetCapacity(db: Kysely<Database>, integrationId: string, targetRef: string, setting: number | null, now: number): Promise<void> {
  await db
    .insertInto('targetCapacity')
    .values({ integrationId, targetRef, reported: null, setting, foreignCodes: 0, foreignReadAt: null, updatedAt: now })
    .onConflict((oc) => oc.columns(['integrationId', 'targetRef']).doUpdateSet({ setting, updatedAt: now }))
    .execute();
}

/** Everyone with a code on the target or waiting for one: re-evaluated when its capacity changes. */
export async function peopleOnTarget(db: Kysely<Database>, integrationId: string, targetRef: string): Promise<string[]> {
  const [holders, waiters] = await Promise.all([
    db.selectFrom('providerGrants').select('personId').where('integrationId', '=', integrationId).where('targetRef', '=', targetRef).execute(),
    db.selectFrom('slotWaits').select('personId').where('integrationId', '=', integrationId).where('targetRef', '=', targetRef).execute(),
  ]);
  return [...new Set([...holders, ...waiters].map((r) => r.personId))];
}
