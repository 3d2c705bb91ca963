import { describe, expect, it } from 'vitest';
import { computeDesired, mergeWindows } from '../../src/domain/desired.js';
import type {
  BookingFact,
  DesiredWindow,
  Facts,
  IntegrationFact,
  MappingFact,
  SpaceFact,
  SubscriptionFact,
} from '../../src/domain/facts.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** 2026-03-02T00:00:00Z — a fixed "now" keeps every test deterministic. */
const NOW = Date.UTC(2026, 2, 2);
const T = (hours: number): number => NOW + hours * HOUR;

function integration(over: Partial<IntegrationFact> = {}): IntegrationFact {
  return { id: 'int-a', bufferBeforeMinutes: 0, bufferAfterMinutes: 0, provisionAheadDays: 30, active: true, ...over };
}

function space(over: Partial<SpaceFact> = {}): SpaceFact {
  return { id: 'space-1', bufferBeforeMinutes: null, bufferAfterMinutes: null, ...over };
}

function mapping(over: Partial<MappingFact> = {}): MappingFact {
  return { spaceId: 'space-1', integrationId: 'int-a', targetRef: 'door-1', ...over };
}

function booking(over: Partial<BookingFact> = {}): BookingFact {
  return {
    id: 'b1',
    spaceId: 'space-1',
    status: 'confirmed',
    startsAt: T(10),
    endsAt: T(12),
    bumpInMinutes: 0,
    bumpOutMinutes: 0,
    organiserId: 'alice',
    inviteeIds: [],
    ...over,
  };
}

function subscription(over: Partial<SubscriptionFact> = {}): SubscriptionFact {
  return {
    id: 's1',
    planId: 'plan-1',
    personId: 'alice',
    companyId: null,
    startsAt: T(1),
    endsAt: T(100),
    cancelledAt: null,
    ...over,
  };
}

function facts(over: Partial<Facts> = {}): Facts {
  return {
    bookings: [],
    subscriptions: [],
    plans: [],
    mappings: [mapping()],
    integrations: [integration()],
    spaces: [space()],
    companyMembers: [],
    ...over,
  };
}

/** Windows for one (integration, person, target), or undefined when there is no entry. */
function windowsOf(f: Facts, personId: string, targetRef = 'door-1', integrationId = 'int-a', now = NOW) {
  return computeDesired(f, now).access.find(
    (a) => a.personId === personId && a.targetRef === targetRef && a.integrationId === integrationId,
  )?.windows;
}

describe('mergeWindows', () => {
  const w = (startsAt: number, endsAt: number | null, id: string): DesiredWindow => ({
    startsAt,
    endsAt,
    reasons: [`booking:${id}`],
  });

  it('merges overlapping windows and unions reasons', () => {
    expect(mergeWindows([w(T(2), T(5), 'b'), w(T(1), T(3), 'a')])).toEqual([
      { startsAt: T(1), endsAt: T(5), reasons: ['booking:a', 'booking:b'] },
    ]);
  });

  it('merges adjacent (back-to-back) windows into one', () => {
    expect(mergeWindows([w(T(1), T(2), 'a'), w(T(2), T(3), 'b')])).toEqual([
      { startsAt: T(1), endsAt: T(3), reasons: ['booking:a', 'booking:b'] },
    ]);
  });

  it('keeps windows separated by a gap apart, sorted', () => {
    expect(mergeWindows([w(T(4), T(5), 'b'), w(T(1), T(2), 'a')])).toEqual([
      { startsAt: T(1), endsAt: T(2), reasons: ['booking:a'] },
      { startsAt: T(4), endsAt: T(5), reasons: ['booking:b'] },
    ]);
  });

  it('does not shrink a window that contains the next one', () => {
    expect(mergeWindows([w(T(1), T(10), 'a'), w(T(2), T(3), 'b')])).toEqual([
      { startsAt: T(1), endsAt: T(10), reasons: ['booking:a', 'booking:b'] },
    ]);
  });

  it('lets an open-ended window absorb everything after it', () => {
    const subs: DesiredWindow = { startsAt: T(2), endsAt: null, reasons: ['subscription:s'] };
    expect(mergeWindows([w(T(1), T(3), 'a'), subs, w(T(50), T(60), 'b')])).toEqual([
      { startsAt: T(1), endsAt: null, reasons: ['booking:a', 'booking:b', 'subscription:s'] },
    ]);
  });

  it('an open-ended window and a bounded one with the same start merge to open-ended', () => {
    const subs: DesiredWindow = { startsAt: T(1), endsAt: null, reasons: ['subscription:s'] };
    expect(mergeWindows([subs, w(T(1), T(3), 'a')])).toEqual([
      { startsAt: T(1), endsAt: null, reasons: ['booking:a', 'subscription:s'] },
    ]);
  });

  it('dedupes and sorts reasons', () => {
    const out = mergeWindows([
      { startsAt: T(1), endsAt: T(3), reasons: ['subscription:z', 'booking:b'] },
      { startsAt: T(2), endsAt: T(4), reasons: ['booking:b', 'booking:a'] },
    ]);
    expect(out[0].reasons).toEqual(['booking:a', 'booking:b', 'subscription:z']);
  });

  it('ignores zero- and negative-length windows', () => {
    expect(mergeWindows([w(T(1), T(1), 'zero'), w(T(3), T(2), 'neg')])).toEqual([]);
    // ...even when they would otherwise bridge two windows.
    expect(mergeWindows([w(T(1), T(2), 'a'), w(T(2), T(2), 'zero'), w(T(3), T(4), 'b')])).toHaveLength(2);
  });

  it('does not mutate its input', () => {
    const input = [w(T(1), T(3), 'a'), w(T(2), T(4), 'b')];
    const copy = structuredClone(input);
    mergeWindows(input);
    expect(input).toEqual(copy);
  });
});

