/**
 * The test's own record of what it asked Lockstep for (people, spaces, bookings as created, moved and
 * cancelled through the API), and from it, independently of src/, what each provider must hold: the
 * oracle every reliability test compares the provider's state with.
 *
 * Rules (README, "Access windows"): a confirmed booking gives its organiser and every invitee
 * `start − buffer … end + buffer` on every target its space is mapped to; overlapping or back-to-back
 * windows of one person on one target merge; a window that has ended gives nothing; a provider that
 * keeps one code per person per lock (pin-on-lock, e.g. Nuki) holds only the current or next window.
 */
import type { HeldAccess } from '../../contract/fixture.js';
import type { Rng } from './random.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
/** The integration default (15 min before and after); the tests do not change it. */
export const BUFFER = 15 * MIN;

export interface ModelPerson {
  id: string;
  name: string;
  email: string;
}

export interface ModelSpace {
  id: string;
  /** Access targets per integration id. */
  targets: Record<string, string[]>;
}

export interface ModelBooking {
  id: string;
  spaceId: string;
  organiserId: string;
  inviteeIds: string[];
  startsAt: number;
  endsAt: number;
  status: 'confirmed' | 'cancelled';
}

/**
 * Calls Lockstep's API as the team admin; returns status and parsed body. Status 0: no answer (the
 * process serving the API died mid-request), so whether the write happened is not known.
 */
export type Caller = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/** A write whose answer never came: it happened entirely or not at all, and only the store can tell. */
export class UncertainWrite extends Error {}

interface Window {
  from: number;
  until: number;
}

export class VenueModel {
  readonly people: ModelPerson[] = [];
  readonly spaces: ModelSpace[] = [];
  readonly bookings = new Map<string, ModelBooking>();

  /** Merged windows per person and target of one integration, before "has it ended" is applied. */
  private merged(integrationId: string): Map<string, Map<string, Window[]>> {
    const raw = new Map<string, Map<string, Window[]>>();
    const spaces = new Map(this.spaces.map((s) => [s.id, s]));
    for (const b of this.bookings.values()) {
      if (b.status !== 'confirmed') continue;
      const targets = spaces.get(b.spaceId)?.targets[integrationId] ?? [];
      for (const personId of new Set([b.organiserId, ...b.inviteeIds])) {
        let byTarget = raw.get(personId);
        if (!byTarget) raw.set(personId, (byTarget = new Map()));
        for (const t of targets) {
          let list = byTarget.get(t);
          if (!list) byTarget.set(t, (list = []));
          list.push({ from: b.startsAt - BUFFER, until: b.endsAt + BUFFER });
        }
      }
    }
    for (const byTarget of raw.values()) {
      for (const [t, list] of byTarget) {
        list.sort((a, b) => a.from - b.from || a.until - b.until);
        const out: Window[] = [];
        for (const w of list) {
          const last = out[out.length - 1];
          if (last && last.until >= w.from) last.until = Math.max(last.until, w.until);
          else out.push({ ...w });
        }
        byTarget.set(t, out);
      }
    }
    return raw;
  }

  /** What the provider must hold for this person at `now`, sorted by target then start. */
  expected(integrationId: string, personId: string, now: number, opts: { oneWindowPerTarget: boolean }): HeldAccess[] {
    const byTarget = this.merged(integrationId).get(personId);
    if (!byTarget) return [];
    const out: HeldAccess[] = [];
    for (const [targetRef, windows] of byTarget) {
      const live = windows.filter((w) => w.until > now);
      for (const w of opts.oneWindowPerTarget ? live.slice(0, 1) : live) out.push({ targetRef, from: w.from, until: w.until });
    }
    return sortHeld(out);
  }

  /** Every instant at which the expected state changes by itself (a window ends). */
  boundaries(integrationId: string): number[] {
    const out: number[] = [];
    for (const byTarget of this.merged(integrationId).values()) for (const ws of byTarget.values()) for (const w of ws) out.push(w.until);
    return out.sort((a, b) => a - b);
  }

  confirmed(): ModelBooking[] {
    return [...this.bookings.values()].filter((b) => b.status === 'confirmed');
  }
}

export function sortHeld(held: HeldAccess[]): HeldAccess[] {
  return [...held].sort((a, b) => (a.targetRef < b.targetRef ? -1 : a.targetRef > b.targetRef ? 1 : a.from - b.from || (a.until ?? Infinity) - (b.until ?? Infinity)));
}

export function describeHeld(held: HeldAccess[]): string {
  return held.map((h) => `${h.targetRef.split('/').pop()} ${new Date(h.from).toISOString()}…${h.until === null ? 'open' : new Date(h.until).toISOString()}`).join('; ') || '(nothing)';
}

const toIso = (ms: number) => new Date(ms).toISOString();

/**
 * Makes realistic booking traffic through the API and keeps the model in step with what Lockstep
 * accepted. Times are whole seconds (providers that keep seconds round-trip them exactly).
 */
