/**
 * iCalendar feed → booking occurrences, with Mozilla's ical.js doing the RFC 5545 work (parsing,
 * RRULE/RDATE/EXDATE expansion, RECURRENCE-ID overrides, VTIMEZONE offsets). This module only decides
 * what an occurrence means for a door:
 *
 * - **Window.** Occurrences that end after `now` and start before `now + horizon` (past stays are
 *   never touched; a recurring series is expanded only this far).
 * - **Time.** `Z` times are UTC; a TZID with a VTIMEZONE in the feed uses that definition (RFC 5545
 *   §3.6.5: the feed's own rules win); a TZID without one is read as an IANA zone when it is one;
 *   floating times and unknown TZIDs are wall-clock time at the space's location; DATE values (all-day
 *   events) cover whole days, midnight to midnight, at the location. Recurrences keep their local
 *   wall-clock time across daylight-saving changes because ical.js iterates in local time.
 * - **Identity.** externalId is the UID; an instance of a recurring series adds `#` and its
 *   RECURRENCE-ID (the original start, as a UTC instant or a date), so an overridden instance updates
 *   the same booking as the instance it replaces.
 * - **Version.** See `naturalVersion`.
 */
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { isValidTimeZone, localToInstant } from '../../domain/time.js';
import type { SourcePerson } from '../ingest.js';

type Component = InstanceType<typeof ICAL.Component>;
type Time = InstanceType<typeof ICAL.Time>;
type Event = InstanceType<typeof ICAL.Event>;

export class FeedFormatError extends Error {}

export interface Occurrence {
  externalId: string;
  uid: string;
  status: 'confirmed' | 'pending' | 'cancelled';
  startsAt: number;
  endsAt: number;
  title: string | null;
  /** ORGANIZER mailto, else the first ATTENDEE mailto; null when the event names nobody. */
  organiser: SourcePerson | null;
  invitees: SourcePerson[];
  /** Ordering of this revision of the event, from SEQUENCE and LAST-MODIFIED/DTSTAMP. */
  natural: number;
}

export interface SkippedEvent {
  uid: string | null;
  reason: string;
}

export interface ExpandedFeed {
  occurrences: Occurrence[];
  skipped: SkippedEvent[];
  /** UIDs with an event we could not read: their known bookings are left alone, not cancelled. */
  unreadable: Set<string>;
  events: number;
}

export interface ExpandOptions {
  now: number;
  horizonEnd: number;
  /** IANA zone of the space's location: floating times and all-day dates are read here. */
  zone: string;
  /** Bounds on the work one feed may cause. */
  maxIterationsPerEvent?: number;
  maxOccurrences?: number;
}

/**
 * Version of one revision of an event (justification):
 * RFC 5545 §3.8.7.4 makes SEQUENCE the revision counter an organiser bumps on every significant
 * change, so it dominates. Producers that never bump it (Airbnb, Booking.com omit SEQUENCE) still
 * stamp revisions: LAST-MODIFIED (§3.8.7.3), else DTSTAMP (§3.8.7.2, which in a feed without METHOD is
 * the last revision in the calendar store). SEQUENCE · 2³² + that time in seconds keeps both orders in
 * one integer (seconds fit 32 bits until 2106; SEQUENCE up to 2²⁰ stays a safe integer). The reconciler
 * keeps the revision it last applied per occurrence and ignores a lower one: a copy of the feed older
 * than what was applied (a stale cache or mirror) cannot move a booking back. Feeds whose DTSTAMP is
 * simply "now" make every poll look newer; the reconciler only sends a delivery when the booking's
 * content changed, so that costs nothing. (The ingest ledger's version is a separate, dense counter:
 * bookings.source_version is 32-bit.)
 */
export function naturalVersion(sequence: number, stamp: Time | null): number {
  const seq = Number.isSafeInteger(sequence) && sequence > 0 ? Math.min(sequence, 2 ** 20) : 0;
  const seconds = stamp ? Math.max(0, Math.min(2 ** 32 - 1, Math.floor(stamp.toUnixTime()))) : 0;
  return seq * 2 ** 32 + seconds;
}

const MAX_TITLE = 200;

