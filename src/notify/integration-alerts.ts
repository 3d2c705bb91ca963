/**
 * Alerts admins when an integration keeps failing: a sync has failed `failingAttempts` times, or the
 * failure has lasted `failingPersistMs`. One alert per failure episode: the episode starts when the
 * notifier first sees the integration failing (a stored mark, shared by every worker and surviving
 * restarts) and ends when it sees it healthy again.
 */
import type { ScanContext } from './context.js';
import { integrationFailing } from './messages.js';
import { render } from './render.js';

export async function scanIntegrations(ctx: ScanContext): Promise<number> {
  const { db } = ctx;
  const integrations = await db
    .selectFrom('integrations')
    .innerJoin('organisations', 'organisations.id', 'integrations.organisationId')
    .select(['integrations.id', 'integrations.organisationId', 'integrations.name', 'integrations.kind', 'integrations.lastError', 'organisations.name as organisationName'])
    .where('integrations.status', '!=', 'disconnected')
    .execute();
  let queued = 0;
  for (const integ of integrations) {
    const markKey = `integration-failing:${integ.id}`;
    const failingWork = await db
      .selectFrom('syncWork')
      .select(['attempts', 'lastError'])
      .where('integrationId', '=', integ.id)
      .where('lastError', 'is not', null)
      .execute();
    if (!integ.lastError && failingWork.length === 0) {
      await db.deleteFrom('notifierMarks').where('key', '=', markKey).execute();
      continue;
    }
    await db.insertInto('notifierMarks').values({ key: markKey, value: ctx.now }).onConflict((oc) => oc.column('key').doNothing()).execute();
    const since = (await db.selectFrom('notifierMarks').select('value').where('key', '=', markKey).executeTakeFirstOrThrow()).value;
    const maxAttempts = Math.max(0, ...failingWork.map((w) => w.attempts));
    if (maxAttempts < ctx.failingAttempts && ctx.now - since < ctx.failingPersistMs) continue;
    const lastError = integ.lastError ?? failingWork.find((w) => w.lastError)?.lastError ?? 'unknown error';
    const message = render(
      integrationFailing({
        organisationName: integ.organisationName,
        integrationName: integ.name,
        integrationKind: integ.kind,
        failingSince: since,
        lastError,
        peopleWaiting: failingWork.length,
        maxAttempts,
      }),
    );
    // With no alert address configured the alert still lands in the outbox, for the admin console.
    const recipients = ctx.alertTo.length ? ctx.alertTo : [''];
    for (const to of recipients) {
      const added = await ctx.outbox.add(
        { organisationId: integ.organisationId, personId: null, toAddress: to, kind: 'integration.failing', dedupeKey: `integration.failing:${integ.id}:${since}:${to}`, message },
        ctx.deliver,
        ctx.now,
      );
      if (added) queued++;
    }
  }
  return queued;
}
