/**
 * The background loop the notifier, the call-back dispatcher and the feed poller share: one "pass"
 * runs at a time; a burst of wakes costs one pass; a request made while a pass runs gets one more pass
 * after it (so no caller's change is missed); after each pass the next is scheduled on a timer that
 * does not keep the process alive. A failed pass is logged and the loop carries on.
 */
import type { EngineLogger } from './runner.js';

export interface PassLoopOptions {
  /** Named in the log line of a failed pass. */
  name: string;
  logger: () => EngineLogger;
  /** How long to wait for the next pass when nothing wakes the loop earlier. */
  nextDelayMs: () => number | Promise<number>;
  /**
   * Wakes closer together than this (or than the last pass took, if longer) are folded into one
   * pass at the end of the gap. Under load every finished sync wakes the notifier; without a gap it
   * ran pass after pass and took the engine's CPU. Default 0: every wake runs a pass at once.
   */
  minGapMs?: number;
}

export class PassLoop {
  private active = false;
  private stopAsked = false;
  private passing: Promise<void> | null = null;
  private again = false;
  private wakeQueued = false;
  private timer: NodeJS.Timeout | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private wokenDuringPass = false;
  private lastPassEnd = 0;
  private lastPassMs = 0;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly opts: PassLoopOptions,
  ) {}

  /** False once stopped: long passes check it to return early. */
  get running(): boolean {
    return this.active;
  }

  /**
   * True from stop() until the next start(): a long pass returns between items. (Not the same as
   * "not running": tests call runOnce() on a loop that was never started.)
   */
  get stopping(): boolean {
    return this.stopAsked;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.stopAsked = false;
    this.wake();
  }

  /** Stops scheduling and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.active = false;
    this.stopAsked = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.timer = this.gapTimer = null;
    while (this.passing) await this.passing;
  }

  /** Something changed: run a pass soon. Does nothing while stopped. */
  wake(): void {
    if (!this.active || this.wakeQueued) return;
    const gap = this.opts.minGapMs ? Math.max(this.opts.minGapMs, this.lastPassMs) : 0;
    if (gap > 0) {
      if (this.passing) {
        this.wokenDuringPass = true; // one pass after this one, a gap later
        return;
      }
      const wait = this.lastPassEnd + gap - Date.now();
      if (wait > 0) {
        this.gapTimer ??= setTimeout(() => {
          this.gapTimer = null;
          this.wake();
        }, wait);
        this.gapTimer.unref();
        return;
      }
    }
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      void this.runOnce();
    });
  }

  /** Runs a pass now (tests call it directly, started or not). Concurrent calls share the pass in flight. */
  runOnce(): Promise<void> {
    if (this.passing) {
      this.again = true;
      return this.passing;
    }
    const started = Date.now();
    this.passing = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch (err) {
          this.opts.logger().error({ error: (err as Error).message }, `${this.opts.name} pass failed; will retry`);
        }
      } while (this.again && !this.stopAsked);
    })().finally(() => {
      this.passing = null;
      this.lastPassEnd = Date.now();
      this.lastPassMs = this.lastPassEnd - started;
      if (this.wokenDuringPass) {
        this.wokenDuringPass = false;
        this.wake();
      }
      void this.scheduleNext();
    });
    return this.passing;
  }

  private async scheduleNext(): Promise<void> {
    if (!this.active) return;
    const delay = await Promise.resolve()
      .then(() => this.opts.nextDelayMs())
      .catch(() => null);
    if (!this.active) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), Math.max(1, delay ?? 1_000));
    this.timer.unref();
  }
}
