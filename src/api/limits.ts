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

export { loadLimits, type Limits } from '../security/limits.js';


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
