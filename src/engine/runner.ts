/**
 * The sync engine's loop. Each integration has its own lane with a fixed number of concurrent syncs,
 * so a slow, failing or rate-limited provider only ever slows its own lane.
 *
 * The loop is woken by changes (wake()), by the next due item, and by a poll interval (other workers
 * sharing a PostgreSQL store may have enqueued work). A periodic drift pass re-reads the provider for
 * everyone it holds.
 */
import os from 'node:os';
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { SecretBox } from '../security/crypto.js';
import { WorkQueue, type WorkItem } from '../store/work.js';
import { ProviderError, type ProviderAdapter } from '../providers/types.js';
import { providerModule } from '../providers/registry.js';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js';
import { PinService } from './pins.js';
import { reconcilePerson } from './reconcile.js';
import { loadSyncSnapshots, type SyncSnapshot } from './snapshot.js';
import { newId } from '../store/ids.js';
import { writeAudit } from '../store/audit.js';
import type { TokenBuckets } from '../store/rate-limits.js';
import { AccountPacer, pacePolicy } from './pacer.js';

export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silentLogger: EngineLogger = { info() {}, warn() {}, error() {} };

export interface EngineOptions {
  db: Kysely<Database>;
  queue: WorkQueue;
  secrets: SecretBox;
  pins: PinService;
  /**
   * Concurrent syncs per integration (default 32). Providers answer in tens of milliseconds; with
   * four lanes the engine waited on the network, not the CPU. A provider's published rate limit is
   * kept by its pacer however many lanes run.
   */
  laneSize?: number;
  pollMs?: number;
  leaseMs?: number;
  /** How often everyone held on a provider is read back (drift repair). 0 disables. */
  driftCheckMs?: number;
  backoff?: BackoffPolicy;
  /**
   * Circuit breaker: after this many transient failures (5xx, timeout, refused) in a row on one
   * integration, with no success between, every lane of it pauses, first for about the back-off
   * base (1 s), doubling per round of probes up to `maxPauseMs`; after each pause one sync at a time
   * probes it, and the first success closes it (full lanes again). A provider that is down then sees
   * about one probe per pause instead of one retry per waiting person.
   * Random faults (one 5xx in ten) never trip it.
   */
  breaker?: { afterFailures: number; maxPauseMs: number };
  /** Provider request timeout. */
  providerTimeoutMs?: number;
  /** The store's per-account token buckets; without them, providers are not paced (429s still pause them). */
  buckets?: TokenBuckets | null;
  workerId?: string;
  logger?: EngineLogger;
  now?: () => number;
  /**
   * Observability hook for tests and benchmarks, called after a successful sync. `startedAt` is when
   * that sync began (before any facts were read): every change committed before it is reflected.
   */
  onSynced?: (event: { integrationId: string; personId: string; calls: number; startedAt: number; at: number }) => void;
}

interface CachedAdapter {
  signature: string;
  adapter: ProviderAdapter;
}

