/**
 * The sync work queue: one row per (integration, person) whose access may need changing.
 *
 * Any change to bookings, subscriptions, mappings, settings or PINs enqueues the affected people; the
 * engine claims due rows, reconciles, and either deletes the row or reschedules it for the next
 * time-based change. `generation` makes completion safe against changes that arrive mid-sync.
 * Rows live in the database, so a crash loses nothing: an expired claim is simply claimed again.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database, Row } from './schema.js';
import type { StoreDialect } from './db.js';

export type WorkItem = Row<'syncWork'>;

export class WorkQueue {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
    /**
     * PostgreSQL: the NOTIFY channel other processes listen on. A write asked to `announce` sends the
     * NOTIFY in its own statement, so it is delivered when the write's transaction commits, never
     * before, and costs no round trip of its own.
     */
    private readonly announceOn?: string,
  ) {}

  private least(a: string, b: string) {
    return this.dialect === 'postgres' ? sql.raw(`least(${a}, ${b})`) : sql.raw(`min(${a}, ${b})`);
  }

  private greatest(a: string, b: string) {
    return this.dialect === 'postgres' ? sql.raw(`greatest(${a}, ${b})`) : sql.raw(`max(${a}, ${b})`);
  }

  /** Marks people as needing a sync no later than `dueAt` (default now). */
  async enqueue(
    integrationId: string,
    personIds: Iterable<string>,
    opts: { dueAt?: number; verify?: boolean; db?: Kysely<Database>; announce?: boolean } = {},
  ): Promise<void> {
    const ids = [...new Set(personIds)];
    if (ids.length === 0) {
      // Nobody to queue, but the change is still announced (as it was before the NOTIFY moved here).
      if (opts.announce && this.announceOn) await sql`select pg_notify(${this.announceOn}, '')`.execute(opts.db ?? this.db);
      return;
    }
    const rows = sql`select ${integrationId} as integration_id, p.value as person_id from ${this.eachOf(ids)}`;
    await this.upsert(opts.db ?? this.db, rows, opts.dueAt ?? Date.now(), opts.verify ? 1 : 0, opts.announce ?? false);
  }

  /**
   * `enqueue` for every live integration of an organisation (active, or revoking), in one statement:
   * a booking write is a dozen statements, and looking the integrations up first was one of them.
   */
  async enqueueForOrganisation(organisationId: string, personIds: Iterable<string>, opts: { db?: Kysely<Database>; announce?: boolean } = {}): Promise<void> {
    const ids = [...new Set(personIds)];
    if (ids.length === 0) return;
    const rows = sql`
      select i.id as integration_id, p.value as person_id
      from integrations i cross join ${this.eachOf(ids)}
      where i.organisation_id = ${organisationId} and i.status <> 'disconnected'`;
    await this.upsert(opts.db ?? this.db, rows, Date.now(), 0, opts.announce ?? false);
  }

  /** The ids as a table `p(value)`, from one JSON parameter however many there are. */
  private eachOf(ids: string[]) {
    const json = JSON.stringify(ids);
    return this.dialect === 'postgres' ? sql`jsonb_array_elements_text(${json}::jsonb) as p(value)` : sql`json_each(${json}) as p`;
  }

  /**
   * Queues the (integration_id, person_id) pairs `rows` selects. A pair already queued keeps the
   * earlier due time and the stronger verify, and its generation moves on, so a sync in flight
   * knows it is out of date. (`where true`: SQLite's parser needs a WHERE before ON CONFLICT.)
   * With `announce` on PostgreSQL the upsert is a data-modifying CTE of a `select pg_notify`: one
   * statement, and PostgreSQL runs a CTE's insert exactly once whether or not the select reads it.
   */
  private async upsert(db: Kysely<Database>, rows: RawBuilder<unknown>, dueAt: number, verify: 0 | 1, announce: boolean): Promise<void> {
    const upsert = sql`
      insert into sync_work (integration_id, person_id, due_at, generation, attempts, verify)
      select w.integration_id, w.person_id, ${dueAt}, 1, 0, ${verify} from (${rows}) w where true
      on conflict (integration_id, person_id) do update set
        due_at = ${this.least('sync_work.due_at', 'excluded.due_at')},
        generation = sync_work.generation + 1,
        verify = ${this.greatest('sync_work.verify', 'excluded.verify')}`;
    if (announce && this.announceOn) {
      await sql`with queued as (${upsert} returning 1) select pg_notify(${this.announceOn}, '')`.execute(db);
    } else {
      await upsert.execute(db);
    }
  }

  /**
   * Claims up to `limit` due items for this worker, in one statement. Items of paused (rate-limited)
   * or disconnected integrations are skipped, so one provider's trouble never holds up another's work.
   *
   * PostgreSQL: `FOR UPDATE SKIP LOCKED` lets any number of workers claim side by side — each row
   * goes to exactly one of them, and none waits for another's locks. A claim is a lease: a worker
   * that dies stops renewing it, and once `claim_until` has passed the item is claimed again.
   * SQLite has one writer at a time, so the same UPDATE … RETURNING is atomic there by itself.
   */
  async claim(workerId: string, now: number, limit: number, leaseMs: number, integrationId?: string): Promise<WorkItem[]> {
    if (limit <= 0) return [];
    const { rows } = await this.claimStatement(workerId, now, limit, leaseMs, integrationId).execute(this.db);
    return rows.map((r) => ({ ...r, dueAt: Number(r.dueAt), claimUntil: Number(r.claimUntil) }));
  }

  /** The statement `claim` runs; public so a test can check the database answers it from an index. */
  claimStatement(workerId: string, now: number, limit: number, leaseMs: number, integrationId?: string) {
    const claimUntil = now + leaseMs;
    const forIntegration = integrationId ? sql`and sw.integration_id = ${integrationId}` : sql``;
    const due = sql`
      from sync_work sw
      join integrations i on i.id = sw.integration_id
      where sw.due_at <= ${now}
        and (sw.claim_until is null or sw.claim_until < ${now})
        and (i.paused_until is null or i.paused_until <= ${now})
        and i.status <> 'disconnected'
        ${forIntegration}
      order by sw.due_at
      limit ${limit}`;
    return this.dialect === 'postgres'
      ? sql<WorkItem>`
            update sync_work w set claimed_by = ${workerId}, claim_until = ${claimUntil}
            from (select sw.integration_id, sw.person_id ${due} for update of sw skip locked) picked
            where w.integration_id = picked.integration_id and w.person_id = picked.person_id
            returning w.*`
      : sql<WorkItem>`
            update sync_work set claimed_by = ${workerId}, claim_until = ${claimUntil}
            where rowid in (select sw.rowid ${due})
            returning *`;
  }

  /**
   * Extends the lease of items this worker is still working on, so a slow provider does not let
   * another worker claim them mid-sync. Returns how many were still this worker's.
   */
  async renew(workerId: string, items: WorkItem[], until: number): Promise<number> {
    let renewed = 0;
    for (const item of items) {
      const res = await this.db
        .updateTable('syncWork')
        .set({ claimUntil: until })
        .where('integrationId', '=', item.integrationId)
        .where('personId', '=', item.personId)
        .where('claimedBy', '=', workerId)
        .executeTakeFirst();
      renewed += Number(res.numUpdatedRows);
    }
    return renewed;
  }

  /** Finished: drop the item, or keep it for the next time-based change. A newer enqueue wins. */
  async complete(item: WorkItem, nextDueAt: number | null): Promise<void> {
    const unchanged = (qb: any) =>
      qb
        .where('integrationId', '=', item.integrationId)
        .where('personId', '=', item.personId)
        .where('generation', '=', item.generation);
    if (nextDueAt === null) {
      const res = await unchanged(this.db.deleteFrom('syncWork')).executeTakeFirst();
      if (Number(res.numDeletedRows) === 1) return;
    } else {
      const res = await unchanged(
        this.db
          .updateTable('syncWork')
          .set({ dueAt: nextDueAt, attempts: 0, verify: 0, lastError: null, claimedBy: null, claimUntil: null }),
      ).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) return;
    }
    // Changed while we worked: release it so the newer change is synced right away.
    await this.db
      .updateTable('syncWork')
      .set({ attempts: 0, lastError: null, claimedBy: null, claimUntil: null })
      .where('integrationId', '=', item.integrationId)
      .where('personId', '=', item.personId)
      .execute();
  }

  /** Failed: record why and when to try again. */
  async fail(item: WorkItem, error: string, retryAt: number, opts: { countAttempt?: boolean } = {}): Promise<void> {
    await this.db
      .updateTable('syncWork')
      .set({
        attempts: opts.countAttempt === false ? item.attempts : item.attempts + 1,
        lastError: error,
        dueAt: retryAt,
        verify: 1,
        claimedBy: null,
        claimUntil: null,
      })
      .where('integrationId', '=', item.integrationId)
      .where('personId', '=', item.personId)
      .execute();
  }

  /** Embedded mode has one worker: claims left by a killed process are released at start. */
  async releaseAllClaims(): Promise<void> {
    await this.db.updateTable('syncWork').set({ claimedBy: null, claimUntil: null }).where('claimedBy', 'is not', null).execute();
  }

  /** Items due now or waiting to retry after a failure (scheduled future wake-ups not counted). */
  async unsettled(now: number): Promise<number> {
    const row = await this.db
      .selectFrom('syncWork')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where((eb) => eb.or([eb('dueAt', '<=', now), eb('lastError', 'is not', null)]))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom('syncWork')
      .select((eb) => eb.fn.min('dueAt').as('next'))
      .executeTakeFirst();
    return row?.next == null ? null : Number(row.next);
  }
}