export class Workload {
  readonly counts = { created: 0, moved: 0, cancelled: 0, reinvited: 0, respaced: 0, uncertain: 0 };
  private seq = 0;
  /** Writes whose answer was lost: creates by external id, changes by booking id (with the state before). */
  private readonly unsureCreates: { externalId: string; intended: Omit<ModelBooking, 'id'> }[] = [];
  private readonly unsureChanges = new Map<string, ModelBooking>();

  constructor(
    private call: Caller,
    readonly model: VenueModel,
    private readonly r: Rng,
  ) {}

  /** Send the next operations through another API (another process, or the same one restarted). */
  use(call: Caller): void {
    this.call = call;
  }

  private async must(method: string, path: string, body?: unknown) {
    const res = await this.call(method, path, body);
    if (res.status === 0) throw new UncertainWrite(`${method} ${path}: no answer (${res.body})`);
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Runs a change of booking `b`; if its answer is lost, remembers `b` as it was, to be read back. */
  private async change(b: ModelBooking, run: () => Promise<void>): Promise<void> {
    const before = { ...b, inviteeIds: [...b.inviteeIds] };
    try {
      await run();
    } catch (err) {
      if (!(err instanceof UncertainWrite)) throw err;
      if (!this.unsureChanges.has(b.id)) this.unsureChanges.set(b.id, before);
      this.counts.uncertain++;
    }
  }

  /**
   * Reads back every write whose answer was lost and takes what the store holds into the model. Each
   * must have happened entirely or not at all: the booking is as before or as asked, never a mix.
   */
  async resolveUncertain(read: Caller): Promise<void> {
    const view = (x: any): Omit<ModelBooking, 'id'> => ({
      spaceId: x.spaceId,
      organiserId: x.organiserId,
      inviteeIds: [...x.inviteeIds].sort(),
      startsAt: Date.parse(x.start),
      endsAt: Date.parse(x.end),
      status: x.status,
    });
    const plain = (b: ModelBooking | Omit<ModelBooking, 'id'>): Omit<ModelBooking, 'id'> => {
      const { id: _id, ...rest } = b as ModelBooking;
      return { ...rest, inviteeIds: [...rest.inviteeIds].sort() };
    };
    for (const [id, before] of this.unsureChanges) {
      const res = await read('GET', `/v1/bookings/${id}`);
      if (res.status !== 200) throw new Error(`GET /v1/bookings/${id} → ${res.status}`);
      const stored = view(res.body);
      const asked = plain(this.model.bookings.get(id)!);
      const was = plain(before);
      // Writes are made one at a time and read back after each kill, so at most one is lost per booking.
      if (JSON.stringify(stored) !== JSON.stringify(asked) && JSON.stringify(stored) !== JSON.stringify(was)) {
        throw new Error(`booking ${id} after a lost write is neither as before nor as asked: ${JSON.stringify({ stored, was, asked })}`);
      }
      Object.assign(this.model.bookings.get(id)!, stored);
    }
    this.unsureChanges.clear();
    if (this.unsureCreates.length) {
      const all: any[] = [];
      for (let offset = 0; ; offset += 1000) {
        const page = (await read('GET', `/v1/bookings?limit=1000&offset=${offset}`)).body.results as any[];
        all.push(...page);
        if (page.length < 1000) break;
      }
      for (const { externalId, intended } of this.unsureCreates) {
        const found = all.filter((x) => x.externalId === externalId);
        if (found.length > 1) throw new Error(`booking ${externalId} was created ${found.length} times by one lost request`);
        if (!found.length) continue; // never happened
        const stored = view(found[0]);
        if (JSON.stringify(stored) !== JSON.stringify(plain(intended))) throw new Error(`booking ${externalId} stored differently from what was asked: ${JSON.stringify({ stored, intended })}`);
        this.model.bookings.set(found[0].id, { id: found[0].id, ...stored });
      }
      this.unsureCreates.length = 0;
    }
  }

  async addPeople(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const k = this.model.people.length;
      const email = `guest${k}.${this.r.int(1000, 9999)}@example.com`;
      const p = await this.must('POST', '/v1/people', { name: `Guest ${k}`, email });
      this.model.people.push({ id: p.id, name: p.name, email: p.email });
    }
  }

  /**
   * A booking window drawn from the kinds a venue sees: mostly upcoming, some going on now, some
   * over already, and a few whose access ends within seconds (so "ended" is exercised while the
   * test runs, not only at creation).
   */
  window(): { startsAt: number; endsAt: number } {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const minute = (ms: number) => Math.floor(ms / MIN) * MIN;
    const roll = this.r.next();
    if (roll < 0.08) {
      // Access (end + buffer) ends 3–12 s from now.
      const endsAt = now - BUFFER + this.r.int(3, 12) * 1000;
      return { startsAt: endsAt - this.r.int(2, 8) * 15 * MIN, endsAt };
    }
    if (roll < 0.16) {
      // Over, buffer included: grants nothing.
      const endsAt = minute(now - BUFFER - this.r.int(5, 48 * 60) * MIN);
      return { startsAt: endsAt - this.r.int(1, 8) * 15 * MIN, endsAt };
    }
    if (roll < 0.3) {
      // Going on now.
      const startsAt = minute(now - this.r.int(0, 180) * MIN);
      return { startsAt, endsAt: Math.max(startsAt + 15 * MIN, minute(now + this.r.int(20, 240) * MIN)) };
    }
    // Upcoming, within three days; durations 30 min – 4 h, so some overlap and some sit back to back.
    const startsAt = minute(now + this.r.int(1, 72 * 4) * 15 * MIN);
    return { startsAt, endsAt: startsAt + this.r.int(2, 16) * 15 * MIN };
  }

