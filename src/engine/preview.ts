/**
 * What a mapping or buffer change would do, before it is made: how many current or future bookings
 * and subscriptions get a different access window (or different doors), and how many people that
 * touches. Read-only; the admin console shows it next to an explicit Update button.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface ChangePreview {
  bookings: number;
  subscriptions: number;
  people: number;
  summary: string;
}

const MIN = 60_000;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function describePreview(bookings: number, subscriptions: number, people: number): string {
  if (bookings === 0 && subscriptions === 0) return 'No booking or subscription changes';
  return `${plural(bookings, 'booking')} and ${plural(subscriptions, 'subscription')} change (${people} ${people === 1 ? 'person' : 'people'} affected)`;
}

function preview(bookings: { organiserId: string; people: string[] }[], subscriptionPeople: string[][]): ChangePreview {
  const people = new Set<string>();
  for (const b of bookings) for (const p of b.people) people.add(p);
  for (const s of subscriptionPeople) for (const p of s) people.add(p);
  return { bookings: bookings.length, subscriptions: subscriptionPeople.length, people: people.size, summary: describePreview(bookings.length, subscriptionPeople.length, people.size) };
}

/** Confirmed bookings in these spaces whose access window (widest buffers considered) has not ended. */
async function liveBookings(db: Kysely<Database>, spaceIds: string[], now: number, maxAfterMinutes: number) {
  if (spaceIds.length === 0) return [];
  const rows = await db
    .selectFrom('bookings')
    .select(['id', 'spaceId', 'organiserId', 'startsAt', 'endsAt', 'bumpOutMinutes'])
    .where('spaceId', 'in', spaceIds)
    .where('status', '=', 'confirmed')
    .where('endsAt', '>', now - (24 * 60 + maxAfterMinutes) * MIN)
    .execute();
  const live = rows.filter((b) => b.endsAt + (b.bumpOutMinutes + maxAfterMinutes) * MIN > now && b.endsAt > b.startsAt);
  if (live.length === 0) return [];
  const invitees = await db.selectFrom('bookingInvitees').select(['bookingId', 'personId']).where('bookingId', 'in', live.map((b) => b.id)).execute();
  return live.map((b) => ({ ...b, people: [...new Set([b.organiserId, ...invitees.filter((i) => i.bookingId === b.id).map((i) => i.personId)])] }));
}

/** Subscriptions not yet over whose plan opens this space. */
async function liveSubscriptionsForSpace(db: Kysely<Database>, spaceId: string, now: number): Promise<string[][]> {
  const subs = await db
    .selectFrom('subscriptions')
    .innerJoin('planSpaces', 'planSpaces.planId', 'subscriptions.planId')
    .select(['subscriptions.id', 'subscriptions.personId', 'subscriptions.companyId', 'subscriptions.endsAt', 'subscriptions.cancelledAt'])
    .where('planSpaces.spaceId', '=', spaceId)
    .execute();
  const out: string[][] = [];
  const seen = new Set<string>();
  for (const s of subs) {
    if (seen.has(s.id)) continue;
    seen.add(s.id);
    const ends = [s.endsAt, s.cancelledAt].filter((x): x is number => x !== null);
    if (ends.length && Math.min(...ends) <= now) continue;
    if (s.personId) out.push([s.personId]);
    else if (s.companyId) out.push((await db.selectFrom('companyMembers').select('personId').where('companyId', '=', s.companyId).execute()).map((m) => m.personId));
  }
  return out;
}

/**
 * A space's targets on one integration become `targetRefs`: every live booking of the space and
 * every live subscription whose plan opens it changes, when the set of doors changes at all.
 */
