/**
 * The Seam peer is Seam's own published fake, behind a fault-injecting proxy (seam-proxy.ts). Holdings
 * are read from the fake's database; removals behind Lockstep's back go through the fake's own API.
 */
import { nameCarriesKey, OPEN_END_ISO } from '../../src/providers/seam/adapter.js';
import type { ProviderFixture } from './fixture.js';
import { startSeamPeer } from './seam-proxy.js';

interface FakeCode {
  access_code_id: string;
  device_id: string;
  name: string;
  code: string;
  type: string;
  status: string;
  starts_at?: string;
  ends_at?: string;
}

export const seamFixture: ProviderFixture = {
  kind: 'seam',
  revocable: true,
  personalPin: true,
  roundsWindows: false,
  async start() {
    const peer = await startSeamPeer();
    const codes = async (p: { id: string }) =>
      ((await peer.fake.toJSON()).access_codes as unknown as FakeCode[]).filter((c) => nameCarriesKey(c.name, `lockstep-${p.id}`) && c.status !== 'removing');
    const removeCode = (id: string) =>
      fetch(`${peer.fakeUrl}/access_codes/delete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${peer.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ access_code_id: id }),
      });
    return {
      kind: 'seam',
      baseUrl: peer.proxy.url,
      credentials: { apiKey: peer.apiKey },
      badCredentials: { apiKey: 'seam_wrongkey_0451' },
      targets: [peer.devices.frontDoor, peer.devices.backDoor],
      async holdings(p) {
        return (await codes(p)).map((c) => ({
          targetRef: c.device_id,
          from: c.type === 'time_bound' ? Date.parse(c.starts_at!) : 0,
          until: c.type !== 'time_bound' || c.ends_at === OPEN_END_ISO ? null : Date.parse(c.ends_at!),
        }));
      },
      // The fake has no keypad; a code "opens" when it is on that device and the instant is inside its window.
      async pinOpens(p, pin, targetRef, at) {
        return (await codes(p)).some(
          (c) => c.device_id === targetRef && c.code === pin && (c.type !== 'time_bound' || (Date.parse(c.starts_at!) <= at && at < Date.parse(c.ends_at!))),
        );
      },
      async removeBehindOurBack(p, what) {
        const mine = await codes(p);
        for (const c of what === 'everything' ? mine : mine.slice(0, 1)) await removeCode(c.access_code_id);
      },
      faults: peer.proxy.faults,
      requestCount: () => peer.proxy.stats().requests,
      close: () => peer.close(),
    };
  },
};
