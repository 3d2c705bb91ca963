/**
 * The end-state checks every reliability test makes once faults are gone and Lockstep has settled:
 * the provider holds exactly the desired state — each active booking's access with the right
 * window, nothing for cancelled or ended ones, nobody twice, nothing left behind — and Lockstep's
 * own books agree (no grant still in an intent state, no work still failing).
 */
import { expect } from 'vitest';
import type { Kysely } from 'kysely';
import type { Database } from '../../../src/store/schema.js';
import type { HeldAccess } from '../../contract/fixture.js';
import { describeHeld, sortHeld, type VenueModel } from './model.js';
import { heldOf, keyOf, type Inventory, type ReliabilityProvider } from './providers.js';
import { sleep } from './random.js';

/**
 * Waits until the engine is idle and no window of the model ends within the next 15 s (a window that
 * ends is a change Lockstep makes by itself at that instant; the check must not straddle one).
 */
export async function settle(model: VenueModel, integrationIds: string[], idle: () => Promise<void>): Promise<void> {
  for (let round = 0; round < 30; round++) {
    await idle();
    const now = Date.now();
    const next = integrationIds.flatMap((id) => model.boundaries(id)).filter((b) => b > now - 2_000).sort((a, b) => a - b)[0];
    if (next === undefined || next > now + 15_000) return;
    await sleep(Math.max(0, next - now) + 1_500);
  }
  throw new Error('the model kept having windows end within 15 s; cannot find a quiet moment to compare');
}

export interface ExactOptions {
  provider: ReliabilityProvider;
  model: VenueModel;
  integrationId: string;
  db: Kysely<Database>;
  /** Identity keys of things added inside the provider by someone else, with what they held then. */
  strangers?: Map<string, HeldAccess[]>;
}

