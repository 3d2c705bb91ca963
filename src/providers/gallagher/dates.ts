/**
 * Command Centre's date-time rules (cardholders API, "Dates and times"): ISO-8601 calendar date with
 * hyphens, time with colons, and a time zone designator. Year and month are required; the server
 * fills in the rest (first of the month, midnight, top of the minute) and up to seven decimals on the
 * seconds are allowed. Without a designator the server "makes an assumption": the emulator assumes
 * UTC, and the adapter always sends one.
 */

const GALLAGHER_DATE_RE =
  /^(\d{4})-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Epoch ms (whole seconds: membership times do not keep fractions), or null when unparseable. */
export function parseGallagherDate(value: string): number | null {
  const m = GALLAGHER_DATE_RE.exec(value);
  if (!m) return null;
  const [, y, mo, d = '01', h = '00', mi = '00', s = '00', , tz] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  let offsetMin = 0;
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMin = sign * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s)) - offsetMin * 60_000;
}

/** How Command Centre writes times: UTC, whole seconds, trailing Z (e.g. 2017-01-01T00:00:00Z). */
export function formatGallagherDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
