/**
 * Trigger rules (domain/triggers.ts) and the booking payment flag, as stored.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from './schema.js';
import { effectiveDelivery, type PartialTriggerRule, type PinDelivery } from '../domain/triggers.js';

export type TriggerScope = 'integration' | 'space';

export async function loadRule(db: Kysely<Database>, scope: TriggerScope, id: string): Promise<Row<'triggerRules'> | undefined> {
  return db.selectFrom('triggerRules').selectAll().where('scopeType', '=', scope).where('scopeId', '=', id).executeTakeFirst();
}

/** Rules by scope id, for many ids at once. */
export async function loadRules(db: Kysely<Database>, scope: TriggerScope, ids: string[]): Promise<Map<string, Row<'triggerRules'>>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('triggerRules').selectAll().where('scopeType', '=', scope).where('scopeId', 'in', ids).execute();
  return new Map(rows.map((r) => [r.scopeId, r]));
}

/** The integration's rule and its spaces' rules, in one read (the engine needs both on every sync). */
export async function loadSyncRules(db: Kysely<Database>, integrationId: string, spaceIds: string[]) {
  const rows = await db
    .selectFrom('triggerRules')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([eb('scopeType', '=', 'integration'), eb('scopeId', '=', integrationId)]),
        ...(spaceIds.length ? [eb.and([eb('scopeType', '=', 'space'), eb('scopeId', 'in', spaceIds)])] : []),
      ]),
    )
    .execute();
  const spaceRules = new Map(rows.filter((r) => r.scopeType === 'space').map((r) => [r.scopeId, r]));
  return { integrationRule: rows.find((r) => r.scopeType === 'integration'), spaceRules };
}

export function partialRule(row: Row<'triggerRules'> | undefined | null): PartialTriggerRule | null {
  if (!row) return null;
  return { issueOn: row.issueOn, hoursBefore: row.hoursBefore === null ? null : Number(row.hoursBefore) };
}

export async function saveRule(
  db: Kysely<Database>,
  rule: { scopeType: TriggerScope; scopeId: string; organisationId: string; issueOn: Row<'triggerRules'>['issueOn']; hoursBefore: number | null; delivery: PinDelivery | null },
): Promise<void> {
  const now = Date.now();
  await db
    .insertInto('triggerRules')
    .values({ ...rule, updatedAt: now })
    .onConflict((oc) => oc.columns(['scopeType', 'scopeId']).doUpdateSet({ issueOn: rule.issueOn, hoursBefore: rule.hoursBefore, delivery: rule.delivery, updatedAt: now }))
    .execute();
}

/** Booking ids among `ids` that are marked paid. */
export async function paidBookings(db: Kysely<Database>, ids: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('bookingPayments').select('bookingId').where('bookingId', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) out.add(r.bookingId);
  }
  return out;
}

export async function setPaid(db: Kysely<Database>, bookingId: string, paid: boolean): Promise<void> {
  if (paid) {
    await db.insertInto('bookingPayments').values({ bookingId, paidAt: Date.now() }).onConflict((oc) => oc.column('bookingId').doNothing()).execute();
  } else {
    await db.deleteFrom('bookingPayments').where('bookingId', '=', bookingId).execute();
  }
}

/** How the PIN reaches guests of this space. */
export async function spaceDelivery(db: Kysely<Database>, spaceId: string): Promise<PinDelivery> {
  const row = await loadRule(db, 'space', spaceId);
  return effectiveDelivery(row ? { delivery: row.delivery } : null);
}
