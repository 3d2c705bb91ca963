/**
 * What the booking sources need of a running Lockstep: the store, the change feed (queue the people
 * a booking touches) and the engine's wake-up. A narrow interface rather than the whole App, so the
 * sources sit below the app that wires them (no import cycle) and tests can see what they use.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { ChangeFeed } from '../engine/changes.js';

export interface SourceDeps {
  store: { db: Kysely<Database> };
  changes: Pick<ChangeFeed, 'people'>;
  engine: { wake(): void };
}