describe('computeDesired: bookings', () => {
  it('gives the organiser access for exactly the booking when there are no buffers', () => {
    expect(windowsOf(facts({ bookings: [booking()] }), 'alice')).toEqual([
      { startsAt: T(10), endsAt: T(12), reasons: ['booking:b1'] },
    ]);
  });

  it('merges back-to-back bookings into one window', () => {
    const f = facts({
      bookings: [booking({ id: 'b1', startsAt: T(10), endsAt: T(12) }), booking({ id: 'b2', startsAt: T(12), endsAt: T(14) })],
    });
    expect(windowsOf(f, 'alice')).toEqual([{ startsAt: T(10), endsAt: T(14), reasons: ['booking:b1', 'booking:b2'] }]);
  });

  it('keeps two windows for bookings with a gap', () => {
    const f = facts({
      bookings: [booking({ id: 'b1', startsAt: T(10), endsAt: T(12) }), booking({ id: 'b2', startsAt: T(13), endsAt: T(14) })],
    });
    expect(windowsOf(f, 'alice')).toEqual([
      { startsAt: T(10), endsAt: T(12), reasons: ['booking:b1'] },
      { startsAt: T(13), endsAt: T(14), reasons: ['booking:b2'] },
    ]);
  });

  it('buffers turn a gap into an overlap', () => {
    const f = facts({
      integrations: [integration({ bufferBeforeMinutes: 15, bufferAfterMinutes: 15 })],
      bookings: [booking({ id: 'b1', startsAt: T(10), endsAt: T(12) }), booking({ id: 'b2', startsAt: T(12.5), endsAt: T(14) })],
    });
    expect(windowsOf(f, 'alice')).toEqual([
      { startsAt: T(10) - 15 * MIN, endsAt: T(14) + 15 * MIN, reasons: ['booking:b1', 'booking:b2'] },
    ]);
  });

  it("applies the integration's buffers by default", () => {
    const f = facts({
      integrations: [integration({ bufferBeforeMinutes: 15, bufferAfterMinutes: 10 })],
      bookings: [booking()],
    });
    expect(windowsOf(f, 'alice')).toEqual([{ startsAt: T(10) - 15 * MIN, endsAt: T(12) + 10 * MIN, reasons: ['booking:b1'] }]);
  });

  it("uses the space's buffer override instead of the integration's", () => {
    const f = facts({
      integrations: [integration({ bufferBeforeMinutes: 15, bufferAfterMinutes: 10 })],
      spaces: [space({ bufferBeforeMinutes: 30, bufferAfterMinutes: null })],
      bookings: [booking()],
    });
    // Before from the space, after still from the integration (null = inherit).
    expect(windowsOf(f, 'alice')).toEqual([{ startsAt: T(10) - 30 * MIN, endsAt: T(12) + 10 * MIN, reasons: ['booking:b1'] }]);
  });

  it('treats a space override of 0 as "no buffer", not as "inherit"', () => {
    const f = facts({
      integrations: [integration({ bufferBeforeMinutes: 15, bufferAfterMinutes: 10 })],
      spaces: [space({ bufferBeforeMinutes: 0, bufferAfterMinutes: 0 })],
      bookings: [booking()],
    });
    expect(windowsOf(f, 'alice')).toEqual([{ startsAt: T(10), endsAt: T(12), reasons: ['booking:b1'] }]);
  });

  it('falls back to integration buffers when the space has no facts row', () => {
    const f = facts({
      integrations: [integration({ bufferBeforeMinutes: 5, bufferAfterMinutes: 5 })],
      spaces: [],
      bookings: [booking()],
    });
    expect(windowsOf(f, 'alice')).toEqual([{ startsAt: T(10) - 5 * MIN, endsAt: T(12) + 5 * MIN, reasons: ['booking:b1'] }]);
  });

  it('adds bump-in and bump-out on top of buffers', () => {
    const f = facts({
      integrations: [integration({ bufferBeforeMinutes: 15, bufferAfterMinutes: 10 })],
      bookings: [booking({ bumpInMinutes: 60, bumpOutMinutes: 30 })],
    });
    expect(windowsOf(f, 'alice')).toEqual([
      { startsAt: T(10) - 75 * MIN, endsAt: T(12) + 40 * MIN, reasons: ['booking:b1'] },
    ]);
  });

  it('ignores cancelled and pending bookings', () => {
    const f = facts({
      bookings: [booking({ id: 'c', status: 'cancelled' }), booking({ id: 'p', status: 'pending', organiserId: 'bob' })],
    });
    expect(computeDesired(f, NOW)).toEqual({ access: [], wakeups: [] });
  });

  it('ignores a booking that ends before it starts, even with buffers', () => {
    const f = facts({
      integrations: [integration({ bufferBeforeMinutes: 30, bufferAfterMinutes: 30 })],
      bookings: [booking({ startsAt: T(12), endsAt: T(12) })],
    });
    expect(computeDesired(f, NOW).access).toEqual([]);
  });

  it('gives invitees the same access as the organiser, deduped', () => {
    const f = facts({ bookings: [booking({ inviteeIds: ['bob', 'carol', 'alice', 'bob'] })] });
    const { access } = computeDesired(f, NOW);
    expect(access.map((a) => a.personId)).toEqual(['alice', 'bob', 'carol']);
    for (const a of access) expect(a.windows).toEqual([{ startsAt: T(10), endsAt: T(12), reasons: ['booking:b1'] }]);
  });

  it('follows a moved booking: different facts give a different window', () => {
    const before = windowsOf(facts({ bookings: [booking()] }), 'alice');
    const after = windowsOf(facts({ bookings: [booking({ startsAt: T(20), endsAt: T(23) })] }), 'alice');
    expect(before).toEqual([{ startsAt: T(10), endsAt: T(12), reasons: ['booking:b1'] }]);
    expect(after).toEqual([{ startsAt: T(20), endsAt: T(23), reasons: ['booking:b1'] }]);
  });

  it('follows a booking moved to another space', () => {
    const f = facts({
      mappings: [mapping(), mapping({ spaceId: 'space-2', targetRef: 'door-2' })],
      spaces: [space(), space({ id: 'space-2' })],
      bookings: [booking({ spaceId: 'space-2' })],
    });
    expect(windowsOf(f, 'alice', 'door-1')).toBeUndefined();
    expect(windowsOf(f, 'alice', 'door-2')).toHaveLength(1);
  });

  it('opens every mapped target, across integrations, with each integration\'s buffers', () => {
    const f = facts({
      integrations: [
        integration({ id: 'int-a', bufferBeforeMinutes: 10, bufferAfterMinutes: 0 }),
        integration({ id: 'int-b', bufferBeforeMinutes: 0, bufferAfterMinutes: 20 }),
      ],
      mappings: [
        mapping({ integrationId: 'int-b', targetRef: 'lock-9' }),
        mapping({ integrationId: 'int-a', targetRef: 'door-2' }),
        mapping({ integrationId: 'int-a', targetRef: 'door-1' }),
      ],
      bookings: [booking()],
    });
    const { access } = computeDesired(f, NOW);
    expect(access.map((a) => [a.integrationId, a.targetRef, a.windows[0].startsAt, a.windows[0].endsAt])).toEqual([
      ['int-a', 'door-1', T(10) - 10 * MIN, T(12)],
      ['int-a', 'door-2', T(10) - 10 * MIN, T(12)],
      ['int-b', 'lock-9', T(10), T(12) + 20 * MIN],
    ]);
  });

  it('gives nothing for a space without mappings', () => {
    expect(computeDesired(facts({ mappings: [], bookings: [booking()] }), NOW).access).toEqual([]);
  });
});