  private invitees(organiserId: string): string[] {
    if (!this.r.chance(0.35)) return [];
    const others = this.model.people.filter((p) => p.id !== organiserId).map((p) => p.id);
    return this.r.sample(others, this.r.int(1, 2));
  }

  /** Null when the answer was lost (see resolveUncertain). */
  async create(): Promise<ModelBooking | null> {
    const organiser = this.r.pick(this.model.people);
    const space = this.r.pick(this.model.spaces);
    const w = this.window();
    const inviteeIds = this.invitees(organiser.id);
    const externalId = `rel-${++this.seq}-${this.r.int(100_000, 999_999)}`;
    const intended: Omit<ModelBooking, 'id'> = { spaceId: space.id, organiserId: organiser.id, inviteeIds, startsAt: w.startsAt, endsAt: w.endsAt, status: 'confirmed' };
    let res: any;
    try {
      res = await this.must('POST', '/v1/bookings', {
        spaceId: space.id,
        organiserId: organiser.id,
        inviteeIds,
        start: toIso(w.startsAt),
        end: toIso(w.endsAt),
        title: `Booking ${this.seq}`,
        externalId,
      });
    } catch (err) {
      if (!(err instanceof UncertainWrite)) throw err;
      this.unsureCreates.push({ externalId, intended });
      this.counts.uncertain++;
      return null;
    }
    const b: ModelBooking = { id: res.id, ...intended };
    if (res.start !== toIso(w.startsAt) || res.end !== toIso(w.endsAt)) throw new Error(`booking ${res.id} stored ${res.start}…${res.end}, asked ${toIso(w.startsAt)}…${toIso(w.endsAt)}`);
    this.model.bookings.set(b.id, b);
    this.counts.created++;
    return b;
  }

  async move(b: ModelBooking): Promise<void> {
    let { startsAt, endsAt } = this.r.chance(0.2) ? this.window() : { startsAt: b.startsAt, endsAt: b.endsAt };
    if (startsAt === b.startsAt && endsAt === b.endsAt) {
      // Slide and/or stretch by whole quarter hours.
      const shift = this.r.int(-8, 8) * 15 * MIN || 15 * MIN;
      startsAt += shift;
      endsAt = Math.max(startsAt + 15 * MIN, endsAt + shift + this.r.int(-2, 4) * 15 * MIN);
    }
    await this.change(b, async () => {
      // The model takes the change first, so a lost answer is read back against what was asked.
      Object.assign(b, { startsAt, endsAt });
      await this.must('PATCH', `/v1/bookings/${b.id}`, { start: toIso(startsAt), end: toIso(endsAt) });
      this.counts.moved++;
    });
  }

  async cancel(b: ModelBooking): Promise<void> {
    await this.change(b, async () => {
      b.status = 'cancelled';
      await this.must('POST', `/v1/bookings/${b.id}/cancel`);
      this.counts.cancelled++;
    });
  }

  async reinvite(b: ModelBooking): Promise<void> {
    const inviteeIds = this.r.chance(0.3) ? [] : this.r.sample(this.model.people.filter((p) => p.id !== b.organiserId).map((p) => p.id), this.r.int(1, 3));
    await this.change(b, async () => {
      b.inviteeIds = inviteeIds;
      await this.must('PATCH', `/v1/bookings/${b.id}`, { inviteeIds });
      this.counts.reinvited++;
    });
  }

  async respace(b: ModelBooking): Promise<void> {
    const others = this.model.spaces.filter((s) => s.id !== b.spaceId);
    if (!others.length) return this.move(b);
    const space = this.r.pick(others);
    await this.change(b, async () => {
      b.spaceId = space.id;
      await this.must('PATCH', `/v1/bookings/${b.id}`, { spaceId: space.id });
      this.counts.respaced++;
    });
  }

  /** One operation of a realistic mix: create 45%, move 25%, cancel 15%, invitees 10%, room 5%. */
  async step(): Promise<void> {
    const live = this.model.confirmed();
    const roll = this.r.next();
    if (live.length < 3 || roll < 0.45) await this.create();
    else if (roll < 0.7) await this.move(this.r.pick(live));
    else if (roll < 0.85) await this.cancel(this.r.pick(live));
    else if (roll < 0.95) await this.reinvite(this.r.pick(live));
    else await this.respace(this.r.pick(live));
  }
}
