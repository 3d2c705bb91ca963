/**
 * Human-readable sync status for the terminal. Returns the exit code: 0 when nothing is failing.
 */
import type { App } from '../app.js';
import { bookingAccessStatus } from '../engine/status.js';

export async function printStatus(app: App, opts: { booking?: string }): Promise<number> {
  const db = app.store.db;
  const now = Date.now();
  if (opts.booking) {
    const booking = await db.selectFrom('bookings').selectAll().where('id', '=', opts.booking).executeTakeFirst();
    if (!booking) {
      console.error(`lockstep: booking ${opts.booking} does not exist`);
      return 1;
    }
    const status = await bookingAccessStatus(db, booking, now);
    console.log(`booking ${booking.id} (${booking.status}): access ${status.state}`);
    for (const e of status.entries) {
      console.log(`  ${e.personId} → ${e.targetRef} on ${e.integrationId}: ${e.state}  ${e.from} … ${e.until}${e.error ? `  (${e.error}; attempt ${e.attempts}, next ${e.nextAttemptAt})` : ''}`);
    }
    return status.state === 'failed' ? 2 : 0;
  }
  const integrations = await db.selectFrom('integrations').selectAll().orderBy('createdAt').execute();
  if (integrations.length === 0) {
    console.log('no integrations yet');
    return 0;
  }
  let failing = 0;
  for (const i of integrations) {
    const [grants, work] = await Promise.all([
      db.selectFrom('providerGrants').select('id').where('integrationId', '=', i.id).execute(),
      db.selectFrom('syncWork').selectAll().where('integrationId', '=', i.id).execute(),
    ]);
    const failed = work.filter((w) => w.lastError);
    failing += failed.length;
    console.log(`${i.name} [${i.kind}, ${i.status}] ${i.id}`);
    console.log(`  grants on provider: ${grants.length}   due now: ${work.filter((w) => w.dueAt <= now).length}   failing: ${failed.length}`);
    if (i.pausedUntil && i.pausedUntil > now) console.log(`  paused (provider rate limit or repeated failures) until ${new Date(i.pausedUntil).toISOString()}`);
    if (i.lastError) console.log(`  last error: ${i.lastError}`);
    for (const w of failed.slice(0, 10)) console.log(`  ✗ ${w.personId}: ${w.lastError} (attempt ${w.attempts}, next ${new Date(w.dueAt).toISOString()})`);
  }
  return failing ? 2 : 0;
}
