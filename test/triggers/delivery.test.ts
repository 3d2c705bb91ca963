/**
 * How the PIN reaches the guest, per space: e-mail (default), dashboard only (no message carries the
 * PIN) or SMS through an HTTP gateway (a real local HTTP server here).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Received {
  auth: string | undefined;
  contentType: string | undefined;
  body: { to: string; text: string };
}

async function startGateway(failFirst = 0) {
  const received: Received[] = [];
  let failures = failFirst;
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        return;
      }
      received.push({ auth: req.headers.authorization, contentType: req.headers['content-type'], body: JSON.parse(data) });
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"queued":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('PIN delivery per space', () => {
  let h: Harness | undefined;
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  afterEach(async () => {
    await h?.close();
    await gateway?.close();
    h = undefined;
    gateway = undefined;
  });

  const person = async (hh: Harness, name: string, email: string, phone?: string) => {
    const res = await hh.call('POST', '/v1/people', { name, email, ...(phone ? { phone } : {}) }, hh.keys.admin);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const pinOf = async (hh: Harness, personId: string) => {
    const key = (await hh.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId }, hh.keys.admin)).body.key;
    const pins = (await hh.call('GET', '/v1/me/pins', undefined, key)).body.results;
    expect(pins).toHaveLength(1);
    return pins[0].pin as string;
  };
  /** Every message to this person, whole (platform admin). */
  const messagesTo = async (hh: Harness, personId: string) => {
    const list = (await hh.call('GET', `/v1/outbox?personId=${personId}`, undefined, hh.keys.admin)).body.results as any[];
    return Promise.all(list.map(async (m) => (await hh.call('GET', `/v1/outbox/${m.id}`)).body));
  };

  it('dashboard: the confirmation e-mail carries no PIN (an e-mail space, for contrast, does)', async () => {
    h = await startHarness('sqlite');
    const dash = await h.space();
    const mail = await h.space(['ag-meeting-2']);
    expect((await h.call('PUT', `/v1/spaces/${dash}/trigger`, { delivery: 'dashboard' }, h.keys.admin)).status).toBe(200);
    const grace = await person(h, 'Grace', 'grace@example.com');
    const alan = await person(h, 'Alan', 'alan@example.com');
    const b1 = (await h.call('POST', '/v1/bookings', { spaceId: dash, organiserId: grace, start: hoursFromNow(1), end: hoursFromNow(2) }, h.keys.admin)).body;
    await h.call('POST', '/v1/bookings', { spaceId: mail, organiserId: alan, start: hoursFromNow(1), end: hoursFromNow(2) }, h.keys.admin);
    await h.converge();
    const graceMsgs = await waitFor('grace confirmation', async () => {
      const m = await messagesTo(h!, grace);
      return m.some((x) => x.kind === 'booking.confirmed') && m;
    });
    const alanMsgs = await waitFor('alan confirmation', async () => {
      const m = await messagesTo(h!, alan);
      return m.some((x) => x.kind === 'booking.confirmed') && m;
    });
    const gracePin = await pinOf(h, grace);
    const alanPin = await pinOf(h, alan);
    expect(graceMsgs[0].bookingId).toBe(b1.id);
    for (const m of graceMsgs) {
      expect(m.redacted).toBe(false);
      expect(m.text).not.toContain(gracePin);
      expect(m.html).not.toContain(gracePin);
    }
    expect(graceMsgs[0].text).toMatch(/guest page/);
    expect(alanMsgs[0].text).toContain(alanPin);
  });

  it('sms: the gateway receives {to, text} with the PIN, with the bearer token; no e-mail carries it', async () => {
    gateway = await startGateway(1);
    h = await startHarness('sqlite', { notifier: { smsGatewayUrl: gateway.url, smsGatewayToken: 'gw-token-123' } });
    const space = await h.space();
    expect((await h.call('PUT', `/v1/spaces/${space}/trigger`, { delivery: 'sms' }, h.keys.admin)).status).toBe(200);
    const ada = await person(h, 'Ada', 'ada@example.com', '+447700900123');
    const res = await h.call('POST', '/v1/bookings', { spaceId: space, organiserId: ada, start: hoursFromNow(1), end: hoursFromNow(2) }, h.keys.admin);
    expect(res.status).toBe(201);
    await h.converge();
    // The first attempt gets a 503; the notifier retries.
    const sms = await waitFor('an SMS', async () => gateway!.received[0]);
    const pin = await pinOf(h, ada);
    expect(sms.auth).toBe('Bearer gw-token-123');
    expect(sms.contentType).toMatch(/application\/json/);
    expect(sms.body.to).toBe('+447700900123');
    expect(sms.body.text).toMatch(/Booking confirmed/);
    expect(sms.body.text).toContain(pin);
    const msgs = await messagesTo(h, ada);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ to: 'sms:+447700900123', status: 'sent' });
    // Listed with the PIN masked.
    const listed = (await h.call('GET', `/v1/outbox?personId=${ada}`, undefined, h.keys.admin)).body.results[0];
    expect(listed.text).not.toContain(pin);
    expect(gateway.received).toHaveLength(1);
  });
});
