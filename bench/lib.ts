/**
 * What the benchmarks share: temporary stores, the seeded booking mix, an HTTP client, bounded
 * concurrency, percentiles and table printing. Benchmarks print figures; they never assert timings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { Pool } from 'undici';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------------
// Temporary store

export interface TempStore {
  kind: 'sqlite' | 'postgres';
  url: string;
  describe: string;
  drop(): Promise<void>;
}

/** A fresh SQLite file in a temp directory, or a fresh `lockstep_bench_<random>` PostgreSQL database. */
export async function createTempStore(kind: 'sqlite' | 'postgres', pgUrl: string): Promise<TempStore> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-bench-'));
    const file = path.join(dir, 'lockstep.db');
    return { kind, url: file, describe: `sqlite (${file})`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `lockstep_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    describe: `postgres (temp db ${name} on ${url.host})`,
    drop: async () => {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Workload

/** mulberry32: small, fast, seedable; the same seed gives the same booking mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PlannedBooking {
  person: number;
  space: number;
  startsAt: number;
  endsAt: number;
  backToBack: boolean;
}

export interface BookingMix {
  bookings: number;
  people: number;
  spaces: number;
  seed: number;
  /** Bookings start within this many days. */
  spreadDays: number;
  /** Share of bookings that start exactly when an earlier booking of the same organiser ends. */
  backToBackShare: number;
}

/**
 * Bookings start at a quarter hour within `spreadDays`, last 1–3 h, in a random space; a share are
 * back-to-back with a recent booking of the same organiser (the engine should merge those windows).
 */
export function planBookings(mix: BookingMix, now: number): PlannedBooking[] {
  const rand = prng(mix.seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const slot = 15 * MINUTE;
  // First possible start: the next quarter hour at least an hour from now.
  const base = Math.ceil((now + HOUR) / slot) * slot;
  const slots = (mix.spreadDays * DAY) / slot;
  const out: PlannedBooking[] = [];
  for (let i = 0; i < mix.bookings; i++) {
    const duration = (4 + pick(9)) * slot; // 1 h to 3 h in quarter hours
    const space = pick(mix.spaces);
    if (out.length > 0 && rand() < mix.backToBackShare) {
      const prev = out[out.length - 1 - pick(Math.min(out.length, 200))];
      out.push({ person: prev.person, space, startsAt: prev.endsAt, endsAt: prev.endsAt + duration, backToBack: true });
    } else {
      const startsAt = base + pick(slots) * slot;
      out.push({ person: pick(mix.people), space, startsAt, endsAt: startsAt + duration, backToBack: false });
    }
  }
  return out;
}

/** Merges overlapping or touching [from, until) windows. */
export function mergeWindows(windows: [number, number][]): [number, number][] {
  const sorted = [...windows].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
    else out.push([w[0], w[1]]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// HTTP client

export class ApiClient {
  private readonly pool: Pool;
  constructor(baseUrl: string, connections: number) {
    this.pool = new Pool(baseUrl, { connections, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  async call<T = any>(method: 'GET' | 'POST' | 'PATCH', urlPath: string, key: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.pool.request({
      method,
      path: urlPath,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text ? JSON.parse(text) : null) as T };
  }

  async must<T = any>(method: 'GET' | 'POST' | 'PATCH', urlPath: string, key: string, body?: unknown): Promise<T> {
    const res = await this.call<T>(method, urlPath, key, body);
    if (res.status >= 300) throw new Error(`${method} ${urlPath} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Runs `work(i)` for i in [0, count) with at most `concurrency` in flight, in index order. */
export async function runBounded(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

// ---------------------------------------------------------------------------------------------------
// Figures

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export const mib = (bytes: number) => bytes / (1024 * 1024);
export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
export const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-GB') : 'n/a');
export const fmtMs = (ms: number) => (Number.isFinite(ms) ? (ms >= 10_000 ? `${fmt(ms / 1000, 1)} s` : `${fmtInt(ms)} ms`) : 'n/a');

/** CPU seconds used (user + system, all threads) over a wall-clock span, and the share of one core. */
export function cpuShare(cpu: NodeJS.CpuUsage, wallMs: number): string {
  const ms = (cpu.user + cpu.system) / 1000;
  return `${fmt(ms / 1000)} s = ${fmtInt((100 * ms) / wallMs)}% of a core`;
}

export function printTable(title: string, rows: [string, string][]): void {
  const w = Math.max(...rows.map(([k]) => k.length));
  const v = Math.max(...rows.map(([, val]) => val.length));
  const line = `+${'-'.repeat(w + 2)}+${'-'.repeat(v + 2)}+`;
  const out = [title, line];
  for (const [k, val] of rows) out.push(k === '' ? line : `| ${k.padEnd(w)} | ${val.padStart(v)} |`);
  out.push(line);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The machine, for results files: CPU model and count, memory, kernel, Node and PostgreSQL versions. */
export function describeMachine(pgUrl?: string): Record<string, string> {
  const cpus = os.cpus();
  let postgres = 'n/a';
  if (pgUrl) {
    try {
      postgres = execFileSync('psql', [pgUrl, '-Atc', 'show server_version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      postgres = 'unknown';
    }
  }
  return {
    cpus: `${os.availableParallelism?.() ?? cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}`,
    memory: `${fmt(os.totalmem() / 1024 ** 3, 1)} GiB`,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    postgres,
  };
}