/** Parses a feed body; throws FeedFormatError when it is not an iCalendar object at all. */
export function parseCalendar(text: string): Component {
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch (err) {
    throw new FeedFormatError(`the feed is not valid iCalendar: ${firstLine((err as Error).message)}`);
  }
  // ICAL.parse returns one component, or an array when the text holds several.
  const root = Array.isArray(jcal) && typeof jcal[0] === 'string' ? new ICAL.Component(jcal as any) : null;
  if (!root || root.name !== 'vcalendar') throw new FeedFormatError('the feed is not a VCALENDAR');
  return root;
}

const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 200);

export function expandFeed(calendar: Component, opts: ExpandOptions): ExpandedFeed {
  const maxIterations = opts.maxIterationsPerEvent ?? 20_000;
  const maxOccurrences = opts.maxOccurrences ?? 5_000;
  const out: ExpandedFeed = { occurrences: [], skipped: [], unreadable: new Set(), events: 0 };
  const vevents = calendar.getAllSubcomponents('vevent');
  out.events = vevents.length;

  // Group by UID: the master (no RECURRENCE-ID) and its overridden instances. ical.js would otherwise
  // relate every RECURRENCE-ID in the calendar to every master, whatever its UID.
  const byUid = new Map<string, { master: Component | null; overrides: Component[] }>();
  for (const vevent of vevents) {
    const uid = text(vevent, 'uid');
    if (!uid) {
      out.skipped.push({ uid: null, reason: 'event without UID (RFC 5545 requires one); it cannot be tracked' });
      continue;
    }
    const group = byUid.get(uid) ?? { master: null, overrides: [] };
    if (vevent.hasProperty('recurrence-id')) group.overrides.push(vevent);
    else if (group.master) {
      out.skipped.push({ uid, reason: 'two events share this UID; the second is ignored' });
      continue;
    } else group.master = vevent;
    byUid.set(uid, group);
  }

  for (const [uid, group] of byUid) {
    try {
      const occurrences = group.master
        ? expandMaster(uid, group.master, group.overrides, opts, maxIterations)
        : group.overrides.map((o) => single(uid, new ICAL.Event(o, { exceptions: [] }), opts, true)).filter((o): o is Occurrence => o !== null);
      out.occurrences.push(...occurrences);
    } catch (err) {
      out.unreadable.add(uid);
      out.skipped.push({ uid, reason: firstLine((err as Error).message) });
    }
    if (out.occurrences.length > maxOccurrences) {
      throw new FeedFormatError(`the feed expands to more than ${maxOccurrences} bookings within the horizon; shorten horizonDays`);
    }
  }
  return out;
}

function expandMaster(uid: string, master: Component, overrides: Component[], opts: ExpandOptions, maxIterations: number): Occurrence[] {
  const event = new ICAL.Event(master, { exceptions: overrides, strictExceptions: true });
  if (!master.hasProperty('dtstart')) throw new Error('event without DTSTART');
  if (!event.isRecurring()) {
    const o = single(uid, event, opts, overrides.length > 0);
    return o ? [o] : [];
  }
  const result: Occurrence[] = [];
  const it = event.iterator();
  for (let i = 0; ; i++) {
    if (i >= maxIterations) throw new Error(`recurrence needs more than ${maxIterations} steps to reach the horizon; not expanded`);
    const next = it.next();
    if (!next) break;
    const details = event.getOccurrenceDetails(next);
    const item = details.item as Event;
    // The series' own start decides when to stop; an overridden instance may have moved anywhere.
    if (toInstant(next, master, 'dtstart', opts.zone) >= opts.horizonEnd) break;
    const occ = occurrence(uid, item, details.startDate, details.endDate, opts, recurrenceKey(details.recurrenceId, master, opts.zone));
    if (occ && inWindow(occ, opts)) result.push(occ);
  }
  return result;
}

function single(uid: string, event: Event, opts: ExpandOptions, keyed: boolean): Occurrence | null {
  if (!event.component.hasProperty('dtstart')) throw new Error('event without DTSTART');
  const key = keyed && event.isRecurrenceException() ? recurrenceKey(event.recurrenceId, event.component, opts.zone) : null;
  const occ = occurrence(uid, event, event.startDate, event.endDate, opts, key);
  return occ && inWindow(occ, opts) ? occ : null;
}

const inWindow = (o: Occurrence, opts: ExpandOptions) => o.endsAt > opts.now && o.startsAt < opts.horizonEnd;

