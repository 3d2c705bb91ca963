/**
 * Where one booking's time goes, statement by statement and call by call (issue 12): a person who
 * already holds K bookings books one more, on SQLite, against the demo emulator over real HTTP. The
 * three stages run one after the other so each statement is charged to its stage:
 *   1. the API write (POST /v1/bookings),
 *   2. the engine's sync of that person (until the provider holds the access),
 *   3. the notifier's pass (the confirmation e-mail into the outbox).
 * Prints, per stage: wall time, SQL time, statements, provider calls, and the statements in order
 * (repeats folded). Never asserts.
 *
 *   npx tsx bench/booking-trace.ts [--existing K] [--repeat R]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createApp } from '../src/app.js';
import { buildServer } from '../src/api/server.js';
import { createApiKey } from '../src/api/auth.js';
import { observeSqliteStatements } from '../src/store/db.js';
import { startDemoEmulator } from '../src/providers/demo/emulator.js';
import { ApiClient, HOUR, fmtMs } from './lib.js';

const { values } = parseArgs({ options: { existing: { type: 'string', default: '8' }, repeat: { type: 'string', default: '20' } } });
const existing = Number(values.existing);
const repeat = Math.max(1, Number(values.repeat));

interface Seen {
  sql: string;
  ms: number;
  rows: number;
}
let seen: Seen[] = [];
observeSqliteStatements((sql, ms, rows) => seen.push({ sql, ms, rows }));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-trace-'));
const emulator = await startDemoEmulator({ port: 0, apiKey: 'trace-key', accessGroups: [{ id: 'ag-front-door', name: 'Front door', description: 'Street entrance' }, { id: 'ag-room-1', name: 'Room 1', description: 'Trace room' }] });
const app = await createApp({ databaseUrl: path.join(dir, 'lockstep.db'), secretKey: randomBytes(32).toString('hex'), engine: { driftCheckMs: 0 } });
const server = await buildServer(app, { logger: false });
const baseUrl = await server.listen({ port: 0, host: '127.0.0.1' });
const api = new ApiClient(baseUrl, 4);
const platform = (await createApiKey(app.store.db, app.secrets, { role: 'platform-admin', name: 'trace', organisationId: null, personId: null })).key;
const org = await api.must('POST', '/v1/organisations', platform, { name: 'Trace venue' });
const admin = (await api.must('POST', '/v1/api-keys', platform, { role: 'team-admin', name: 'admin', organisationId: org.id })).key as string;
const location = await api.must('POST', '/v1/locations', admin, { name: 'HQ', timeZone: 'Europe/London' });
const integration = await api.must('POST', '/v1/integrations', platform, {
  organisationId: org.id, kind: 'demo', name: 'Doors', baseUrl: emulator.url, credentials: { apiKey: 'trace-key' }, bufferBeforeMinutes: 15, bufferAfterMinutes: 15, provisionAheadDays: 30,
});
const space = await api.must('POST', '/v1/spaces', admin, { locationId: location.id, name: 'Room 1', kind: 'room' });
for (const targetRef of ['ag-front-door', 'ag-room-1']) await api.must('POST', '/v1/mappings', admin, { spaceId: space.id, integrationId: integration.id, targetRef, skipTargetCheck: true });

const base = Math.ceil(Date.now() / HOUR) * HOUR - HOUR; // the first booking is under way: its access is live
let slot = 0;
const book = (personId: string) =>
  api.must('POST', '/v1/bookings', admin, { spaceId: space.id, organiserId: personId, start: new Date(base + slot * 2 * HOUR).toISOString(), end: new Date(base + (slot++ * 2 + 1) * HOUR).toISOString() });

type Stage = 'api write' | 'engine sync' | 'notifier pass';
const totals = new Map<Stage, { wall: number; sqlMs: number; statements: number; calls: number }>();
let lastTrace: Map<Stage, Seen[]> = new Map();
const callsBefore = () => app.engine.providerCalls;

for (let r = 0; r < repeat; r++) {
  const person = await api.must('POST', '/v1/people', admin, { name: `Guest ${r}`, email: `guest-${r}@trace.example` });
  slot = 0;
  // The person's history, converged and notified, with the engine and notifier running.
  await app.engine.start();
  for (let i = 0; i < existing; i++) await book(person.id);
  await app.engine.idle();
  await app.notifier.runOnce();
  await app.engine.stop();
  const trace = new Map<Stage, Seen[]>();
  const stage = async (name: Stage, run: () => Promise<unknown>) => {
    seen = [];
    const calls = callsBefore();
    const t = performance.now();
    await run();
    const wall = performance.now() - t;
    trace.set(name, seen);
    const tot = totals.get(name) ?? { wall: 0, sqlMs: 0, statements: 0, calls: 0 };
    tot.wall += wall;
    tot.sqlMs += seen.reduce((n, s) => n + s.ms, 0);
    tot.statements += seen.length;
    tot.calls += callsBefore() - calls;
    totals.set(name, tot);
  };
  await stage('api write', () => book(person.id));
  await stage('engine sync', async () => {
    await app.engine.start();
    await app.engine.idle();
  });
  await stage('notifier pass', () => app.notifier.runOnce());
  await app.engine.stop();
  lastTrace = trace;
}

console.log(`One more booking for a person who holds ${existing}; SQLite; mean of ${repeat} runs (the first warms up)\n`);
console.log('stage            wall ms   SQL ms  statements  provider calls');
for (const [name, t] of totals) console.log(`${name.padEnd(15)} ${fmtMs(t.wall / repeat).padStart(8)} ${(t.sqlMs / repeat).toFixed(2).padStart(8)} ${(t.statements / repeat).toFixed(1).padStart(11)} ${(t.calls / repeat).toFixed(1).padStart(15)}`);
for (const [name, list] of lastTrace) {
  console.log(`\n== ${name} (last run): ${list.length} statements, ${list.reduce((n, s) => n + s.ms, 0).toFixed(2)} ms of SQL`);
  for (let i = 0; i < list.length; ) {
    let j = i;
    let ms = 0;
    while (j < list.length && list[j].sql === list[i].sql) ms += list[j++].ms;
    const q = list[i].sql.replace(/\s+/g, ' ').trim();
    console.log(`${(j - i > 1 ? `${j - i}×` : '').padStart(4)} ${ms.toFixed(3).padStart(7)} ms ${String(list[i].rows).padStart(4)} rows  ${q.length > 150 ? q.slice(0, 147) + '…' : q}`);
    i = j;
  }
}
await api.close();
await server.close();
await app.close();
await emulator.close();
fs.rmSync(dir, { recursive: true, force: true });
