/**
 * A fault-injecting reverse proxy in front of Seam's own fake (`@seamapi/fake-seam-connect`), which has
 * no faults of its own. Built on the emulator kit, so `faults.add(rule)` takes the same FaultRule shape
 * as every emulator and request stats come free. A faulted request never reaches the fake.
 */
import { createFake, type Fake } from '@seamapi/fake-seam-connect';
import { startEmulatorServer, type EmulatorServer } from '../../src/providers/emulator-kit.js';

export interface SeamPeer {
  fake: Fake;
  /** The fake's own URL (no faults, not counted): for test set-up that must not be faulted. */
  fakeUrl: string;
  /** The proxy: point the adapter here. */
  proxy: EmulatorServer;
  apiKey: string;
  /** Seeded lock devices that can hold online access codes. */
  devices: { frontDoor: string; backDoor: string; schlage: string };
  close(): Promise<void>;
}

const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/** `recordRequests`: the proxy keeps every forwarded request (`proxy.recorded()`) for conformance tests. */
export async function startSeamPeer(opts: { recordRequests?: boolean } = {}): Promise<SeamPeer> {
  const fake = await createFake();
  const seed = await fake.seed();
  await fake.startServer(); // picks a free port itself (port 0 would make its serverUrl wrong)
  const fakeUrl = fake.serverUrl!;

  const proxy = await startEmulatorServer({
    recordRequests: opts.recordRequests,
    route: (method) => ({
      template: `${method} (forwarded)`,
      async handle(req) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !HOP_HEADERS.has(k)) headers[k] = v;
        const qs = req.query.toString();
        const res = await fetch(`${fakeUrl}${req.path}${qs ? `?${qs}` : ''}`, {
          method: req.method,
          headers,
          body: req.body === undefined || req.method === 'GET' ? undefined : JSON.stringify(req.body),
        });
        const raw = await res.text();
        return { status: res.status, raw, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } };
      },
    }),
  });

  return {
    fake,
    fakeUrl,
    proxy,
    apiKey: seed.seam_apikey1_token,
    devices: { frontDoor: seed.august_device_1, backDoor: seed.august_device_2, schlage: seed.schlage_device_1 },
    async close() {
      await proxy.close();
      await fake.stopServer();
      fake.server?.server.closeAllConnections();
    },
  };
}
