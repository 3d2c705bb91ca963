import { describe, expect, it } from 'vitest';
import { oneWindowPerTarget, planGrantSteps, startedWindowsOnly, type AppliedGrant } from '../../src/engine/plan.js';
import type { DesiredAccess } from '../../src/domain/facts.js';
import { backoffDelay } from '../../src/engine/backoff.js';

const want = (targetRef: string, ...windows: [number, number | null, string[]?][]): DesiredAccess => ({
  integrationId: 'i',
  personId: 'p',
  targetRef,
  windows: windows.map(([startsAt, endsAt, reasons]) => ({ startsAt, endsAt, reasons: (reasons ?? ['booking:b1']) as DesiredAccess['windows'][number]['reasons'] })),
});
const have = (id: string, targetRef: string, startsAt: number, endsAt: number | null, extra: Partial<AppliedGrant> = {}): AppliedGrant => ({
  id,
  targetRef,
  startsAt,
  endsAt,
  pinId: null,
  reasons: ['booking:b1'],
  ...extra,
});

describe('oneWindowPerTarget', () => {
  it('keeps only the current or next window per lock and says when to move on', () => {
    const d = [want('lock-1', [100, 200], [50, 80], [300, 400]), want('lock-2', [10, 20])];
    const { desired, nextChange } = oneWindowPerTarget(d, 60);
    expect(desired.map((x) => [x.targetRef, x.windows.map((w) => [w.startsAt, w.endsAt])])).toEqual([
      ['lock-1', [[50, 80]]],
    ]);
    expect(nextChange).toBe(80);
    expect(oneWindowPerTarget(d, 250).desired[0].windows[0].startsAt).toBe(300);
    expect(oneWindowPerTarget(d, 250).nextChange).toBeNull();
  });
});

describe('planGrantSteps', () => {
  it('does nothing when the provider already holds exactly what is wanted', () => {
    expect(planGrantSteps([want('door', [0, 10])], [have('g1', 'door', 0, 10)])).toEqual([]);
  });

  it('creates what is missing and deletes what is no longer wanted', () => {
    const steps = planGrantSteps([want('door', [0, 10])], [have('g1', 'room', 0, 10)]);
    expect(steps.map((s) => s.op)).toEqual(['create', 'delete']);
  });

  it('moves an existing grant (one update) rather than delete + create', () => {
    const steps = planGrantSteps([want('door', [5, 20])], [have('g1', 'door', 0, 10)]);
    expect(steps).toEqual([{ op: 'update', grant: have('g1', 'door', 0, 10), window: { startsAt: 5, endsAt: 20, reasons: ['booking:b1'] } }]);
  });

  it('replaces rather than moves a grant when the provider cannot change one in place', () => {
    const steps = planGrantSteps([want('door', [5, 20])], [have('g1', 'door', 0, 10)], null, { updatable: false });
    expect(steps).toEqual([
      { op: 'create', targetRef: 'door', window: { startsAt: 5, endsAt: 20, reasons: ['booking:b1'] } },
      { op: 'delete', grant: have('g1', 'door', 0, 10) },
    ]);
    expect(planGrantSteps([want('door', [0, 10])], [have('g1', 'door', 0, 10)], null, { updatable: false })).toEqual([]);
  });

  it('never moves or re-PINs a fixed (offline) grant: a new window gets a new grant, the old one goes', () => {
    const fixed = have('g1', 'lock', 0, 10, { fixed: true, pinId: null });
    const steps = planGrantSteps([want('lock', [5, 20])], [fixed], 'pin-2');
    expect(steps.map((s) => s.op)).toEqual(['create', 'delete']);
    // Same window: kept as it is, even though the person's PIN is another one.
    expect(planGrantSteps([want('lock', [0, 10])], [fixed], 'pin-2')).toEqual([]);
  });

  it('reuses a non-overlapping spare grant before creating a new one', () => {
    const steps = planGrantSteps([want('door', [100, 200])], [have('g1', 'door', 0, 10)]);
    expect(steps.map((s) => s.op)).toEqual(['update']);
  });

  it('keeps exact matches and only touches the rest', () => {
    const steps = planGrantSteps([want('door', [0, 10], [50, 60])], [have('g1', 'door', 0, 10), have('g2', 'door', 40, 45), have('g3', 'door', 70, 80)]);
    expect(steps.map((s) => [s.op, 'grant' in s ? s.grant.id : null])).toEqual([
      ['update', 'g2'],
      ['delete', 'g3'],
    ]);
  });

  it('only relabels (no provider call) when reasons change but the window does not', () => {
    const steps = planGrantSteps([want('door', [0, 10, ['booking:b1', 'booking:b2']])], [have('g1', 'door', 0, 10)]);
    expect(steps.map((s) => s.op)).toEqual(['relabel']);
  });

  it('updates grants carrying an old PIN where the PIN travels with the grant', () => {
    const steps = planGrantSteps([want('lock', [0, 10])], [have('g1', 'lock', 0, 10, { pinId: 'old' })], 'new');
    expect(steps.map((s) => s.op)).toEqual(['update']);
  });

  it('puts updates and creates before deletes so a moved booking never loses access in between', () => {
    const steps = planGrantSteps([want('a', [0, 10]), want('b', [0, 10])], [have('g1', 'c', 0, 10), have('g2', 'a', 5, 10)]);
    const ops = steps.map((s) => s.op);
    expect(ops.lastIndexOf('update')).toBeLessThan(ops.indexOf('delete'));
    expect(ops.lastIndexOf('create')).toBeLessThan(ops.indexOf('delete'));
  });
});

describe('backoffDelay', () => {
  const policy = { baseMs: 100, maxMs: 1_000 };
  it('doubles per attempt with jitter in the upper half, capped', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1_000);
    expect(backoffDelay(10, policy, () => 0)).toBe(500);
  });
  it('spreads retries: different random draws give different delays', () => {
    const draws = [0.1, 0.5, 0.9].map((r) => backoffDelay(4, policy, () => r));
    expect(new Set(draws).size).toBe(3);
  });
});

describe('startedWindowsOnly (providers without time-bound memberships)', () => {
  it('keeps started windows, drops future ones and reports the next start', () => {
    const { desired, nextStart } = startedWindowsOnly([want('door', [0, 100], [500, 600]), want('room', [300, 400])], 50);
    expect(desired).toEqual([want('door', [0, 100])]);
    expect(nextStart).toBe(300);
  });
  it('reports no next start when everything has started', () => {
    expect(startedWindowsOnly([want('door', [0, null])], 10)).toEqual({ desired: [want('door', [0, null])], nextStart: null });
  });
});
