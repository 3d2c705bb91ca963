/**
 * The README's walk-through in TypeScript (examples/walkthrough.ts), run the way the README says:
 * against a Lockstep started like `npm start` (the demo venue and the demo provider emulator, its
 * keys read back from demo-keys.json), over real HTTP. The doors are checked on the emulator itself:
 * Ada's PIN opens Meeting room 1 in the booking's window, the move moves it, the cancel ends it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { buildServer } from '../../src/api/server.js';
import { bootstrapDemo, DEMO_API_KEY } from '../../src/cli/demo.js';
import { startDemoEmulator, type DemoEmulator } from '../../src/providers/demo/emulator.js';
import type { Api } from '../../src/api/types.js';
import type { MyPin } from '../../src/client/index.js';
import { walkthrough, type DemoKeys } from '../../examples/walkthrough.js';

const repo = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));
const BUFFER_MS = 15 * 60_000; // the demo integration's buffer, either side

describe('the README walk-through in TypeScript', () => {
  let dir: string;
  let app: App;
  let server: Api;
  let emulator: DemoEmulator;
  let baseUrl: string;
  let keys: DemoKeys;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-walkthrough-'));
    // What `lockstep start --demo` does (src/cli/main.ts), on free ports and with a quick engine.
    app = await createApp({ databaseUrl: path.join(dir, 'lockstep.db'), secretKey: randomBytes(32).toString('hex'), engine: { pollMs: 50, driftCheckMs: 0 }, notifier: { pollMs: 100 } });
    emulator = await startDemoEmulator({ port: 0, host: '127.0.0.1', apiKey: DEMO_API_KEY });
    const keysFile = path.join(dir, 'demo-keys.json');
    await bootstrapDemo(app, { emulatorUrl: emulator.url, keysFile });
    await app.startBackground();
    server = await buildServer(app);
    baseUrl = await server.listen({ port: 0, host: '127.0.0.1' });
    keys = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as DemoKeys;
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await emulator?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('books, syncs, shows the guest her PIN, moves, cancels and audits, on real doors', async () => {
    const opensMeetingRoom: { step: string; at: string; opens: boolean }[] = [];
    let pin: MyPin | undefined;
    let windowEnd = 0;
    // The walk-through reports each step; look at the doors right then.
    const log = (step: string, answer: unknown) => {
      if (step === "Ada's PIN") pin = (answer as MyPin[])[0];
      if (step === 'booked') windowEnd = Date.parse((answer as { end: string }).end) + BUFFER_MS;
      if (!pin) return;
      for (const at of [windowEnd - 60_000, windowEnd + 30 * 60_000]) {
        opensMeetingRoom.push({ step, at: new Date(at).toISOString(), opens: emulator.state.canEnter({ pin: pin.pin, accessGroupId: 'ag-meeting-1', at }) });
      }
    };

    const result = await walkthrough({ baseUrl, keys, log });

    // Booked on Meeting room 1 at the next full hour, for two hours.
    const room = keys.spaces.find((s) => s.name === 'Meeting room 1')!;
    expect(result.booking).toMatchObject({ spaceId: room.id, spaceName: 'Meeting room 1', status: 'confirmed' });
    expect(Date.parse(result.booking.end) - Date.parse(result.booking.start)).toBe(2 * 3_600_000);
    expect(Date.parse(result.booking.start) % 3_600_000).toBe(0);

    // Synced: both people on both doors (front door and the room), 15 minutes either side.
    expect(result.applied.state).toBe('applied');
    expect(result.applied.entries.map((e) => `${e.targetRef} ${e.state}`).sort()).toEqual(['ag-front-door applied', 'ag-front-door applied', 'ag-meeting-1 applied', 'ag-meeting-1 applied']);
    expect(result.applied.entries[0].until).toBe(new Date(Date.parse(result.booking.end) + BUFFER_MS).toISOString());

    // The guest key reads Ada's own PIN, and that PIN opens the room until the window's end.
    expect(result.pins).toHaveLength(1);
    expect(result.pins[0]).toMatchObject({ integrationId: keys.integrationId, pin: expect.stringMatching(/^\d{4,}$/) });
    expect(opensMeetingRoom.find((o) => o.step === "Ada's PIN")).toMatchObject({ opens: true });

    // The move kept the start and pushed the end by an hour; the provider followed: the same PIN (it
    // stays across a move) now opens the room half an hour after the old window closed.
    expect(result.moved.start).toBe(result.booking.start);
    expect(Date.parse(result.moved.end) - Date.parse(result.booking.end)).toBe(3_600_000);
    expect(result.movedOnDoors.state).toBe('applied');
    expect(result.movedOnDoors.entries.every((e) => e.until === new Date(Date.parse(result.moved.end) + BUFFER_MS).toISOString())).toBe(true);
    const afterOldWindow = (step: string) => opensMeetingRoom.filter((o) => o.step === step)[1]!.opens;
    expect(afterOldWindow("Ada's PIN")).toBe(false);
    expect(afterOldWindow('moved')).toBe(true);

    // Cancelled: revoked everywhere, the PIN opens nothing, the demo provider holds none of them.
    expect(result.cancelled.status).toBe('cancelled');
    expect(result.revoked.state).toBe('revoked');
    expect(opensMeetingRoom.filter((o) => o.step === 'cancelled').map((o) => o.opens)).toEqual([false, false]);
    expect(emulator.state.users().filter((u) => u.email === 'ada@example.com' || u.email === 'charles@example.com')).toEqual([]);

    // The audit trail names each change of the booking.
    expect(result.audit.map((e) => e.action)).toEqual(expect.arrayContaining(['booking.created', 'booking.updated', 'booking.cancelled']));
  });

  it('is the code the README shows, with the import an installed package uses', () => {
    const example = fs.readFileSync(repo('examples/walkthrough.ts'), 'utf8');
    const readme = fs.readFileSync(repo('README.md'), 'utf8');
    const shown = example.replace("from '../src/client/index.js'", "from 'lockstep/client'");
    expect(shown).not.toBe(example);
    expect(readme.includes('```ts\n' + shown + '```'), 'README.md: the TypeScript walk-through differs from examples/walkthrough.ts; paste the file (with the lockstep/client import)').toBe(true);
  });
});

