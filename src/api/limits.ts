/**
 * Brute-force limits on the endpoints that check a guessable secret: API keys (every API request and
 * the web log-in), visitor codes (the scanner) and URL keys. The counts live in the store
 * (`WindowCounters`), so they hold across every API node: a guesser gains nothing by spreading
 * requests over nodes or waiting for a restart. Keys that would be secrets themselves (a URL-key
 * token) are counted under a keyed hash, never stored as given.
 */
import type { App } from '../app.js';
import type { WindowLimit } from '../store/rate-limits.js';
import { ApiError } from './errors.js';

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

/**
 * Counts one attempt; when it is over the limit, answers with how many seconds to wait (for the
 * Retry-After header), else null.
 */
export async function overLimit(app: App, key: string, limit: WindowLimit): Promise<number | null> {
  const { allowed, retryAfterMs } = await app.counters.hit(key, limit, Date.now());
  return allowed ? null : Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/** A 429 with Retry-After, in the API's error shape. */
export function tooMany(retryAfterSeconds: number, message: string): ApiError {
  return new ApiError(429, 'rate_limited', `${message}; try again in ${retryAfterSeconds} s`, [], { 'retry-after': String(retryAfterSeconds) });
}

/** The counting key for a secret: a keyed hash, so the store never holds the secret itself. */
export const secretKey = (app: App, kind: string, secret: string) => `${kind}:${app.secrets.keyedHash(secret, `rate:${kind}`)}`;
