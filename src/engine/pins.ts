/**
 * Personal PINs: one live PIN per person per integration, stable across bookings, unique within the
 * integration (checked through a keyed hash, enforced by a unique index), sealed at rest. No live PIN
 * is a prefix of another either (PINs of different lengths on one keypad: the shorter would open while
 * the longer is typed), checked through the keyed hashes of each PIN's prefixes.
 * Plain PINs leave this module only towards the provider adapter and the person's own view.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { SecretBox } from '../security/crypto.js';
import type { PinRules } from '../providers/types.js';
import { generatePin } from '../domain/pin.js';
import { newId } from '../store/ids.js';
import { writeAudit } from '../store/audit.js';

export interface LivePin {
  id: string;
  pin: string;
  createdAt: number;
}

const MAX_INSERT_ATTEMPTS = 25;
/** Prefixes shorter than this are not indexed: no keypad takes a code of fewer digits. */
const SHORTEST_PIN = 3;

/** The proper prefixes of a PIN that could themselves be someone's PIN. */
function properPrefixes(pin: string): string[] {
  const out: string[] = [];
  for (let n = SHORTEST_PIN; n < pin.length; n++) out.push(pin.slice(0, n));
  return out;
}

export class PinService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
  ) {}

  private hash(integrationId: string, pin: string): string {
    return this.secrets.keyedHash(pin, `pin:${integrationId}`);
  }

  async find(integrationId: string, personId: string): Promise<LivePin | null> {
    const row = await this.db
      .selectFrom('pins')
      .select(['id', 'pinEnc', 'createdAt'])
      .where('integrationId', '=', integrationId)
      .where('personId', '=', personId)
      .where('revokedAt', 'is', null)
      .executeTakeFirst();
    return row ? { id: row.id, pin: this.secrets.open(row.pinEnc), createdAt: row.createdAt } : null;
  }

  /**
   * The person's PIN on this integration, issuing one the first time it is needed. `read`: the live
   * PIN row the caller has already read (null: it found none), so it is not read again.
   */
  async ensure(integrationId: string, personId: string, rules: PinRules, organisationId: string, read?: { id: string; pinEnc: string; createdAt: number } | null): Promise<LivePin> {
    const existing = read === undefined ? await this.find(integrationId, personId) : read && { id: read.id, pin: this.secrets.open(read.pinEnc), createdAt: read.createdAt };
    if (existing) return existing;
    return this.issue(integrationId, personId, rules, organisationId, 'engine', 'pin.issued');
  }

  /** Replaces the PIN; the engine then pushes the new one everywhere the old one was. */
  async regenerate(integrationId: string, personId: string, rules: PinRules, organisationId: string, actor: string): Promise<LivePin> {
    return this.issue(integrationId, personId, rules, organisationId, actor, 'pin.regenerated');
  }

  /**
   * Whether `pin` clashes with a live PIN of the integration: the same, a live PIN that is a prefix of
   * it, or a live longer PIN it is a prefix of.
   */
  async clashes(integrationId: string, pin: string): Promise<boolean> {
    const own = [pin, ...properPrefixes(pin)].map((p) => this.hash(integrationId, p));
    const shorterOrSame = await this.db
      .selectFrom('pins')
      .select('id')
      .where('integrationId', '=', integrationId)
      .where('pinHash', 'in', own)
      .where('revokedAt', 'is', null)
      .executeTakeFirst();
    if (shorterOrSame) return true;
    const longer = await this.db
      .selectFrom('pinPrefixes')
      .innerJoin('pins', 'pins.id', 'pinPrefixes.pinId')
      .select('pins.id')
      .where('pinPrefixes.integrationId', '=', integrationId)
      .where('pinPrefixes.prefixHash', '=', own[0]!)
      .where('pins.revokedAt', 'is', null)
      .executeTakeFirst();
    return longer !== undefined;
  }

  /** PINs issued before prefixes were indexed (migration 0013): index the live ones, once. */
  async indexOlderPins(): Promise<number> {
    const rows = await this.db.selectFrom('pins').select(['id', 'integrationId', 'pinEnc']).where('prefixesIndexed', '=', 0).where('revokedAt', 'is', null).execute();
    for (const r of rows) {
      await this.db.transaction().execute(async (trx) => {
        await this.indexPrefixes(trx, r.id, r.integrationId, this.secrets.open(r.pinEnc));
        await trx.updateTable('pins').set({ prefixesIndexed: 1 }).where('id', '=', r.id).execute();
      });
    }
    return rows.length;
  }

  private async indexPrefixes(db: Kysely<Database>, pinId: string, integrationId: string, pin: string): Promise<void> {
    const prefixes = [...new Set(properPrefixes(pin).map((p) => this.hash(integrationId, p)))];
    if (prefixes.length === 0) return;
    await db
      .insertInto('pinPrefixes')
      .values(prefixes.map((prefixHash) => ({ pinId, integrationId, prefixHash })))
      .onConflict((oc) => oc.columns(['pinId', 'prefixHash']).doNothing())
      .execute();
  }

  private async issue(
    integrationId: string,
    personId: string,
    rules: PinRules,
    organisationId: string,
    actor: string,
    action: 'pin.issued' | 'pin.regenerated',
  ): Promise<LivePin> {
    for (let attempt = 0; attempt < MAX_INSERT_ATTEMPTS; attempt++) {
      const pin = generatePin(rules, () => false);
      const pinHash = this.hash(integrationId, pin);
      if (await this.clashes(integrationId, pin)) continue;
      const id = newId('pin');
      const now = Date.now();
      try {
        await this.db.transaction().execute(async (trx) => {
          if (action === 'pin.regenerated') {
            await trx
              .updateTable('pins')
              .set({ revokedAt: now })
              .where('integrationId', '=', integrationId)
              .where('personId', '=', personId)
              .where('revokedAt', 'is', null)
              .execute();
          }
          await trx
            .insertInto('pins')
            .values({ id, integrationId, personId, pinEnc: this.secrets.seal(pin), pinHash, createdAt: now, revokedAt: null, prefixesIndexed: 1 })
            .execute();
          await this.indexPrefixes(trx, id, integrationId, pin);
          await writeAudit(trx, {
            organisationId,
            actor,
            action,
            subjectType: 'person',
            subjectId: personId,
            details: { integrationId, pinId: id },
            at: now,
          });
        });
        return { id, pin, createdAt: now };
      } catch (err) {
        // A unique index said no: either the PIN was taken a moment ago (try another) or a concurrent
        // sync already issued this person's PIN (use it).
        if (action === 'pin.issued') {
          const existing = await this.find(integrationId, personId);
          if (existing) return existing;
        }
        if (!isUniqueViolation(err)) throw err;
      }
    }
    throw new Error('could not find a free PIN for this integration; raise the PIN length in its settings');
  }
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}
