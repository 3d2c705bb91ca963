import { startNukiEmulator } from '../../src/providers/nuki/emulator.js';
import type { ProviderFixture } from './fixture.js';

const TOKEN = 'contract-nuki-token';

export const nukiFixture: ProviderFixture = {
  kind: 'nuki',
  revocable: true,
  personalPin: true,
  // Windows go out in whole seconds; the suite books whole minutes, so they round-trip exactly.
  roundsWindows: false,
  async start() {
    const emu = await startNukiEmulator({ port: 0, apiToken: TOKEN });
    // The adapter names every keypad authorization after the person's identity key.
    const mine = (p: { id: string }) => emu.state.authsByName(`lockstep-${p.id}`);
    return {
      kind: 'nuki',
      baseUrl: emu.url,
      credentials: { apiToken: TOKEN },
      badCredentials: { apiToken: 'wrong-token-0451' },
      targets: emu.state.smartlocks().slice(0, 2).map((l) => String(l.smartlockId)),
      async holdings(p) {
        return mine(p).map((a) => ({
          targetRef: String(a.smartlockId),
          from: Date.parse(a.allowedFromDate!),
          until: a.allowedUntilDate ? Date.parse(a.allowedUntilDate) : null,
        }));
      },
      async pinOpens(p, pin, targetRef, at) {
        const lock = Number(targetRef);
        const holds = mine(p).some((a) => a.smartlockId === lock && emu.state.codeMatches(a.id, pin));
        return holds && emu.state.canEnter({ code: pin, smartlockId: lock, at });
      },
      async removeBehindOurBack(p, what) {
        const auths = what === 'everything' ? mine(p) : mine(p).slice(0, 1);
        for (const a of auths) {
          await fetch(`${emu.url}/smartlock/${a.smartlockId}/auth/${a.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
        }
      },
      faults: emu.faults,
      requestCount: () => emu.stats().requests,
      close: () => emu.close(),
    };
  },
};
