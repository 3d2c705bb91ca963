/**
 * Limits that hold across every Lockstep process sharing one store (see migration 0009).
 *
 * - `TokenBuckets`: the pace of calls to one provider account. Each call takes a token in one
 *   atomic UPDATE (the row lock serialises workers on PostgreSQL; SQLite has one writer), so N
 *   workers together never exceed the account's rate. A 429 blocks the account for its Retry-After.
 * - `WindowCounters`: fixed-window counts for brute-force limits; one upsert per attempt.
 *
 * Both use each process's own clock; workers on NTP-synced hosts differ by milliseconds, and a clock
 * that runs behind never refills a bucket faster (elapsed time is clamped at zero).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { StoreDialect } from './db.js';

export interface BucketPolicy {
  /** Sustained requests per minute. */
  perMinute: number;
  /** How many may go at once after a quiet spell. */
  burst: number;
}

export class TokenBuckets {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {}

  private fn(name: 'least' | 'greatest', a: unknown, b: unknown) {
    // SQLite's scalar min()/max() take two arguments like PostgreSQL's least()/greatest().
    const f = this.dialect === 'postgres' ? sql.raw(name) : sql.raw(name === 'least' ? 'min' : 'max');
    return sql`${f}(${a}, ${b})`;
  }

  /** Takes one token for `key`. Returns 0 if taken, else how many ms to wait before asking again. */
  async tryTake(key: string, policy: BucketPolicy, now: number): Promise<number> {
    const perMs = policy.perMinute / 60_000;
    // Typed parameters: PostgreSQL would otherwise infer bigint from the neighbouring column.
    const elapsed = this.fn('greatest', sql`0`, sql`cast(${now} as bigint) - updated_at`);
    const refilled = this.fn('least', sql`cast(${policy.burst} as double precision)`, sql`tokens + ${elapsed} * cast(${perMs} as double precision)`);
    for (let attempt = 0; ; attempt++) {
      const { rows } = await sql<{ tokens: number }>`
        update rate_buckets
        set tokens = ${refilled} - 1, updated_at = ${this.fn('greatest', sql`updated_at`, sql`cast(${now} as bigint)`)}
        where key = ${key}
          and (blocked_until is null or blocked_until <= ${now})
          and ${refilled} >= 1
        returning tokens`.execute(this.db);
      if (rows.length === 1) return 0;
      const row = await this.db.selectFrom('rateBuckets').selectAll().where('key', '=', key).executeTakeFirst();
      if (row) {
        const blockedFor = row.blockedUntil !== null ? Number(row.blockedUntil) - now : 0;
        const tokens = Math.min(policy.burst, Number(row.tokens) + Math.max(0, now - Number(row.updatedAt)) * perMs);
        const refillFor = tokens >= 1 ? 1 : Math.ceil((1 - tokens) / perMs);
        return Math.max(1, blockedFor, refillFor);
      }
      if (attempt > 0) return 1;
      // First call for this account: a full bucket (concurrent first callers insert once), then take.
      await this.db
        .insertInto('rateBuckets')
        .values({ key, tokens: policy.burst, updatedAt: now, blockedUntil: null })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
    }
  }

  /** The provider answered 429: nobody calls this account before `until`. */
  async block(key: string, until: number, now: number): Promise<void> {
    await this.db
      .insertInto('rateBuckets')
      .values({ key, tokens: 0, updatedAt: now, blockedUntil: until })
      .onConflict((oc) => oc.column('key').doUpdateSet({ tokens: 0, updatedAt: now, blockedUntil: sql`${this.fn('greatest', sql`coalesce(rate_buckets.blocked_until, 0)`, sql`${until}`)}` as never }))
      .execute();
  }
}

export interface WindowLimit {
  /** Attempts allowed per window. */
  limit: number;
  windowMs: number;
}

export class WindowCounters {
  private lastSweep = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Counts one attempt against `key`. `allowed` is false once the window's limit is passed;
   * `retryAfterMs` says when the window ends.
   */
  async hit(key: string, limit: WindowLimit, now: number): Promise<{ allowed: boolean; count: number; retryAfterMs: number }> {
    const windowStart = now - (now % limit.windowMs);
    const { rows } = await sql<{ count: number }>`
      insert into rate_counters (key, window_start, count) values (${key}, ${windowStart}, 1)
      on conflict (key) do update set
        count = case when rate_counters.window_start = excluded.window_start then rate_counters.count + 1 else 1 end,
        window_start = excluded.window_start
      returning count`.execute(this.db);
    const count = Number(rows[0]?.count ?? 1);
    await this.sweep(now);
    return { allowed: count <= limit.limit, count, retryAfterMs: windowStart + limit.windowMs - now };
  }

  /** Old windows are dead weight (no limit here spans more than a day): drop them now and then. */
  private async sweep(now: number): Promise<void> {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    await this.db.deleteFrom('rateCounters').where('windowStart', '<', now - 25 * 3_600_000).execute();
  }
}
