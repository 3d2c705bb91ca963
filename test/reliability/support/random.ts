/**
 * Seeded randomness for the reliability tests. Every random choice a test makes (which booking to
 * move, which request fails, when the provider goes down, where the process is killed) comes from one
 * seed, printed at the start and attached to any failure, so a failing run can be replayed:
 *
 *   LOCKSTEP_SEED=123456789 npx vitest run test/reliability/<file>
 *
 * Timing still varies between runs (real HTTP, real processes), so a replay walks the same plan of
 * operations and faults, not the same interleaving.
 */

export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** `n` distinct items (fewer if there are not that many). */
  sample<T>(items: readonly T[], n: number): T[];
  /** An independent stream derived from this one (so adding a draw in one place does not shift another). */
  fork(label: string): Rng;
}

/** mulberry32: small, fast, good enough for test plans. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const self: Rng = {
    seed: seed >>> 0,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)];
    },
    sample: (items, n) => {
      const pool = [...items];
      const out: (typeof items)[number][] = [];
      while (out.length < n && pool.length) out.push(pool.splice(Math.floor(next() * pool.length), 1)[0]);
      return out;
    },
    fork: (label) => {
      let h = seed >>> 0;
      for (const c of label) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
      return rng(h ^ Math.floor(next() * 4294967296));
    },
  };
  return self;
}

/** LOCKSTEP_SEED if set (to replay a failure), else a fresh random seed. */
export function seedFromEnv(): number {
  const raw = process.env.LOCKSTEP_SEED;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`LOCKSTEP_SEED must be an integer 0..4294967295, got "${raw}"`);
    return n;
  }
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}

/** Soak variants run only with LOCKSTEP_SOAK=1 (and are not registered at all otherwise). */
export const SOAK = process.env.LOCKSTEP_SOAK === '1';

/**
 * Runs a test body with a seed: prints it first, and puts it (with the replay command) in front of
 * any failure's message.
 */
export async function withSeed<T>(label: string, file: string, fn: (r: Rng) => Promise<T>): Promise<T> {
  const seed = seedFromEnv();
  const replay = `LOCKSTEP_SEED=${seed}${SOAK ? ' LOCKSTEP_SOAK=1' : ''} npx vitest run ${file}`;
  console.log(`[reliability] ${label}: seed ${seed} (replay: ${replay})`);
  try {
    return await fn(rng(seed));
  } catch (err) {
    const prefix = `[${label}; seed ${seed}; replay: ${replay}] `;
    if (err instanceof Error) {
      err.message = prefix + err.message;
      throw err;
    }
    throw new Error(prefix + String(err));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
