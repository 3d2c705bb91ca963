/**
 * The engine claims work after every finished sync, so the claim must cost the same at 20 people
 * and at 20,000: the database has to find one integration's due items through an index, in due
 * order, not read and sort every row of the integration. Checked with each database's own planner
 * on a queue where most rows wait for a later time-based change (as they do under real bookings).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/db.js';
import { newId } from '../../src/store/ids.js';
import { WorkQueue } from '../../src/store/work.js';
import { createTestDatabase, storeKinds, type TestDatabase } from '../support/stores.js';

const PEOPLE = 5_000;

describe.each(storeKinds)('claiming work on %s', (kind) => {
  let db: TestDatabase;
  let store: Store;
  afterEach(async () => {
    await store?.close();
    await db?.drop();
  });

  it('finds an integration’s due items through the (integration, due) index without sorting the queue', async () => {
    db = await createTestDatabase(kind);
    store = openStore(db.url);
    await store.migrate();
    const now = Date.now();
    const org = newId('org');
    await store.db.insertInto('organisations').values({ id: org, name: 'o', createdAt: now }).execute();
    const integrationIds = [newId('int'), newId('int')];
    for (const id of integrationIds) {
      await store.db
        .insertInto('integrations')
        .values({ id, organisationId: org, kind: 'demo', name: id, baseUrl: 'http://127.0.0.1:9', credentialsEnc: 'x', bufferBeforeMinutes: 15, bufferAfterMinutes: 15, pinLength: null, privacyMode: 0, mobileCredentials: 0, provisionAheadDays: 30, status: 'active', pausedUntil: null, lastError: null, lastErrorAt: null, createdAt: now })
        .execute();
    }
    // Per integration: 1 in 50 people due now, the rest due at the start or end of a later booking.
    const rows = integrationIds.flatMap((integrationId) =>
      Array.from({ length: PEOPLE }, (_, i) => ({ integrationId, personId: `per_${i}`, dueAt: i % 50 === 0 ? now - i : now + 60_000 * (1 + i), generation: 1, attempts: 0, verify: 0 })),
    );
    for (let i = 0; i < rows.length; i += 1_000) await store.db.insertInto('syncWork').values(rows.slice(i, i + 1_000)).execute();
    await sql`analyze`.execute(store.db); // both planners decide on statistics

    const queue = new WorkQueue(store.db, store.dialect);
    const compiled = queue.claimStatement('w1', now, 4, 30_000, integrationIds[0]).compile(store.db);
    const explain = kind === 'postgres' ? 'explain ' : 'explain query plan ';
    const { rows: planRows } = await store.db.executeQuery({ ...compiled, sql: explain + compiled.sql });
    const plan = planRows.map((r: any) => String(r['QUERY PLAN'] ?? r.detail)).join('\n');

    expect(plan, plan).toMatch(/sync_work_integration_due/);
    if (kind === 'sqlite') expect(plan, plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
    else expect(plan, plan).not.toMatch(/Seq Scan on sync_work/);

    // And the statement claims what it should: the four earliest due items of that integration (in any order), once.
    const claimed = await queue.claim('w1', now, 4, 30_000, integrationIds[0]);
    expect(claimed.sort((a, b) => a.dueAt - b.dueAt).map((c) => c.personId)).toEqual(['per_4950', 'per_4900', 'per_4850', 'per_4800']);
    expect(claimed.every((c) => c.integrationId === integrationIds[0])).toBe(true);
    expect(await queue.claim('w2', now, 4, 30_000, integrationIds[0])).toHaveLength(4);
    const again = await queue.claim('w3', now, 200, 30_000, integrationIds[0]);
    expect(again).toHaveLength(PEOPLE / 50 - 8);
  });
});
