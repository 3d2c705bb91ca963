/**
 * Desired state: who must be able to open which target, and when.
 *
 * Pure and deterministic on purpose: the reconciler diffs this against what providers hold, so the same
 * facts at the same `now` must always give byte-identical output (no Date.now(), no Map iteration order
 * leaking into the result).
 */
import type { DesiredAccess, DesiredWindow, Facts, IntegrationFact, Reason } from './facts.js';
import { effectiveTrigger, triggerState } from './triggers.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface Wakeup {
  integrationId: string;
  personId: string;
  /** Epoch ms, always > now. */
  at: number;
}

export interface DesiredState {
  access: DesiredAccess[];
  wakeups: Wakeup[];
}

interface TargetKey {
  integrationId: string;
  targetRef: string;
}

/** Plain string order, not localeCompare: output must not depend on the host's locale/ICU. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sorts windows and merges overlapping and adjacent ones (end >= next start). Adjacent windows are
 * merged because back-to-back bookings must not make the provider drop and re-add access at the seam
 * (a keypad code would stop working for an instant, and it costs two provider calls for nothing).
 * Zero/negative-length windows are dropped: they grant nothing.
 */
export function mergeWindows(windows: DesiredWindow[]): DesiredWindow[] {
  const valid = windows
    .filter((w) => w.endsAt === null || w.endsAt > w.startsAt)
    // Open-ended sorts after a bounded window with the same start so it absorbs it below.
    .sort((a, b) => a.startsAt - b.startsAt || endOrder(a.endsAt, b.endsAt));

  const out: DesiredWindow[] = [];
  for (const w of valid) {
    const last = out[out.length - 1];
    if (last && (last.endsAt === null || last.endsAt >= w.startsAt)) {
      last.endsAt = last.endsAt === null || w.endsAt === null ? null : Math.max(last.endsAt, w.endsAt);
      last.reasons = unionReasons(last.reasons, w.reasons);
    } else {
      // Copy so callers' objects are never mutated.
      out.push({ startsAt: w.startsAt, endsAt: w.endsAt, reasons: unionReasons([], w.reasons) });
    }
  }
  return out;
}

function endOrder(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a - b;
}

function unionReasons(a: Reason[], b: Reason[]): Reason[] {
  return [...new Set([...a, ...b])].sort(cmp);
}

/**
 * The door window of a booking: from its start less bump-in and the buffer before, to its end plus
 * bump-out and the buffer after (minutes). The engine, sync status, the explainer and visitor
 * check-in all read a booking's window through this.
 */
export function bookingWindow(
  b: { startsAt: number; endsAt: number; bumpInMinutes: number; bumpOutMinutes: number },
  beforeMinutes: number,
  afterMinutes: number,
): { startsAt: number; endsAt: number } {
  return { startsAt: b.startsAt - (b.bumpInMinutes + beforeMinutes) * MINUTE_MS, endsAt: b.endsAt + (b.bumpOutMinutes + afterMinutes) * MINUTE_MS };
}

