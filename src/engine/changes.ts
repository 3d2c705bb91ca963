/**
 * Turns "something changed" into "these people on these integrations need a sync". Callers never
 * talk to providers: they record the change, call one of these, and the engine does the rest.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { WorkQueue } from '../store/work.js';
import { liveIntegrationIds, peopleInScope } from '../store/facts.js';

/** Workers in other processes (PostgreSQL) hear about changes on this channel; see `WorkQueue`'s `announceOn`. */
export const WORK_CHANNEL = 'lockstep_work';

export class ChangeFeed {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly queue: WorkQueue,
    /** Wakes this process's loops; other processes hear of the change from the queue's announcement. */
    private readonly wakeHere: () => void,
  ) {}

  /** These people's access may have changed on every integration of the organisation. */
  async people(organisationId: string, personIds: Iterable<string>, db: Kysely<Database> = this.db): Promise<void> {
    const ids = [...new Set(personIds)];
    if (ids.length === 0) return;
    await this.queue.enqueueForOrganisation(organisationId, ids, { db, announce: true });
    this.wakeHere();
  }

  /** A mapping, buffer or setting of this integration changed: everyone in scope is re-evaluated. */
  async integration(integrationId: string, db: Kysely<Database> = this.db): Promise<void> {
    const people = await peopleInScope(db, integrationId, Date.now());
    await this.queue.enqueue(integrationId, people, { db, announce: true });
    this.wakeHere();
  }

  /** A change that may touch every integration of an organisation (e.g. a plan or space buffer). */
  async organisation(organisationId: string, db: Kysely<Database> = this.db): Promise<void> {
    for (const integrationId of await liveIntegrationIds(db, organisationId)) await this.integration(integrationId, db);
  }

  /** Re-read one person from the provider before acting (the "retry" button, support checks). */
  async verify(integrationId: string, personId: string): Promise<void> {
    await this.queue.enqueue(integrationId, [personId], { verify: true, announce: true });
    this.wakeHere();
  }
}
