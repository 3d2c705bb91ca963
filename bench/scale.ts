/**
 * Scale-out benchmarks (issue 6): Lockstep runs as real processes — the CLI's `start`, one process
 * with `--role all` on SQLite, or one API node plus W `--role worker` processes on PostgreSQL — against
 * the demo emulator in this process, over real HTTP. Prints tables and JSON; never asserts timings.
 *
 *   npx tsx bench/scale.ts                       # everything: SQLite, PostgreSQL × 1, 2, 4 workers
 *   npx tsx bench/scale.ts --configs pg:2 -n 20000 -m 4000 --spaces 100 --rate 200 --duration 30
 *
 * Per configuration it measures:
 * 1. throughput: N bookings for M people over S spaces, written as fast as C concurrent clients go,
 *    until the provider holds every one; bookings/s, provider calls per booking, and calls made ÷ the
 *    minimum the provider's API needs for the same access (target 1.00);
 * 2. latency: writes at R/s for D seconds (open loop: the schedule does not wait for answers), each
 *    from sending the write until the provider holds its access, p50/p95/p99; it starts once the
 *    notifier has caught up with the throughput phase's confirmations;
 * 3. memory: peak RSS of every Lockstep process (VmHWM) with N bookings active;
 * 4. engine overhead: time to converge ÷ time for the bare SQL writes of the same rows, in one run.
 * See bench/README.md and bench/RESULTS.md.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createApp } from '../src/app.js';
import { createApiKey } from '../src/api/auth.js';
import { openStore, type Store } from '../src/store/db.js';
import { newId } from '../src/store/ids.js';
import { startDemoEmulator, type DemoEmulator } from '../src/providers/demo/emulator.js';
import { ApiClient, createTempStore, describeMachine, fmt, fmtInt, fmtMs, mergeWindows, MINUTE, percentile, planBookings, printTable, runBounded, type PlannedBooking, type TempStore } from './lib.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUFFER = 15 * MINUTE;
const PROVIDER_KEY = 'bench-key';

interface Options {
  configs: Config[];
  bookings: number;
  people: number;
  spaces: number;
  concurrency: number;
  rate: number;
  durationS: number;
  seed: number;
  pgUrl: string;
  json: string | null;
  timeoutMs: number;
  /** Added to every request the emulator answers (its latency fault): a real provider's round trip. */
  providerLatencyMs: number;
  /** LOCKSTEP_LANE_SIZE for every Lockstep process; null: the engine's default. */
  laneSize: number | null;
}

interface Config {
  store: 'sqlite' | 'postgres';
  workers: number;
  label: string;
}

