/**
 * The store's shared limits (src/store/rate-limits.ts) on both stores: a token bucket that two
 * "workers" (two separate store connections) drain together, a 429 block that holds for both, and
 * fixed-window counters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { TokenBuckets, WindowCounters } from '../../src/store/rate-limits.js';
import { createTestDatabase, storeKinds, type TestDatabase } from '../support/stores.js';

describe.each(storeKinds)('shared rate limits on %s', (kind) => {
  let database: TestDatabase;
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await database?.drop();
  });

  /** Two processes' worth of connections to one database. */
  const open = async (n: number) => {
    database = await createTestDatabase(kind);
    for (let i = 0; i < n; i++) {
      const s = openStore(database.url);
      await s.migrate();
      stores.push(s);
    }
    return stores.map((s) => new TokenBuckets(s.db, s.dialect));
  };

  it('a bucket lets a burst through, then paces at the rate, for all workers together', async () => {
    const [a, b] = await open(2);
    const policy = { perMinute: 60, burst: 3 }; // one a second after a burst of three
    const t0 = 1_000_000;
    // Six callers at the same instant, alternating between the two workers: only the burst goes.
    const waits = [];
    for (let i = 0; i < 6; i++) waits.push(await (i % 2 ? b! : a!).tryTake('acct-1', policy, t0));
    expect(waits.filter((w) => w === 0)).toHaveLength(3);
    expect(Math.min(...waits.filter((w) => w > 0))).toBeGreaterThan(0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1_000);
    // 1 s later one more token has dripped in, for whichever worker asks first.
    expect(await b!.tryTake('acct-1', policy, t0 + 1_000)).toBe(0);
    expect(await a!.tryTake('acct-1', policy, t0 + 1_000)).toBeGreaterThan(0);
    // Another account is not affected.
    expect(await a!.tryTake('acct-2', policy, t0 + 1_000)).toBe(0);
    // A long quiet spell refills to the burst, not beyond.
    let taken = 0;
    for (let i = 0; i < 10; i++) if ((await a!.tryTake('acct-1', policy, t0 + 3_600_000)) === 0) taken++;
    expect(taken).toBe(3);
  });

  it("a 429 blocks the account for every worker until its Retry-After, and only that account", async () => {
    const [a, b] = await open(2);
    const policy = { perMinute: 600, burst: 10 };
    const t0 = 5_000_000;
    expect(await a!.tryTake('acct-1', policy, t0)).toBe(0);
    await a!.block('acct-1', t0 + 30_000, t0);
    expect(await b!.tryTake('acct-1', policy, t0 + 1_000)).toBe(29_000);
    expect(await a!.tryTake('acct-2', policy, t0 + 1_000)).toBe(0);
    // A shorter block later does not shorten the longer one.
    await b!.block('acct-1', t0 + 10_000, t0 + 2_000);
    expect(await a!.tryTake('acct-1', policy, t0 + 20_000)).toBe(10_000);
    expect(await a!.tryTake('acct-1', policy, t0 + 30_000)).toBe(0);
  });

  it('concurrent takers never get more tokens than the bucket holds', async () => {
    const [a, b] = await open(2);
    const policy = { perMinute: 1, burst: 20 };
    const t0 = 9_000_000;
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? b! : a!).tryTake('acct-race', policy, t0)));
    expect(results.filter((w) => w === 0)).toHaveLength(20);
  });

  it('window counters allow the limit per window, then refuse until the next window', async () => {
    await open(2);
    const [c1, c2] = stores.map((s) => new WindowCounters(s.db));
    const limit = { limit: 3, windowMs: 60_000 };
    const t0 = 60_000 * 1_000;
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push(await (i % 2 ? c2! : c1!).hit('auth-fail:10.0.0.1', limit, t0 + i));
    expect(seen.map((s) => s.allowed)).toEqual([true, true, true, false, false]);
    expect(seen[4]!.retryAfterMs).toBe(60_000 - 4);
    expect((await c1!.hit('auth-fail:10.0.0.2', limit, t0)).allowed).toBe(true);
    expect(await c2!.hit('auth-fail:10.0.0.1', limit, t0 + 60_000)).toMatchObject({ allowed: true, count: 1 });
  });
});
