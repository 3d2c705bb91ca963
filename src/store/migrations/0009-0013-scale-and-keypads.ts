/** 0009–0013: scale-out (leases, shared rate limits), indexes the benchmarks asked for, keypad capacity, PIN prefixes. */
import { Kysely, sql, type Migration } from 'kysely';
import type { StoreDialect } from '../dialect.js';

type AnyDb = Kysely<any>;

const ts = 'bigint';

/**
 * Scale-out (issue 6): limits that must hold across every Lockstep process sharing the store.
 * - `rate_buckets`: a token bucket per provider account (keyed hash of kind, address and
 *   credentials), so N workers together stay under the account's request rate; `blocked_until` is
 *   set from a 429's Retry-After and holds every worker back for that account only.
 * - `rate_counters`: fixed-window counters for brute-force limits (API-key guessing, visitor-code
 *   scans, URL-key openings), so a guesser gains nothing by spreading over API nodes.
 * - `integrations.rate_limit_per_minute`: the admin's override of the provider's default pace.
 */
export const scaleOut = (dialect: StoreDialect): Migration => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('rate_buckets')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('tokens', 'double precision', (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      .addColumn('blocked_until', ts)
      .execute();
    await db.schema
      .createTable('rate_counters')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('window_start', ts, (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rate_counters_window').on('rate_counters').column('window_start').execute();
    await db.schema.alterTable('integrations').addColumn('rate_limit_per_minute', 'integer').execute();
    // A source may deliver version 2147483647; an API edit after it stores version + 1. SQLite's
    // integer is 64-bit already; PostgreSQL's is 32-bit.
    if (dialect === 'postgres') await sql`alter table bookings alter column source_version type bigint`.execute(db);
  },
});

/**
 * The claim query asks for one integration's due items in due order. With only the primary key
 * (integration_id, person_id) and due_at alone to choose from, SQLite took the primary key and
 * sorted every row of the integration on each claim: 8 ms at 20,000 people, and a claim follows
 * every finished sync. This index answers it as a range, already in order.
 */
export const syncWorkClaimIndex: Migration = {
  async up(db) {
    await db.schema.createIndex('sync_work_integration_due').on('sync_work').columns(['integration_id', 'due_at']).execute();
  },
};

/**
 * Two questions the notifier asks per person had no index and read a whole table each time:
 * - a person's present codes across integrations (what the guest was told): provider_grants was
 *   indexed only by (integration_id, person_id); 1.2 ms per booking notice at 20,000 grants;
 * - whether a person was told a PIN before (PIN-changed notices): notifications had no person
 *   index; 5 ms per fresh PIN at 9,000 messages, and a pass asks it for every fresh PIN.
 */
export const personIndexes: Migration = {
  async up(db) {
    await db.schema.createIndex('provider_grants_person_state').on('provider_grants').columns(['person_id', 'state']).execute();
    await db.schema.createIndex('notifications_person_created').on('notifications').columns(['person_id', 'created_at']).execute();
  },
};

/**
 * Keypads that fill up (issue 13). Per access target: the capacity the provider reports and the
 * admin's own setting (which wins), and how many codes on it Lockstep did not create (read from the
 * provider; counted, never touched). `slot_waits` holds the people whose code waits for a free slot,
 * with the start of the window they wait for: the nearest is served first.
 */
export const targetCapacity: Migration = {
  async up(db) {
    await db.schema
      .createTable('target_capacity')
      .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
      .addColumn('target_ref', 'text', (c) => c.notNull())
      .addColumn('reported', 'integer')
      .addColumn('setting', 'integer')
      .addColumn('foreign_codes', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('foreign_read_at', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('target_capacity_pk', ['integration_id', 'target_ref'])
      .execute();
    await db.schema
      .createTable('slot_waits')
      .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
      .addColumn('target_ref', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull())
      .addColumn('starts_at', 'bigint', (c) => c.notNull())
      .addColumn('since', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('slot_waits_pk', ['integration_id', 'target_ref', 'person_id'])
      .execute();
  },
};

/**
 * PIN prefix clashes across PIN lengths (issue 13): a keypad that opens as soon as the digits typed
 * match a code opens for a 4-digit PIN while someone types a 6-digit one that starts with it. Each
 * live PIN's proper prefixes are kept as keyed hashes (the same keyed hash as `pins.pin_hash`), so a
 * new PIN is checked both ways without decrypting anyone's. `prefixes_indexed` marks PINs done (older
 * PINs are indexed on the next start).
 */
export const pinPrefixes: Migration = {
  async up(db) {
    await db.schema
      .createTable('pin_prefixes')
      .addColumn('pin_id', 'text', (c) => c.notNull().references('pins.id').onDelete('cascade'))
      .addColumn('integration_id', 'text', (c) => c.notNull())
      .addColumn('prefix_hash', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('pin_prefixes_pk', ['pin_id', 'prefix_hash'])
      .execute();
    await db.schema.createIndex('pin_prefixes_lookup').on('pin_prefixes').columns(['integration_id', 'prefix_hash']).execute();
    await db.schema.alterTable('pins').addColumn('prefixes_indexed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};

