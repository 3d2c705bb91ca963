/**
 * The crash suite's "two syncs of one person at once" detector (the chaos proxy's overlap count):
 * it must flag what one sync never sends at once, and let through a sync's side-by-side doors.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDemoEmulator, type DemoEmulator } from '../../src/providers/demo/emulator.js';
import { startChaosProxy, type ChaosProxy } from './support/chaos.js';
import { rng } from './support/random.js';

const KEY = 'chaos-proxy-key';
let emulator: DemoEmulator;
let proxy: ChaosProxy;

beforeEach(async () => {
  emulator = await startDemoEmulator({
    port: 0,
    apiKey: KEY,
    accessGroups: [
      { id: 'ag-front', name: 'Front door', description: '' },
      { id: 'ag-room', name: 'Room', description: '' },
    ],
  });
  proxy = await startChaosProxy({ baseUrl: emulator.url, faults: emulator.faults }, rng(1));
});

afterEach(async () => {
  await proxy.close();
  await emulator.close();
});

async function send(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${proxy.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.status === 204 ? null : res.json();
}

const window = { from: '2030-01-01T09:00:00.000Z', until: '2030-01-01T10:00:00.000Z' };

/** Runs the requests at once, each held open 50 ms by the emulator, and returns the overlaps counted. */
async function atOnce(requests: [string, string, unknown?][]): Promise<number> {
  emulator.faults.add({ fault: { kind: 'latency', ms: 50 } });
  const before = proxy.stats.overlaps;
  await Promise.all(requests.map(([m, p, b]) => send(m, p, b)));
  emulator.faults.clear();
  return proxy.stats.overlaps - before;
}

describe('chaos proxy: overlapping requests about one user', () => {
  let user: string;
  beforeEach(async () => {
    user = (await send('POST', '/api/users', { externalId: 'lockstep-p1', name: 'Guest' })).id;
  });

  it('lets one person\'s grants on different doors go side by side', async () => {
    const overlaps = await atOnce([
      ['POST', `/api/users/${user}/memberships`, { accessGroupId: 'ag-front', ...window }],
      ['POST', `/api/users/${user}/memberships`, { accessGroupId: 'ag-room', ...window }],
    ]);
    expect(overlaps).toBe(0);
  });

  it('flags two grant requests about one door at once', async () => {
    const overlaps = await atOnce([
      ['POST', `/api/users/${user}/memberships`, { accessGroupId: 'ag-room', ...window }],
      ['POST', `/api/users/${user}/memberships`, { accessGroupId: 'ag-room', ...window }],
    ]);
    expect(overlaps).toBe(1);
  });

  it('knows a membership\'s door from the answer that created it', async () => {
    const front = await send('POST', `/api/users/${user}/memberships`, { accessGroupId: 'ag-front', ...window });
    const room = await send('POST', `/api/users/${user}/memberships`, { accessGroupId: 'ag-room', ...window });
    const later = { from: '2030-01-01T09:00:00.000Z', until: '2030-01-01T11:00:00.000Z' };
    expect(await atOnce([
      ['PATCH', `/api/users/${user}/memberships/${front.id}`, later],
      ['DELETE', `/api/users/${user}/memberships/${room.id}`],
    ])).toBe(0);
    expect(await atOnce([
      ['PATCH', `/api/users/${user}/memberships/${front.id}`, later],
      ['POST', `/api/users/${user}/memberships`, { accessGroupId: 'ag-front', ...window }],
    ])).toBe(1);
  });

  it('flags anything about the user record beside anything else about that user', async () => {
    expect(await atOnce([
      ['PUT', `/api/users/${user}/pin`, { pin: '482913' }],
      ['POST', `/api/users/${user}/memberships`, { accessGroupId: 'ag-front', ...window }],
    ])).toBe(1);
    expect(await atOnce([
      ['GET', `/api/users/${user}/memberships`],
      ['POST', `/api/users/${user}/memberships`, { accessGroupId: 'ag-room', ...window }],
    ])).toBe(1);
  });
});
