/**
 * igloohome's algoPIN timing rules, shared by the adapter (to round windows and pick the endpoint) and
 * the emulator (to enforce them). See notes.md for the sources.
 *
 * - hourly algoPIN: whole hours, 1 to 672 hours (28 days);
 * - daily algoPIN: 29 to 367 days, start and end at the same time of day (whole days);
 * - a PIN valid for 24 hours or more must be used for the first time within 24 hours of its start.
 */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const MAX_HOURLY_HOURS = 672;
export const MIN_DAILY_DAYS = 29;
export const MAX_DAILY_DAYS = 367;
export const ACTIVATION_WINDOW_MS = DAY_MS;

export type AlgoPinType = 'hourly' | 'daily';

export const floorToHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const ceilToHour = (ms: number): number => Math.ceil(ms / HOUR_MS) * HOUR_MS;

/**
 * The algoPIN window igloohome can issue for [startsAt, endsAt): the smallest one that covers it.
 * Up to 28 days: whole hours. Longer: whole days from the floored start hour (daily PINs start and end
 * at the same time of day), at least 29 days. The result may exceed 367 days; callers reject that.
 */
export function algoPinWindow(startsAt: number, endsAt: number): { type: AlgoPinType; startsAt: number; endsAt: number } {
  const start = floorToHour(startsAt);
  const end = Math.max(ceilToHour(endsAt), start + HOUR_MS);
  if (end - start <= MAX_HOURLY_HOURS * HOUR_MS) return { type: 'hourly', startsAt: start, endsAt: end };
  const days = Math.max(MIN_DAILY_DAYS, Math.ceil((end - start) / DAY_MS));
  return { type: 'daily', startsAt: start, endsAt: start + days * DAY_MS };
}

/** Whether a PIN of this validity must be activated (used once) within 24 hours of its start. */
export const needsActivation = (validFrom: number, validUntil: number | null): boolean =>
  validUntil === null || validUntil - validFrom >= ACTIVATION_WINDOW_MS;

const pad = (n: number): string => String(n).padStart(2, '0');

/** igloohome's date format: `YYYY-MM-DDTHH:00:00+00:00` (whole hour, explicit offset; we always send UTC). */
export function igloohomeDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+00:00`;
}
