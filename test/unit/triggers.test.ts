import { describe, expect, it } from 'vitest';
import { computeDesired } from '../../src/domain/desired.js';
import { effectiveDelivery, effectiveTrigger, issueAt, triggerState } from '../../src/domain/triggers.js';
import type { BookingFact, Facts } from '../../src/domain/facts.js';

const HOUR = 3_600_000;
/** A fixed clock: 2026-03-02T00:00:00Z. */
const NOW = Date.UTC(2026, 2, 2);
const T = (hours: number) => NOW + hours * HOUR;

function booking(over: Partial<BookingFact> = {}): BookingFact {
  return { id: 'b1', spaceId: 'space-1', status: 'confirmed', startsAt: T(30), endsAt: T(32), bumpInMinutes: 0, bumpOutMinutes: 0, organiserId: 'alice', inviteeIds: ['bob'], ...over };
}

function facts(over: { booking?: Partial<BookingFact>; integration?: Facts['integrations'][number]['trigger']; space?: Facts['spaces'][number]['trigger'] } = {}): Facts {
  return {
    bookings: [booking(over.booking)],
    subscriptions: [],
    plans: [],
    mappings: [{ spaceId: 'space-1', integrationId: 'int-a', targetRef: 'door-1' }],
    integrations: [{ id: 'int-a', bufferBeforeMinutes: 15, bufferAfterMinutes: 15, provisionAheadDays: 30, active: true, trigger: over.integration }],
    spaces: [{ id: 'space-1', bufferBeforeMinutes: null, bufferAfterMinutes: null, trigger: over.space }],
    companyMembers: [],
  };
}

describe('effectiveTrigger', () => {
  it('defaults to on-confirmation', () => {
    expect(effectiveTrigger()).toEqual({ issueOn: 'on-confirmation', hoursBefore: null });
    expect(effectiveTrigger(null, { issueOn: null, hoursBefore: null })).toEqual({ issueOn: 'on-confirmation', hoursBefore: null });
  });
  it("uses the integration's rule, and a space's override wins", () => {
    expect(effectiveTrigger({ issueOn: 'on-payment', hoursBefore: null })).toEqual({ issueOn: 'on-payment', hoursBefore: null });
    expect(effectiveTrigger({ issueOn: 'on-payment', hoursBefore: null }, { issueOn: 'before-start', hoursBefore: 24 })).toEqual({ issueOn: 'before-start', hoursBefore: 24 });
    expect(effectiveTrigger({ issueOn: 'before-start', hoursBefore: 48 }, { issueOn: null, hoursBefore: null })).toEqual({ issueOn: 'before-start', hoursBefore: 48 });
  });
});

describe('issueAt / triggerState', () => {
  it('on-confirmation fires at once; on-payment only when paid; before-start N hours before the start', () => {
    expect(issueAt({ issueOn: 'on-confirmation', hoursBefore: null }, { startsAt: T(30) })).toBe(-Infinity);
    expect(issueAt({ issueOn: 'on-payment', hoursBefore: null }, { startsAt: T(30) })).toBeNull();
    expect(issueAt({ issueOn: 'on-payment', hoursBefore: null }, { startsAt: T(30), paid: true })).toBe(-Infinity);
    expect(issueAt({ issueOn: 'before-start', hoursBefore: 24 }, { startsAt: T(30) })).toBe(T(6));
  });
  it('has fired exactly from the trigger time', () => {
    const rule = { issueOn: 'before-start' as const, hoursBefore: 24 };
    expect(triggerState(rule, { startsAt: T(30) }, T(6) - 1)).toEqual({ fired: false, at: T(6) });
    expect(triggerState(rule, { startsAt: T(30) }, T(6))).toEqual({ fired: true });
  });
});

describe('computeDesired with triggers', () => {
  it('on-confirmation (default) gives access to everyone on the booking', () => {
    const { access } = computeDesired(facts(), NOW);
    expect(access.map((a) => a.personId)).toEqual(['alice', 'bob']);
    expect(access[0].windows).toEqual([{ startsAt: T(30) - 15 * 60_000, endsAt: T(32) + 15 * 60_000, reasons: ['booking:b1'] }]);
  });

  it('on-payment: no access and no wake-up until paid, then the whole window', () => {
    const unpaid = computeDesired(facts({ integration: { issueOn: 'on-payment', hoursBefore: null } }), NOW);
    expect(unpaid).toEqual({ access: [], wakeups: [] });
    const paid = computeDesired(facts({ integration: { issueOn: 'on-payment', hoursBefore: null }, booking: { paid: true } }), NOW);
    expect(paid.access.map((a) => a.personId)).toEqual(['alice', 'bob']);
    expect(paid.access[0].windows[0].startsAt).toBe(T(30) - 15 * 60_000);
  });

  it('before-start 24 h: nothing before the trigger time but a wake-up at it; access from then on', () => {
    const f = facts({ space: { issueOn: 'before-start', hoursBefore: 24 } });
    const before = computeDesired(f, NOW);
    expect(before.access).toEqual([]);
    expect(before.wakeups).toEqual([
      { integrationId: 'int-a', personId: 'alice', at: T(6) },
      { integrationId: 'int-a', personId: 'bob', at: T(6) },
    ]);
    const justBefore = computeDesired(f, T(6) - 1);
    expect(justBefore.access).toEqual([]);
    const after = computeDesired(f, T(6));
    expect(after.access.map((a) => a.personId)).toEqual(['alice', 'bob']);
    expect(after.access[0].windows).toEqual([{ startsAt: T(30) - 15 * 60_000, endsAt: T(32) + 15 * 60_000, reasons: ['booking:b1'] }]);
    // Once issued, the next wake-up is the window's end (as without triggers).
    expect(after.wakeups[0].at).toBe(T(32) + 15 * 60_000);
  });

  it("a space override beats the integration's rule", () => {
    const f = facts({ integration: { issueOn: 'on-payment', hoursBefore: null }, space: { issueOn: 'on-confirmation', hoursBefore: null } });
    expect(computeDesired(f, NOW).access).toHaveLength(2);
  });

  it('cancellation revokes whatever the trigger', () => {
    const f = facts({ integration: { issueOn: 'on-payment', hoursBefore: null }, booking: { paid: true, status: 'cancelled' } });
    expect(computeDesired(f, NOW)).toEqual({ access: [], wakeups: [] });
  });

  it('an earlier trigger wake-up wins over a later window-end wake-up for the same person', () => {
    const f = facts({ space: { issueOn: 'before-start', hoursBefore: 1 } });
    f.bookings.push(booking({ id: 'b0', startsAt: T(-1), endsAt: T(40), inviteeIds: [] }));
    f.spaces[0].trigger = { issueOn: 'before-start', hoursBefore: 1 };
    const { access, wakeups } = computeDesired(f, NOW);
    // b0 (started) is issued; b1's trigger at T(29) comes before b0's end.
    expect(access.find((a) => a.personId === 'alice')!.windows[0].reasons).toEqual(['booking:b0']);
    expect(wakeups.find((w) => w.personId === 'alice')!.at).toBe(T(29));
  });
});

describe('effectiveDelivery', () => {
  it('is e-mail unless the space picks sms or dashboard', () => {
    expect(effectiveDelivery(null)).toBe('email');
    expect(effectiveDelivery({ delivery: null })).toBe('email');
    expect(effectiveDelivery({ delivery: 'dashboard' })).toBe('dashboard');
  });
});
