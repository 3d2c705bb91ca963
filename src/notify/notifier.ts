/**
 * The notifier's loop, level-triggered like the sync engine: each pass looks at recent changes
 * (bookings, PINs, failing integrations), compares them with what the outbox says people were already
 * told, queues what is missing (idempotently, by dedupe key), then sends what is due. It is woken by
 * API changes and finished syncs, and polls, so several workers and restarts all converge on "each
 * message exactly once in the outbox". Sending never blocks the engine: it is a separate loop.
 */
import os from 'node:os';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { SecretBox } from '../security/crypto.js';
import type { PinService } from '../engine/pins.js';
import { PassLoop } from '../engine/pass-loop.js';
import { breather } from '../engine/breather.js';
import type { EngineLogger } from '../engine/runner.js';
import { backoffDelay, type BackoffPolicy } from '../engine/backoff.js';
import { newId } from '../store/ids.js';
import { Outbox } from './outbox.js';
import type { ScanContext } from './context.js';
import type { MailTransport } from './transport.js';
import { SMS_PREFIX, type SmsSender } from './sms.js';
import { scanBookings } from './booking-notices.js';
import { scanPins } from './pin-notices.js';
import { scanFullTargets, scanIntegrations } from './integration-alerts.js';

export interface NotifierSettings {
  /** null: no SMTP configured; messages are kept in the local outbox (GET /v1/outbox). */
  transport: MailTransport | null;
  /** null: no SMS gateway; SMS messages (spaces whose PINs go by SMS) are kept in the local outbox. */
  sms: SmsSender | null;
  from: string;
  alertTo: string[];
  graceMs: number;
  pollMs: number;
  /** Wakes (an API write, a finished sync) within this long of the last pass share the next one. */
  minPassGapMs: number;
  lookbackMs: number;
  failingAttempts: number;
  failingPersistMs: number;
  backoff: BackoffPolicy;
  /** Send attempts before a message is given up as 'failed'. */
  maxAttempts: number;
  leaseMs: number;
  batchSize: number;
  workerId: string;
  logger: EngineLogger;
  now: () => number;
}

export interface NotifierDeps {
  db: Kysely<Database>;
  secrets: SecretBox;
  pins: PinService;
}

const silent: EngineLogger = { info() {}, warn() {}, error() {} };

export const defaultNotifierSettings = (): NotifierSettings => ({
  transport: null,
  sms: null,
  from: 'Lockstep <lockstep@localhost>',
  alertTo: [],
  graceMs: 2 * 60_000,
  pollMs: 5_000,
  minPassGapMs: 1_000,
  lookbackMs: 24 * 60 * 60_000,
  failingAttempts: 3,
  failingPersistMs: 10 * 60_000,
  backoff: { baseMs: 10_000, maxMs: 30 * 60_000 },
  maxAttempts: 15,
  leaseMs: 2 * 60_000,
  batchSize: 20,
  workerId: `${os.hostname()}:${process.pid}:${newId('n')}`,
  logger: silent,
  now: Date.now,
});

export class Notifier {
  readonly outbox: Outbox;
  private readonly s: NotifierSettings;
  private readonly settled = new Set<string>();
  private readonly loop: PassLoop;
  /** Bookings looked at in full since start (a backlog waiting for the engine is skipped cheaply). */
  readonly stats = { bookingsExamined: 0 };

  constructor(
    private readonly deps: NotifierDeps,
    settings: Partial<NotifierSettings> = {},
  ) {
    this.s = { ...defaultNotifierSettings(), ...settings };
    this.outbox = new Outbox(deps.db, deps.secrets);
    this.loop = new PassLoop(
      async () => {
        await this.scan();
        await this.dispatch();
      },
      { name: 'notifier', logger: () => this.s.logger, nextDelayMs: () => this.nextPassDelay(), minGapMs: this.s.minPassGapMs },
    );
  }

  /** Log through the server's logger once it exists (the CLI builds it after the app). */
  useLogger(logger: EngineLogger): void {
    this.s.logger = logger;
  }

