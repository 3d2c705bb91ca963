/**
 * Commands on people that every entry point shares (the REST API, the booking sources, the console
 * through the API): one way to find or create a person, whoever asks.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { newId } from '../store/ids.js';

/** People are matched on e-mail within an organisation (case-insensitive). */
export async function findOrCreatePerson(db: Kysely<Database>, organisationId: string, ref: { name: string; email: string }): Promise<string> {
  const email = ref.email.toLowerCase();
  const existing = await db.selectFrom('people').select('id').where('organisationId', '=', organisationId).where('email', '=', email).executeTakeFirst();
  if (existing) return existing.id;
  const id = newId('per');
  await db.insertInto('people').values({ id, organisationId, name: ref.name, email, phone: null, externalIds: '{}', createdAt: Date.now() }).execute();
  return id;
}
