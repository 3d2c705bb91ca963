/**
 * Plans the fewest grant changes that turn what a provider holds (applied) into what should be
 * (desired), for one person on one integration. Pure: the executor performs the steps.
 */
import type { DesiredAccess, DesiredWindow } from '../domain/facts.js';

export interface AppliedGrant {
  id: string;
  targetRef: string;
  startsAt: number;
  endsAt: number | null;
  pinId: string | null;
  reasons: string[];
  /** Must be re-issued (a host asked for a new provider-issued credential). */
  replace?: boolean;
  /** An offline code: can be matched or let go, never changed in place, and carries no Lockstep PIN. */
  fixed?: boolean;
}

export type GrantStep =
  | { op: 'create'; targetRef: string; window: DesiredWindow }
  | { op: 'update'; grant: AppliedGrant; window: DesiredWindow }
  /** Same window on the provider; only our bookkeeping (reasons) changes — no provider call. */
  | { op: 'relabel'; grant: AppliedGrant; window: DesiredWindow }
  | { op: 'delete'; grant: AppliedGrant };

const sameWindow = (g: AppliedGrant, w: DesiredWindow) => g.startsAt === w.startsAt && g.endsAt === w.endsAt;
const overlaps = (g: AppliedGrant, w: DesiredWindow) =>
  (w.endsAt === null || g.startsAt < w.endsAt) && (g.endsAt === null || w.startsAt < g.endsAt);
const sameReasons = (a: string[], b: string[]) => a.length === b.length && a.every((r, i) => r === b[i]);

/**
 * `pinId` is the PIN that grants must carry when the PIN travels with the grant (pin-on-lock
 * providers); a grant holding another PIN is updated. Order of steps: updates and creates before
 * deletes, so a moved booking never leaves the guest without access in between.
 */
export function planGrantSteps(
  desired: DesiredAccess[],
  applied: AppliedGrant[],
  pinId: string | null = null,
  opts: { updatable?: boolean } = {},
): GrantStep[] {
  // A provider that cannot change a grant in place (window baked into an offline code) gets a new
  // grant for every changed window, and the old one goes.
  const updatable = opts.updatable ?? true;
  const byTarget = new Map<string, { want: DesiredWindow[]; have: AppliedGrant[] }>();
  const slot = (t: string) => {
    let s = byTarget.get(t);
    if (!s) byTarget.set(t, (s = { want: [], have: [] }));
    return s;
  };
  for (const d of desired) slot(d.targetRef).want.push(...d.windows);
  for (const a of applied) slot(a.targetRef).have.push(a);

  const changes: GrantStep[] = [];
  const deletes: GrantStep[] = [];
  const pinStale = (g: AppliedGrant) => pinId !== null && !g.fixed && g.pinId !== pinId;
  const movable = (g: AppliedGrant) => updatable && !g.replace && !g.fixed;

  for (const [targetRef, { want, have }] of [...byTarget].sort(([a], [b]) => a.localeCompare(b))) {
    const freeHave = [...have].sort((a, b) => a.startsAt - b.startsAt);
    const unmatched: DesiredWindow[] = [];
    for (const w of want) {
      const i = freeHave.findIndex((g) => sameWindow(g, w) && !g.replace);
      if (i === -1) {
        unmatched.push(w);
        continue;
      }
      if (pinStale(freeHave[i]) && !updatable) {
        unmatched.push(w);
        continue;
      }
      const [g] = freeHave.splice(i, 1);
      if (pinStale(g)) changes.push({ op: 'update', grant: g, window: w });
      else if (!sameReasons(g.reasons, w.reasons)) changes.push({ op: 'relabel', grant: g, window: w });
    }
    for (const w of unmatched) {
      // Prefer moving an overlapping grant (a booking that moved or grew); else reuse any spare one.
      let i = freeHave.findIndex((g) => movable(g) && overlaps(g, w));
      if (i === -1) i = freeHave.findIndex(movable);
      if (i === -1) changes.push({ op: 'create', targetRef, window: w });
      else changes.push({ op: 'update', grant: freeHave.splice(i, 1)[0], window: w });
    }
    for (const g of freeHave) deletes.push({ op: 'delete', grant: g });
  }
  return [...changes, ...deletes];
}

/**
 * For providers that cannot hold a future window (membership is on or off), only windows that have
 * started are provisioned; the earliest later start is when the engine must come back to add one.
 */
export function startedWindowsOnly(desired: DesiredAccess[], now: number): { desired: DesiredAccess[]; nextStart: number | null } {
  let nextStart: number | null = null;
  const out: DesiredAccess[] = [];
  for (const d of desired) {
    const windows = d.windows.filter((w) => {
      if (w.startsAt <= now) return true;
      nextStart = nextStart === null ? w.startsAt : Math.min(nextStart, w.startsAt);
      return false;
    });
    if (windows.length) out.push({ ...d, windows });
  }
  return { desired: out, nextStart };
}

/**
 * For providers where the PIN is written to each lock, a lock holds a code once: two windows of one
 * person on one lock would be two entries with the same code, which locks refuse. So each lock gets
 * the person's current or next window only; `nextChange` is when that window ends and the same entry
 * moves on to the following one.
 */
export function oneWindowPerTarget(desired: DesiredAccess[], now: number): { desired: DesiredAccess[]; nextChange: number | null } {
  let nextChange: number | null = null;
  const out: DesiredAccess[] = [];
  for (const d of desired) {
    const live = d.windows.filter((w) => w.endsAt === null || w.endsAt > now).sort((a, b) => a.startsAt - b.startsAt);
    if (live.length === 0) continue;
    const [first] = live;
    if (live.length > 1 && first.endsAt !== null) nextChange = nextChange === null ? first.endsAt : Math.min(nextChange, first.endsAt);
    out.push({ ...d, windows: [first] });
  }
  return { desired: out, nextChange };
}
