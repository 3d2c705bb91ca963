/**
 * Opens the store: SQLite (embedded default, one file) or PostgreSQL (scale-out), behind one Kysely type.
 */
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { CamelCasePlugin, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrations/index.js';

import type { StoreDialect } from './dialect.js';
export type { StoreDialect } from './dialect.js';

export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** Human-readable location, without credentials. */
  describe: string;
  migrate(): Promise<{ applied: string[] }>;
  /**
   * PostgreSQL only: calls `onMessage` for every NOTIFY on `channel`, over a connection of its own
   * that is re-opened (with back-off) whenever it drops. Resolves to a function that stops listening.
   */
  listen?(channel: string, onMessage: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

// PostgreSQL returns BIGINT as strings by default; our instants are epoch ms and fit a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

/** `url` is a file path / `sqlite:path` / `:memory:` for SQLite, or a `postgres://` URL. */
export function openStore(url: string): Store {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url);
  return openSqlite(url.replace(/^sqlite:/, ''));
}

function openSqlite(file: string): Store {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // WAL: readers (API) never wait for the writer (engine); NORMAL sync is durable across process crashes.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const raw = new Kysely<any>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const db = raw.withPlugin(new CamelCasePlugin()) as Kysely<Database>;
  return {
    db,
    dialect: 'sqlite',
    describe: `sqlite:${file}`,
    migrate: () => migrateToLatest(raw, 'sqlite'),
    close: () => raw.destroy(),
  };
}

/**
 * Kysely prepares every query afresh; the engine runs the same few dozen statements thousands of
 * times, so reuse prepared statements (bounded, least recently used first out).
 */
function withStatementCache(sqlite: SqliteDatabase.Database, max = 500) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const stats = process.env.LOCKSTEP_SQL_STATS || statementObserver ? statementStats(process.env.LOCKSTEP_SQL_STATS || null) : null;
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = sqlite.prepare(sql);
        if (stats) stmt = stats.wrap(sql, stmt);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

export type StatementObserver = (sql: string, ms: number, rows: number) => void;
let statementObserver: StatementObserver | null = null;

/**
 * For the benchmark's trace of one booking (bench/booking-trace.ts): every SQLite statement of stores
 * opened after this call is reported with its time and rows. Parameters are never passed on.
 */
export function observeSqliteStatements(observer: StatementObserver | null): void {
  statementObserver = observer;
}

/**
 * Performance diagnostics (LOCKSTEP_SQL_STATS=<file>): counts every statement (SQLite or PostgreSQL) and the time
 * spent in it, and writes the table, costliest first, to the file at exit ("%p" in the name becomes
 * the process id, for several processes). Parameters are never recorded, so no secret reaches it.
 */
function statementStats(file: string | null) {
  const bySql = new Map<string, { calls: number; ms: number; maxMs: number; rows: number }>();
  if (file) process.once('exit', () => {
    const rows = [...bySql].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((n, [, s]) => n + s.ms, 0);
    const lines = rows.map(([q, s]) => `${s.ms.toFixed(0).padStart(8)} ms ${s.calls.toString().padStart(9)} × ${(s.ms / s.calls).toFixed(3).padStart(7)} ms (max ${s.maxMs.toFixed(1).padStart(6)}) ${s.rows.toString().padStart(9)} rows  ${q.replace(/\s+/g, ' ')}`);
    fs.writeFileSync(file.replace('%p', String(process.pid)), `${total.toFixed(0)} ms in ${rows.reduce((n, [, s]) => n + s.calls, 0)} statements\n${lines.join('\n')}\n`);
  });
  const entry = (sql: string) => {
    let s = bySql.get(sql);
    if (!s) bySql.set(sql, (s = { calls: 0, ms: 0, maxMs: 0, rows: 0 }));
    return s;
  };
  return {
    /** PostgreSQL: one finished statement, reported by Kysely's log hook (which does not tell rows). */
    record(sql: string, ms: number) {
      const s = entry(sql);
      s.calls++;
      s.ms += ms;
      if (ms > s.maxMs) s.maxMs = ms;
    },
    wrap(sql: string, stmt: SqliteDatabase.Statement): SqliteDatabase.Statement {
      const s = entry(sql);
      const timed =
        <A extends unknown[], R>(fn: (...args: A) => R, count: (r: R) => number) =>
        (...args: A): R => {
          const t = performance.now();
          const r = fn.apply(stmt, args);
          const ms = performance.now() - t;
          s.ms += ms;
          if (ms > s.maxMs) s.maxMs = ms;
          s.calls++;
          const rows = count(r);
          s.rows += rows;
          statementObserver?.(sql, ms, rows);
          return r;
        };
      const all = timed(stmt.all, (r) => (r as unknown[]).length);
      const run = timed(stmt.run, (r) => (r as SqliteDatabase.RunResult).changes);
      const get = timed(stmt.get, (r) => (r === undefined ? 0 : 1));
      return new Proxy(stmt, {
        get: (target, prop) => (prop === 'all' ? all : prop === 'run' ? run : prop === 'get' ? get : Reflect.get(target, prop)),
      });
    },
  };
}

/** Connections per process (LOCKSTEP_PG_POOL_SIZE, default 10); budget it in PostgreSQL's max_connections. */
function poolSize(): number {
  const raw = process.env.LOCKSTEP_PG_POOL_SIZE;
  if (raw === undefined || raw === '') return 10;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`LOCKSTEP_PG_POOL_SIZE must be a whole number from 1 to 1000, got "${raw}"`);
  return n;
}

