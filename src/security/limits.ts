/**
 * Brute-force limits (attempts per minute) on the endpoints that check a guessable secret, read from
 * the environment once at start-up. Counting is src/store/rate-limits.ts (WindowCounters); the API's
 * helpers that answer 429 are in src/api/limits.ts.
 */
import type { WindowLimit } from '../store/rate-limits.js';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, got "${raw}"`);
  return n;
}

const perMinute = (limit: number): WindowLimit => ({ limit, windowMs: 60_000 });

/** Read once at start-up; see the README's configuration reference. */
export function loadLimits() {
  return {
    /** Requests with an unknown or revoked API key, per client address. */
    failedAuth: perMinute(intEnv('LOCKSTEP_AUTH_FAILURES_PER_MINUTE', 30)),
    /** Visitor scans per API key. */
    scan: perMinute(intEnv('LOCKSTEP_SCAN_RATE_PER_MINUTE', 60)),
    /** Door openings per URL key. */
    urlKeyOpens: perMinute(intEnv('LOCKSTEP_URL_KEY_OPENS_PER_MINUTE', 5)),
    /** Invalid URL keys (forged, tampered, unknown) per client address. */
    badUrlKeys: perMinute(intEnv('LOCKSTEP_BAD_URL_KEYS_PER_MINUTE', 30)),
  };
}

export type Limits = ReturnType<typeof loadLimits>;
