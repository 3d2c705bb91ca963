/**
 * Alerts admins when an integration keeps failing: a sync has failed `failingAttempts` times, or the
 * failure has lasted `failingPersistMs`. One alert per failure episode: the episode starts when the
 * notifier first sees the integration failing (a stored mark, shared by every worker and surviving
 * restarts) and ends when it sees it healthy again.
 */
import type { ScanContext } from './context.js';
import { integrationFailing, targetFull, type NotificationKind } from './messages.js';
import { render } from './render.js';

/**
 * When the episode named by `markKey` began: the first pass to see it stores now (a mark shared by
 * every worker, surviving restarts); later passes read it back. One alert per episode is keyed on it.
 */
async function episodeStart(ctx: ScanContext, markKey: string): Promise<number> {
  await ctx.db.insertInto('notifierMarks').values({ key: markKey, value: ctx.now }).onConflict((oc) => oc.column('key').doNothing()).execute();
  return (await ctx.db.selectFrom('notifierMarks').select('value').where('key', '=', markKey).executeTakeFirstOrThrow()).value;
}

/** Queues one alert per admin address (dedupe key `<episode>:<address>`); how many were new. */
async function alertAdmins(ctx: ScanContext, organisationId: string, kind: NotificationKind, episodeKey: string, message: ReturnType<typeof render>): Promise<number> {
  // With no alert address configured the alert still lands in the outbox, for the admin console.
  const recipients = ctx.alertTo.length ? ctx.alertTo : [''];
  let queued = 0;
  for (const to of recipients) {
    const added = await ctx.outbox.add({ organisationId, personId: null, toAddress: to, kind, dedupeKey: `${episodeKey}:${to}`, message }, ctx.deliver, ctx.now);
    if (added) queued++;
  }
  return queued;
}

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
    const since = await episodeStart(ctx, markKey);
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
    queued += await alertAdmins(ctx, integ.organisationId, 'integration.failing', `integration.failing:${integ.id}:${since}`, message);
  }
  return queued;
}

/**
 * Alerts admins once when a keypad is full and guests wait for a free slot: one alert per episode,
 * which starts when the notifier first sees someone waiting on the target and ends when no one does.
 */
export async function scanFullTargets(ctx: ScanContext): Promise<number> {
  const { db } = ctx;
  const waits = await db
    .selectFrom('slotWaits')
    .innerJoin('integrations', 'integrations.id', 'slotWaits.integrationId')
    .innerJoin('organisations', 'organisations.id', 'integrations.organisationId')
    .select(['slotWaits.integrationId', 'slotWaits.targetRef', 'integrations.organisationId', 'integrations.name as integrationName', 'organisations.name as organisationName'])
    .execute();
  const marks = await db.selectFrom('notifierMarks').select(['key', 'value']).where('key', 'like', 'target-full:%').execute();
  const full = new Map<string, (typeof waits)[number] & { waiting: number }>();
  for (const w of waits) {
    const key = `target-full:${w.integrationId}:${w.targetRef}`;
    const seen = full.get(key);
    full.set(key, { ...w, waiting: (seen?.waiting ?? 0) + 1 });
  }
  // An episode that is over (no one waits any more) ends: the next time it fills up is a new alert.
  for (const m of marks) if (!full.has(m.key)) await db.deleteFrom('notifierMarks').where('key', '=', m.key).execute();
  let queued = 0;
  for (const [markKey, t] of full) {
    const since = await episodeStart(ctx, markKey);
    const [capacityRow, codes, mapping] = await Promise.all([
      db.selectFrom('targetCapacity').selectAll().where('integrationId', '=', t.integrationId).where('targetRef', '=', t.targetRef).executeTakeFirst(),
      db.selectFrom('providerGrants').select((eb) => eb.fn.countAll<number>().as('n')).where('integrationId', '=', t.integrationId).where('targetRef', '=', t.targetRef).executeTakeFirst(),
      db.selectFrom('mappings').select('targetName').where('integrationId', '=', t.integrationId).where('targetRef', '=', t.targetRef).executeTakeFirst(),
    ]);
    const message = render(
      targetFull({
        organisationName: t.organisationName,
        integrationName: t.integrationName,
        targetName: mapping?.targetName ?? t.targetRef,
        capacity: capacityRow?.setting ?? capacityRow?.reported ?? 0,
        lockstepCodes: Number(codes?.n ?? 0),
        foreignCodes: capacityRow?.foreignCodes ?? 0,
        waiting: t.waiting,
        fullSince: since,
      }),
    );
    queued += await alertAdmins(ctx, t.organisationId, 'target.full', `target.full:${t.integrationId}:${t.targetRef}:${since}`, message);
  }
  return queued;
}