const HELP = `Usage: npx tsx bench/scale.ts [options]

  --configs LIST       comma-separated: sqlite, pg:W (W worker processes + 1 API node)
                                                          default sqlite,pg:1,pg:2,pg:4
  -n, --bookings N     throughput bookings                default 100000
  -m, --people M       people                             default 20000
      --spaces S       spaces (each: front door + own room) default 500
  -c, --concurrency C  concurrent writers (throughput)    default 32
      --rate R         writes per second (latency)        default 200
      --duration D     seconds of writes (latency)        default 60
      --seed X         booking mix seed                   default 1
      --pg-url URL     PostgreSQL admin URL               default postgres://postgres@127.0.0.1:5432/postgres
      --json FILE      also write every figure as JSON to FILE
      --timeout S      give up on one phase after S seconds default 3600
      --provider-latency MS  every provider request takes MS longer (emulator fault) default 0
      --lane-size L    concurrent syncs per integration per process (LOCKSTEP_LANE_SIZE)
                                                          default: the engine's
`;

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      configs: { type: 'string' },
      bookings: { type: 'string', short: 'n' },
      people: { type: 'string', short: 'm' },
      spaces: { type: 'string' },
      concurrency: { type: 'string', short: 'c' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      'pg-url': { type: 'string' },
      json: { type: 'string' },
      timeout: { type: 'string' },
      'provider-latency': { type: 'string' },
      'lane-size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, fallback: number, min = 1) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) fail(`${name} must be a whole number >= ${min} (got "${raw}")`);
    return n;
  };
  const configs = (values.configs ?? 'sqlite,pg:1,pg:2,pg:4').split(',').map((c): Config => {
    const t = c.trim();
    if (t === 'sqlite') return { store: 'sqlite', workers: 1, label: 'SQLite, 1 process' };
    const m = /^pg:(\d+)$/.exec(t);
    if (!m || Number(m[1]) < 1) fail(`--configs: "${t}" is not sqlite or pg:<workers>`);
    const w = Number(m[1]);
    return { store: 'postgres', workers: w, label: `PostgreSQL, 1 API + ${w} worker${w > 1 ? 's' : ''}` };
  });
  return {
    configs,
    bookings: int('--bookings', values.bookings, 100_000),
    people: int('--people', values.people, 20_000),
    spaces: int('--spaces', values.spaces, 500),
    concurrency: int('--concurrency', values.concurrency, 32),
    rate: int('--rate', values.rate, 200),
    durationS: int('--duration', values.duration, 60),
    seed: int('--seed', values.seed, 1),
    pgUrl: values['pg-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    json: values.json ?? null,
    timeoutMs: int('--timeout', values.timeout, 3600) * 1000,
    providerLatencyMs: int('--provider-latency', values['provider-latency'], 0, 0),
    laneSize: values['lane-size'] === undefined ? null : int('--lane-size', values['lane-size'], 1),
  };
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const t0 = performance.now();
const log = (msg: string) => process.stderr.write(`[scale ${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// Lockstep processes

interface Proc {
  role: string;
  child: ChildProcess;
  tail: string[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Every Lockstep process still running: killed if the benchmark itself is stopped or crashes. */
const started = new Set<ChildProcess>();
const killStarted = () => {
  for (const c of started) c.kill('SIGKILL');
};
process.once('exit', killStarted);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killStarted();
    process.exit(130);
  });
}

function startProcess(role: 'all' | 'api' | 'worker', env: Record<string, string>, port: number): Promise<Proc> {
  // The compiled CLI (main() builds it first), as a deployment runs it.
  const nodeArgs = [
    ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []),
    // Any other Node flags for the Lockstep processes (say --trace-gc, or --heapsnapshot-signal=SIGUSR2).
    ...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(/\s+/).filter(Boolean) : []),
  ];
  const child = spawn(process.execPath, [...nodeArgs, 'bin/lockstep.js', 'start', '--role', role, '--port', String(port)], {
    cwd: root,
    env: { ...process.env, ...env, LOCKSTEP_LOG_LEVEL: role === 'worker' ? 'info' : 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = { role, child, tail: [] };
  started.add(child);
  child.once('exit', () => started.delete(child));
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) proc.tail.push(line.slice(0, 400));
    if (proc.tail.length > 40) proc.tail.splice(0, proc.tail.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} process did not start:\n${proc.tail.join('\n')}`)), 60_000);
    const exited = (code: number | null) => reject(new Error(`${role} process exited (${code}):\n${proc.tail.join('\n')}`));
    child.once('exit', exited);
    const ready = () => {
      clearTimeout(timer);
      child.off('exit', exited);
      resolve(proc);
    };
    if (role === 'worker') {
      const watch = () => {
        if (proc.tail.some((l) => l.includes('Lockstep worker running'))) ready();
        else setTimeout(watch, 50);
      };
      watch();
    } else {
      const poll = async () => {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return ready();
        } catch {
          /* not up yet */
        }
        setTimeout(() => void poll(), 100);
      };
      void poll();
    }
  });
}

/** Peak and current resident memory of a process, from /proc (Linux). */
function memoryOf(pid: number): { peakMiB: number; rssMiB: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
  } catch {
    return { peakMiB: NaN, rssMiB: NaN };
  }
}

/**
 * The highest resident memory of all Lockstep processes together in each phase, sampled every
 * 250 ms: VmHWM alone cannot tell a peak under the write burst from what N active bookings hold.
 */
