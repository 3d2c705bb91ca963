import { startInletEmulator } from '../../src/providers/inlet/emulator.js';
import type { ProviderFixture } from './fixture.js';

/** The contract peer is our Inlet emulator: Inlet issues the credential; grants are per lock, found by the pseudonymous uniqueId. */
export const inletFixture: ProviderFixture = {
  kind: 'inlet',
  revocable: true,
  personalPin: false,
  issuesCredentials: true,
  roundsWindows: false,
  async start() {
    const emu = await startInletEmulator({ port: 0, apiKey: 'contract-key' });
    const uniqueId = (p: { id: string }) => `lockstep-${p.id}`;
    const revoke = (referenceId: string) =>
      fetch(`${emu.url}/RevokeAccess`, {
        method: 'POST',
        headers: { authorization: 'Bearer contract-key', 'content-type': 'application/json' },
        body: JSON.stringify({ referenceId }),
      });
    return {
      kind: 'inlet',
      baseUrl: emu.url,
      credentials: { apiKey: 'contract-key' },
      badCredentials: { apiKey: 'wrong-key-0451' },
      targets: ['lock-main-entrance', 'lock-room-1'],
      async holdings(p) {
        return emu.state.accesses(uniqueId(p)).map((a) => ({ targetRef: a.lockId, from: Date.parse(a.startTime), until: Date.parse(a.endTime) }));
      },
      async credentialOpens(secret, targetRef, at) {
        return emu.state.credentialOpens(secret, targetRef, at);
      },
      async removeBehindOurBack(p, what) {
        const mine = emu.state.accesses(uniqueId(p));
        for (const a of what === 'everything' ? mine : mine.slice(0, 1)) await revoke(a.referenceId);
      },
      faults: emu.faults,
      requestCount: () => emu.stats().requests,
      close: () => emu.close(),
    };
  },
};