export async function previewMapping(
  db: Kysely<Database>,
  input: { spaceId: string; integrationId: string; targetRefs: string[] },
  now: number,
): Promise<ChangePreview & { added: string[]; removed: string[] }> {
  const current = (await db.selectFrom('mappings').select('targetRef').where('spaceId', '=', input.spaceId).where('integrationId', '=', input.integrationId).execute()).map((m) => m.targetRef);
  const wanted = [...new Set(input.targetRefs)];
  const added = wanted.filter((t) => !current.includes(t));
  const removed = current.filter((t) => !wanted.includes(t));
  if (added.length === 0 && removed.length === 0) return { ...preview([], []), added, removed };
  const integration = await db.selectFrom('integrations').select(['bufferAfterMinutes']).where('id', '=', input.integrationId).executeTakeFirstOrThrow();
  const space = await db.selectFrom('spaces').select(['bufferAfterMinutes']).where('id', '=', input.spaceId).executeTakeFirstOrThrow();
  const bookings = await liveBookings(db, [input.spaceId], now, space.bufferAfterMinutes ?? integration.bufferAfterMinutes);
  const subscriptions = await liveSubscriptionsForSpace(db, input.spaceId, now);
  return { ...preview(bookings, subscriptions), added, removed };
}

/**
 * New buffers for an integration (every mapped space without its own override) or for one space
 * (null = use the integration's). Subscriptions carry no buffers, so only bookings change.
 */
export async function previewBuffers(
  db: Kysely<Database>,
  input:
    | { integrationId: string; bufferBeforeMinutes?: number; bufferAfterMinutes?: number }
    | { spaceId: string; bufferBeforeMinutes?: number | null; bufferAfterMinutes?: number | null },
  now: number,
): Promise<ChangePreview> {
  type Pair = { before: number; after: number };
  // For each (space, integration) pair that matters: the effective buffers now and after the change.
  const pairs: { spaceId: string; old: Pair; next: Pair }[] = [];
  if ('integrationId' in input) {
    const integration = await db.selectFrom('integrations').selectAll().where('id', '=', input.integrationId).executeTakeFirstOrThrow();
    const spaces = await db
      .selectFrom('mappings')
      .innerJoin('spaces', 'spaces.id', 'mappings.spaceId')
      .select(['spaces.id', 'spaces.bufferBeforeMinutes', 'spaces.bufferAfterMinutes'])
      .where('mappings.integrationId', '=', integration.id)
      .distinct()
      .execute();
    const nextBefore = input.bufferBeforeMinutes ?? integration.bufferBeforeMinutes;
    const nextAfter = input.bufferAfterMinutes ?? integration.bufferAfterMinutes;
    for (const s of spaces) {
      pairs.push({
        spaceId: s.id,
        old: { before: s.bufferBeforeMinutes ?? integration.bufferBeforeMinutes, after: s.bufferAfterMinutes ?? integration.bufferAfterMinutes },
        next: { before: s.bufferBeforeMinutes ?? nextBefore, after: s.bufferAfterMinutes ?? nextAfter },
      });
    }
  } else {
    const space = await db.selectFrom('spaces').selectAll().where('id', '=', input.spaceId).executeTakeFirstOrThrow();
    const integrations = await db
      .selectFrom('mappings')
      .innerJoin('integrations', 'integrations.id', 'mappings.integrationId')
      .select(['integrations.id', 'integrations.bufferBeforeMinutes', 'integrations.bufferAfterMinutes'])
      .where('mappings.spaceId', '=', space.id)
      .where('integrations.status', '=', 'active')
      .distinct()
      .execute();
    const nextBefore = input.bufferBeforeMinutes === undefined ? space.bufferBeforeMinutes : input.bufferBeforeMinutes;
    const nextAfter = input.bufferAfterMinutes === undefined ? space.bufferAfterMinutes : input.bufferAfterMinutes;
    for (const i of integrations) {
      pairs.push({
        spaceId: space.id,
        old: { before: space.bufferBeforeMinutes ?? i.bufferBeforeMinutes, after: space.bufferAfterMinutes ?? i.bufferAfterMinutes },
        next: { before: nextBefore ?? i.bufferBeforeMinutes, after: nextAfter ?? i.bufferAfterMinutes },
      });
    }
  }
  const changed = pairs.filter((p) => p.old.before !== p.next.before || p.old.after !== p.next.after);
  const spaceIds = [...new Set(changed.map((p) => p.spaceId))];
  const maxAfter = Math.max(0, ...changed.flatMap((p) => [p.old.after, p.next.after]));
  const bookings = await liveBookings(db, spaceIds, now, maxAfter);
  return preview(bookings, []);
}