describe('computeDesired: integrations', () => {
  it('an inactive integration wants nothing, while an active one still does', () => {
    const f = facts({
      integrations: [integration({ id: 'int-a', active: false }), integration({ id: 'int-b' })],
      mappings: [mapping({ integrationId: 'int-a' }), mapping({ integrationId: 'int-b', targetRef: 'lock-1' })],
      plans: [{ id: 'plan-1', spaceIds: [], targets: [{ integrationId: 'int-a', targetRef: 'door-9' }] }],
      subscriptions: [subscription()],
      bookings: [booking()],
    });
    const { access, wakeups } = computeDesired(f, NOW);
    expect(access.map((a) => `${a.integrationId}/${a.targetRef}`)).toEqual(['int-b/lock-1']);
    expect(wakeups.every((w) => w.integrationId === 'int-b')).toBe(true);
  });

  it('an integration missing from facts wants nothing', () => {
    const f = facts({ mappings: [mapping({ integrationId: 'ghost' })], bookings: [booking()] });
    expect(computeDesired(f, NOW)).toEqual({ access: [], wakeups: [] });
  });
});

describe('computeDesired: subscriptions', () => {
  const plan = { id: 'plan-1', spaceIds: ['space-1'], targets: [{ integrationId: 'int-a', targetRef: 'lobby' }] };

  it('gives a personal subscription its plan targets and mapped space targets, without buffers', () => {
    const f = facts({
      integrations: [integration({ bufferBeforeMinutes: 15, bufferAfterMinutes: 15 })],
      plans: [plan],
      subscriptions: [subscription()],
    });
    const { access } = computeDesired(f, NOW);
    expect(access).toEqual([
      { integrationId: 'int-a', personId: 'alice', targetRef: 'door-1', windows: [{ startsAt: T(1), endsAt: T(100), reasons: ['subscription:s1'] }] },
      { integrationId: 'int-a', personId: 'alice', targetRef: 'lobby', windows: [{ startsAt: T(1), endsAt: T(100), reasons: ['subscription:s1'] }] },
    ]);
  });

  it('gives nothing for an unknown plan', () => {
    const f = facts({ plans: [plan], subscriptions: [subscription({ planId: 'nope' })] });
    expect(computeDesired(f, NOW)).toEqual({ access: [], wakeups: [] });
  });

  it('follows company membership: a member added later gets access, a removed one loses it', () => {
    const sub = subscription({ personId: null, companyId: 'acme' });
    const before = computeDesired(
      facts({ plans: [plan], subscriptions: [sub], companyMembers: [{ companyId: 'acme', personId: 'alice' }] }),
      NOW,
    );
    expect([...new Set(before.access.map((a) => a.personId))]).toEqual(['alice']);

    const added = computeDesired(
      facts({
        plans: [plan],
        subscriptions: [sub],
        companyMembers: [
          { companyId: 'acme', personId: 'alice' },
          { companyId: 'acme', personId: 'bob' },
          { companyId: 'other', personId: 'eve' },
        ],
      }),
      NOW,
    );
    expect([...new Set(added.access.map((a) => a.personId))]).toEqual(['alice', 'bob']);

    const removed = computeDesired(
      facts({ plans: [plan], subscriptions: [sub], companyMembers: [{ companyId: 'acme', personId: 'bob' }] }),
      NOW,
    );
    expect([...new Set(removed.access.map((a) => a.personId))]).toEqual(['bob']);
    expect(removed.wakeups.map((w) => w.personId)).toEqual(['bob']);
  });

  it('a company with no members gives nothing', () => {
    const f = facts({ plans: [plan], subscriptions: [subscription({ personId: null, companyId: 'acme' })] });
    expect(computeDesired(f, NOW).access).toEqual([]);
  });

  it('a cancellation ends access early', () => {
    const f = facts({ plans: [plan], subscriptions: [subscription({ cancelledAt: T(50) })] });
    expect(windowsOf(f, 'alice', 'lobby')).toEqual([{ startsAt: T(1), endsAt: T(50), reasons: ['subscription:s1'] }]);
  });

  it('a cancellation after the scheduled end does not extend it', () => {
    const f = facts({ plans: [plan], subscriptions: [subscription({ cancelledAt: T(500) })] });
    expect(windowsOf(f, 'alice', 'lobby')?.[0].endsAt).toBe(T(100));
  });

  it('a cancellation that already took effect removes access', () => {
    const f = facts({ plans: [plan], subscriptions: [subscription({ startsAt: T(-100), endsAt: null, cancelledAt: T(-1) })] });
    expect(computeDesired(f, NOW)).toEqual({ access: [], wakeups: [] });
  });

  it('cancelled before it started: zero/negative window, nothing', () => {
    const f = facts({ plans: [plan], subscriptions: [subscription({ startsAt: T(10), cancelledAt: T(5) })] });
    expect(computeDesired(f, NOW)).toEqual({ access: [], wakeups: [] });
  });

  it('an open-ended cancelled subscription ends at the cancellation', () => {
    const f = facts({ plans: [plan], subscriptions: [subscription({ endsAt: null, cancelledAt: T(40) })] });
    expect(windowsOf(f, 'alice', 'lobby')?.[0].endsAt).toBe(T(40));
  });

  it('an open-ended subscription absorbs a later booking on the same target', () => {
    const f = facts({
      plans: [plan],
      subscriptions: [subscription({ startsAt: T(-5), endsAt: null })],
      bookings: [booking({ id: 'b1', startsAt: T(10), endsAt: T(12) }), booking({ id: 'b0', startsAt: T(-8), endsAt: T(-4) })],
    });
    expect(windowsOf(f, 'alice', 'door-1')).toEqual([
      { startsAt: T(-8), endsAt: null, reasons: ['booking:b0', 'booking:b1', 'subscription:s1'] },
    ]);
    // No end, nothing unprovisioned: the state never changes by time alone.
    expect(computeDesired(f, NOW).wakeups).toEqual([]);
  });

  it('a plan target duplicated via a space mapping yields one entry', () => {
    const f = facts({
      plans: [{ id: 'plan-1', spaceIds: ['space-1'], targets: [{ integrationId: 'int-a', targetRef: 'door-1' }] }],
      subscriptions: [subscription()],
    });
    const { access } = computeDesired(f, NOW);
    expect(access).toHaveLength(1);
    expect(access[0].windows).toEqual([{ startsAt: T(1), endsAt: T(100), reasons: ['subscription:s1'] }]);
  });
});