export function computeDesired(facts: Facts, now: number): DesiredState {
  // Only active integrations are looked up at all, so every later "integration missing" check also
  // covers "inactive": a disconnected/revoking integration wants nothing and must converge to empty.
  const integrations = new Map<string, IntegrationFact>();
  for (const i of facts.integrations) if (i.active) integrations.set(i.id, i);

  const spaces = new Map(facts.spaces.map((s) => [s.id, s]));
  const plans = new Map(facts.plans.map((p) => [p.id, p]));

  const targetsBySpace = new Map<string, TargetKey[]>();
  for (const m of facts.mappings) {
    let list = targetsBySpace.get(m.spaceId);
    if (!list) targetsBySpace.set(m.spaceId, (list = []));
    list.push({ integrationId: m.integrationId, targetRef: m.targetRef });
  }

  const membersByCompany = new Map<string, string[]>();
  for (const cm of facts.companyMembers) {
    let list = membersByCompany.get(cm.companyId);
    if (!list) membersByCompany.set(cm.companyId, (list = []));
    list.push(cm.personId);
  }

  // Key: integrationId \0 personId \0 targetRef (ids never contain NUL).
  const raw = new Map<string, { integrationId: string; personId: string; targetRef: string; windows: DesiredWindow[] }>();
  const add = (integrationId: string, personId: string, targetRef: string, window: DesiredWindow): void => {
    if (window.endsAt !== null && window.endsAt <= window.startsAt) return;
    const key = `${integrationId}\0${personId}\0${targetRef}`;
    let entry = raw.get(key);
    if (!entry) raw.set(key, (entry = { integrationId, personId, targetRef, windows: [] }));
    entry.windows.push(window);
  };

  // A booking whose trigger has not fired yet gives no access; a timed trigger brings the engine back.
  const triggerWake = new Map<string, Wakeup>();
  const wakeAt = (integrationId: string, personId: string, at: number): void => {
    const key = `${integrationId}\0${personId}`;
    const existing = triggerWake.get(key);
    if (!existing || at < existing.at) triggerWake.set(key, { integrationId, personId, at });
  };

  for (const b of facts.bookings) {
    if (b.status !== 'confirmed') continue;
    // A booking that ends before it starts is bad data; buffers must not turn it into real access.
    if (b.endsAt <= b.startsAt) continue;
    const people = [...new Set([b.organiserId, ...b.inviteeIds])];
    const space = spaces.get(b.spaceId);
    for (const t of targetsBySpace.get(b.spaceId) ?? []) {
      const integration = integrations.get(t.integrationId);
      if (!integration) continue;
      // `??` not `||`: an override of 0 is a deliberate "no buffer for this space".
      const before = space?.bufferBeforeMinutes ?? integration.bufferBeforeMinutes;
      const after = space?.bufferAfterMinutes ?? integration.bufferAfterMinutes;
      const { startsAt, endsAt } = bookingWindow(b, before, after);
      const trigger = triggerState(effectiveTrigger(integration.trigger, space?.trigger), b, now);
      if (!trigger.fired) {
        // Nothing to come back for once the window is over.
        if (trigger.at !== null && trigger.at < endsAt) for (const personId of people) wakeAt(t.integrationId, personId, trigger.at);
        continue;
      }
      const reason: Reason = `booking:${b.id}`;
      for (const personId of people) add(t.integrationId, personId, t.targetRef, { startsAt, endsAt, reasons: [reason] });
    }
  }

  for (const s of facts.subscriptions) {
    const plan = plans.get(s.planId);
    if (!plan) continue;
    // Whichever comes first of the scheduled end and the cancellation ends access.
    const ends = [s.endsAt, s.cancelledAt].filter((x): x is number => x !== null);
    const endsAt = ends.length ? Math.min(...ends) : null;
    // Company subscriptions follow current membership: facts are loaded fresh each run, so a member
    // added later gains access and a removed one loses it on the next computation.
    const people = s.personId !== null ? [s.personId] : s.companyId !== null ? (membersByCompany.get(s.companyId) ?? []) : [];
    const targets: TargetKey[] = [...plan.targets];
    for (const spaceId of plan.spaceIds) targets.push(...(targetsBySpace.get(spaceId) ?? []));
    const reason: Reason = `subscription:${s.id}`;
    for (const t of targets) {
      if (!integrations.has(t.integrationId)) continue;
      for (const personId of new Set(people)) add(t.integrationId, personId, t.targetRef, { startsAt: s.startsAt, endsAt, reasons: [reason] });
    }
  }

  const access: DesiredAccess[] = [];
  const wakeupByPerson = new Map<string, Wakeup>();

  for (const entry of raw.values()) {
    const integration = integrations.get(entry.integrationId)!;
    const aheadMs = integration.provisionAheadDays * DAY_MS;
    const horizon = now + aheadMs;
    const provisioned: DesiredWindow[] = [];
    let next = Infinity;
    let hasWindow = false;

    // Merge before applying the horizon: a window that starts inside the horizon is provisioned whole,
    // including the part of a merged booking chain that reaches beyond it.
    for (const w of mergeWindows(entry.windows)) {
      if (w.endsAt !== null && w.endsAt <= now) continue; // already over
      hasWindow = true;
      if (w.startsAt > horizon) {
        // Not yet provisioned (keypads hold few codes); the state changes when it enters the horizon.
        next = Math.min(next, w.startsAt - aheadMs);
      } else {
        provisioned.push(w);
      }
      if (w.endsAt !== null) next = Math.min(next, w.endsAt);
    }

    if (provisioned.length) {
      access.push({ integrationId: entry.integrationId, personId: entry.personId, targetRef: entry.targetRef, windows: provisioned });
    }
    if (hasWindow && next > now && next !== Infinity) {
      const key = `${entry.integrationId}\0${entry.personId}`;
      const existing = wakeupByPerson.get(key);
      if (!existing || next < existing.at) {
        wakeupByPerson.set(key, { integrationId: entry.integrationId, personId: entry.personId, at: next });
      }
    }
  }

  for (const [key, w] of triggerWake) {
    const existing = wakeupByPerson.get(key);
    if (!existing || w.at < existing.at) wakeupByPerson.set(key, w);
  }

  access.sort((a, b) => cmp(a.integrationId, b.integrationId) || cmp(a.personId, b.personId) || cmp(a.targetRef, b.targetRef));
  const wakeups = [...wakeupByPerson.values()].sort(
    (a, b) => cmp(a.integrationId, b.integrationId) || cmp(a.personId, b.personId),
  );
  return { access, wakeups };
}
