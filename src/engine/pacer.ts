/**
 * The request pace for one provider account, shared by every worker through the store's token
 * bucket (src/store/rate-limits.ts). An adapter's HTTP client asks before every request; a short
 * wait is waited out here, a long one (a 429's Retry-After, a drained bucket) becomes a
 * 'rate-limited' error so the engine reschedules that sync and the lane moves on.
 */
import { ProviderError, type RequestPacer } from '../providers/types.js';
import type { BucketPolicy, TokenBuckets } from '../store/rate-limits.js';

export interface AccountPacerOptions {
  buckets: TokenBuckets;
  /** The bucket: one per provider account, whichever integrations use it. */
  key: string;
  policy: BucketPolicy;
  provider: string;
  /** Waits longer than this are handed back to the engine. */
  maxWaitMs?: number;
  now?: () => number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class AccountPacer implements RequestPacer {
  private readonly maxWaitMs: number;
  private readonly now: () => number;

  constructor(private readonly o: AccountPacerOptions) {
    this.maxWaitMs = o.maxWaitMs ?? 5_000;
    this.now = o.now ?? Date.now;
  }

  async beforeRequest(): Promise<void> {
    const deadline = this.now() + this.maxWaitMs;
    for (;;) {
      const wait = await this.o.buckets.tryTake(this.o.key, this.o.policy, this.now());
      if (wait === 0) return;
      if (this.now() + wait > deadline) {
        throw new ProviderError('rate-limited', `${this.o.provider}: holding back to stay within the account's rate limit (${this.o.policy.perMinute}/min); next call in ${Math.ceil(wait / 1000)} s`, {
          retryAfterMs: wait,
        });
      }
      await sleep(wait);
    }
  }

  async rateLimited(retryAfterMs: number | undefined): Promise<void> {
    const now = this.now();
    // Without a Retry-After, hold the account back for one refill of the whole burst.
    const ms = retryAfterMs ?? Math.ceil((this.o.policy.burst * 60_000) / this.o.policy.perMinute);
    await this.o.buckets.block(this.o.key, now + ms, now);
  }
}

/** The pace for an integration: the admin's setting, else the provider's default; null means unpaced. */
export function pacePolicy(rateLimitPerMinute: number | null, providerDefault: { perMinute: number } | undefined): BucketPolicy | null {
  const perMinute = rateLimitPerMinute ?? providerDefault?.perMinute ?? 0;
  if (!(perMinute > 0)) return null;
  return { perMinute, burst: Math.max(1, Math.ceil(perMinute / 10)) };
}