class MemoryByPhase {
  readonly peaks: Record<string, number> = {};
  private phase = 'setup';
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: () => number[]) {
    this.timer = setInterval(() => this.sample(), 250);
  }
  enter(phase: string): void {
    this.sample();
    this.phase = phase;
  }
  sample(): void {
    const total = this.pids().reduce((sum, pid) => sum + memoryOf(pid).rssMiB, 0);
    if (Number.isFinite(total) && total > (this.peaks[this.phase] ?? 0)) this.peaks[this.phase] = total;
  }
  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null) return resolve();
          const asked = Date.now();
          p.child.once('exit', (code, signal) => {
            if (signal === 'SIGKILL') log(`${p.role} process (pid ${p.child.pid}) did not stop within 30 s of SIGTERM and was killed`);
            else if (Date.now() - asked > 2_000) log(`${p.role} process (pid ${p.child.pid}) took ${fmtMs(Date.now() - asked)} to stop`);
            resolve();
          });
          p.child.kill('SIGTERM');
          // Generous: a CPU profile (BENCH_CPU_PROF) is written on the way out.
          setTimeout(() => p.child.kill('SIGKILL'), 30_000).unref();
        }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------
// What the provider holds, watched from inside the emulator

/**
 * Tracks, per booking, when the provider first holds its access: a membership on each of its space's
 * targets covering start − 15 min … end + 15 min. The emulator reports every write to a user.
 */
class HeldTracker {
  private readonly pending = new Map<string, { booking: number; sentAt: number }[]>();
  readonly heldAt: Float64Array;
  held = 0;

  constructor(
    private readonly emu: () => DemoEmulator,
    private readonly plan: PlannedBooking[],
    private readonly personIds: string[],
    private readonly targetsFor: (space: number) => string[],
  ) {
    this.heldAt = new Float64Array(plan.length).fill(NaN);
  }

  /** Call just before the write is sent (the provider may hold it before the 201 comes back). */
  expect(booking: number, sentAt: number): void {
    const key = `lockstep-${this.personIds[this.plan[booking]!.person]}`;
    const list = this.pending.get(key);
    if (list) list.push({ booking, sentAt });
    else this.pending.set(key, [{ booking, sentAt }]);
    this.check(key); // an earlier booking's window may already cover it
  }

  /** The write was refused: stop waiting for it. */
  forget(booking: number): void {
    const key = `lockstep-${this.personIds[this.plan[booking]!.person]}`;
    const list = this.pending.get(key);
    if (list) this.pending.set(key, list.filter((w) => w.booking !== booking));
  }

  check(externalId: string): void {
    const list = this.pending.get(externalId);
    if (!list?.length) return;
    const user = this.emu().state.userByExternalId(externalId);
    if (!user) return;
    const memberships = this.emu().state.memberships(user.id).map((m) => ({ group: m.accessGroupId, from: Date.parse(m.from), until: m.until === null ? Infinity : Date.parse(m.until) }));
    const now = Date.now();
    let kept = 0;
    for (const w of list) {
      const b = this.plan[w.booking]!;
      const from = b.startsAt - BUFFER;
      const until = b.endsAt + BUFFER;
      const covered = this.targetsFor(b.space).every((t) => memberships.some((m) => m.group === t && m.from <= from && m.until >= until));
      if (covered) {
        this.heldAt[w.booking] = now;
        this.held++;
      } else {
        list[kept++] = w;
      }
    }
    list.length = kept;
  }
}

/** Calls the demo API needs for this plan: per person a user and a PIN (two calls), per person × door × merged window one membership. */
function minimumCalls(plan: PlannedBooking[], targetsFor: (space: number) => string[]): { users: number; grants: number; total: number } {
  const windows = new Map<string, [number, number][]>();
  for (const b of plan) {
    for (const t of targetsFor(b.space)) {
      const key = `${b.person}|${t}`;
      const list = windows.get(key);
      const w: [number, number] = [b.startsAt - BUFFER, b.endsAt + BUFFER];
      if (list) list.push(w);
      else windows.set(key, [w]);
    }
  }
  let grants = 0;
  for (const list of windows.values()) grants += mergeWindows(list).length;
  const users = new Set(plan.map((b) => b.person)).size;
  return { users, grants, total: 2 * users + grants };
}

