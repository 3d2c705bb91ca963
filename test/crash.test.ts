/**
 * kill -9 mid-sync, restart, converge: nothing lost, nothing duplicated. Lockstep runs as a real
 * child process (the CLI's `start`), the provider is the demo emulator in this process with latency
 * injected so the kill lands while provider calls are in flight.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildServer } from '../src/api/server.js';
import { createApiKey } from '../src/api/auth.js';
import { startDemoEmulator, type DemoEmulator } from '../src/providers/demo/emulator.js';
import { createTestDatabase, storeKinds, type TestDatabase } from './support/stores.js';
import { hoursFromNow, secretKey } from './support/harness.js';

const root = path.resolve(import.meta.dirname, '..');

function startLockstep(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--port', '0'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Lockstep did not start:\n${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Lockstep listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`Lockstep exited early (${code}):\n${out}`)));
  });
}

describe.each(storeKinds)('crash safety on %s', (kind) => {
  let db: TestDatabase | undefined;
  let emulator: DemoEmulator | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    child?.kill('SIGKILL');
    await emulator?.close();
    await db?.drop();
  });

  it('kill -9 during a sync burst, restart, and every booking converges exactly once', async () => {
    db = await createTestDatabase(kind);
    emulator = await startDemoEmulator({ port: 0, apiKey: 'crash-key' });
    const env = {
      LOCKSTEP_DATABASE_URL: db.url,
      LOCKSTEP_SECRET_KEY: secretKey(),
      LOCKSTEP_CLAIM_LEASE_SECONDS: '2',
      LOCKSTEP_LOG_LEVEL: 'info',
    };

    // Set the venue up through the real API of a short-lived instance (its engine never starts).
    const setup = await createApp({ databaseUrl: env.LOCKSTEP_DATABASE_URL, secretKey: env.LOCKSTEP_SECRET_KEY });
    const platform = (await createApiKey(setup.store.db, setup.secrets, { role: 'platform-admin', name: 't', organisationId: null, personId: null })).key;
    const server = await buildServer(setup);
    const inject = async (method: string, url: string, payload?: object) => {
      const res = await server.inject({ method: method as 'POST', url, payload, headers: { authorization: `Bearer ${platform}` } });
      expect(res.statusCode, res.body).toBeLessThan(300);
      return res.json();
    };
    const org = await inject('POST', '/v1/organisations', { name: 'Crash venue' });
    const loc = await inject('POST', '/v1/locations', { organisationId: org.id, name: 'HQ', timeZone: 'Europe/Paris' });
    const integ = await inject('POST', '/v1/integrations', { organisationId: org.id, kind: 'demo', name: 'Doors', baseUrl: emulator.url, credentials: { apiKey: 'crash-key' } });
    const space = await inject('POST', '/v1/spaces', { organisationId: org.id, locationId: loc.id, name: 'Room', kind: 'room' });
    for (const targetRef of ['ag-front-door', 'ag-meeting-1']) await inject('POST', '/v1/mappings', { spaceId: space.id, integrationId: integ.id, targetRef });
    // More people than one lane of the engine (32 in flight per integration), so the kill lands mid-burst.
    const people = 80;
    const bookingsByPerson = new Map<string, number>();
    for (let i = 0; i < people; i++) {
      const b = await inject('POST', '/v1/bookings', { organisationId: org.id, spaceId: space.id, organiser: { name: `Guest ${i}`, email: `g${i}@example.com` }, start: hoursFromNow(1 + i), end: hoursFromNow(2 + i) });
      bookingsByPerson.set(b.organiserId, 1);
    }
    await server.close();
    await setup.close();

    // Every provider call is slow, so the kill lands mid-flight.
    emulator.faults.add({ fault: { kind: 'latency', ms: 40 } });
    let run = await startLockstep(env);
    child = run.child;
    await expect.poll(() => emulator!.stats().requests, { timeout: 15_000, interval: 20 }).toBeGreaterThan(25);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const usersAtKill = emulator.state.users().length;
    expect(usersAtKill).toBeLessThan(people);

    emulator.faults.clear();
    run = await startLockstep(env);
    child = run.child;
    await expect
      .poll(
        () => emulator!.state.users().filter((u) => emulator!.state.memberships(u.id).length === 2 && u.hasPin).length,
        { timeout: 30_000, interval: 100 },
      )
      .toBe(people);

    // Exactly one user per person, exactly one membership per target: nothing duplicated.
    const users = emulator.state.users();
    expect(users).toHaveLength(people);
    expect(new Set(users.map((u) => u.externalId)).size).toBe(people);
    for (const u of users) {
      const groups = emulator.state.memberships(u.id).map((m) => m.accessGroupId).sort();
      expect(groups).toEqual(['ag-front-door', 'ag-meeting-1']);
    }
    const status = await fetch(`${run.url}/v1/integrations/${integ.id}/status`, { headers: { authorization: `Bearer ${platform}` } }).then((r) => r.json());
    expect(status.grants).toBe(people * 2);
    expect(status.providerUsers).toBe(people);
  }, 90_000);
});
