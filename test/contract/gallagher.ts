import { startGallagherEmulator } from '../../src/providers/gallagher/emulator.js';
import type { ProviderFixture } from './fixture.js';

const API_KEY = '1A2B-3C4D-5E6F-7A8B-9C0D-1E2F-3A4B-5C6D';

export const gallagherFixture: ProviderFixture = {
  kind: 'gallagher',
  revocable: true,
  personalPin: true,
  roundsWindows: false,
  async start() {
    const emu = await startGallagherEmulator({ port: 0, apiKey: API_KEY });
    const divisionHref = emu.state.divisionHref('5387');
    const cardholder = (p: { id: string }) => emu.state.cardholderByDescription(`lockstep-${p.id}`);
    const groupId = (href: string) => href.split('/').pop()!;
    const auth = { authorization: `GGL-API-KEY ${API_KEY}` };
    return {
      kind: 'gallagher',
      baseUrl: emu.url,
      credentials: { apiKey: API_KEY, divisionHref },
      badCredentials: { apiKey: 'DEAD-BEEF-0451-0451-0451-0451-0451-0451', divisionHref },
      targets: [emu.state.accessGroupHref('352'), emu.state.accessGroupHref('353')],
      async holdings(p) {
        const ch = cardholder(p);
        if (!ch) return [];
        return emu.state.memberships(ch.id).map((m) => ({
          targetRef: m.accessGroupHref,
          from: m.from === null ? 0 : Date.parse(m.from),
          until: m.until === null ? null : Date.parse(m.until),
        }));
      },
      async pinOpens(p, pin, targetRef, at) {
        const ch = cardholder(p);
        return Boolean(ch && emu.state.usercodeMatches(ch.id, pin) && emu.state.canEnter({ pin, accessGroupId: groupId(targetRef), at }));
      },
      async removeBehindOurBack(p, what) {
        const ch = cardholder(p);
        if (!ch) return;
        const target = what === 'everything' ? ch.href : emu.state.memberships(ch.id)[0]?.href;
        if (target) await fetch(target, { method: 'DELETE', headers: auth });
      },
      faults: emu.faults,
      requestCount: () => emu.stats().requests,
      close: () => emu.close(),
    };
  },
};
