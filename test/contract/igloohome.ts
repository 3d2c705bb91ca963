import { startIgloohomeEmulator } from '../../src/providers/igloohome/emulator.js';
import type { HeldAccess, ProviderFixture } from './fixture.js';

/**
 * Holdings are the access periods a person's algoPINs give on each lock: every PIN issued to them
 * (accessName = their identity key) that has not ended, overlapping periods on one lock merged.
 * Codes Lockstep could not withdraw stay in here until they end, as they do on the real lock.
 */
function mergePeriods(periods: HeldAccess[]): HeldAccess[] {
  const out: HeldAccess[] = [];
  for (const p of [...periods].sort((a, b) => a.targetRef.localeCompare(b.targetRef) || a.from - b.from)) {
    const last = out[out.length - 1];
    if (last && last.targetRef === p.targetRef && (last.until === null || p.from <= last.until)) {
      last.until = last.until === null || p.until === null ? null : Math.max(last.until, p.until);
    } else {
      out.push({ ...p });
    }
  }
  return out;
}

export const igloohomeFixture: ProviderFixture = {
  kind: 'igloohome',
  revocable: false,
  personalPin: false,
  issuesCredentials: true,
  roundsWindows: true,
  async start() {
    const emu = await startIgloohomeEmulator({ clients: [{ clientId: 'contract-client', clientSecret: 'contract-secret-7781' }], seed: 'contract' });
    return {
      kind: 'igloohome',
      baseUrl: emu.apiUrl,
      credentials: { clientId: 'contract-client', clientSecret: 'contract-secret-7781', tokenUrl: emu.tokenUrl },
      badCredentials: { clientId: 'contract-client', clientSecret: 'wrong-secret-0451', tokenUrl: emu.tokenUrl },
      targets: ['IGM3011a2b3c', 'IGP2024d5e6f'],
      async holdings(p) {
        const now = Date.now();
        const held = emu.state
          .pins({ accessName: `lockstep-${p.id}` })
          .filter((pin) => pin.validUntil === null || pin.validUntil > now)
          .map((pin) => ({ targetRef: pin.deviceId, from: pin.validFrom, until: pin.validUntil }));
        return mergePeriods(held);
      },
      async credentialOpens(secret, targetRef, at) {
        return emu.state.canEnter(targetRef, secret, at);
      },
      /**
       * Nothing to do, honestly: the igloohome API cannot delete an algoPIN (only the igloohome app can,
       * within Bluetooth range of the lock), and nothing reports such a deletion back. So neither this
       * fixture nor Lockstep can remove or see a code removed behind its back.
       */
      async removeBehindOurBack() {},
      faults: emu.faults,
      requestCount: () => emu.stats().requests,
      close: () => emu.close(),
    };
  },
};
