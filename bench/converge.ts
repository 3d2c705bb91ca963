/**
 * Lockstep convergence benchmark: how fast do N bookings written through the HTTP API become access
 * on a provider?
 *
 * One process runs the demo emulator, a fresh Lockstep (store + engine + API) and the client, all
 * talking real HTTP on random ports. It bootstraps an organisation through the API, writes N bookings
 * for M people with bounded concurrency, waits for the engine to go idle and prints what it measured.
 * It never asserts timings; it exits non-zero only when the provider does not end up holding what the
 * bookings asked for.
 *
 *   npx tsx bench/converge.ts [--bookings 10000] [--people 2000] [--store sqlite|postgres] [--concurrency 32]
 *
 * See bench/README.md for every option and what each figure means.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createApp, type App } from '../src/app.js';
import { buildServer } from '../src/api/server.js';
import { createApiKey } from '../src/api/auth.js';
import { providerModule } from '../src/providers/registry.js';
import { benchProviderKinds, startBenchProvider, type BenchProvider } from './providers.js';
import type { Api } from '../src/api/types.js';
import type { EngineLogger } from '../src/engine/runner.js';
import type { HeldAccess } from '../test/contract/fixture.js';
import { ApiClient, cpuShare, createTempStore, fmt, fmtInt, fmtMs, mib, MINUTE, percentile, planBookings, printTable, runBounded } from './lib.js';

/** Buffers set on the integration; the final check expects access from start-15 min to end+15 min. */
const BUFFER_MINUTES = 15;
const SPREAD_DAYS = 20;
/** Share of bookings that start exactly when an earlier booking of the same organiser ends. */
const BACK_TO_BACK_SHARE = 0.15;

// ---------------------------------------------------------------------------------------------------
// Options

interface Options {
  bookings: number;
  people: number;
  store: 'sqlite' | 'postgres';
  provider: string;
  concurrency: number;
  spaces: number;
  laneSize: number | undefined;
  seed: number;
  pgUrl: string;
  outDir: string;
  idleTimeoutMs: number;
  /** Diagnostic: start the engine only once every booking is written (API and engine measured apart). */
  engineAfterWrites: boolean;
}

