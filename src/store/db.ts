/**
 * Opens the store: SQLite (embedded default, one file) or PostgreSQL (scale-out), behind one Kysely type.
 */
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { CamelCasePlugin, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrations.js';

export type StoreDialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** Human-readable location, without credentials. */
  describe: string;
  migrate(): Promise<{ applied: string[] }>;
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
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = sqlite.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

function openPostgres(url: string): Store {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection that PostgreSQL closes (restart, failover, an admin terminating it) is reported
  // here; without a listener node-postgres would crash the process. The pool drops that client and
  // the next query opens a fresh one, so a warning is all it needs.
  pool.on('error', (err: Error & { code?: string }) => {
    process.stderr.write(`lockstep: a PostgreSQL connection was closed by the server (${err.code ?? err.message}); reconnecting on next use\n`);
  });
  const raw = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const db = raw.withPlugin(new CamelCasePlugin()) as Kysely<Database>;
  const safe = url.replace(/\/\/([^:@/]+)(:[^@/]*)?@/, '//$1@');
  return {
    db,
    dialect: 'postgres',
    describe: safe,
    migrate: () => migrateToLatest(raw, 'postgres'),
    close: () => raw.destroy(),
  };
}
