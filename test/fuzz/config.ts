/**
 * Knobs of the fuzz suite, all from the environment so the CI default stays small and fixed:
 *
 *   FUZZ_SEED=<int>        base seed (default 20261201); each property derives its own from it and its name
 *   FUZZ_RUNS=<int>        runs per property on SQLite (default: see each file); PostgreSQL gets a quarter
 *   FUZZ_PG_RUNS=<int>     runs per property on PostgreSQL (overrides the quarter)
 *   FUZZ_KNOWN_BUGS=1      also generate the inputs of the open bugs in known-bugs.ts and run their reproductions (they fail)
 *   FUZZ_NO_SHRINK=1       report the first failure as generated, without shrinking it
 *   FUZZ_DEBUG=1           print every refused valid body and the store's table sizes (tuning the generators)
 *
 * A failure prints the base seed, the property's own seed and fast-check's replay path, e.g.
 *   FUZZ_SEED=20261201 npx vitest run test/fuzz/api-writes.test.ts -t "POST /v1/bookings"
 * Properties of one file share a store (state carries from one endpoint to the next, like in
 * production), so replay the whole file, or the same -t filter, with the printed seed.
 */
import fc from 'fast-check';
import type { StoreKind } from '../support/stores.js';

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer (got ${JSON.stringify(raw)})`);
  return n;
}

export const BASE_SEED = envInt('FUZZ_SEED') ?? 20261201;
export const KNOWN_BUGS = process.env.FUZZ_KNOWN_BUGS === '1';
const RUNS = envInt('FUZZ_RUNS');
const PG_RUNS = envInt('FUZZ_PG_RUNS');
const NO_SHRINK = process.env.FUZZ_NO_SHRINK === '1';

/**
 * Runs of one property: `share` × (FUZZ_RUNS, else `sqliteDefault`) on SQLite, a quarter of that (at
 * least 3) on PostgreSQL unless FUZZ_PG_RUNS says otherwise (also scaled by `share`).
 */
export function numRuns(kind: StoreKind, sqliteDefault: number, share = 1): number {
  const sqlite = Math.max(1, Math.ceil((RUNS ?? sqliteDefault) * share));
  if (kind === 'sqlite') return sqlite;
  return PG_RUNS !== undefined ? Math.max(1, Math.ceil(PG_RUNS * share)) : Math.max(3, Math.ceil(sqlite / 4));
}

/** FNV-1a of the property name mixed with the base seed: properties do not share random streams. */
export function propertySeed(name: string): number {
  let h = 0x811c9dc5 ^ BASE_SEED;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** Upper bound for one request; a request that takes longer is reported as hung. */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * fc.assert with the suite's seed; on failure the error starts with everything needed to replay it.
 */
export async function assertProperty<T>(name: string, kind: StoreKind, property: fc.IAsyncPropertyWithHooks<T>, runs: number, examples: T[] = []): Promise<void> {
  const seed = propertySeed(`${kind}:${name}`);
  try {
    // `examples` (the known bugs' reproductions, FUZZ_KNOWN_BUGS=1 only) run before the random inputs.
    await fc.assert(property, { seed, numRuns: runs, endOnFailure: NO_SHRINK, timeout: 4 * REQUEST_TIMEOUT_MS, examples });
  } catch (err) {
    const e = err as Error;
    e.message =
      `fuzz property "${name}" on ${kind} failed (FUZZ_SEED=${BASE_SEED}, property seed ${seed}, ${runs} runs).\n` +
      `Replay: FUZZ_SEED=${BASE_SEED}${RUNS !== undefined ? ` FUZZ_RUNS=${RUNS}` : ''}${PG_RUNS !== undefined ? ` FUZZ_PG_RUNS=${PG_RUNS}` : ''} npx vitest run test/fuzz -t ${JSON.stringify(name)}\n\n` +
      e.message;
    throw e;
  }
}
