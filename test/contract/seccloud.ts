import { startSecCloudEmulator } from '../../src/providers/seccloud/emulator.js';
import type { ProviderFixture } from './fixture.js';

const API_KEY = 'contract-seccloud-key';
const SITE = 'site-contract';

export const secCloudFixture: ProviderFixture = {
  kind: 'seccloud',
  revocable: true,
  personalPin: true,
  roundsWindows: false,
  async start() {
    // A small page size so every listing the engine triggers really walks cursors.
    const emu = await startSecCloudEmulator({ port: 0, apiKey: API_KEY, siteId: SITE, maxPageSize: 2 });
    const user = (p: { id: string }) => emu.state.userByExternalRef(`lockstep-${p.id}`);
    const api = (method: string, path: string) =>
      fetch(`${emu.url}/v1/sites/${SITE}${path}`, { method, headers: { 'x-api-key': API_KEY } });
    return {
      kind: 'seccloud',
      baseUrl: emu.url,
      credentials: { apiKey: API_KEY, siteId: SITE },
      badCredentials: { apiKey: 'wrong-seccloud-key-0451', siteId: SITE },
      targets: [emu.state.snapshot().access_groups[0].id, emu.state.snapshot().access_groups[1].id],
      async holdings(p) {
        const u = user(p);
        if (!u) return [];
        return emu.state.memberships(u.id).map((m) => ({
          targetRef: m.access_group_id,
          from: Date.parse(m.valid_from),
          until: m.valid_to ? Date.parse(m.valid_to) : null,
        }));
      },
      async pinOpens(p, pin, targetRef, at) {
        const u = user(p);
        return Boolean(u && emu.state.pinMatches(u.id, pin) && emu.state.canEnter({ pin, accessGroupId: targetRef, at }));
      },
      async removeBehindOurBack(p, what) {
        const u = user(p);
        if (!u) return;
        if (what === 'everything') {
          await api('DELETE', `/users/${u.id}`);
        } else {
          await api('DELETE', `/memberships/${emu.state.memberships(u.id)[0].id}`);
        }
      },
      faults: emu.faults,
      requestCount: () => emu.stats().requests,
      close: () => emu.close(),
    };
  },
};
