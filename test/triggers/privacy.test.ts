/**
 * Privacy mode per integration, end to end with the demo provider: every byte Lockstep sends to the
 * provider passes through a recording proxy, and in privacy mode no name, e-mail, phone number or
 * Lockstep person id is in it — only a pseudonymous, stable id. Without privacy mode (the control)
 * they are, so the check can fail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';

async function recordingProxy(target: string) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n${body.toString('utf8')}`);
      const url = new URL(req.url!, target);
      const fwd = http.request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.on('error', () => res.writeHead(502).end());
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, text: () => seen.join('\n\n'), close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('privacy mode with the demo provider', () => {
  let h: Harness | undefined;
  let proxy: Awaited<ReturnType<typeof recordingProxy>> | undefined;
  afterEach(async () => {
    await h?.close();
    await proxy?.close();
  });

  const run = async (privacyMode: boolean) => {
    h = await startHarness('sqlite');
    proxy = await recordingProxy(h.emulator.url);
    const patched = await h.call('PATCH', `/v1/integrations/${h.integrationId}`, { baseUrl: proxy.url, privacyMode });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.privacyMode).toBe(privacyMode);
    const space = await h.space();
    const ada = (await h.call('POST', '/v1/people', { name: 'Ada Lovelace', email: 'ada.lovelace@example.com', phone: '+447700900123' }, h.keys.admin)).body.id as string;
    const b = await h.call('POST', '/v1/bookings', {
      spaceId: space,
      organiserId: ada,
      invitees: [{ name: 'Charles Babbage', email: 'charles.babbage@example.com' }],
      start: hoursFromNow(1),
      end: hoursFromNow(2),
    }, h.keys.admin);
    expect(b.status).toBe(201);
    await h.converge();
    expect((await h.call('GET', `/v1/bookings/${b.body.id}/sync`, undefined, h.keys.admin)).body.state).toBe('applied');
    const firstUsers = h.emulator.state.users();
    // Move and cancel too: every kind of call the engine makes.
    await h.call('PATCH', `/v1/bookings/${b.body.id}`, { end: hoursFromNow(3) }, h.keys.admin);
    await h.converge();
    const users = h.emulator.state.users();
    await h.call('POST', `/v1/bookings/${b.body.id}/cancel`, undefined, h.keys.admin);
    await h.converge();
    return { ada, charles: b.body.inviteeIds[0] as string, firstUsers, users, traffic: proxy.text() };
  };

  it('sends only a pseudonymous stable id: no name, e-mail, phone or person id reaches the provider', async () => {
    const { ada, charles, firstUsers, users, traffic } = await run(true);
    expect(traffic).toMatch(/POST /); // the proxy did see the provider calls
    for (const needle of ['Ada', 'Lovelace', 'ada.lovelace@example.com', '7700900123', 'Charles', 'Babbage', 'charles.babbage@example.com', ada, charles]) {
      expect(traffic, needle).not.toContain(needle);
    }
    expect(users).toHaveLength(2);
    for (const u of users) {
      expect(u.externalId).toMatch(/^ls-[0-9a-f]{24}$/);
      expect(u.name).toMatch(/^Guest [0-9a-f]{8}$/);
      expect(u.email).toBeNull();
      expect(u.phone).toBeNull();
    }
    // One pseudonym per person, stable across changes (the move kept the same provider users).
    expect(new Set(users.map((u) => u.externalId)).size).toBe(2);
    expect(users.map((u) => [u.id, u.externalId]).sort()).toEqual(firstUsers.map((u) => [u.id, u.externalId]).sort());
  });

  it('control: without privacy mode the provider gets name and e-mail', async () => {
    const { traffic } = await run(false);
    expect(traffic).toContain('ada.lovelace@example.com');
    expect(traffic).toContain('Ada Lovelace');
  });
});
