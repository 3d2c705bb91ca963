/**
 * PostgreSQL closing Lockstep's idle connections (a restart, a failover, an admin terminating them)
 * must not crash Lockstep: the next query reconnects. Real PostgreSQL, real connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/db.js';
import { createTestDatabase, PG_ADMIN_URL, type TestDatabase } from '../support/stores.js';

describe('PostgreSQL store when the server drops its connections', () => {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await database?.drop();
  });

  it('keeps working after every idle connection is terminated by the server', async () => {
    database = await createTestDatabase('postgres');
    store = openStore(database.url);
    await store.migrate();
    // Open several pooled connections, then let them go idle.
    await Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.05)`.execute(store!.db)));
    const name = new URL(database.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    const killed = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
    await admin.end();
    expect(killed.rowCount).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    const rows = await store.db.selectFrom('organisations').select('id').execute();
    expect(rows).toEqual([]);
  });
});