// ---------------------------------------------------------------------------------------------------
// One configuration

interface Result {
  config: string;
  store: string;
  workers: number;
  throughput: {
    bookings: number;
    people: number;
    spaces: number;
    convergeMs: number;
    /** After convergence, until the notifier had queued every confirmation (then the latency phase starts). */
    notifierCatchUpMs: number;
    bookingsPerSecond: number;
    apiWritesPerSecond: number;
    providerCalls: number;
    providerCallsPerBooking: number;
    minimumCalls: number;
    callsToMinimum: number;
    byRoute: Record<string, number>;
  };
  latency: { rate: number; seconds: number; writes: number; achievedRate: number; p50: number; p95: number; p99: number; max: number; drainMs: number };
  memory: {
    activeBookings: number;
    processes: { role: string; peakMiB: number; rssMiB: number }[];
    totalPeakMiB: number;
    /** Highest RSS of all processes together per phase: writes, drain (engine catching up), at rest, latency. */
    peakByPhaseMiB: Record<string, number>;
  };
  overhead: { floorMs: number; floorRows: number; batchedFloorMs: number; convergeMs: number; ratio: number; batchedRatio: number };
}

async function runConfig(opts: Options, config: Config): Promise<Result> {
  log(`=== ${config.label}`);
  const store = await createTempStore(config.store, opts.pgUrl);
  const secret = randomBytes(32).toString('hex');
  const procs: Proc[] = [];
  let emulator: DemoEmulator | null = null;
  let reader: Store | null = null;
  let client: ApiClient | null = null;
  let tracker: HeldTracker | null = null;
  const phases = new MemoryByPhase(() => procs.map((p) => p.child.pid!));
  try {
    const rooms = Array.from({ length: opts.spaces }, (_, i) => ({ id: `ag-room-${i + 1}`, name: `Room ${i + 1}`, description: 'Benchmark room' }));
    emulator = await startDemoEmulator({
      port: 0,
      apiKey: PROVIDER_KEY,
      accessGroups: [{ id: 'ag-front-door', name: 'Front door', description: 'Street entrance' }, ...rooms],
      onUserChange: (externalId) => tracker?.check(externalId),
    });
    if (opts.providerLatencyMs > 0) emulator.faults.add({ fault: { kind: 'latency', ms: opts.providerLatencyMs } });
    const targetsFor = (space: number) => ['ag-front-door', rooms[space]!.id];

    // Schema and the first platform key (the CLI's job), before any Lockstep process starts.
    const boot = await createApp({ databaseUrl: store.url, secretKey: secret });
    const platform = (await createApiKey(boot.store.db, boot.secrets, { role: 'platform-admin', name: 'bench', organisationId: null, personId: null })).key;
    await boot.close();

    const env = {
      LOCKSTEP_DATABASE_URL: store.url,
      LOCKSTEP_SECRET_KEY: secret,
      LOCKSTEP_DRIFT_CHECK_MINUTES: '0',
      ...(opts.laneSize !== null ? { LOCKSTEP_LANE_SIZE: String(opts.laneSize) } : {}),
      LOCKSTEP_AUTH_FAILURES_PER_MINUTE: '1000000',
    };
    const port = await freePort();
    if (config.store === 'sqlite') {
      procs.push(await startProcess('all', env, port));
    } else {
      procs.push(await startProcess('api', env, port));
      for (let w = 0; w < config.workers; w++) procs.push(await startProcess('worker', env, await freePort()));
    }
    log(`${procs.map((p) => p.role).join(' + ')} started (pids ${procs.map((p) => p.child.pid).join(', ')})`);
    reader = openStore(store.url);
    client = new ApiClient(`http://127.0.0.1:${port}`, Math.max(opts.concurrency, 64));
    const api = client;

    // --- Venue, through the API.
    const org = await api.must('POST', '/v1/organisations', platform, { name: 'Benchmark venue' });
    const admin = (await api.must('POST', '/v1/api-keys', platform, { role: 'team-admin', name: 'bench admin', organisationId: org.id })).key as string;
    const location = await api.must('POST', '/v1/locations', admin, { name: 'HQ', timeZone: 'Europe/London' });
    const integration = await api.must('POST', '/v1/integrations', platform, {
      organisationId: org.id,
      kind: 'demo',
      name: 'Doors',
      baseUrl: emulator.url,
      credentials: { apiKey: PROVIDER_KEY },
      bufferBeforeMinutes: 15,
      bufferAfterMinutes: 15,
      provisionAheadDays: 30,
    });
    const spaceIds: string[] = new Array(opts.spaces);
    await runBounded(opts.spaces, 8, async (s) => {
      const space = await api.must('POST', '/v1/spaces', admin, { locationId: location.id, name: `Room ${s + 1}`, kind: 'room' });
      for (const targetRef of targetsFor(s)) await api.must('POST', '/v1/mappings', admin, { spaceId: space.id, integrationId: integration.id, targetRef, skipTargetCheck: true });
      spaceIds[s] = space.id;
    });
    const personIds: string[] = new Array(opts.people);
    await runBounded(opts.people, opts.concurrency, async (i) => {
      personIds[i] = (await api.must('POST', '/v1/people', admin, { name: `Guest ${i + 1}`, email: `guest-${i + 1}@bench.example` })).id;
    });
    log(`venue ready: ${opts.spaces} spaces, ${opts.people} people`);

    const unsettled = async () => {
      const now = Date.now();
      const row = await reader!.db
        .selectFrom('syncWork')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where((eb) => eb.or([eb('dueAt', '<=', now), eb('lastError', 'is not', null), eb('claimedBy', 'is not', null)]))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    };
    const settle = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + opts.timeoutMs;
      let quiet = 0;
      let last = 0;
      while (quiet < 3) {
        if (Date.now() > deadline) throw new Error(`${what}: not converged after ${opts.timeoutMs / 1000} s (${tracker?.held ?? 0} held)`);
        quiet = done() && (await unsettled()) === 0 ? quiet + 1 : 0;
        if (Date.now() - last > 10_000) {
          last = Date.now();
          log(`${what}: ${fmtInt(tracker?.held ?? 0)} bookings held on the provider`);
        }
        await sleep(100);
      }
    };

    // --- 1. Throughput.
    const plan = planBookings({ bookings: opts.bookings, people: opts.people, spaces: opts.spaces, seed: opts.seed, spreadDays: 20, backToBackShare: 0.15 }, Date.now());
    tracker = new HeldTracker(() => emulator!, plan, personIds, targetsFor);
    const track = tracker;
    emulator.resetStats();
    let rejected = 0;
    phases.enter('writes');
    const tStart = performance.now();
    const wallStart = Date.now();
    await runBounded(plan.length, opts.concurrency, async (i) => {
      const b = plan[i]!;
      track.expect(i, Date.now());
      const res = await api.call('POST', '/v1/bookings', admin, { spaceId: spaceIds[b.space], organiserId: personIds[b.person], start: new Date(b.startsAt).toISOString(), end: new Date(b.endsAt).toISOString() });
      if (res.status !== 201) {
        rejected++;
        track.forget(i);
        if (rejected <= 3) log(`booking ${i} rejected: ${res.status} ${JSON.stringify(res.body)}`);
      }
    });
    const writeMs = performance.now() - tStart;
    log(`throughput: ${fmtInt(plan.length)} bookings written in ${fmtMs(writeMs)}`);
    phases.enter('drain');
    await settle(() => track.held === plan.length - rejected, 'throughput');
    const convergeMs = Math.max(...Array.from(track.heldAt).filter((x) => !Number.isNaN(x))) - wallStart;
    const stats = emulator.stats();
    const minimum = minimumCalls(plan, targetsFor);

    // The notifier confirms each booking once the provider holds it, so it finishes after the engine.
    // Let it catch up (no new confirmation for 1.5 s) before the latency phase, which then measures
    // a steady write rate on a settled system, not the drain of thousands of queued confirmations.
    const notifierStart = Date.now();
    let lastChange = notifierStart;
    for (let last = -1; Date.now() - lastChange < 1_500 && Date.now() - notifierStart < opts.timeoutMs; await sleep(500)) {
      const row = await reader.db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      const n = Number(row?.n ?? 0);
      if (n !== last) [last, lastChange] = [n, Date.now()];
    }
    const notifierCatchUpMs = lastChange - notifierStart;
    log(`notifier caught up ${fmtMs(notifierCatchUpMs)} after the provider held every booking`);

    // --- 3. Memory, with every throughput booking active.
    phases.enter('at rest');
    await sleep(2_000);
    const memory = procs.map((p) => ({ role: p.role, ...memoryOf(p.child.pid!) }));
    phases.enter('latency');

    // --- 2. Latency at a steady write rate (more bookings for new people slots, same venue).
    const latencyPlan = planBookings({ bookings: opts.rate * opts.durationS, people: opts.people, spaces: opts.spaces, seed: opts.seed + 1, spreadDays: 20, backToBackShare: 0.15 }, Date.now());
    tracker = new HeldTracker(() => emulator!, latencyPlan, personIds, targetsFor);
    const lat = tracker;
    const sentAt = new Float64Array(latencyPlan.length).fill(NaN);
    const inflight = new Set<Promise<void>>();
    const latStart = Date.now();
    let latRejected = 0;
    for (let i = 0; i < latencyPlan.length; i++) {
      const due = latStart + (i * 1000) / opts.rate;
      const wait = due - Date.now();
      if (wait > 1) await sleep(wait);
      const b = latencyPlan[i]!;
      sentAt[i] = Date.now();
      lat.expect(i, sentAt[i]!);
      const p = api
        .call('POST', '/v1/bookings', admin, { spaceId: spaceIds[b.space], organiserId: personIds[b.person], start: new Date(b.startsAt).toISOString(), end: new Date(b.endsAt).toISOString() })
        .then((res) => {
          if (res.status !== 201) {
            latRejected++;
            lat.forget(i);
          }
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    const lastSent = Date.now();
    await Promise.all(inflight);
    await settle(() => lat.held === latencyPlan.length - latRejected, 'latency');
    const latencies = Float64Array.from(Array.from(lat.heldAt, (h, i) => h - sentAt[i]!).filter((x) => !Number.isNaN(x))).sort();
    const drainMs = Math.max(...Array.from(lat.heldAt).filter((x) => !Number.isNaN(x))) - lastSent;
    phases.stop();

    // --- 4. Engine overhead against the floor: the same rows as bare INSERTs, timed, in a scratch store.
    const overhead = await measureFloor(opts, config, reader, plan.length);

    return {
      config: config.label,
      store: config.store,
      workers: config.workers,
      throughput: {
        bookings: plan.length,
        people: opts.people,
        spaces: opts.spaces,
        convergeMs,
        notifierCatchUpMs,
        bookingsPerSecond: plan.length / (convergeMs / 1000),
        apiWritesPerSecond: plan.length / (writeMs / 1000),
        providerCalls: stats.requests,
        providerCallsPerBooking: stats.requests / plan.length,
        minimumCalls: minimum.total,
        callsToMinimum: stats.requests / minimum.total,
        byRoute: stats.byRoute,
      },
      latency: {
        rate: opts.rate,
        seconds: opts.durationS,
        writes: latencyPlan.length,
        achievedRate: latencyPlan.length / ((lastSent - latStart) / 1000),
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        max: latencies.length ? latencies[latencies.length - 1]! : NaN,
        drainMs,
      },
      memory: { activeBookings: plan.length, processes: memory, totalPeakMiB: memory.reduce((a, m) => a + m.peakMiB, 0), peakByPhaseMiB: phases.peaks },
      overhead: { ...overhead, convergeMs, ratio: convergeMs / overhead.floorMs, batchedRatio: convergeMs / overhead.batchedFloorMs },
    };
  } catch (err) {
    for (const p of procs) log(`--- last output of the ${p.role} process (pid ${p.child.pid}):\n${p.tail.join('\n')}`);
    throw err;
  } finally {
    phases.stop();
    await client?.close().catch(() => {});
    await stopAll(procs);
    await reader?.close().catch(() => {});
    await emulator?.close().catch(() => {});
    await store.drop().catch((err) => log(`could not drop the temporary store: ${String(err)}`));
  }
}

/**
 * The floor: what the store alone needs for the work the engine did. Counts the rows the converged
 * run holds (bookings, provider users, provider grants, audit entries) and inserts as many rows, one
 * plain INSERT per row (autocommit), into plain tables of a fresh store of the same kind, with 4
 * connections per worker process (fixed, so floors stay comparable across lane sizes; SQLite has one
 * writer). The stricter floor: the same rows again, 500 to a transaction (what a store needs at best).
 */
async function measureFloor(opts: Options, config: Config, converged: Store, bookings: number): Promise<{ floorMs: number; floorRows: number; batchedFloorMs: number }> {
  const count = async (table: 'providerUsers' | 'providerGrants' | 'auditLog') =>
    Number((await converged.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  const users = await count('providerUsers');
  const grants = await count('providerGrants');
  const audit = await count('auditLog');
  const scratch: TempStore = await createTempStore(config.store, opts.pgUrl);
  const s = openStore(scratch.url);
  try {
    await s.migrate();
    const now = Date.now();
    // Plain tables shaped like the rows the engine writes (primary keys, no foreign keys or triggers).
    const ddl = (suffix: string) => [
      `create table floor_bookings${suffix} (id text primary key, space_id text not null, organiser_id text not null, status text not null, starts_at bigint not null, ends_at bigint not null, created_at bigint not null)`,
      `create table floor_users${suffix} (id text primary key, person_id text not null, ref text not null, created_at bigint not null)`,
      `create table floor_grants${suffix} (id text primary key, person_id text not null, target_ref text not null, ref text not null, starts_at bigint not null, ends_at bigint not null, state text not null)`,
      `create table floor_audit${suffix} (id text primary key, action text not null, subject_id text not null, details text not null, at bigint not null)`,
    ];
    for (const q of [...ddl(''), ...ddl('_b')]) await sql.raw(q).execute(s.db);
    // One list of rows, written twice: one INSERT per row, then batched into the `_b` copies.
    const rows: { table: string; values: unknown[] }[] = [];
    for (let i = 0; i < bookings; i++) rows.push({ table: 'bookings', values: [newId('bk'), 'sp_floor', 'per_floor', 'confirmed', now, now + 3_600_000, now] });
    for (let i = 0; i < users; i++) rows.push({ table: 'users', values: [newId('pu'), 'per_floor', newId('ref'), now] });
    for (let i = 0; i < grants; i++) rows.push({ table: 'grants', values: [newId('pg'), 'per_floor', 'ag-room-1', newId('ref'), now, now + 1, 'applied'] });
    for (let i = 0; i < audit; i++) rows.push({ table: 'audit', values: [newId('au'), 'access.granted', 'per_floor', '{"reason":"booking:bk_floor"}', now] });
    const writers = config.store === 'sqlite' ? 1 : 4 * config.workers;
    const started = performance.now();
    await runBounded(rows.length, writers, (i) =>
      sql`insert into ${sql.raw(`floor_${rows[i]!.table}`)} values (${sql.join(rows[i]!.values)})`.execute(s.db).then(() => undefined),
    );
    const floorMs = performance.now() - started;
    // Batched: the same rows into fresh copies of the tables, 500 per transaction.
    const batches: { table: string; rows: unknown[][] }[] = [];
    for (const { table, values } of rows) {
      const last = batches[batches.length - 1];
      if (last && last.table === table && last.rows.length < 500) last.rows.push(values);
      else batches.push({ table, rows: [values] });
    }
    const batchedStart = performance.now();
    await runBounded(batches.length, writers, (i) =>
      s.db.transaction().execute(async (trx) => {
        const b = batches[i]!;
        // Multi-row INSERTs of 50 rows (SQLite's bound-parameter limit is far above 50 × 7).
        for (let j = 0; j < b.rows.length; j += 50) {
          const chunk = b.rows.slice(j, j + 50);
          await sql`insert into ${sql.raw(`floor_${b.table}_b`)} values ${sql.join(chunk.map((r) => sql`(${sql.join(r)})`))}`.execute(trx);
        }
      }),
    );
    return { floorMs, floorRows: rows.length, batchedFloorMs: performance.now() - batchedStart };
  } finally {
    await s.close();
    await scratch.drop();
  }
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions();
  log('building (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  const machine = describeMachine(opts.pgUrl);
  log(`machine: ${JSON.stringify(machine)}`);
  const results: Result[] = [];
  for (const config of opts.configs) {
    const r = await runConfig(opts, config);
    results.push(r);
    printTable(`${r.config}`, [
      ['bookings / people / spaces', `${fmtInt(r.throughput.bookings)} / ${fmtInt(r.throughput.people)} / ${fmtInt(r.throughput.spaces)}`],
      ['bookings/s to converge', fmt(r.throughput.bookingsPerSecond)],
      ['  time to converge', fmtMs(r.throughput.convergeMs)],
      ['  then notifier caught up in', fmtMs(r.throughput.notifierCatchUpMs)],
      ['API writes/s (closed loop, 32 clients)', fmt(r.throughput.apiWritesPerSecond)],
      ['provider calls per booking', fmt(r.throughput.providerCallsPerBooking, 2)],
      ['provider calls made / minimum needed', `${fmtInt(r.throughput.providerCalls)} / ${fmtInt(r.throughput.minimumCalls)} = ${fmt(r.throughput.callsToMinimum, 2)}`],
      ['latency: writes/s asked / achieved', `${r.latency.rate} / ${fmt(r.latency.achievedRate)} for ${r.latency.seconds} s`],
      ['latency write→held p50 / p95 / p99', `${fmtMs(r.latency.p50)} / ${fmtMs(r.latency.p95)} / ${fmtMs(r.latency.p99)}`],
      ['latency max / drain after last write', `${fmtMs(r.latency.max)} / ${fmtMs(r.latency.drainMs)}`],
      ['peak RSS (all Lockstep processes)', `${fmt(r.memory.totalPeakMiB)} MiB at ${fmtInt(r.memory.activeBookings)} active bookings`],
      ...r.memory.processes.map((p): [string, string] => [`  ${p.role} (peak / now)`, `${fmt(p.peakMiB)} / ${fmt(p.rssMiB)} MiB`]),
      ['  highest RSS per phase', Object.entries(r.memory.peakByPhaseMiB).map(([phase, mib]) => `${phase} ${fmt(mib)}`).join(' · ') + ' MiB'],
      ['bare SQL floor (same rows)', `${fmtMs(r.overhead.floorMs)} for ${fmtInt(r.overhead.floorRows)} rows`],
      ['engine overhead: converge ÷ floor', fmt(r.overhead.ratio, 2)],
      ['stricter floor (500 rows per transaction)', `${fmtMs(r.overhead.batchedFloorMs)}; converge ÷ it = ${fmt(r.overhead.batchedRatio, 1)}`],
    ]);
  }
  if (results.length > 1) {
    printTable('Scale: the same work on each configuration', [
      ['configuration', 'bk/s · calls/min · p50/p99 · peak MiB · overhead'],
      ...results.map((r): [string, string] => [
        r.config,
        `${fmt(r.throughput.bookingsPerSecond)} · ${fmt(r.throughput.callsToMinimum, 2)} · ${fmtMs(r.latency.p50)}/${fmtMs(r.latency.p99)} · ${fmt(r.memory.totalPeakMiB, 0)} · ${fmt(r.overhead.ratio, 1)}`,
      ]),
    ]);
  }
  const json = JSON.stringify({ machine, options: { ...opts, configs: opts.configs.map((c) => c.label) }, results }, null, 2);
  process.stdout.write(`${json}\n`);
  if (opts.json) fs.writeFileSync(opts.json, `${json}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
