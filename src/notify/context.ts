/**
 * What every scan needs: the store, the outbox and the notifier's settings for this pass.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { SecretBox } from '../security/crypto.js';
import type { PinService } from '../engine/pins.js';
import type { Outbox } from './outbox.js';
import type { Breather } from '../engine/breather.js';

export interface ScanContext {
  db: Kysely<Database>;
  secrets: SecretBox;
  pins: PinService;
  outbox: Outbox;
  /** false: no SMTP configured, messages are kept in the local outbox. */
  deliver: boolean;
  /** An SMS gateway is configured: SMS rows are queued for sending (else kept in the outbox). */
  smsDeliver?: boolean;
  now: number;
  /** How long a message waits for access to reach the provider before going out with a note. */
  graceMs: number;
  /** Changes older than this are not looked at any more (bounds each pass). */
  lookbackMs: number;
  alertTo: string[];
  failingAttempts: number;
  failingPersistMs: number;
  /** Work already fully notified (booking versions, pins), so a pass skips it without queries. */
  settled: Set<string>;
  stats?: { bookingsExamined: number };
  /** Called between items: lets requests and syncs run during a long pass. */
  breathe?: Breather;
  /**
   * True once the notifier is asked to stop: a long pass returns between items instead of finishing
   * (a worker told to stop mid-backlog took longer than its 30 s grace). Nothing is lost: whatever was
   * not looked at is found again by the next pass, in this process or another.
   */
  stopping?: () => boolean;
}
