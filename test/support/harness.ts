/**
 * A whole Lockstep for one test: a fresh store, the demo emulator on a random port, the API on a
 * random port, and a connected demo integration. Everything talks real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { createApp, type App } from '../../src/app.js';
import { buildServer } from '../../src/api/server.js';
import { createApiKey } from '../../src/api/auth.js';
import { startDemoEmulator, type DemoEmulator } from '../../src/providers/demo/emulator.js';
import type { Api } from '../../src/api/types.js';
import type { EngineOptions } from '../../src/engine/runner.js';
import type { AppOptions } from '../../src/app.js';
import { createTestDatabase, type StoreKind, type TestDatabase } from './stores.js';
import type { RunningProvider } from '../contract/fixture.js';

export interface Harness {
  app: App;
  server: Api;
  baseUrl: string;
  emulator: DemoEmulator;
  database: TestDatabase;
  organisationId: string;
  integrationId: string;
  locationId: string;
  keys: { platform: string; admin: string; host: string };
  /** Calls the API; returns status and parsed JSON body. */
  call<T = any>(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: T }>;
  /** Creates a space mapped to the given access groups of the demo integration. */
  space(targets?: string[], extra?: Record<string, unknown>): Promise<string>;
  converge(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const secretKey = () => randomBytes(32).toString('hex');

/**
 * `provider`: connect the integration to this peer instead of the demo emulator (the contract suite);
 * the demo emulator still runs so `emulator` is always there.
 */
export async function startHarness(
  kind: StoreKind,
  opts: {
    engine?: Partial<EngineOptions>;
    timeZone?: string;
    logger?: unknown;
    provider?: RunningProvider;
    /** Notifier settings (e.g. smtpUrl); `enabled: false` leaves the notifier stopped. */
    notifier?: AppOptions['notifier'] & { enabled?: boolean };
    /** Reuse this database (restart tests) instead of creating one; it is not dropped on close. */
    database?: TestDatabase;
    secretKey?: string;
    /** Call-back dispatcher settings (integration API). */
    callbacks?: AppOptions['callbacks'];
    /** iCal feed poller settings; `enabled: false` leaves it stopped (POST /v1/sources/:id/poll still works). */
    sources?: AppOptions['sources'] & { enabled?: boolean };
    /** Brute-force limits (default: from the environment). */
    limits?: AppOptions['limits'];
  } = {},
): Promise<Harness> {
  const database = opts.database ?? (await createTestDatabase(kind));
  const emulator = await startDemoEmulator({ port: 0, apiKey: 'test-key' });
  const { enabled: notifierEnabled = true, ...notifier } = opts.notifier ?? {};
  const { enabled: sourcesEnabled = true, ...sourcesSettings } = opts.sources ?? {};
  const app = await createApp({
    databaseUrl: database.url,
    secretKey: opts.secretKey ?? secretKey(),
    engine: { pollMs: 50, driftCheckMs: 0, backoff: { baseMs: 20, maxMs: 200 }, providerTimeoutMs: 2_000, ...opts.engine },
    notifier: { pollMs: 100, minPassGapMs: 50, graceMs: 5_000, backoff: { baseMs: 50, maxMs: 500 }, ...notifier },
    callbacks: { pollMs: 100, backoff: { baseMs: 50, maxMs: 400 }, timeoutMs: 2_000, ...opts.callbacks },
    sources: { tickMs: 100, timeoutMs: 2_000, ...sourcesSettings },
    limits: opts.limits,
  });
  const server = await buildServer(app, { logger: opts.logger as any });
  const baseUrl = await server.listen({ port: 0, host: '127.0.0.1' });
  await app.engine.start({ releaseStaleClaims: true });
  if (notifierEnabled) app.notifier.start();
  app.callbacks.start();
  if (sourcesEnabled) app.sources.start();

  const platform = (await createApiKey(app.store.db, app.secrets, { role: 'platform-admin', name: 'test', organisationId: null, personId: null })).key;
  const call = async (method: string, path: string, body?: unknown, key = platform) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const must = async (method: string, path: string, body?: unknown, key?: string) => {
    const res = await call(method, path, body, key);
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  const org = await must('POST', '/v1/organisations', { name: 'Test venue' });
  const admin = (await must('POST', '/v1/api-keys', { role: 'team-admin', name: 'admin', organisationId: org.id })).key;
  const host = (await must('POST', '/v1/api-keys', { role: 'host', name: 'host', organisationId: org.id })).key;
  const location = await must('POST', '/v1/locations', { name: 'HQ', timeZone: opts.timeZone ?? 'Europe/London' }, admin);
  const integration = await must('POST', '/v1/integrations', {
    organisationId: org.id,
    kind: opts.provider?.kind ?? 'demo',
    name: 'Doors',
    baseUrl: opts.provider?.baseUrl ?? emulator.url,
    credentials: opts.provider?.credentials ?? { apiKey: 'test-key' },
  });

  let spaceCount = 0;
  return {
    app,
    server,
    baseUrl,
    emulator,
    database,
    organisationId: org.id,
    integrationId: integration.id,
    locationId: location.id,
    keys: { platform, admin, host },
    call,
    async space(targets = ['ag-front-door', 'ag-meeting-1'], extra = {}) {
      const space = await must('POST', '/v1/spaces', { locationId: location.id, name: `Space ${++spaceCount}`, kind: 'room', ...extra }, admin);
      for (const targetRef of targets) await must('POST', '/v1/mappings', { spaceId: space.id, integrationId: integration.id, targetRef }, admin);
      return space.id;
    },
    converge: (timeoutMs) => app.engine.idle(timeoutMs),
    async close() {
      await server.close();
      await app.close();
      await emulator.close();
      if (!opts.database) await database.drop();
    },
  };
}

/** ISO instant `hours` from now, rounded to the minute. */
export function hoursFromNow(hours: number): string {
  const t = Date.now() + hours * 3_600_000;
  return new Date(Math.floor(t / 60_000) * 60_000).toISOString();
}

/**
 * A URL key with one MAC character changed. The first character carries 6 full bits, so the result
 * is always a different MAC (changing the last characters can yield the original token 1 time in 256).
 */
export function tamperUrlKey(token: string): string {
  const at = token.lastIndexOf('.') + 1;
  return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
}