  /** Whether e-mail goes out over SMTP (true) or stays in the local outbox (false). */
  get delivering(): boolean {
    return this.s.transport !== null;
  }

  /** "smtp://host:port" or "local outbox", without credentials. */
  get deliveryDescription(): string {
    return this.s.transport?.describe ?? 'local outbox (GET /v1/outbox)';
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.s.transport?.close();
  }

  /** Something changed (an API write, a finished sync): look now. A burst of wakes costs one pass. */
  wake(): void {
    this.loop.wake();
  }

  /** One scan-and-send pass (tests call it directly). Concurrent calls share the pass in flight. */
  runOnce(): Promise<void> {
    return this.loop.runOnce();
  }

  private async scan(): Promise<void> {
    const ctx: ScanContext = {
      ...this.deps,
      outbox: this.outbox,
      deliver: this.s.transport !== null,
      smsDeliver: this.s.sms !== null,
      now: this.s.now(),
      graceMs: this.s.graceMs,
      lookbackMs: this.s.lookbackMs,
      alertTo: this.s.alertTo,
      failingAttempts: this.s.failingAttempts,
      failingPersistMs: this.s.failingPersistMs,
      settled: this.settled,
      stats: this.stats,
      breathe: breather(),
      stopping: () => this.loop.stopping,
    };
    // The memo of settled work is only a shortcut; keep it bounded, forgetting the oldest first (a Set
    // iterates in insertion order). Forgetting all at once made the next pass look at everything again.
    if (this.settled.size > 200_000) {
      let drop = this.settled.size - 150_000;
      for (const key of this.settled) {
        if (drop-- <= 0) break;
        this.settled.delete(key);
      }
    }
    const queued = (await scanBookings(ctx)) + (await scanPins(ctx)) + (await scanIntegrations(ctx)) + (await scanFullTargets(ctx));
    if (queued) this.s.logger.info({ queued }, 'notifications queued');
  }

  private async dispatch(): Promise<void> {
    const transport = this.s.transport;
    const sms = this.s.sms;
    if (!transport && !sms) return;
    for (;;) {
      const now = this.s.now();
      const rows = await this.outbox.claim(this.s.workerId, now, this.s.batchSize, this.s.leaseMs);
      if (rows.length === 0) return;
      for (const row of rows) {
        const body = this.outbox.open(row);
        try {
          if (row.toAddress.startsWith(SMS_PREFIX)) {
            if (!sms) throw new Error('no SMS gateway configured (LOCKSTEP_SMS_GATEWAY_URL)');
            await sms.send({ to: row.toAddress.slice(SMS_PREFIX.length), text: body.text });
          } else {
            if (!transport) throw new Error('no SMTP server configured (LOCKSTEP_SMTP_URL)');
            await transport.send({ from: this.s.from, to: row.toAddress, subject: row.subject, text: body.text, html: body.html, messageId: `<${row.id}@lockstep>` });
          }
          await this.outbox.markSent(row.id, this.s.workerId, this.s.now());
          this.s.logger.info({ notificationId: row.id, kind: row.kind }, 'e-mail sent');
        } catch (err) {
          // transport errors are already free of credentials; bodies (PINs) are never part of them.
          const error = (err as Error).message;
          const attempts = row.attempts + 1;
          const retryAt = attempts >= this.s.maxAttempts ? null : this.s.now() + backoffDelay(attempts, this.s.backoff);
          await this.outbox.markFailed(row, this.s.workerId, error, retryAt);
          this.s.logger.warn({ notificationId: row.id, kind: row.kind, attempts, error }, retryAt === null ? 'e-mail failed; giving up' : 'e-mail not sent; will retry');
        }
      }
      if (!this.loop.running && rows.length) return;
    }
  }

  /** Poll at `pollMs`, or sooner when a message falls due (a retry, a grace period ending). */
  private async nextPassDelay(): Promise<number> {
    if (!this.s.transport && !this.s.sms) return this.s.pollMs;
    const next = await this.outbox.nextSendAfter().catch(() => null);
    return next === null ? this.s.pollMs : Math.max(5, Math.min(this.s.pollMs, next - this.s.now()));
  }
}