const HELP = `Usage: npx tsx bench/converge.ts [options]      (or: npm run bench -- [options])

  -n, --bookings N       bookings to write                         env BENCH_BOOKINGS     default 10000
  -m, --people M         people (organisers)                        env BENCH_PEOPLE       default 2000
      --store KIND       sqlite (temp dir) or postgres (temp db)    env BENCH_STORE        default sqlite
      --provider KIND    demo, gallagher, nuki, seam (Seam's fake), seccloud, webhook
                                                                 env BENCH_PROVIDER     default demo
  -c, --concurrency C    concurrent API writes                      env BENCH_CONCURRENCY  default 32
      --spaces S         spaces, each mapped to front door + room   env BENCH_SPACES       default 4
      --lane-size L      engine laneSize (default: engine default)  env BENCH_LANE_SIZE
      --seed X           PRNG seed for the booking mix              env BENCH_SEED         default 1
      --pg-url URL       PostgreSQL server (admin db)               env BENCH_PG_URL       default postgres://postgres@127.0.0.1:5432/postgres
      --out DIR          where the markdown results row is appended env BENCH_OUT          default bench/out
      --idle-timeout S   give up waiting for convergence after S s  env BENCH_IDLE_TIMEOUT default 1800
      --engine-after-writes  diagnostic: start the engine only after the last write (API and engine
                         measured apart; latency then includes the wait)  env BENCH_ENGINE_AFTER_WRITES=1
  -h, --help
`;

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      bookings: { type: 'string', short: 'n' },
      people: { type: 'string', short: 'm' },
      store: { type: 'string' },
      provider: { type: 'string' },
      concurrency: { type: 'string', short: 'c' },
      spaces: { type: 'string' },
      'lane-size': { type: 'string' },
      seed: { type: 'string' },
      'pg-url': { type: 'string' },
      out: { type: 'string' },
      'idle-timeout': { type: 'string' },
      'engine-after-writes': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const env = process.env;
  const int = (name: string, raw: string | undefined, fallback: number | undefined, min = 1): number | undefined => {
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) fail(`${name} must be an integer >= ${min} (got "${raw}")`);
    return n;
  };
  const store = (values.store ?? env.BENCH_STORE ?? 'sqlite').toLowerCase();
  if (store !== 'sqlite' && store !== 'postgres') fail(`--store must be sqlite or postgres (got "${store}")`);
  const provider = (values.provider ?? env.BENCH_PROVIDER ?? 'demo').toLowerCase();
  if (!benchProviderKinds.includes(provider)) fail(`--provider must be one of ${benchProviderKinds.join(', ')} (got "${provider}")`);
  const here = path.dirname(fileURLToPath(import.meta.url));
  return {
    bookings: int('--bookings', values.bookings ?? env.BENCH_BOOKINGS, 10_000)!,
    people: int('--people', values.people ?? env.BENCH_PEOPLE, 2_000)!,
    store: store as Options['store'],
    provider: provider,
    concurrency: int('--concurrency', values.concurrency ?? env.BENCH_CONCURRENCY, 32)!,
    spaces: int('--spaces', values.spaces ?? env.BENCH_SPACES, 4)!,
    laneSize: int('--lane-size', values['lane-size'] ?? env.BENCH_LANE_SIZE, undefined),
    seed: int('--seed', values.seed ?? env.BENCH_SEED, 1, 0)!,
    pgUrl: values['pg-url'] ?? env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    outDir: path.resolve(values.out ?? env.BENCH_OUT ?? path.join(here, 'out')),
    idleTimeoutMs: int('--idle-timeout', values['idle-timeout'] ?? env.BENCH_IDLE_TIMEOUT, 1_800)! * 1000,
    engineAfterWrites: values['engine-after-writes'] ?? ['1', 'true', 'yes'].includes((env.BENCH_ENGINE_AFTER_WRITES ?? '').toLowerCase()),
  };
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const runStarted = performance.now();
  const opts = parseOptions();
  const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - runStarted) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);

  // Peak memory, sampled (maxRSS from the kernel is exact; heap has no high-water mark of its own).
  let peakHeap = 0;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 100);
  sampler.unref();

  // Sync observations and latency bookkeeping (filled once bookings are written).
  let syncs = 0;
  let bookingPhase = false;
  const personIndex = new Map<string, number>();
  /** Per person: bookings whose 201 arrived but no sync that started afterwards has finished yet. */
  const pending = new Map<number, { booking: number; sentAt: number; doneAt: number }[]>();
  /** Per person: every sync (start, end) during the booking phase, for the end-of-run audit. */
  const syncLog = new Map<number, { startedAt: number; at: number }[]>();
  let latency: Float64Array = new Float64Array(0);
  let resolved = 0;
  let engineWarnings = 0;
  let engineErrors = 0;
  const firstProblems: string[] = [];
  const engineLogger: EngineLogger = {
    info() {},
    warn(obj, msg) {
      engineWarnings++;
      if (firstProblems.length < 5) firstProblems.push(`warn: ${msg} ${JSON.stringify(obj)}`);
    },
    error(obj, msg) {
      engineErrors++;
      if (firstProblems.length < 5) firstProblems.push(`error: ${msg} ${String((obj as { err?: unknown }).err ?? JSON.stringify(obj))}`);
    },
  };
  const onSynced = (e: { personId: string; startedAt: number; at: number }) => {
    if (!bookingPhase) return;
    syncs++;
    const p = personIndex.get(e.personId);
    if (p === undefined) return;
    let seen = syncLog.get(p);
    if (!seen) syncLog.set(p, (seen = []));
    seen.push({ startedAt: e.startedAt, at: e.at });
    const list = pending.get(p);
    if (!list) return;
    // A sync that started after the 201 arrived loaded facts after the booking was committed: when it
    // finishes, the provider holds that booking's access.
    let kept = 0;
    for (const w of list) {
      if (w.doneAt <= e.startedAt) {
        latency[w.booking] = e.at - w.doneAt;
        resolved++;
      } else {
        list[kept++] = w;
      }
    }
    list.length = kept;
    if (kept === 0) pending.delete(p);
  };

  log(`creating ${opts.store} store`);
  const store = await createTempStore(opts.store, opts.pgUrl);
  let emulator: BenchProvider | null = null;
  let app: App | null = null;
  let server: Api | null = null;
  let client: ApiClient | null = null;
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await client?.close().catch(() => {});
      await server?.close().catch(() => {});
      await app?.close().catch(() => {});
      await emulator?.close().catch(() => {});
      await store.drop().catch((err) => log(`could not drop the temporary store: ${String(err)}`));
    })());
  // Ctrl-C still drops the temporary database / directory.
  process.once('SIGINT', () => {
    log('interrupted; cleaning up');
    void cleanup().finally(() => process.exit(130));
  });
  try {
    emulator = await startBenchProvider(opts.provider, opts.spaces);
    const capabilities = providerModule(emulator.kind)!.create({ baseUrl: emulator.baseUrl, credentials: emulator.credentials }).capabilities;

    app = await createApp({
      databaseUrl: store.url,
      secretKey: randomBytes(32).toString('hex'),
      engine: { driftCheckMs: 0, logger: engineLogger, onSynced, ...(opts.laneSize !== undefined ? { laneSize: opts.laneSize } : {}) },
    });
    server = await buildServer(app);
    const baseUrl = await server.listen({ port: 0, host: '127.0.0.1' });
    if (!opts.engineAfterWrites) await app.engine.start({ releaseStaleClaims: true });
    client = new ApiClient(baseUrl, opts.concurrency);
    const api = client;

    // --- Bootstrap through the API (the first platform key has no API: it is what the CLI creates).
    log(`bootstrapping on ${baseUrl} (provider ${emulator.kind} at ${emulator.baseUrl})`);
    const platform = (await createApiKey(app.store.db, app.secrets, { role: 'platform-admin', name: 'bench', organisationId: null, personId: null })).key;
    const org = await api.must('POST', '/v1/organisations', platform, { name: 'Benchmark venue' });
    const admin = (await api.must('POST', '/v1/api-keys', platform, { role: 'team-admin', name: 'bench admin', organisationId: org.id })).key as string;
    const location = await api.must('POST', '/v1/locations', admin, { name: 'HQ', timeZone: 'Europe/London' });
    const integration = await api.must('POST', '/v1/integrations', platform, {
      organisationId: org.id,
      kind: emulator.kind,
      name: 'Doors',
      baseUrl: emulator.baseUrl,
      credentials: emulator.credentials,
      bufferBeforeMinutes: BUFFER_MINUTES,
      bufferAfterMinutes: BUFFER_MINUTES,
      provisionAheadDays: 30,
    });
    const spaceIds: string[] = [];
    for (let s = 0; s < opts.spaces; s++) {
      const space = await api.must('POST', '/v1/spaces', admin, { locationId: location.id, name: `Room ${s + 1}`, kind: 'room' });
      for (const targetRef of emulator.targetsFor(s)) {
        await api.must('POST', '/v1/mappings', admin, { spaceId: space.id, integrationId: integration.id, targetRef });
      }
      spaceIds.push(space.id);
    }
    const personIds: string[] = new Array(opts.people);
    const peopleStarted = performance.now();
    await runBounded(opts.people, opts.concurrency, async (i) => {
      const p = await api.must('POST', '/v1/people', admin, { name: `Guest ${i + 1}`, email: `guest-${i + 1}@bench.example` });
      personIds[i] = p.id;
    });
    const peopleMs = performance.now() - peopleStarted;
    personIds.forEach((id, i) => personIndex.set(id, i));
    await app.engine.idle(opts.idleTimeoutMs);
    log(`created ${opts.people} people in ${fmtMs(peopleMs)}; writing ${opts.bookings} bookings with concurrency ${opts.concurrency}`);

    // --- Bookings
    const plan = planBookings({ ...opts, spreadDays: SPREAD_DAYS, backToBackShare: BACK_TO_BACK_SHARE }, Date.now());
    latency = new Float64Array(plan.length).fill(NaN);
    emulator.resetStats();
    const callsBefore = app.engine.providerCalls;
    const rssBefore = process.memoryUsage().rss;
    const loadBefore = os.loadavg()[0];
    const cpuBefore = process.cpuUsage();
    bookingPhase = true;
    let written = 0;
    let rejected = 0;
    let lastProgress = performance.now();
    const firstWrite = performance.now();
    await runBounded(plan.length, opts.concurrency, async (i) => {
      const b = plan[i];
      const sentAt = Date.now();
      const res = await api.call('POST', '/v1/bookings', admin, {
        spaceId: spaceIds[b.space],
        organiserId: personIds[b.person],
        start: new Date(b.startsAt).toISOString(),
        end: new Date(b.endsAt).toISOString(),
        title: `Bench ${i + 1}`,
        externalId: `bench-${i + 1}`,
      });
      const doneAt = Date.now();
      if (res.status !== 201) {
        rejected++;
        if (rejected <= 3) log(`booking ${i + 1} rejected: ${res.status} ${JSON.stringify(res.body)}`);
        return;
      }
      written++;
      let list = pending.get(b.person);
      if (!list) pending.set(b.person, (list = []));
      list.push({ booking: i, sentAt, doneAt });
      if (performance.now() - lastProgress > 5_000) {
        lastProgress = performance.now();
        log(`${written}/${plan.length} bookings written, ${resolved} confirmed on the provider`);
      }
    });
    const lastWrite = performance.now();
    const cpuWrites = process.cpuUsage(cpuBefore);
    log(`all bookings written in ${fmtMs(lastWrite - firstWrite)}; waiting for the engine to go idle`);
    if (opts.engineAfterWrites) await app.engine.start({ releaseStaleClaims: true });
    await app.engine.idle(opts.idleTimeoutMs);
    const converged = performance.now();
    const cpuAll = process.cpuUsage(cpuBefore);
    const loadAfter = os.loadavg()[0];
    bookingPhase = false;
    log('converged; checking what the provider holds');

    // --- Figures
    const stats = { requests: emulator.requests(), byRoute: emulator.byRoute() };
    const engineCalls = app.engine.providerCalls - callsBefore;
    const n = plan.length;
    const convergeMs = converged - firstWrite;
    const writeMs = lastWrite - firstWrite;

    // --- End-of-run audit
    const problems: string[] = [];
    if (rejected > 0) problems.push(`${rejected} booking writes were rejected by the API`);
    // Writes no sync *started after their 201* confirmed. That happens when a sync started between
    // the commit and the 201 reaching the client (it saw the booking) and no later sync ran for that
    // person. They count as confirmed only if such a sync exists and the provider holds the access.
    const straddling: number[] = [];
    for (const [p, list] of pending) {
      for (const w of list) {
        // The person's last sync saw every committed booking (a write during a sync re-queues it).
        const seen = syncLog.get(p) ?? [];
        const last = seen[seen.length - 1];
        if (last && last.startedAt >= w.sentAt) straddling.push(w.booking);
        else problems.push(`booking ${w.booking + 1} (person ${personIds[p]}): no sync of that person began after it was written`);
      }
    }
    // What the provider holds: every booking's window (with buffers) on each target its space maps to,
    // read from the peer itself. Pin-on-lock providers hold a person's code once per lock: only the
    // current or next window is on the lock, and later ones follow as earlier ones end.
    const held = new Map<number, HeldAccess[]>();
    const peopleWithBookings = new Set(plan.map((b) => b.person));
    await runBounded([...peopleWithBookings].length, 16, async (i) => {
      const p = [...peopleWithBookings][i];
      held.set(p, await emulator!.holdings({ id: personIds[p], name: `Guest ${p + 1}`, email: `guest-${p + 1}@bench.example` }));
    });
    let missingPeople = 0;
    for (const p of peopleWithBookings) if (!held.get(p)?.length) missingPeople++;
    if (missingPeople) problems.push(`${missingPeople} of ${peopleWithBookings.size} people with bookings hold no access on the provider`);
    let uncovered = 0;
    let deferred = 0;
    for (const b of plan) {
      const mine = held.get(b.person) ?? [];
      const from = b.startsAt - BUFFER_MINUTES * MINUTE;
      const until = b.endsAt + BUFFER_MINUTES * MINUTE;
      for (const target of emulator.targetsFor(b.space)) {
        const onTarget = mine.filter((g) => g.targetRef === target);
        if (onTarget.some((g) => g.from <= from && (g.until === null || g.until >= until))) continue;
        if (capabilities.pinOnLock && onTarget.some((g) => g.until !== null && g.until <= from)) deferred++;
        else uncovered++;
      }
    }
    if (uncovered) problems.push(`${uncovered} booking windows (booking × target) are not covered on the provider`);
    if (straddling.length && uncovered === 0) resolved += straddling.length;
    else if (straddling.length) problems.push(`${straddling.length} bookings were only seen by a sync that started before their 201, and the provider is missing access`);
    if (resolved !== written) problems.push(`only ${resolved} of ${written} written bookings were confirmed on the provider`);

    const measured = Array.from(latency).filter((x) => !Number.isNaN(x));
    const sorted = Float64Array.from(measured).sort();
    const usage = process.resourceUsage();
    const mem = process.memoryUsage();
    peakHeap = Math.max(peakHeap, mem.heapUsed);
    const cpus = os.cpus();
    const runMs = performance.now() - runStarted;
    const backToBack = plan.filter((b) => b.backToBack).length;

    const figures = {
      bookingsPerSecConverge: n / (convergeMs / 1000),
      apiWritesPerSec: written / (writeMs / 1000),
      convergeMs,
      writeMs,
      tailMs: converged - lastWrite,
      providerCallsPerBooking: stats.requests / n,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : NaN,
      peakRssMiB: usage.maxRSS / 1024,
      heapUsedMiB: mib(mem.heapUsed),
      peakHeapMiB: mib(peakHeap),
    };

    printTable('Lockstep convergence benchmark (bench/converge.ts)', [
      ['bookings (N)', `${fmtInt(n)} (${fmtInt(backToBack)} back-to-back)`],
      ['people (M)', fmtInt(opts.people)],
      ['spaces', `${opts.spaces} (front door + a room each)`],
      ['store', opts.store],
      ['provider', `${emulator.kind} (${emulator.kind === 'seam' ? "Seam's own fake" : 'emulator'}, real HTTP)`],
      ...(deferred ? [['windows queued behind an earlier one (one code per lock)', fmtInt(deferred)] as [string, string]] : []),
      ['API write concurrency', String(opts.concurrency)],
      ['engine lane size', opts.laneSize === undefined ? 'default (32)' : String(opts.laneSize)],
      ...(opts.engineAfterWrites ? [['engine started', 'after the last write (diagnostic)'] as [string, string]] : []),
      ['node', process.version],
      ['CPUs', `${os.availableParallelism?.() ?? cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}`],
      ['load average (1 min) before / after', `${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)}`],
      ['', ''],
      ['bookings/s to converge', fmt(figures.bookingsPerSecConverge)],
      ['  time to converge', fmtMs(convergeMs)],
      ['API write throughput (bookings/s)', fmt(figures.apiWritesPerSec)],
      ['  time to write all', fmtMs(writeMs)],
      ['  converge tail after last write', fmtMs(figures.tailMs)],
      ['provider calls per booking', fmt(figures.providerCallsPerBooking, 2)],
      ['  provider requests (emulator)', fmtInt(stats.requests)],
      ['  provider calls (engine count)', fmtInt(engineCalls)],
      ['  syncs (person reconciles)', `${fmtInt(syncs)} (${fmt(syncs / Math.max(1, peopleWithBookings.size), 2)} per person)`],
      ['write→access latency p50', fmtMs(figures.p50)],
      ['write→access latency p99', fmtMs(figures.p99)],
      ['write→access latency max', fmtMs(figures.max)],
      ['  latencies measured', `${fmtInt(sorted.length)} of ${fmtInt(written)}${straddling.length ? ` (+${straddling.length} seen before their 201)` : ''}`],
      ['peak RSS (maxRSS)', `${fmt(figures.peakRssMiB)} MiB`],
      ['heap used (end / peak sampled)', `${fmt(figures.heapUsedMiB)} / ${fmt(figures.peakHeapMiB)} MiB`],
      ['  RSS before bookings', `${fmt(mib(rssBefore))} MiB`],
      ['process CPU while writing', cpuShare(cpuWrites, writeMs)],
      ['process CPU, last write → idle', cpuShare({ user: cpuAll.user - cpuWrites.user, system: cpuAll.system - cpuWrites.system }, figures.tailMs)],
      ['process CPU, first write → idle', cpuShare(cpuAll, convergeMs)],
      ['engine warnings / errors', `${engineWarnings} / ${engineErrors}`],
      ['total run time', fmtMs(runMs)],
    ]);
    if (stats.byRoute) {
      const routes = Object.entries(stats.byRoute).sort((a, b) => b[1] - a[1]);
      printTable('Provider requests by route', routes.map(([route, count]) => [route, `${fmtInt(count)}  (${fmt(count / n, 3)}/booking)`]));
    }
    for (const p of firstProblems) log(`engine ${p}`);

    // Markdown row for bench/out/ (gitignored).
    fs.mkdirSync(opts.outDir, { recursive: true });
    const mdFile = path.join(opts.outDir, 'converge.md');
    const header =
      '| date | provider | N | M | store | conc. | lane | node | CPUs | converge bk/s | API bk/s | calls/bk | p50 ms | p99 ms | max ms | peak RSS MiB | heap MiB | load | run s | ok |\n' +
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';
    const row = `| ${new Date().toISOString().slice(0, 16)}Z | ${emulator.kind} | ${n} | ${opts.people} | ${opts.store} | ${opts.concurrency} | ${opts.laneSize ?? 'default'}${opts.engineAfterWrites ? ' (after writes)' : ''} | ${process.version} | ${os.availableParallelism?.() ?? cpus.length} | ${figures.bookingsPerSecConverge.toFixed(1)} | ${figures.apiWritesPerSec.toFixed(1)} | ${figures.providerCallsPerBooking.toFixed(2)} | ${Math.round(figures.p50)} | ${Math.round(figures.p99)} | ${Math.round(figures.max)} | ${figures.peakRssMiB.toFixed(0)} | ${figures.heapUsedMiB.toFixed(0)} | ${loadBefore.toFixed(1)} | ${(runMs / 1000).toFixed(1)} | ${problems.length ? 'NO' : 'yes'} |\n`;
    if (!fs.existsSync(mdFile)) fs.writeFileSync(mdFile, header);
    fs.appendFileSync(mdFile, row);
    log(`results row appended to ${path.relative(process.cwd(), mdFile)}`);

    if (problems.length) {
      process.stderr.write(`\nWARNING: the provider did not end up holding what the bookings asked for:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return 1;
    }
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