function openPostgres(url: string): Store {
  const pool = new pg.Pool({ connectionString: url, max: poolSize() });
  // An idle connection that PostgreSQL closes (restart, failover, an admin terminating it) is reported
  // here; without a listener node-postgres would crash the process. The pool drops that client and
  // the next query opens a fresh one, so a warning is all it needs.
  pool.on('error', (err: Error & { code?: string }) => {
    process.stderr.write(`lockstep: a PostgreSQL connection was closed by the server (${err.code ?? err.message}); reconnecting on next use\n`);
  });
  const stats = process.env.LOCKSTEP_SQL_STATS ? statementStats(process.env.LOCKSTEP_SQL_STATS) : null;
  // The statements' wall time here includes the round trip and the wait for a pooled connection.
  const raw = new Kysely<any>({
    dialect: new PostgresDialect({ pool }),
    log: stats ? (event) => stats.record(event.query.sql, event.queryDurationMillis) : undefined,
  });
  const db = raw.withPlugin(new CamelCasePlugin()) as Kysely<Database>;
  const safe = url.replace(/\/\/([^:@/]+)(:[^@/]*)?@/, '//$1@');
  const listeners = new Set<() => Promise<void>>();
  return {
    db,
    dialect: 'postgres',
    describe: safe,
    migrate: () => migrateToLatest(raw, 'postgres'),
    async listen(channel, onMessage) {
      const stop = await listenForever(url, channel, onMessage);
      listeners.add(stop);
      return async () => {
        listeners.delete(stop);
        await stop();
      };
    },
    async close() {
      for (const stop of [...listeners]) await stop();
      await raw.destroy();
    },
  };
}

/** LISTEN on a dedicated client; a dropped connection is re-opened, and `onMessage` is called once then (changes may have been missed). */
async function listenForever(url: string, channel: string, onMessage: () => void): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
  let client: pg.Client | null = null;
  let stopped = false;
  let retryMs = 500;
  let timer: NodeJS.Timeout | null = null;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', () => onMessage());
    c.on('error', () => reconnect(c));
    c.on('end', () => reconnect(c));
    await c.connect();
    await c.query(`LISTEN ${channel}`);
    client = c;
    retryMs = 500;
  };
  const reconnect = (c: pg.Client) => {
    if (stopped || client !== c) return;
    client = null;
    void c.end().catch(() => {});
    const attempt = () => {
      timer = null;
      if (stopped) return;
      connect().then(onMessage, () => {
        retryMs = Math.min(30_000, retryMs * 2);
        timer = setTimeout(attempt, retryMs);
        timer.unref();
      });
    };
    timer = setTimeout(attempt, retryMs);
    timer.unref();
  };
  await connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const c = client;
    client = null;
    await c?.end().catch(() => {});
  };
}
