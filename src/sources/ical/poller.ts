/**
 * The feed poller (`app.sources`): polls every iCal source at its `pollMinutes`, jittered so feeds
 * added together do not poll together, and backs off exponentially while a feed fails.
 *
 * - It never blocks the engine: polls run on their own timers, a few at a time, each under a time and
 *   size limit, and only the short ingest transactions touch the store.
 * - One worker polls a feed at a time: a poll first takes a lease on the feed's row
 *   (`ical_feeds.lease_until`, compare-and-set), so several Lockstep processes on one PostgreSQL share
 *   the work, and a crashed worker's lease simply runs out.
 * - A 304 (ETag / Last-Modified unchanged) costs nothing. Because the window slides with time (a
 *   weekly series gains an occurrence at the horizon), the whole feed is downloaded again at least
 *   every `fullRefreshMs` even when the server would say 304, and right away after the settings change.
 * - An event missing from the feed is cancelled only once its absence is confirmed over several polls
 *   (see reconcile.ts); a 304 counts as a poll that still lacks it.
 * - Errors are recorded on the feed (`last_error`, also on the source) with the feed's secret-bearing
 *   URL reduced to its host; bookings are left exactly as they were.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { SourceDeps } from '../deps.js';
import type { Row } from '../../store/schema.js';
import type { EngineLogger } from '../../engine/runner.js';
import { PassLoop } from '../../engine/pass-loop.js';
import { newId } from '../../store/ids.js';
import { sourceSettings } from '../kinds.js';
import { fetchFeed, FeedFetchError, redactUrl, scrub } from './fetch.js';
import { FeedFormatError } from './expand.js';
import { confirmAbsences, FeedConfigError, reconcileFeed, type IcalSettings, type ReconcileReport } from './reconcile.js';

export interface FeedPollerSettings {
  /** How often the poller looks for due feeds. */
  tickMs: number;
  /** Length of a "minute" in `pollMinutes` (tests shorten it). */
  minuteMs: number;
  /** ± fraction of the interval added at random. */
  jitter: number;
  /** Longest back-off after repeated failures. */
  maxBackoffMs: number;
  /** Download the whole feed at least this often, even if the server would answer 304. */
  fullRefreshMs: number;
  timeoutMs: number;
  maxBytes: number;
  concurrency: number;
  leaseMs: number;
  workerId: string;
  logger: EngineLogger;
  now: () => number;
}

const silent: EngineLogger = { info() {}, warn() {}, error() {} };

export const defaultFeedPollerSettings = (): FeedPollerSettings => ({
  tickMs: 5_000,
  minuteMs: 60_000,
  jitter: 0.1,
  maxBackoffMs: 6 * 3_600_000,
  fullRefreshMs: 24 * 3_600_000,
  timeoutMs: 20_000,
  maxBytes: 5 * 1024 * 1024,
  concurrency: 4,
  leaseMs: 5 * 60_000,
  workerId: `${os.hostname()}:${process.pid}:${newId('f')}`,
  logger: silent,
  now: Date.now,
});

export interface FeedStatus {
  sourceId: string;
  state: 'never-polled' | 'ok' | 'not-modified' | 'error';
  lastPolledAt: string | null;
  lastFetchedAt: string | null;
  lastSuccessAt: string | null;
  nextPollAt: string | null;
  lastHttpStatus: number | null;
  lastError: string | null;
  consecutiveFailures: number;
  etag: boolean;
  lastModified: string | null;
  report: ReconcileReport | null;
}

export class FeedBusyError extends Error {}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());

export function feedStatusView(sourceId: string, row: Row<'icalFeeds'> | undefined): FeedStatus {
  return {
    sourceId,
    state: row?.lastStatus ?? 'never-polled',
    lastPolledAt: iso(row?.lastPolledAt),
    lastFetchedAt: iso(row?.lastFetchedAt),
    lastSuccessAt: iso(row?.lastSuccessAt),
    nextPollAt: iso(row?.nextPollAt),
    lastHttpStatus: row?.lastHttpStatus ?? null,
    lastError: row?.lastError ?? null,
    consecutiveFailures: row?.failures ?? 0,
    etag: Boolean(row?.etag),
    lastModified: row?.lastModified ?? null,
    report: row?.report ? (JSON.parse(row.report) as ReconcileReport) : null,
  };
}

const settingsHash = (settings: string) => createHash('sha256').update(settings).digest('base64url');

export class FeedPoller {
  private readonly s: FeedPollerSettings;
  private readonly loop: PassLoop;
  private readonly inFlight = new Map<string, Promise<FeedStatus>>();