export class SyncEngine {
  private readonly opts: Required<Omit<EngineOptions, 'onSynced'>> & Pick<EngineOptions, 'onSynced'>;
  private readonly inflight = new Map<string, number>();
  private readonly adapters = new Map<string, CachedAdapter>();
  private running = false;
  private pumping = false;
  private pumpAgain = false;
  private wakeQueued = false;
  private timer: NodeJS.Timeout | null = null;
  private driftTimer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private integrationList: { at: number; rows: { id: string; pausedUntil: number | null }[] } | null = null;
  /** Items this worker is syncing now, whose claims it keeps renewing. */
  private readonly claimed = new Map<string, WorkItem>();
  /** Per integration: since when its few free lanes have been held back for a larger group. */
  private readonly heldSince = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];
  /** Per integration (this worker): transient failures in a row, and how far the breaker has backed off. */
  private readonly breakers = new Map<string, { failures: number; level: number; pausedUntil: number }>();
  /** Total provider calls made; the benchmark divides it by bookings. */
  providerCalls = 0;

  constructor(options: EngineOptions) {
    this.opts = {
      laneSize: 32,
      pollMs: 1_000,
      leaseMs: 5 * 60_000,
      driftCheckMs: 15 * 60_000,
      backoff: defaultBackoff,
      breaker: { afterFailures: 5, maxPauseMs: 30_000 },
      providerTimeoutMs: 10_000,
      workerId: `${os.hostname()}:${process.pid}:${newId('w')}`,
      logger: silentLogger,
      now: Date.now,
      buckets: null,
      ...options,
    };
  }

  /** Log through the server's logger once it exists (the CLI builds it after the app). */
  useLogger(logger: EngineLogger): void {
    this.opts.logger = logger;
  }

  /** Who this engine's claims say holds them (host:pid:random). */
  get workerId(): string {
    return this.opts.workerId;
  }

  async start(opts: { releaseStaleClaims?: boolean } = {}): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (opts.releaseStaleClaims) await this.opts.queue.releaseAllClaims();
    // Renew well before the lease runs out; a worker that dies stops renewing and its claims expire.
    this.renewTimer = setInterval(() => void this.renewClaims(), Math.max(50, Math.floor(this.opts.leaseMs / 3)));
    this.renewTimer.unref();
    if (this.opts.driftCheckMs > 0) {
      this.driftTimer = setInterval(() => void this.scheduleDriftCheck().catch((err) => this.opts.logger.error({ err }, 'drift check failed')), this.opts.driftCheckMs);
      this.driftTimer.unref();
    }
    this.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.driftTimer) clearInterval(this.driftTimer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.timer = this.driftTimer = this.renewTimer = null;
    while (this.totalInflight() > 0) await new Promise((r) => setTimeout(r, 10));
    for (const { adapter } of this.adapters.values()) await adapter.close?.();
    this.adapters.clear();
  }

  /** Something changed: look for due work now. A burst of wakes (one per API write) costs one pass. */
  wake(): void {
    if (!this.running || this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      void this.pump().catch((err) => this.opts.logger.error({ err }, 'sync loop error'));
    });
  }

  /**
   * Resolves when nothing is in flight, nothing is due and nothing is waiting to retry: every change
   * so far has reached its provider (tests and benchmarks).
   */
  async idle(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const unsettled = await this.opts.queue.unsettled(this.opts.now());
      if (this.totalInflight() === 0 && !this.pumping && unsettled === 0) return;
      if (Date.now() > deadline) throw new Error(`sync engine not idle after ${timeoutMs} ms (${unsettled} items unsettled)`);
      this.wake();
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  /** Queue a read-back of everyone each live integration holds. */
  async scheduleDriftCheck(): Promise<void> {
    const held = await this.opts.db
      .selectFrom('providerUsers')
      .select(['integrationId', 'personId'])
      .union(this.opts.db.selectFrom('providerGrants').select(['integrationId', 'personId']))
      .execute();
    const byIntegration = new Map<string, string[]>();
    for (const r of held) byIntegration.set(r.integrationId, [...(byIntegration.get(r.integrationId) ?? []), r.personId]);
    for (const [integrationId, people] of byIntegration) await this.opts.queue.enqueue(integrationId, people, { verify: true });
    this.wake();
  }

  private totalInflight(): number {
    let n = 0;
    for (const v of this.inflight.values()) n += v;
    return n;
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        if (!this.running) return;
        const now = this.opts.now();
        const integrations = await this.liveIntegrations(now);
        for (const integ of integrations) {
          if (integ.pausedUntil && integ.pausedUntil > now) continue;
          // Half-open breaker: after a pause, one probe at a time until a sync succeeds, so a
          // provider that is still down sees one request per pause, not a full lane.
          const lanes = (this.breakers.get(integ.id)?.level ?? 0) > 0 ? 1 : this.opts.laneSize;
          const busy = this.inflight.get(integ.id) ?? 0;
          const free = lanes - busy;
          if (free <= 0 || this.holdingLanes(integ.id, busy > 0 && free < Math.ceil(lanes / 4))) continue;
          const items = await this.opts.queue.claim(this.opts.workerId, now, free, this.opts.leaseMs, integ.id);
          if (items.length) this.launchGroup(integ.id, items);
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.scheduleNext();
    if (this.totalInflight() === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Whether free lanes wait a moment for more to free up. Busy lanes take new work in groups of at
   * least a quarter of the lanes, read together (src/engine/snapshot.ts): one claim per finished sync
   * would read people one by one. But a lane is held back at most `LANE_HOLD_MS`: when the provider
   * is slow (80 ms a call), syncs finish seconds apart per quarter of the lanes, and waiting for a
   * quarter left lanes idle that the provider, not the store, was the bound for (12% of converge).
   */
  private holdingLanes(integrationId: string, fewFree: boolean): boolean {
    if (!fewFree) {
      this.heldSince.delete(integrationId);
      return false;
    }
    const now = Date.now();
    const since = this.heldSince.get(integrationId);
    if (since === undefined) {
      this.heldSince.set(integrationId, now);
      setTimeout(() => this.wake(), LANE_HOLD_MS).unref();
      return true;
    }
    if (now - since < LANE_HOLD_MS) return true;
    this.heldSince.delete(integrationId);
    return false;
  }

  /**
   * The integrations to claim for, re-read at most every half second: under load the pump runs after
   * every finished sync, and the claim query itself skips paused and disconnected integrations, so a
   * slightly old list only costs an empty claim (or, for a second integration added, half a second).
   */
  private async liveIntegrations(now: number): Promise<{ id: string; pausedUntil: number | null }[]> {
    const cached = this.integrationList;
    if (cached && cached.rows.length > 0 && now - cached.at < 500) return cached.rows;
    const rows = await this.opts.db.selectFrom('integrations').select(['id', 'pausedUntil']).where('status', '!=', 'disconnected').execute();
    this.integrationList = { at: now, rows };
    return rows;
  }

  private scheduleNext(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    if (this.totalInflight() > 0) {
      // Every sync that finishes pumps again; the timer only guards against a missed wake-up.
      this.timer = setTimeout(() => this.wake(), this.opts.pollMs);
      this.timer.unref();
      return;
    }
    void this.opts.queue.nextDueAt().then((next) => {
      if (!this.running) return;
      const now = this.opts.now();
      // Still due after a pump with free lanes: its integration is paused (or another worker holds
      // it). Come back when the first pause ends, not in a busy loop.
      const pausedUntil = Math.min(...(this.integrationList?.rows ?? []).map((r) => (r.pausedUntil && r.pausedUntil > now ? r.pausedUntil : Infinity)));
      const wakeAt = next !== null && next <= now ? Math.min(pausedUntil, now + this.opts.pollMs) : next;
      const delay = wakeAt === null ? this.opts.pollMs : Math.max(5, Math.min(this.opts.pollMs, wakeAt - now));
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.wake(), delay);
      this.timer.unref();
    });
  }

  private async renewClaims(): Promise<void> {
    if (this.claimed.size === 0) return;
    try {
      await this.opts.queue.renew(this.opts.workerId, [...this.claimed.values()], this.opts.now() + this.opts.leaseMs);
    } catch (err) {
      this.opts.logger.warn({ error: describeError(err) }, 'could not renew sync claims; will retry');
    }
  }

  /** Starts the syncs of a claimed group: their snapshots are read together, then each goes on alone. */
  private launchGroup(integrationId: string, items: WorkItem[]): void {
    for (const item of items) this.claimed.set(claimKey(item), item);
    this.inflight.set(integrationId, (this.inflight.get(integrationId) ?? 0) + items.length);
    const finished = (item: WorkItem) => {
      this.claimed.delete(claimKey(item));
      this.inflight.set(integrationId, (this.inflight.get(integrationId) ?? 1) - 1);
      this.wake();
    };
    void this.processGroup(integrationId, items, finished).catch((err) => {
      this.opts.logger.error({ err, integrationId }, 'sync group crashed');
      for (const item of items) if (this.claimed.has(claimKey(item))) finished(item);
    });
  }

  private async processGroup(integrationId: string, items: WorkItem[], finished: (item: WorkItem) => void): Promise<void> {
    const startedAt = Date.now();
    const { db, queue } = this.opts;
    const integration = await db.selectFrom('integrations').selectAll().where('id', '=', integrationId).executeTakeFirst();
    if (!integration) {
      for (const item of items) await queue.complete(item, null).finally(() => finished(item));
      return;
    }
    const now = this.opts.now();
    let snapshots: Map<string, SyncSnapshot>;
    try {
      snapshots = await loadSyncSnapshots(db, integration, items.map((i) => i.personId), now);
    } catch (err) {
      for (const item of items) await this.failed(item, integration, err).finally(() => finished(item));
      return;
    }
    for (const item of items) {
      void this.process(item, integration, snapshots.get(item.personId)!, startedAt, now)
        .catch((err) => this.opts.logger.error({ err, integrationId }, 'sync item crashed'))
        .finally(() => finished(item));
    }
  }

  private async process(item: WorkItem, integration: Row<'integrations'>, snapshot: SyncSnapshot, startedAt: number, now: number): Promise<void> {
    const { db, queue } = this.opts;
    try {
      const adapter = this.adapterFor(integration);
      const outcome = await reconcilePerson(
        {
          db,
          pins: this.opts.pins,
          secrets: this.opts.secrets,
          adapter,
          integration,
          now,
          wake: async (people) => {
            await queue.enqueue(integration.id, people);
            this.wake();
          },
        },
        item.personId,
        item.verify === 1,
        snapshot,
      );
      this.providerCalls += outcome.calls;
      this.breakers.delete(integration.id);
      await queue.complete(item, outcome.nextDueAt);
      if (integration.lastError) {
        await db.updateTable('integrations').set({ lastError: null, lastErrorAt: null }).where('id', '=', integration.id).where('lastError', 'is not', null).execute();
      }
      if (integration.status === 'revoking') await this.finishRevokingIfDone(integration);
      this.opts.onSynced?.({ integrationId: item.integrationId, personId: item.personId, calls: outcome.calls, startedAt, at: Date.now() });
    } catch (err) {
      await this.failed(item, integration, err);
    }
  }

  private async failed(item: WorkItem, integration: Row<'integrations'>, err: unknown): Promise<void> {
    await this.recordFailure(item, integration, err);
    this.opts.logger.warn({ integrationId: item.integrationId, personId: item.personId, error: describeError(err) }, 'sync failed; will retry');
  }

  private async recordFailure(item: WorkItem, integration: Row<'integrations'>, err: unknown): Promise<void> {
    const { db, queue } = this.opts;
    const now = this.opts.now();
    const message = describeError(err);
    let retryAt = now + backoffDelay(item.attempts + 1, this.opts.backoff);
    if (err instanceof ProviderError && err.kind === 'rate-limited') {
      // The provider asked the whole account to slow down: pause every lane of this integration.
      const pauseUntil = now + (err.details.retryAfterMs ?? backoffDelay(item.attempts + 1, this.opts.backoff));
      retryAt = pauseUntil;
      await db.updateTable('integrations').set({ pausedUntil: pauseUntil }).where('id', '=', integration.id).execute();
    }
    if (err instanceof ProviderError && err.kind === 'transient') await this.tripBreaker(integration, message, now);
    await db.updateTable('integrations').set({ lastError: message, lastErrorAt: now }).where('id', '=', integration.id).execute();
    await queue.fail(item, message, retryAt, { countAttempt: !(err instanceof ProviderError && err.kind === 'rate-limited') });
  }

  /**
   * Counts a transient failure; past the threshold, pauses the integration. The pause grows once per
   * round of probes (failures of syncs that were already in flight when it paused do not grow it),
   * with the engine's back-off policy, capped at `breaker.maxPauseMs`.
   */
  private async tripBreaker(integration: Row<'integrations'>, message: string, now: number): Promise<void> {
    const state = this.breakers.get(integration.id) ?? { failures: 0, level: 0, pausedUntil: 0 };
    this.breakers.set(integration.id, state);
    state.failures += 1;
    const { afterFailures, maxPauseMs } = this.opts.breaker;
    if (state.failures < afterFailures || state.pausedUntil > now) return;
    state.level += 1;
    const { baseMs, maxMs } = this.opts.backoff;
    state.pausedUntil = now + backoffDelay(state.level, { baseMs, maxMs: Math.min(maxMs, maxPauseMs) });
    await this.opts.db
      .updateTable('integrations')
      .set({ pausedUntil: state.pausedUntil })
      .where('id', '=', integration.id)
      .where((eb) => eb.or([eb('pausedUntil', 'is', null), eb('pausedUntil', '<', state.pausedUntil)]))
      .execute();
    this.integrationList = null; // claim nothing more for it from now on
    if (state.level === 1) this.opts.logger.warn({ integrationId: integration.id, error: message }, 'provider keeps failing; pausing this integration between probes');
  }

  private async finishRevokingIfDone(integration: Row<'integrations'>): Promise<void> {
    const { db } = this.opts;
    const left = await db
      .selectFrom('providerGrants')
      .select('id')
      .where('integrationId', '=', integration.id)
      .where('state', '!=', 'left-valid')
      .union(db.selectFrom('providerUsers').select('personId as id').where('integrationId', '=', integration.id))
      .executeTakeFirst();
    const pending = await db.selectFrom('syncWork').select('personId').where('integrationId', '=', integration.id).executeTakeFirst();
    if (left || pending) return;
    const res = await db
      .updateTable('integrations')
      .set({ status: 'disconnected' })
      .where('id', '=', integration.id)
      .where('status', '=', 'revoking')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) {
      const stillValid = await db
        .selectFrom('providerGrants')
        .select(['endsAt', 'credentialValidUntil'])
        .where('integrationId', '=', integration.id)
        .where('state', '=', 'left-valid')
        .execute();
      const lastValid = stillValid.reduce<number | null>((m, g) => Math.max(m ?? 0, g.credentialValidUntil ?? g.endsAt ?? 0), null);
      await writeAudit(db, {
        organisationId: integration.organisationId,
        actor: 'engine',
        action: 'integration.disconnected',
        subjectType: 'integration',
        subjectId: integration.id,
        details: stillValid.length
          ? {
              mode: 'revoke',
              note: `everything the provider can withdraw has been removed; ${stillValid.length} offline code(s) cannot be withdrawn and stay valid until they expire`,
              stillValidCount: stillValid.length,
              lastValidUntil: new Date(lastValid!).toISOString(),
            }
          : { mode: 'revoke', note: 'everything Lockstep granted has been removed from the provider' },
      });
    }
  }

  /** Adapters are cached per integration and rebuilt when its address or credentials change. */
  adapterFor(integration: Row<'integrations'>): ProviderAdapter {
    const signature = `${integration.baseUrl}|${integration.credentialsEnc}|${integration.rateLimitPerMinute}`;
    const cached = this.adapters.get(integration.id);
    if (cached && cached.signature === signature) return cached.adapter;
    void cached?.adapter.close?.();
    const mod = providerModule(integration.kind);
    if (!mod) throw new ProviderError('rejected', `provider kind "${integration.kind}" is not supported by this Lockstep version`);
    const plainCredentials = this.opts.secrets.open(integration.credentialsEnc);
    const credentials = JSON.parse(plainCredentials) as Record<string, string>;
    const policy = pacePolicy(integration.rateLimitPerMinute, mod.defaultRateLimit);
    const pacer =
      policy && this.opts.buckets
        ? new AccountPacer({
            buckets: this.opts.buckets,
            // One bucket per provider account: integrations with the same address and credentials share it.
            key: this.opts.secrets.keyedHash(`${integration.kind}|${integration.baseUrl}|${plainCredentials}`, 'rate-bucket'),
            policy,
            provider: integration.kind,
            now: this.opts.now,
          })
        : undefined;
    // Room for every lane to send two doors side by side; more wait in the pool, not in a lane.
    const connections = this.opts.laneSize * 2;
    const adapter = mod.create({ baseUrl: integration.baseUrl, credentials, timeoutMs: this.opts.providerTimeoutMs, pacer, connections });
    this.adapters.set(integration.id, { signature, adapter });
    return adapter;
  }
}

/** The longest a free lane waits for others to free up before it claims alone (see holdingLanes). */
const LANE_HOLD_MS = 5;

const claimKey = (item: WorkItem) => `${item.integrationId}|${item.personId}`;

/** Error text safe for logs, the admin and the database: provider errors are written without secrets. */
export function describeError(err: unknown): string {
  if (err instanceof ProviderError) return `${err.kind}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
