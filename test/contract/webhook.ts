import { startWebhookEmulator } from '../../src/providers/webhook/emulator.js';
import type { ProviderFixture } from './fixture.js';

const SECRET = 'contract-signing-secret-7f3a9c';

export const webhookFixture: ProviderFixture = {
  kind: 'webhook',
  revocable: true,
  personalPin: true,
  roundsWindows: false,
  async start() {
    const emu = await startWebhookEmulator({ port: 0, signingSecret: SECRET });
    const user = (p: { id: string }) => emu.state.userByKey(`lockstep-${p.id}`);
    return {
      kind: 'webhook',
      baseUrl: emu.url,
      credentials: { signingSecret: SECRET },
      badCredentials: { signingSecret: 'wrong-signing-secret-0451' },
      targets: ['main-entrance', 'studio-a'],
      async holdings(p) {
        const u = user(p);
        if (!u) return [];
        return emu.state.grants(u.id).map((g) => ({ targetRef: g.targetId, from: Date.parse(g.startsAt), until: g.endsAt ? Date.parse(g.endsAt) : null }));
      },
      async pinOpens(p, pin, targetRef, at) {
        const u = user(p);
        return Boolean(u && emu.state.pinMatches(u.id, pin) && emu.state.canEnter({ pin, targetId: targetRef, at }));
      },
      async removeBehindOurBack(p, what) {
        // Someone edits the access-control system directly; the receiver sends Lockstep nothing.
        const u = user(p);
        if (!u) return;
        if (what === 'everything') emu.state.removeUser(u.id);
        else emu.state.removeGrant(u.id, emu.state.grants(u.id)[0].id);
      },
      faults: emu.faults,
      requestCount: () => emu.stats().requests,
      close: () => emu.close(),
    };
  },
};