/** For a failure message: what Lockstep's books and audit log say about this person, and what the provider holds. */
async function diagnose(db: Kysely<Database>, integrationId: string, personId: string, inv: Inventory): Promise<string> {
  const t = (ms: number | null) => (ms === null ? 'open' : new Date(ms).toISOString());
  const rows = await db.selectFrom('providerGrants').selectAll().where('integrationId', '=', integrationId).where('personId', '=', personId).execute();
  const audit = await db.selectFrom('auditLog').select(['at', 'action', 'details']).where('subjectId', '=', personId).orderBy('at').execute();
  const work = await db.selectFrom('syncWork').selectAll().where('integrationId', '=', integrationId).where('personId', '=', personId).execute();
  return [
    '',
    `  Lockstep's grant rows: ${rows.map((g) => `${g.targetRef.split('/').pop()} ${t(g.startsAt)}…${t(g.endsAt)} ${g.state} ref=${g.providerRef?.split('/').slice(-1)[0] ?? '-'}`).join('; ') || '(none)'}`,
    `  provider: ${inv.grants.filter((g) => g.owner === keyOf(personId)).map((g) => `${g.targetRef.split('/').pop()} ${t(g.from)}…${t(g.until)} ref=${g.ref.split('/').pop()}`).join('; ') || '(none)'}`,
    `  sync work: ${JSON.stringify(work)}`,
    `  audit (${integrationId}): ${audit
      .filter((a) => String(a.details).includes(integrationId))
      .map((a) => `${new Date(a.at).toISOString().slice(11, 23)} ${a.action} ${String(a.details).replace(/"integrationId":"[^"]*",?/, '').slice(0, 160)}`)
      .join(' | ')}`,
  ].join('\n');
}

/** Asserts the provider holds exactly the model's desired state; returns the inventory it checked. */
export async function expectExactlyDesired(opts: ExactOptions): Promise<Inventory> {
  const { provider, model, integrationId, db } = opts;
  const now = Date.now();
  const inv = await provider.inventory();
  const expectedByKey = new Map<string, HeldAccess[]>();
  for (const p of model.people) {
    const want = model.expected(integrationId, p.id, now, { oneWindowPerTarget: provider.oneWindowPerTarget });
    expectedByKey.set(keyOf(p.id), want);
    // Through the fixture's own view of the provider …
    const held = sortHeld(await provider.running.holdings({ id: p.id, name: p.name, email: p.email }));
    const why = JSON.stringify(held) === JSON.stringify(want) ? '' : await diagnose(db, integrationId, p.id, inv);
    expect(held, `${provider.kind}: ${p.name} (${p.id}) holds ${describeHeld(held)}, should hold ${describeHeld(want)}${why}`).toEqual(want);
    // … and through the whole inventory, so nothing held under another handle slips past.
    expect(sortHeld(heldOf(inv, keyOf(p.id))), `${provider.kind}: inventory for ${p.name}`).toEqual(want);
  }

  // Nothing but our people and the strangers: no orphans, no duplicates under odd names.
  const strangers = opts.strangers ?? new Map<string, HeldAccess[]>();
  for (const g of inv.grants) {
    expect(expectedByKey.has(g.owner) || strangers.has(g.owner), `${provider.kind}: grant ${g.ref} belongs to unknown owner ${g.owner}`).toBe(true);
  }
  for (const [key, was] of strangers) expect(sortHeld(heldOf(inv, key)), `${provider.kind}: what the stranger ${key} holds was left alone`).toEqual(sortHeld(was));

  if (inv.users) {
    const ours = inv.users.filter((u) => !strangers.has(u.key));
    const keys = ours.map((u) => u.key).sort();
    const wanted = [...expectedByKey].filter(([, want]) => want.length > 0).map(([k]) => k).sort();
    // One user per person who should have access, none for anyone else, none twice.
    expect(keys, `${provider.kind}: provider users`).toEqual(wanted);
    for (const u of ours) expect(u.hasPin, `${provider.kind}: ${u.key} has a PIN (and is authorised)`).toBe(true);
    for (const key of strangers.keys()) expect(inv.users.filter((u) => u.key === key), `${provider.kind}: stranger ${key} still there`).toHaveLength(1);
  }

  // Lockstep's books: every grant recorded as present, one row per provider grant, nothing still failing.
  const total = [...expectedByKey.values()].reduce((n, w) => n + w.length, 0);
  const grants = await db.selectFrom('providerGrants').select(['state', 'personId', 'targetRef']).where('integrationId', '=', integrationId).execute();
  expect(grants.filter((g) => g.state !== 'present'), `${provider.kind}: grant rows not 'present'`).toEqual([]);
  expect(grants, `${provider.kind}: grant rows in Lockstep`).toHaveLength(total);
  const users = await db.selectFrom('providerUsers').select(['state', 'personId']).where('integrationId', '=', integrationId).execute();
  expect(users.filter((u) => u.state !== 'present'), `${provider.kind}: provider-user rows not 'present'`).toEqual([]);
  const failing = await db.selectFrom('syncWork').select(['personId', 'lastError']).where('integrationId', '=', integrationId).where('lastError', 'is not', null).execute();
  expect(failing, `${provider.kind}: sync work still failing`).toEqual([]);
  expect(Date.now() - now, 'the comparison took so long a window may have ended meanwhile').toBeLessThan(14_000);
  return inv;
}

/**
 * Each person's PIN, as the guest sees it, opens a door they hold inside their window on the
 * provider itself (where the fixture can tell), so a PIN replaced under faults reached the provider.
 */
export async function expectPinsOpen(opts: {
  provider: ReliabilityProvider;
  model: VenueModel;
  integrationId: string;
  guestPin(personId: string): Promise<string | undefined>;
  /** The instant whose desired state the provider holds (default: now). */
  now?: number;
}): Promise<number> {
  const { provider, model, integrationId } = opts;
  if (!provider.running.pinOpens) return 0;
  let checked = 0;
  const now = opts.now ?? Date.now();
  for (const p of model.people) {
    const want = model.expected(integrationId, p.id, now, { oneWindowPerTarget: provider.oneWindowPerTarget });
    if (!want.length) continue;
    const pin = await opts.guestPin(p.id);
    expect(pin, `${provider.kind}: ${p.name} has a PIN`).toBeTruthy();
    for (const w of want) {
      const at = Math.min(Math.max(w.from, now) + 1_000, (w.until ?? Infinity) - 1);
      expect(await provider.running.pinOpens({ id: p.id, name: p.name, email: p.email }, pin!, w.targetRef, at), `${provider.kind}: ${p.name}'s PIN opens ${w.targetRef} at ${new Date(at).toISOString()}`).toBe(true);
      checked++;
    }
  }
  return checked;
}