function recurrenceKey(recurrenceId: Time, component: Component, zone: string): string {
  if (recurrenceId.isDate) return recurrenceId.toString(); // YYYY-MM-DD
  return new Date(toInstant(recurrenceId, component, 'dtstart', zone)).toISOString();
}

function occurrence(uid: string, event: Event, start: Time, end: Time, opts: ExpandOptions, key: string | null): Occurrence | null {
  const comp = event.component;
  const startsAt = toInstant(start, comp, 'dtstart', opts.zone);
  let endsAt = toInstant(end, comp, comp.hasProperty('dtend') ? 'dtend' : 'dtstart', opts.zone);
  if (start.isDate && !(endsAt > startsAt)) endsAt = toInstant(dayAfter(start), comp, 'dtstart', opts.zone);
  const statusText = (text(comp, 'status') ?? 'CONFIRMED').toUpperCase();
  const status = statusText === 'CANCELLED' ? 'cancelled' : statusText === 'TENTATIVE' ? 'pending' : 'confirmed';
  if (!(endsAt > startsAt) && status !== 'cancelled') throw new Error('event ends before it starts (or has no length)');
  const stamp = (comp.getFirstPropertyValue('last-modified') ?? comp.getFirstPropertyValue('dtstamp') ?? null) as Time | null;
  const sequence = Number(comp.getFirstPropertyValue('sequence') ?? 0);
  const organizer = mailtoPerson(comp.getFirstProperty('organizer'));
  const attendees = comp
    .getAllProperties('attendee')
    .filter((p) => String(p.getParameter('partstat') ?? '').toUpperCase() !== 'DECLINED')
    .map(mailtoPerson)
    .filter((p): p is SourcePerson => p !== null);
  const organiser = organizer ?? attendees[0] ?? null;
  const invitees = attendees.filter((a) => a.email !== organiser?.email);
  const summary = text(comp, 'summary');
  return {
    externalId: key ? `${uid}#${key}` : uid,
    uid,
    status,
    startsAt,
    endsAt: Math.max(endsAt, startsAt + 1),
    title: summary ? summary.slice(0, MAX_TITLE) : null,
    organiser,
    invitees,
    natural: naturalVersion(sequence, stamp && typeof stamp.toUnixTime === 'function' ? stamp : null),
  };
}

function dayAfter(t: Time): Time {
  const next = t.clone();
  next.day += 1;
  return next;
}

function text(comp: Component, name: string): string | null {
  const v = comp.getFirstPropertyValue(name);
  if (v === null || v === undefined) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
}

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

function mailtoPerson(prop: InstanceType<typeof ICAL.Property> | null): SourcePerson | null {
  if (!prop) return null;
  const value = String(prop.getFirstValue() ?? '');
  const m = /^mailto:(.+)$/i.exec(value.trim());
  if (!m) return null;
  const email = decodeURIComponent(m[1]!).trim().toLowerCase();
  if (!EMAIL.test(email) || email.length > 320) return null;
  const cn = prop.getParameter('cn');
  const name = (typeof cn === 'string' && cn.trim() ? cn.trim() : email.split('@')[0]!).slice(0, 200);
  return { name, email };
}

/**
 * An ical.js time → epoch ms. `prop` names the property the time came from, for its TZID parameter
 * when the feed has no VTIMEZONE for it.
 */
export function toInstant(t: Time, comp: Component, prop: string, locationZone: string): number {
  if (t.isDate) return wallClock(t, locationZone, true);
  const zone = t.zone as InstanceType<typeof ICAL.Timezone> | null;
  if (zone && (zone.tzid === 'UTC' || zone === ICAL.Timezone.utcTimezone)) return t.toUnixTime() * 1000;
  if (zone && zone.component) return t.toUnixTime() * 1000; // a VTIMEZONE from the feed
  const tzid = comp.getFirstProperty(prop)?.getParameter('tzid');
  const iana = typeof tzid === 'string' && isValidTimeZone(tzid) ? tzid : locationZone;
  return wallClock(t, iana, false);
}

function wallClock(t: Time, zone: string, date: boolean): number {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const local = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${date ? '00:00:00' : `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`}`;
  try {
    return localToInstant(local, zone);
  } catch {
    // A wall-clock time skipped by a DST change (e.g. midnight in some zones): the next real instant.
    return DateTime.fromISO(local, { zone }).toMillis();
  }
}
