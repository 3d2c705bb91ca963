/**
 * Exponential back-off with jitter. Jitter spreads retries of many failed items (or many workers)
 * so a provider that comes back is not hit by a synchronized wave.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 1_000, maxMs: 15 * 60_000 };

/** Delay before retry number `attempt` (1 = first retry): half fixed, half random ("equal jitter"). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = defaultBackoff, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