describe('computeDesired: time horizon and wakeups', () => {
  it('drops windows that have already ended, keeps running ones', () => {
    const f = facts({
      bookings: [
        booking({ id: 'past', startsAt: T(-5), endsAt: T(-2) }),
        booking({ id: 'edge', startsAt: T(-3), endsAt: NOW, organiserId: 'bob' }),
        booking({ id: 'running', startsAt: T(-1), endsAt: T(1), organiserId: 'carol' }),
      ],
    });
    const { access, wakeups } = computeDesired(f, NOW);
    expect(access.map((a) => a.personId)).toEqual(['carol']);
    expect(access[0].windows[0].reasons).toEqual(['booking:running']);
    expect(wakeups).toEqual([{ integrationId: 'int-a', personId: 'carol', at: T(1) }]);
  });

  it('does not provision beyond provisionAheadDays, but wakes up when the window enters the horizon', () => {
    const f = facts({
      integrations: [integration({ provisionAheadDays: 7 })],
      bookings: [booking({ startsAt: NOW + 10 * DAY, endsAt: NOW + 10 * DAY + 2 * HOUR })],
    });
    const { access, wakeups } = computeDesired(f, NOW);
    expect(access).toEqual([]);
    expect(wakeups).toEqual([{ integrationId: 'int-a', personId: 'alice', at: NOW + 3 * DAY }]);
  });

  it('provisions a window that starts exactly at the horizon', () => {
    const f = facts({
      integrations: [integration({ provisionAheadDays: 7 })],
      bookings: [booking({ startsAt: NOW + 7 * DAY, endsAt: NOW + 7 * DAY + HOUR })],
    });
    const { access, wakeups } = computeDesired(f, NOW);
    expect(access).toHaveLength(1);
    expect(wakeups).toEqual([{ integrationId: 'int-a', personId: 'alice', at: NOW + 7 * DAY + HOUR }]);
  });

  it('the horizon counts from the buffered start', () => {
    const f = facts({
      integrations: [integration({ provisionAheadDays: 1, bufferBeforeMinutes: 30 })],
      bookings: [booking({ startsAt: NOW + DAY + 10 * MIN, endsAt: NOW + DAY + HOUR })],
    });
    // Buffered start is 20 min inside the horizon.
    expect(computeDesired(f, NOW).access).toHaveLength(1);
  });

  it('provisions near windows and defers far ones; wakeup is the earliest change per person', () => {
    const f = facts({
      integrations: [integration({ provisionAheadDays: 2 })],
      mappings: [mapping(), mapping({ targetRef: 'door-2' })],
      bookings: [
        booking({ id: 'near', startsAt: T(10), endsAt: T(12) }),
        booking({ id: 'far', startsAt: NOW + 5 * DAY, endsAt: NOW + 5 * DAY + HOUR }),
        booking({ id: 'bob', startsAt: NOW + 4 * DAY, endsAt: NOW + 4 * DAY + HOUR, organiserId: 'bob' }),
      ],
    });
    const { access, wakeups } = computeDesired(f, NOW);
    // Only alice's near booking, on both targets.
    expect(access.map((a) => [a.personId, a.targetRef, a.windows.map((w) => w.reasons.join())])).toEqual([
      ['alice', 'door-1', ['booking:near']],
      ['alice', 'door-2', ['booking:near']],
    ]);
    expect(wakeups).toEqual([
      { integrationId: 'int-a', personId: 'alice', at: T(12) },
      { integrationId: 'int-a', personId: 'bob', at: NOW + 2 * DAY },
    ]);
  });

  it('the wakeup moves to the provisioning instant once the near window is over', () => {
    const f = facts({
      integrations: [integration({ provisionAheadDays: 2 })],
      bookings: [
        booking({ id: 'near', startsAt: T(10), endsAt: T(12) }),
        booking({ id: 'far', startsAt: NOW + 5 * DAY, endsAt: NOW + 5 * DAY + HOUR }),
      ],
    });
    const later = T(13);
    const { access, wakeups } = computeDesired(f, later);
    expect(access).toEqual([]);
    expect(wakeups).toEqual([{ integrationId: 'int-a', personId: 'alice', at: NOW + 3 * DAY }]);
  });

  it('a merged chain starting inside the horizon is provisioned whole', () => {
    const f = facts({
      integrations: [integration({ provisionAheadDays: 1 })],
      bookings: [
        booking({ id: 'a', startsAt: T(20), endsAt: T(30) }),
        booking({ id: 'b', startsAt: T(30), endsAt: T(40) }),
      ],
    });
    expect(windowsOf(f, 'alice')).toEqual([{ startsAt: T(20), endsAt: T(40), reasons: ['booking:a', 'booking:b'] }]);
  });

  it('has one wakeup per (integration, person) across integrations', () => {
    const f = facts({
      integrations: [integration({ id: 'int-a' }), integration({ id: 'int-b' })],
      mappings: [mapping({ integrationId: 'int-a' }), mapping({ integrationId: 'int-b', targetRef: 'x' })],
      bookings: [booking()],
    });
    expect(computeDesired(f, NOW).wakeups).toEqual([
      { integrationId: 'int-a', personId: 'alice', at: T(12) },
      { integrationId: 'int-b', personId: 'alice', at: T(12) },
    ]);
  });
});

