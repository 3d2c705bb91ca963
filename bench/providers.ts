/**
 * The provider a benchmark run talks to, over real HTTP. `demo` is the built-in emulator with one access
 * group per space; every other kind is started through its contract fixture (test/contract/<kind>.ts),
 * the same peer the contract suite uses: our emulator of the provider's API, or for Seam, Seam's own
 * published fake. The end-of-run check reads what the peer holds through the same fixture.
 */
import { startDemoEmulator, type DemoAccessGroup } from '../src/providers/demo/emulator.js';
import type { HeldAccess, PersonOnProvider, ProviderFixture } from '../test/contract/fixture.js';

export interface BenchProvider {
  kind: string;
  baseUrl: string;
  credentials: Record<string, string>;
  /** Targets each space is mapped to: a shared front door plus the space's own target when there is one. */
  targetsFor(space: number): string[];
  /** Requests the peer has served since the last reset. */
  requests(): number;
  /** Per-route counts where the peer keeps them (our emulators do; Seam's fake through our proxy does). */
  byRoute(): Record<string, number> | null;
  resetStats(): void;
  holdings(person: PersonOnProvider): Promise<HeldAccess[]>;
  close(): Promise<void>;
}

const fixtures: Record<string, () => Promise<ProviderFixture>> = {
  gallagher: async () => (await import('../test/contract/gallagher.js')).gallagherFixture,
  nuki: async () => (await import('../test/contract/nuki.js')).nukiFixture,
  seam: async () => (await import('../test/contract/seam.js')).seamFixture,
  seccloud: async () => (await import('../test/contract/seccloud.js')).secCloudFixture,
  webhook: async () => (await import('../test/contract/webhook.js')).webhookFixture,
};

export const benchProviderKinds = ['demo', ...Object.keys(fixtures)];

export async function startBenchProvider(kind: string, spaces: number): Promise<BenchProvider> {
  if (kind === 'demo') return startDemo(spaces);
  const load = fixtures[kind];
  if (!load) throw new Error(`--provider must be one of ${benchProviderKinds.join(', ')} (got "${kind}")`);
  const peer = await (await load()).start();
  const [door, ...rooms] = peer.targets;
  let base = peer.requestCount();
  return {
    kind,
    baseUrl: peer.baseUrl,
    credentials: peer.credentials,
    // Fixtures expose a handful of targets; spaces share rooms round-robin.
    targetsFor: (space) => (rooms.length ? [door, rooms[space % rooms.length]] : [door]),
    requests: () => peer.requestCount() - base,
    byRoute: () => null,
    resetStats: () => {
      base = peer.requestCount();
    },
    holdings: (person) => peer.holdings(person),
    close: () => peer.close(),
  };
}

const PROVIDER_KEY = 'bench-key';

async function startDemo(spaces: number): Promise<BenchProvider> {
  const rooms: DemoAccessGroup[] = Array.from({ length: spaces }, (_, i) => ({ id: `ag-room-${i + 1}`, name: `Room ${i + 1}`, description: 'Benchmark room' }));
  const emu = await startDemoEmulator({ port: 0, apiKey: PROVIDER_KEY, accessGroups: [{ id: 'ag-front-door', name: 'Front door', description: 'Street entrance' }, ...rooms] });
  return {
    kind: 'demo',
    baseUrl: emu.url,
    credentials: { apiKey: PROVIDER_KEY },
    targetsFor: (space) => ['ag-front-door', rooms[space].id],
    requests: () => emu.stats().requests,
    byRoute: () => emu.stats().byRoute,
    resetStats: () => emu.resetStats(),
    async holdings(person) {
      const user = emu.state.userByExternalId(`lockstep-${person.id}`);
      if (!user) return [];
      return emu.state.memberships(user.id).map((m) => ({ targetRef: m.accessGroupId, from: Date.parse(m.from), until: m.until ? Date.parse(m.until) : null }));
    },
    close: () => emu.close(),
  };
}
