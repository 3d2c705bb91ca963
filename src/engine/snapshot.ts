/**
 * What a sync reads before it plans, for a group of people at once: their facts (bookings,
 * subscriptions, mappings, rules) and what Lockstep holds for them on the provider (the user record
 * and the grants). The engine claims people in groups and reads them in one set of statements, about
 * a dozen however many people, instead of a dozen per person; on PostgreSQL each is a round trip.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { Facts } from '../domain/facts.js';
import { loadPeopleFacts } from '../store/facts.js';

export interface SyncSnapshot {
  facts: Facts;
  user: Row<'providerUsers'> | undefined;
  /** The grants the engine manages (not the 'left-valid' history), by start. */
  grants: Row<'providerGrants'>[];
  /** The person's live PIN on this integration, still sealed; null when none is issued yet. */
  pin: SealedPin | null;
  /** How the person is named to the provider; null if the person is gone. */
  person: { name: string; email: string | null; phone: string | null } | null;
}

export interface SealedPin {
  id: string;
  pinEnc: string;
  createdAt: number;
}

export async function loadSyncSnapshots(db: Kysely<Database>, integration: Row<'integrations'>, personIds: string[], now: number): Promise<Map<string, SyncSnapshot>> {
  if (personIds.length === 0) return new Map();
  const [facts, users, grants, pins, people] = await Promise.all([
    loadPeopleFacts(db, integration, personIds, now),
    db.selectFrom('providerUsers').selectAll().where('integrationId', '=', integration.id).where('personId', 'in', personIds).execute(),
    loadManagedGrants(db, integration.id, personIds, now),
    db.selectFrom('pins').select(['id', 'personId', 'pinEnc', 'createdAt']).where('integrationId', '=', integration.id).where('personId', 'in', personIds).where('revokedAt', 'is', null).execute(),
    db.selectFrom('people').select(['id', 'name', 'email', 'phone']).where('id', 'in', personIds).execute(),
  ]);
  const out = new Map<string, SyncSnapshot>();
  for (const personId of personIds) {
    const pin = pins.find((p) => p.personId === personId);
    const person = people.find((p) => p.id === personId);
    out.set(personId, {
      facts: facts.get(personId)!,
      user: users.find((u) => u.personId === personId),
      grants: grants.get(personId) ?? [],
      pin: pin ? { id: pin.id, pinEnc: pin.pinEnc, createdAt: pin.createdAt } : null,
      person: person ? { name: person.name, email: person.email, phone: person.phone } : null,
    });
  }
  return out;
}

/**
 * The grants the engine manages, per person. 'left-valid' ones are history the provider cannot take
 * back, kept on record until they have expired and then forgotten here (in the same read: this runs
 * on every sync).
 */
export async function loadManagedGrants(db: Kysely<Database>, integrationId: string, personIds: string[], now: number): Promise<Map<string, Row<'providerGrants'>[]>> {
  const out = new Map<string, Row<'providerGrants'>[]>();
  if (personIds.length === 0) return out;
  const rows = await db.selectFrom('providerGrants').selectAll().where('integrationId', '=', integrationId).where('personId', 'in', personIds).orderBy('startsAt').execute();
  const expired = rows.filter((g) => g.state === 'left-valid' && g.endsAt !== null && g.endsAt <= now).map((g) => g.id);
  if (expired.length) await db.deleteFrom('providerGrants').where('id', 'in', expired).where('state', '=', 'left-valid').execute();
  for (const g of rows) if (g.state !== 'left-valid') out.set(g.personId, [...(out.get(g.personId) ?? []), g]);
  return out;
}
