/**
 * From evidence to an answer: walk the chain booking → space → mapping → window → subscription →
 * credential → provider for each access target and stop at the first link that breaks. Pure, so each
 * break in the chain is a unit case; the wording is for the operator on the phone with the guest.
 */
import { DateTime } from 'luxon';
import type { z } from 'zod';
import type { BookingEvidence, Evidence, TargetEvidence } from './evidence.js';
import { links } from './schema.js';

export type Link = z.infer<typeof links>;

export interface LinkCheck {
  link: Link;
  ok: boolean;
  /** Plain words: what this link says for this target. */
  says: string;
}

export interface TargetVerdict {
  integrationId: string;
  integrationName: string;
  targetRef: string;
  targetName: string;
  canEnter: boolean;
  /** The link that breaks (absent when the person can enter). */
  broken?: Link;
  /** The window that lets the person in at the moment asked about. */
  window?: { from: number; until: number | null };
  way?: string;
  chain: LinkCheck[];
}

export interface Verdict {
  canEnter: boolean;
  /** The link that breaks, for the target that got furthest along the chain. */
  broken?: Link;
  text: string;
  targets: TargetVerdict[];
}

/** Order of the links: a target that breaks later got further, and its reason is the one to tell. */
const ORDER: readonly Link[] = links.options;

export function decide(e: Evidence): Verdict {
  const when = (ms: number) => local(ms, e.timeZone, e.now);
  if (e.targets.length === 0) {
    const where = e.space ? `the space ${e.space.name}` : 'this access target';
    const text = `cannot: ${where} has no mapping on any connected door system, so no booking or subscription gives access to it. Map it to a door or group (PUT /v1/spaces/{id}/mappings, or the space's page in the console).`;
    return { canEnter: false, broken: 'mapping', text, targets: [] };
  }
  const targets = e.targets.map((t) => decideTarget(e, t));
  const open = targets.filter((t) => t.canEnter);
  if (open.length) {
    const from = Math.max(...open.map((t) => t.window!.from));
    const untils = open.map((t) => t.window!.until);
    const until = untils.includes(null) ? null : Math.min(...(untils as number[]));
    const byWay = new Map<string, string[]>();
    for (const t of open) byWay.set(t.way!, [...(byWay.get(t.way!) ?? []), t.targetName]);
    const how = [...byWay].map(([way, names]) => `by ${way} at ${andList(names)}`).join(' and ');
    const span = until === null ? `from ${when(from)} (no end)` : `from ${when(from)} to ${when(until)}`;
    const closed = targets.filter((t) => !t.canEnter);
    const but = closed.length ? `; not at ${andList(closed.map((t) => t.targetName))}: ${closed[0]!.chain.find((c) => !c.ok)!.says}` : '';
    return { canEnter: true, text: `can enter ${span} ${how}${but}`, targets };
  }
  const furthest = [...targets].sort((a, b) => ORDER.indexOf(b.broken!) - ORDER.indexOf(a.broken!))[0]!;
  const says = furthest.chain.find((c) => !c.ok)!.says;
  const at = targets.length > 1 ? ` (${furthest.targetName} on ${furthest.integrationName})` : '';
  return { canEnter: false, broken: furthest.broken, text: `cannot${at}: ${says}`, targets };
}

