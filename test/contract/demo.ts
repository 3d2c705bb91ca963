import { startDemoEmulator } from '../../src/providers/demo/emulator.js';
import type { ProviderFixture } from './fixture.js';

export const demoFixture: ProviderFixture = {
  kind: 'demo',
  revocable: true,
  personalPin: true,
  roundsWindows: false,
  async start() {
    const emu = await startDemoEmulator({ port: 0, apiKey: 'contract-key' });
    const user = (p: { id: string }) => emu.state.userByExternalId(`lockstep-${p.id}`);
    return {
      kind: 'demo',
      baseUrl: emu.url,
      credentials: { apiKey: 'contract-key' },
      badCredentials: { apiKey: 'wrong-key-0451' },
      targets: ['ag-front-door', 'ag-meeting-1'],
      async holdings(p) {
        const u = user(p);
        if (!u) return [];
        return emu.state.memberships(u.id).map((m) => ({ targetRef: m.accessGroupId, from: Date.parse(m.from), until: m.until ? Date.parse(m.until) : null }));
      },
      async pinOpens(p, pin, targetRef, at) {
        const u = user(p);
        return Boolean(u && emu.state.pinMatches(u.id, pin) && emu.state.canEnter({ pin, accessGroupId: targetRef, at }));
      },
      async removeBehindOurBack(p, what) {
        const u = user(p);
        if (!u) return;
        const auth = { authorization: 'Bearer contract-key' };
        if (what === 'everything') {
          await fetch(`${emu.url}/api/users/${u.id}`, { method: 'DELETE', headers: auth });
        } else {
          const m = emu.state.memberships(u.id)[0];
          await fetch(`${emu.url}/api/users/${u.id}/memberships/${m.id}`, { method: 'DELETE', headers: auth });
        }
      },
      faults: emu.faults,
      requestCount: () => emu.stats().requests,
      close: () => emu.close(),
    };
  },
};