  constructor(
    private readonly app: SourceDeps,
    settings: Partial<FeedPollerSettings> = {},
  ) {
    this.s = { ...defaultFeedPollerSettings(), ...settings };
    this.loop = new PassLoop(() => this.pollDue(), { name: 'iCal poller', logger: () => this.s.logger, nextDelayMs: () => this.s.tickMs });
  }

  useLogger(logger: EngineLogger): void {
    this.s.logger = logger;
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** A source was added or changed: look for due feeds now. */
  wake(): void {
    this.loop.wake();
  }

  /** Polls every due feed (a few at a time). Concurrent calls share the pass in flight. */
  tick(): Promise<void> {
    return this.loop.runOnce();
  }

  private async pollDue(): Promise<void> {
    const queue = await this.dueSources();
    const workers = Array.from({ length: Math.min(this.s.concurrency, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        await this.poll(next.id, false).catch((err: Error) => {
          if (!(err instanceof FeedBusyError)) this.s.logger.error({ sourceId: next.id, error: err.message }, 'iCal feed poll failed');
        });
      }
    });
    await Promise.all(workers);
  }

  /** iCal sources that are due: never polled, settings changed, or next_poll_at reached. */
  private async dueSources(): Promise<Row<'bookingSources'>[]> {
    const now = this.s.now();
    const rows = await this.app.store.db
      .selectFrom('bookingSources')
      .leftJoin('icalFeeds', 'icalFeeds.sourceId', 'bookingSources.id')
      .selectAll('bookingSources')
      .select(['icalFeeds.nextPollAt', 'icalFeeds.settingsHash', 'icalFeeds.leaseUntil'])
      .where('bookingSources.kind', '=', 'ical')
      .execute();
    return rows.filter((r) => {
      if (r.leaseUntil !== null && r.leaseUntil !== undefined && Number(r.leaseUntil) > now) return false;
      if (r.nextPollAt === null || r.nextPollAt === undefined) return true;
      return Number(r.nextPollAt) <= now || r.settingsHash !== settingsHash(r.settings);
    });
  }

  /** Status of one feed. */
  async status(sourceId: string): Promise<FeedStatus> {
    const row = await this.app.store.db.selectFrom('icalFeeds').selectAll().where('sourceId', '=', sourceId).executeTakeFirst();
    return feedStatusView(sourceId, row);
  }

  /**
   * Polls one feed now (POST /v1/sources/:id/poll, and the schedule). Throws FeedBusyError when
   * another worker holds the feed's lease; in this process a second call joins the poll in flight.
   */
  poll(sourceId: string, force = true): Promise<FeedStatus> {
    const running = this.inFlight.get(sourceId);
    if (running) return running;
    const p = this.pollOnce(sourceId, force).finally(() => this.inFlight.delete(sourceId));
    this.inFlight.set(sourceId, p);
    return p;
  }

  private async pollOnce(sourceId: string, force: boolean): Promise<FeedStatus> {
    const db = this.app.store.db;
    const source = await db.selectFrom('bookingSources').selectAll().where('id', '=', sourceId).where('kind', '=', 'ical').executeTakeFirst();
    if (!source) throw new Error(`no iCal source ${sourceId}`);
    const now = this.s.now();
    const state = await this.claim(source, now, force);
    if (!state) throw new FeedBusyError('another worker is polling this feed right now');

    const parsed = sourceSettings.ical.safeParse(JSON.parse(source.settings));
    const hash = settingsHash(source.settings);
    const settingsChanged = state.settingsHash !== hash;
    let patch: Partial<Row<'icalFeeds'>>;
    let url = '';
    try {
      if (!parsed.success) throw new FeedConfigError(`the source settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const settings: IcalSettings = parsed.data;
      url = settings.url;
      const conditional = !settingsChanged && state.lastFetchedAt !== null && now - Number(state.lastFetchedAt) < this.s.fullRefreshMs;
      const fetched = await fetchFeed(settings.url, {
        etag: conditional ? state.etag : null,
        lastModified: conditional ? state.lastModified : null,
        timeoutMs: this.s.timeoutMs,
        maxBytes: this.s.maxBytes,
      });
      const next = now + this.interval(settings);
      if (fetched.status === 'not-modified') {
        patch = { lastStatus: 'not-modified', lastHttpStatus: 304, lastError: null, failures: 0, lastSuccessAt: now, nextPollAt: next };
        // The feed still lacks what the last download lacked: that counts towards confirming removals.
        const absences = await confirmAbsences(this.app, source, settings, now);
        if (absences) {
          const previous = state.report ? (JSON.parse(state.report) as ReconcileReport) : null;
          if (previous) patch.report = JSON.stringify({ ...previous, ...absences });
          if (absences.removed) this.s.logger.info({ sourceId, feed: redactUrl(settings.url), ...absences }, 'iCal feed: confirmed removals applied');
        }
      } else {
        const report = await reconcileFeed(this.app, source, settings, fetched.body, now);
        patch = {
          lastStatus: 'ok',
          lastHttpStatus: fetched.httpStatus,
          lastError: null,
          failures: 0,
          lastSuccessAt: now,
          lastFetchedAt: now,
          etag: fetched.etag,
          lastModified: fetched.lastModified,
          settingsHash: hash,
          report: JSON.stringify(report),
          nextPollAt: next,
        };
        const changed = report.created + report.updated + report.cancelled + report.removed;
        if (changed) this.s.logger.info({ sourceId, feed: redactUrl(settings.url), ...report, skipped: undefined }, 'iCal feed applied');
      }
      await db.updateTable('bookingSources').set({ lastError: null, ...(patch.lastStatus === 'ok' ? { lastEventAt: now } : {}) }).where('id', '=', sourceId).execute();
    } catch (err) {
      const failures = state.failures + 1;
      const message = scrub(describe(err), url);
      const retryAfter = err instanceof FeedFetchError ? err.retryAfterMs : null;
      const base = parsed.success ? this.interval(parsed.data) : this.s.maxBackoffMs;
      const delay = Math.max(retryAfter ?? 0, Math.min(this.s.maxBackoffMs, base * 2 ** Math.min(failures - 1, 20)));
      patch = {
        lastStatus: 'error',
        lastHttpStatus: err instanceof FeedFetchError ? err.httpStatus : null,
        lastError: message,
        failures,
        nextPollAt: now + this.jittered(delay),
      };
      await db.updateTable('bookingSources').set({ lastError: message }).where('id', '=', sourceId).execute();
      this.s.logger.warn({ sourceId, failures, error: message }, 'iCal feed poll failed; backing off');
    }
    await db
      .updateTable('icalFeeds')
      .set({ ...patch, lastPolledAt: now, leaseUntil: null, updatedAt: this.s.now() })
      .where('sourceId', '=', sourceId)
      .execute();
    return this.status(sourceId);
  }

  /** Takes the feed's lease (creating its row on first poll); null if another worker holds it. */
  private async claim(source: Row<'bookingSources'>, now: number, force: boolean): Promise<Row<'icalFeeds'> | null> {
    const db = this.app.store.db;
    const leaseUntil = now + this.s.leaseMs;
    await db
      .insertInto('icalFeeds')
      .values({
        sourceId: source.id,
        organisationId: source.organisationId,
        settingsHash: null,
        etag: null,
        lastModified: null,
        lastPolledAt: null,
        lastFetchedAt: null,
        lastSuccessAt: null,
        nextPollAt: now,
        lastStatus: null,
        lastHttpStatus: null,
        lastError: null,
        failures: 0,
        leaseUntil: null,
        report: null,
        updatedAt: now,
      })
      .onConflict((oc) => oc.column('sourceId').doNothing())
      .execute();
    let claim = db
      .updateTable('icalFeeds')
      .set({ leaseUntil, updatedAt: now })
      .where('sourceId', '=', source.id)
      .where((eb) => eb.or([eb('leaseUntil', 'is', null), eb('leaseUntil', '<=', now)]));
    // The schedule only takes a feed that is due; "poll now" takes it whenever no one else has it.
    if (!force) claim = claim.where((eb) => eb.or([eb('nextPollAt', '<=', now), eb('settingsHash', 'is', null), eb('settingsHash', '!=', settingsHash(source.settings))]));
    const claimed = await claim.executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return null;
    return (await db.selectFrom('icalFeeds').selectAll().where('sourceId', '=', source.id).executeTakeFirst()) ?? null;
  }

  private interval(settings: IcalSettings): number {
    return this.jittered(settings.pollMinutes * this.s.minuteMs);
  }

  private jittered(ms: number): number {
    return Math.max(1, Math.round(ms * (1 + (Math.random() * 2 - 1) * this.s.jitter)));
  }
}

function describe(err: unknown): string {
  if (err instanceof FeedFetchError || err instanceof FeedFormatError || err instanceof FeedConfigError) return err.message;
  return `could not apply the feed: ${(err as Error)?.message ?? String(err)}`;
}
