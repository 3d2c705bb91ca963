import { startAltaEmulator } from '../../src/providers/openpath/emulator.js';
import type { ProviderFixture } from './fixture.js';

const ORG = 4711;
const ADMIN = { email: 'contract-bot@venue.example', password: 'contract-pw-8812', orgIds: [ORG] };

/**
 * Alta memberships have no window (membershipWindows: false): the engine adds a membership when the
 * booking window has started and removes it at the end. What Lockstep asked for is not stored on
 * Alta, so a held group is reported as open-ended from 0, and the suite checks covering only.
 */
export const openpathFixture: ProviderFixture = {
  kind: 'openpath',
  revocable: true,
  personalPin: false,
  roundsWindows: true,
  startedWindowsOnly: true,
  async start() {
    const emu = await startAltaEmulator({ port: 0, admins: [ADMIN] });
    const user = (p: { id: string }) => emu.state.userByExternalId(ORG, `lockstep-${p.id}`);
    return {
      kind: 'openpath',
      baseUrl: emu.url,
      credentials: { email: ADMIN.email, password: ADMIN.password, orgId: String(ORG) },
      badCredentials: { email: ADMIN.email, password: 'wrong-pw-0451', orgId: String(ORG) },
      targets: ['101', '102'],
      async holdings(p) {
        const u = user(p);
        if (!u) return [];
        return u.groupIds.map((g) => ({ targetRef: String(g), from: 0, until: null }));
      },
      async removeBehindOurBack(p, what) {
        const u = user(p);
        if (!u) return;
        if (what === 'everything') emu.state.deleteUser(ORG, u.id);
        else if (u.groupIds.length) emu.state.removeMembership(ORG, u.id, u.groupIds[0]);
      },
      faults: emu.faults,
      requestCount: () => emu.stats().requests,
      close: () => emu.close(),
    };
  },
};
