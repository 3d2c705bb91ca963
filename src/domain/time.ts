/**
 * Time input and output. Instants are stored as epoch ms (UTC); people think in wall-clock time at a
 * location. Everything that crosses that boundary goes through here so DST is handled in one place.
 */
import { DateTime, IANAZone } from 'luxon';

/** An input problem the API can show to its caller verbatim (400). */
export class TimeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeInputError';
  }
}

// Region/City style names (plus UTC, Etc/GMT+1, ...). Checked before asking Intl because Intl also
// accepts things we do not want stored as a location's zone (e.g. "+01:00" in newer engines): a fixed
// offset silently gets every DST change wrong.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

// Checking a zone builds an Intl.DateTimeFormat (~0.1 ms and native memory that lingers until GC);
// the set of zone names is small and fixed, so remember the answer.
const zoneValidity = new Map<string, boolean>();

export function isValidTimeZone(zone: string): boolean {
  if (typeof zone !== 'string') return false;
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = ZONE_NAME.test(zone) && IANAZone.isValidZone(zone);
    if (zoneValidity.size < 10_000) zoneValidity.set(zone, valid);
  }
  return valid;
}

const DATE_TIME = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?`;
const OFFSET = String.raw`(?:Z|[+-]\d{2}(?::?\d{2})?)`;
const WITH_OFFSET = new RegExp(`^${DATE_TIME}${OFFSET}$`);
const WITHOUT_OFFSET = new RegExp(`^${DATE_TIME}$`);
const EXPECTED = 'expected an ISO-8601 date-time with a UTC offset, e.g. 2026-03-29T09:00:00+01:00 or 2026-03-29T08:00:00Z';

/** Quote user input in messages, but never let a huge or multi-line value bloat the error. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

/**
 * Parses an absolute instant. A missing offset is refused rather than guessed: the server's zone
 * has nothing to do with where the door is, and a guess would be an hour off half the year.
 */
export function parseInstant(value: string): number {
  if (typeof value !== 'string') throw new TimeInputError(`not a date-time; ${EXPECTED}`);
  if (WITHOUT_OFFSET.test(value)) {
    throw new TimeInputError(
      `${value} has no UTC offset; add one (e.g. ${value}+01:00 or ${value}Z) or send startLocal/endLocal, ` +
        `which are read in the location's time zone`,
    );
  }
  if (!WITH_OFFSET.test(value)) throw new TimeInputError(`${quote(value)} is not a valid date-time; ${EXPECTED}`);
  const dt = DateTime.fromISO(value, { setZone: true });
  if (!dt.isValid) {
    throw new TimeInputError(`${quote(value)} is not a valid date-time (${dt.invalidExplanation ?? dt.invalidReason}); ${EXPECTED}`);
  }
  return dt.toMillis();
}

function requireZone(zone: string): IANAZone {
  if (!isValidTimeZone(zone)) {
    throw new TimeInputError(`${quote(String(zone))} is not a known IANA time zone; use a name like Europe/London`);
  }
  return IANAZone.create(zone);
}

/**
 * Wall-clock local date-time in `zone` → epoch ms.
 *
 * - A time skipped by a spring-forward change (e.g. 01:30 on 2026-03-29 in Europe/London) does not
 *   exist and is rejected: shifting it silently would move a booking by an hour.
 * - A time that occurs twice (fall-back, e.g. 01:30 on 2026-10-25 in Europe/London) resolves to the
 *   EARLIER occurrence (the one still on summer time). Earlier errs towards letting people in on time.
 *   Luxon on its own picks the later one, hence the explicit resolution below.
 */
export function localToInstant(local: string, zone: string): number {
  if (typeof local !== 'string' || !WITHOUT_OFFSET.test(local)) {
    if (typeof local === 'string' && WITH_OFFSET.test(local)) {
      throw new TimeInputError(
        `${local} has a UTC offset, but local times are read in the location's time zone; ` +
          `drop the offset (e.g. ${local.replace(new RegExp(`${OFFSET}$`), '')}) or send an absolute start/end instead`,
      );
    }
    throw new TimeInputError(`${quote(String(local))} is not a valid local date-time; expected e.g. 2026-03-29T09:00:00 (no offset)`);
  }
  const tz = requireZone(zone);

  // The wall-clock reading expressed as if it were UTC; real instant = this − offset at that instant.
  const wall = DateTime.fromISO(local, { zone: 'utc' });
  if (!wall.isValid) {
    throw new TimeInputError(`${quote(local)} is not a valid local date-time (${wall.invalidExplanation ?? wall.invalidReason})`);
  }
  const wallMs = wall.toMillis();

  // Candidate offsets from a day either side cover any single transition; keep those that are
  // self-consistent (the zone really has that offset at the resulting instant).
  const candidates = new Set([tz.offset(wallMs - 86_400_000), tz.offset(wallMs), tz.offset(wallMs + 86_400_000)]);
  const instants: number[] = [];
  for (const offsetMin of candidates) {
    const ms = wallMs - offsetMin * 60_000;
    if (tz.offset(ms) === offsetMin) instants.push(ms);
  }
  if (instants.length === 0) {
    throw new TimeInputError(
      `${local} does not exist in ${zone}: the clocks skip over it (daylight-saving change); choose a time outside the gap`,
    );
  }
  return Math.min(...instants);
}

/** Epoch ms → local ISO date-time with offset, second precision (e.g. 2026-03-29T09:00:00+01:00). */
export function formatLocal(ms: number, zone: string): string {
  requireZone(zone);
  const dt = DateTime.fromMillis(ms, { zone });
  if (!dt.isValid) throw new TimeInputError(`${ms} is not a representable instant`);
  return dt.toFormat("yyyy-MM-dd'T'HH:mm:ssZZ");
}
