/**
 * Adopting what the provider holds after a read-back (crash recovery and drift repair).
 */
import type { Row } from '../store/schema.js';
import { newId } from '../store/ids.js';
import type { Observation } from '../providers/types.js';
import { windowDetails, type Note, type ReconcileContext } from './sync-context.js';

/**
 * Makes our applied-state rows agree with what the provider holds: adopt a user or grant a crashed
 * run created but never recorded, drop what someone deleted inside the provider, and take the
 * provider's window where it was edited there. Planning then repairs any difference from desired.
 */
export async function adoptObservation(
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