function decideTarget(e: Evidence, t: TargetEvidence): TargetVerdict {
  const when = (ms: number) => local(ms, e.timeZone, e.now);
  const chain: LinkCheck[] = [];
  const result = (broken?: Link, extra: Partial<TargetVerdict> = {}): TargetVerdict => ({
    integrationId: t.integration.id,
    integrationName: t.integration.name,
    targetRef: t.targetRef,
    targetName: t.targetName,
    canEnter: broken === undefined,
    ...(broken ? { broken } : {}),
    ...extra,
    chain,
  });
  const pass = (link: Link, says: string) => chain.push({ link, ok: true, says });
  const fail = (link: Link, says: string) => {
    chain.push({ link, ok: false, says });
    return result(link);
  };

  const integ = t.integration;
  if (integ.status !== 'active') return fail('integration', `the ${integ.name} integration is ${integ.status}: it gives no access until an admin reconnects it`);
  pass('integration', `${integ.name} (${integ.kind}) is connected`);
  pass('mapping', t.spaceIds.length ? `${t.targetName} is mapped to this space on ${integ.name}` : `${t.targetName} is opened directly by a plan`);

  const onTarget = e.bookings.filter((b) => t.bookingWindows.has(b.id));
  const covering = t.desired.find((w) => w.startsAt <= e.at && (w.endsAt === null || e.at < w.endsAt));
  const coveredBy = (b: BookingEvidence) => {
    const w = t.bookingWindows.get(b.id)!;
    return w.from <= e.at && e.at < w.until;
  };

  if (!covering) {
    // Why is there no window now? The booking (or subscription) that would have given one tells.
    const atTime = onTarget.filter(coveredBy);
    const confirmedNow = atTime.find((b) => b.status === 'confirmed');
    if (confirmedNow) {
      const trig = t.triggerFired.get(confirmedNow.id);
      if (trig && !trig.fired) {
        pass('booking', `booking ${describe(confirmedNow)} is confirmed`);
        return fail('trigger', trig.at === null ? `access for booking ${confirmedNow.id} is issued on payment, and it is not marked paid` : `access for booking ${confirmedNow.id} is issued ${trig.issueOn}, at ${when(trig.at)}`);
      }
    }
    const cancelled = atTime.find((b) => b.status === 'cancelled') ?? (onTarget.every((b) => b.status === 'cancelled') ? onTarget[0] : undefined);
    if (cancelled) return fail('booking', `booking ${describe(cancelled)} was cancelled (${when(cancelled.updatedAt)}), so its access was withdrawn`);
    const pending = atTime.find((b) => b.status === 'pending');
    if (pending) return fail('booking', `booking ${describe(pending)} is pending: access is issued once it is confirmed`);
    const ended = e.subscriptions.filter((s) => s.coversTarget && endOf(s) !== null && endOf(s)! <= e.at && s.startsAt <= e.at);
    const confirmed = onTarget.filter((b) => b.status === 'confirmed');
    if (confirmed.length) {
      pass('booking', `${confirmed.length === 1 ? `booking ${describe(confirmed[0]!)} is` : `${confirmed.length} bookings are`} confirmed`);
      const nearest = confirmed[0]!;
      const w = t.bookingWindows.get(nearest.id)!;
      const beyondHorizon = w.from > e.at && w.from > e.now + integ.provisionAheadDays * 86_400_000;
      return fail('window', `${when(e.at)} is outside the access window: ${describe(nearest)} opens the door from ${when(w.from)} to ${when(w.until)} (buffers${nearest.bumpInMinutes || nearest.bumpOutMinutes ? ', bump-in and bump-out' : ''} included)${beyondHorizon ? `; it is programmed on the provider ${integ.provisionAheadDays} days ahead` : ''}`);
    }
    if (ended.length) {
      const s = ended[0]!;
      return fail('subscription', `subscription ${s.id} (${s.planName}${s.via === 'company' ? ', through the company' : ''}) ${s.cancelledAt !== null && s.cancelledAt === endOf(s) ? 'was cancelled' : 'ended'} at ${when(endOf(s)!)}`);
    }
    const future = e.subscriptions.find((s) => s.coversTarget && s.startsAt > e.at);
    if (future) return fail('subscription', `subscription ${future.id} (${future.planName}) starts at ${when(future.startsAt)}`);
    return fail('booking', `there is no booking of ${e.person.name} on ${e.space?.name ?? t.targetName} near ${when(e.at)}, and no subscription that opens it`);
  }

  const reasons = covering.reasons.map((r) => r.split(':') as [string, string]);
  const booking = reasons.find(([k]) => k === 'booking');
  const subscription = reasons.find(([k]) => k === 'subscription');
  if (booking) {
    const b = e.bookings.find((x) => x.id === booking[1]);
    pass('booking', `booking ${b ? describe(b) : booking[1]} is confirmed`);
  }
  if (subscription) {
    const s = e.subscriptions.find((x) => x.id === subscription[1]);
    pass('subscription', `subscription ${subscription[1]}${s ? ` (${s.planName})` : ''} is active`);
  }
  const window = { from: covering.startsAt, until: covering.endsAt };
  pass('window', `the access window runs ${covering.endsAt === null ? `from ${when(covering.startsAt)} with no end` : `from ${when(covering.startsAt)} to ${when(covering.endsAt)}`} (${e.timeZone})`);

  // A full keypad: the code waits for a free slot (nearest window first; started codes never removed).
  const slots = t.slots.report;
  if (slots) {
    const use = `${slots.lockstepCodes + slots.foreignCodes} of ${slots.capacity} codes: ${slots.lockstepCodes} by Lockstep, ${slots.foreignCodes} by others`;
    if (t.slots.waiting && !t.grants.some((g) => g.state === 'present')) {
      const place = slots.waiting.findIndex((w) => w.personId === e.person.id) + 1;
      return failWithWork('capacity', `the keypad of ${t.targetName} is full (${use}); ${e.person.name}'s code is waiting for a free slot (number ${place} in the queue, nearest booking first)`, true);
    }
    pass('capacity', `the keypad of ${t.targetName} holds ${use} (room for ${slots.capacity})`);
  }

  // The credential: a PIN Lockstep keeps, or a code the provider issued for a grant.
  let way = 'card or mobile credential';
  if (t.way === 'pin') {
    if (!t.pin) return failWithWork('credential', `no PIN has been issued to ${e.person.name} on ${integ.name} yet`);
    way = 'PIN';
    pass('credential', `a ${t.pin.digits}-digit PIN was issued at ${when(t.pin.issuedAt)} (••••••; shown to the guest only)`);
  } else if (t.way === 'issued') {
    const issued = t.grants.filter((g) => g.credentialKind && g.state !== 'deleting');
    const usable = issued.find((g) => (g.credentialValidFrom ?? g.startsAt) <= e.at && (g.credentialValidUntil === null || e.at < g.credentialValidUntil));
    if (!usable) {
      const expired = issued.filter((g) => g.credentialValidUntil !== null && g.credentialValidUntil <= e.at).pop();
      if (expired) return fail('credential', `the offline ${kindName(expired.credentialKind)} issued for this window expired at ${when(expired.credentialValidUntil!)}; the provider cannot extend it, so a new one is issued on the next sync`);
      if (issued.length) return fail('credential', `the ${kindName(issued[0]!.credentialKind)} issued is valid from ${when(issued[0]!.credentialValidFrom ?? issued[0]!.startsAt)}, not yet at ${when(e.at)}`);
      return failWithWork('credential', `${integ.name} has not issued a code for this window yet`);
    }
    way = kindName(usable.credentialKind);
    const firstUse = usable.credentialFirstUseBefore !== null ? `; it must be used once before ${when(usable.credentialFirstUseBefore)} or it never activates` : '';
    pass('credential', `a ${way} was issued at ${when(usable.createdAt)}, valid ${usable.credentialValidUntil === null ? 'with no end' : `until ${when(usable.credentialValidUntil)}`}${firstUse}`);
  } else {
    pass('credential', 'the door system opens with the card or mobile credential it already gave the person');
  }

  // What the provider holds, read now: it says nothing about a moment already past.
  if (e.at < e.now - 60_000) {
    pass('provider', `not checked: ${when(e.at)} is in the past, and the provider can only be read as it is now`);
    return result(undefined, { window, way });
  }
  const recorded = t.grants.find((g) => g.state === 'present' && g.startsAt <= e.at && (g.endsAt === null || e.at < g.endsAt));
  if (t.live.read === 'failed') return failWithWork('provider', `${integ.name} could not be read just now: ${t.live.error}`);
  if (t.live.read === 'skipped' || !recorded) {
    if (e.at > e.now && !recorded) return failWithWork('sync', `not on ${integ.name} yet: it is programmed ahead of the window`, true);
    return failWithWork('sync', `not on ${integ.name} yet: the sync engine has not written it`);
  }
  const held = t.live.grants.find((g) => g.window.startsAt <= e.at && (g.window.endsAt === null || e.at < g.window.endsAt));
  if (!held) {
    const other = t.live.grants[0];
    if (other) return fail('provider', `${integ.name} holds ${t.targetName} for ${e.person.name} only from ${when(other.window.startsAt)} to ${other.window.endsAt === null ? 'no end' : when(other.window.endsAt)}, not at ${when(e.at)}: changed outside Lockstep; the next read-back (every 15 minutes) repairs it`);
    return fail('provider', `${integ.name} no longer holds ${t.targetName} for ${e.person.name}, though Lockstep wrote it: removed outside Lockstep (drift); the next read-back (every 15 minutes) puts it back`);
  }
  if (t.way === 'pin' && t.live.user && t.live.user.hasPin === false) return fail('provider', `${integ.name} holds the user but no PIN on it: changed outside Lockstep; the next read-back repairs it`);
  pass('provider', `${integ.name} holds ${t.targetName} for ${e.person.name} ${t.live.grants.length ? `from ${when(held.window.startsAt)}${held.window.endsAt === null ? '' : ` to ${when(held.window.endsAt)}`}` : ''} (read just now)`);
  return result(undefined, { window, way });

  /** A break that waits on the engine: say what it last saw and when it tries again. */
  function failWithWork(link: Link, says: string, scheduled = false): TargetVerdict {
    const w = t.work;
    const parts = [says];
    if (w?.lastError) parts.push(`last provider error: ${w.lastError} (attempt ${w.attempts})`);
    else if (integ.lastError) parts.push(`last provider error: ${integ.lastError}`);
    if (w?.claimedBy) parts.push('a sync is running now');
    else if (w) parts.push(w.dueAt <= e.now ? 'a sync is due now' : `${scheduled ? 'next sync' : 'next retry'} at ${when(w.dueAt)}`);
    if (integ.pausedUntil !== null && integ.pausedUntil > e.now) parts.push(`${integ.name} is paused until ${when(integ.pausedUntil)}`);
    return fail(link, parts.join('; '));
  }
}

function endOf(s: { endsAt: number | null; cancelledAt: number | null }): number | null {
  const ends = [s.endsAt, s.cancelledAt].filter((x): x is number => x !== null);
  return ends.length ? Math.min(...ends) : null;
}

function describe(b: BookingEvidence): string {
  return b.title ? `${b.id} ("${b.title}")` : b.id;
}

function kindName(kind: string | null): string {
  return kind === 'url-key' ? 'URL key' : kind === 'mobile-key' ? 'mobile key' : 'PIN';
}

function andList(names: string[]): string {
  const unique = [...new Set(names)];
  return unique.length <= 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} and ${unique[unique.length - 1]}`;
}

/** "08:45" today, "Tue 8 Dec 08:45" on another day, in the location's zone. */
export function local(ms: number, zone: string, today: number): string {
  const dt = DateTime.fromMillis(ms, { zone });
  const now = DateTime.fromMillis(today, { zone });
  return dt.hasSame(now, 'day') ? dt.toFormat('HH:mm') : dt.toFormat('ccc d LLL yyyy HH:mm');
}
