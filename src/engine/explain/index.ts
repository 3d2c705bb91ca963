/**
 * "Why can't this guest get in?" — for a person and a space (or an access target) at a moment, the
 * whole chain from booking to what the provider holds, with a verdict that names the link that breaks.
 * The API (GET /v1/access/explain), the host's booking page and `lockstep explain` all call this.
 */
import { gatherEvidence, type ExplainDeps, type ExplainQuery, type Evidence, type TargetEvidence } from './evidence.js';
import { decide } from './verdict.js';
import { formatLocal } from '../../domain/time.js';
import type { Explanation } from './schema.js';

export { explanationSchema, type Explanation } from './schema.js';

export { ExplainInputError, type ExplainDeps, type ExplainQuery } from './evidence.js';
export type { Link } from './verdict.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());


export async function explainAccess(deps: ExplainDeps, q: ExplainQuery): Promise<Explanation> {
  const evidence = await gatherEvidence(deps, q);
  return present(evidence);
}

function present(e: Evidence): Explanation {
  const verdict = decide(e);
  const localOf = (ms: number) => formatLocal(ms, e.timeZone);
  return {
    at: iso(e.at)!,
    timeZone: e.timeZone,
    person: e.person,
    space: e.space,
    verdict: { canEnter: verdict.canEnter, broken: verdict.broken ?? null, text: verdict.text },
    targets: e.targets.map((t, i) => targetView(t, verdict.targets[i]!)),
    bookings: e.bookings.map((b) => ({
      id: b.id,
      title: b.title,
      status: b.status,
      role: b.role,
      spaceId: b.spaceId,
      start: iso(b.startsAt)!,
      end: iso(b.endsAt)!,
      local: { start: localOf(b.startsAt), end: localOf(b.endsAt) },
    })),
    subscriptions: e.subscriptions.map((s) => ({ id: s.id, planName: s.planName, via: s.via, start: iso(s.startsAt)!, end: iso(s.endsAt), cancelledAt: iso(s.cancelledAt), opensThis: s.coversTarget })),
  };
}

function targetView(t: TargetEvidence, v: ReturnType<typeof decide>['targets'][number]): Explanation['targets'][number] {
  return {
    integrationId: t.integration.id,
    integrationName: t.integration.name,
    provider: t.integration.kind,
    targetRef: t.targetRef,
    targetName: t.targetName,
    canEnter: v.canEnter,
    broken: v.broken ?? null,
    window: v.window ? { from: iso(v.window.from)!, until: iso(v.window.until) } : null,
    way: v.way ?? null,
    chain: v.chain,
    pin: t.pin ? { issuedAt: iso(t.pin.issuedAt)!, masked: '•'.repeat(t.pin.digits) } : null,
    credentials: t.grants
      .filter((g) => g.credentialKind)
      .map((g) => ({ kind: g.credentialKind!, validFrom: iso(g.credentialValidFrom ?? g.startsAt), validUntil: iso(g.credentialValidUntil), firstUseBefore: iso(g.credentialFirstUseBefore), state: g.state })),
    recorded: { user: t.user?.state ?? null, grants: t.grants.map((g) => ({ state: g.state, from: iso(g.startsAt)!, until: iso(g.endsAt) })) },
    live:
      t.live.read === 'ok'
        ? { read: 'ok', user: t.live.user ? { hasPin: t.live.user.hasPin ?? null } : null, grants: t.live.grants.map((g) => ({ from: iso(g.window.startsAt)!, until: iso(g.window.endsAt) })) }
        : t.live.read === 'failed'
          ? { read: 'failed', error: t.live.error }
          : { read: 'skipped' },
    sync: t.work ? { dueAt: iso(t.work.dueAt)!, attempts: t.work.attempts, lastError: t.work.lastError, running: t.work.claimedBy !== null } : null,
    integration: { status: t.integration.status, lastError: t.integration.lastError, pausedUntil: iso(t.integration.pausedUntil) },
  };
}