describe('computeDesired: determinism', () => {
  it('output order does not depend on input order', () => {
    const bookings = [
      booking({ id: 'b1', organiserId: 'zed', inviteeIds: ['amy'] }),
      booking({ id: 'b2', organiserId: 'mia', startsAt: T(20), endsAt: T(21) }),
    ];
    const mappings = [mapping({ targetRef: 'z-door' }), mapping({ targetRef: 'a-door' }), mapping({ integrationId: 'int-b', targetRef: 'm' })];
    const integrations = [integration({ id: 'int-b' }), integration({ id: 'int-a' })];
    const one = computeDesired(facts({ bookings, mappings, integrations }), NOW);
    const two = computeDesired(
      facts({ bookings: [...bookings].reverse(), mappings: [...mappings].reverse(), integrations: [...integrations].reverse() }),
      NOW,
    );
    expect(two).toEqual(one);
    const keys = one.access.map((a) => `${a.integrationId}|${a.personId}|${a.targetRef}`);
    expect(keys).toEqual([
      'int-a|amy|a-door',
      'int-a|amy|z-door',
      'int-a|mia|a-door',
      'int-a|mia|z-door',
      'int-a|zed|a-door',
      'int-a|zed|z-door',
      'int-b|amy|m',
      'int-b|mia|m',
      'int-b|zed|m',
    ]);
    expect(one.wakeups.map((w) => `${w.integrationId}|${w.personId}`)).toEqual([
      'int-a|amy',
      'int-a|mia',
      'int-a|zed',
      'int-b|amy',
      'int-b|mia',
      'int-b|zed',
    ]);
  });
});
