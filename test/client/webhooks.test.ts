/**
 * verifyWebhookSignature against the project's own signer (src/providers/webhook/signing.ts), so the
 * client's check and Lockstep's signature cannot drift apart, and against a real change call-back
 * that the dispatcher POSTs to an HTTP receiver written the way an integrator would.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader } from '../../src/providers/webhook/signing.js';
import { LockstepClient, verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER, type CallbackEvent, type WebhookVerifyResult } from '../../src/client/index.js';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';

const secret = 'whsec_test-secret';
const body = JSON.stringify({ id: 'cbd_1', type: 'booking.created', data: { bookingId: 'bk_1', title: 'Café ☕' } });
const now = 1_800_000_000;

describe('verifyWebhookSignature', () => {
  const header = signatureHeader(secret, now, body);

  it('accepts what Lockstep signs, from a header value, Node headers, fetch Headers or bytes', () => {
    expect(verifyWebhookSignature({ rawBody: body, signatureHeader: header, secret, nowSeconds: now })).toEqual({ ok: true, timestamp: now });
    expect(verifyWebhookSignature({ rawBody: body, headers: { [WEBHOOK_SIGNATURE_HEADER]: header }, secret, nowSeconds: now }).ok).toBe(true);
    expect(verifyWebhookSignature({ rawBody: body, headers: { 'Lockstep-Signature': header }, secret, nowSeconds: now }).ok).toBe(true);
    expect(verifyWebhookSignature({ rawBody: body, headers: new Headers({ 'Lockstep-Signature': header }), secret, nowSeconds: now }).ok).toBe(true);
    expect(verifyWebhookSignature({ rawBody: Buffer.from(body, 'utf8'), signatureHeader: header, secret, nowSeconds: now }).ok).toBe(true);
    expect(verifyWebhookSignature({ rawBody: new TextEncoder().encode(body), signatureHeader: header, secret, nowSeconds: now }).ok).toBe(true);
  });

  it('refuses a changed body, another secret, a re-serialised body and a missing or garbled header', () => {
    const fail = (input: Partial<Parameters<typeof verifyWebhookSignature>[0]>): WebhookVerifyResult =>
      verifyWebhookSignature({ rawBody: body, signatureHeader: header, secret, nowSeconds: now, ...input });
    expect(fail({ rawBody: body.replace('bk_1', 'bk_2') })).toEqual({ ok: false, reason: 'mismatch' });
    expect(fail({ secret: 'whsec_other' })).toEqual({ ok: false, reason: 'mismatch' });
    expect(fail({ rawBody: JSON.stringify(JSON.parse(body), null, 2) })).toEqual({ ok: false, reason: 'mismatch' });
    expect(fail({ signatureHeader: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyWebhookSignature({ rawBody: body, headers: {}, secret, nowSeconds: now })).toEqual({ ok: false, reason: 'missing' });
    expect(fail({ signatureHeader: 'v1=abc' })).toEqual({ ok: false, reason: 'malformed' });
    expect(fail({ signatureHeader: `t=${now},v1=${'0'.repeat(64)}` })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses replays and clocks out of tolerance, five minutes by default', () => {
    expect(verifyWebhookSignature({ rawBody: body, signatureHeader: header, secret, nowSeconds: now + 300 }).ok).toBe(true);
    expect(verifyWebhookSignature({ rawBody: body, signatureHeader: header, secret, nowSeconds: now + 301 })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature({ rawBody: body, signatureHeader: header, secret, nowSeconds: now - 301 })).toEqual({ ok: false, reason: 'future' });
    expect(verifyWebhookSignature({ rawBody: body, signatureHeader: header, secret, nowSeconds: now + 30, toleranceSeconds: 10 })).toEqual({ ok: false, reason: 'stale' });
  });

  it('accepts either signature during a secret rotation', () => {
    const old = signatureHeader('whsec_old', now, body).split(',')[1];
    expect(verifyWebhookSignature({ rawBody: body, signatureHeader: `${header},${old}`, secret: 'whsec_old', nowSeconds: now }).ok).toBe(true);
    expect(verifyWebhookSignature({ rawBody: body, signatureHeader: `${header},${old}`, secret, nowSeconds: now }).ok).toBe(true);
  });

  it('uses the real clock when none is given', () => {
    const fresh = Math.floor(Date.now() / 1000);
    expect(verifyWebhookSignature({ rawBody: body, signatureHeader: signatureHeader(secret, fresh, body), secret }).ok).toBe(true);
    expect(verifyWebhookSignature({ rawBody: body, signatureHeader: header, secret }).ok).toBe(false);
  });
});

describe('a change call-back from a running Lockstep', () => {
  let h: Harness;
  let receiver: http.Server;
  let receiverUrl: string;
  const arrived: { verdict: WebhookVerifyResult; event: CallbackEvent; eventIdHeader: string | undefined; rawBody: Buffer; headers: http.IncomingHttpHeaders }[] = [];
  let signingSecret = '';

  beforeAll(async () => {
    h = await startHarness('sqlite', { notifier: { enabled: false } });
    // What an integrator writes: read the raw body, verify, then parse.
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks);
        const verdict = verifyWebhookSignature({ rawBody, headers: req.headers, secret: signingSecret });
        arrived.push({ verdict, event: JSON.parse(rawBody.toString('utf8')) as CallbackEvent, eventIdHeader: req.headers['lockstep-event-id'] as string | undefined, rawBody, headers: req.headers });
        res.writeHead(verdict.ok ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/lockstep`;
  });
  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('verifies, and carries the booking that changed', async () => {
    const admin = new LockstepClient({ baseUrl: h.baseUrl, apiKey: h.keys.admin });
    const spaceId = await h.space();
    signingSecret = (await admin.createCallback({ url: receiverUrl, spaceId })).signingSecret;
    const booking = await admin.createBooking({ spaceId, organiser: { name: 'Ada', email: 'ada@example.com' }, start: hoursFromNow(2), end: hoursFromNow(3) });
    const deadline = Date.now() + 15_000;
    while (arrived.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(arrived).toHaveLength(1);
    const [{ verdict, event, eventIdHeader, rawBody, headers }] = arrived;
    expect(verdict.ok).toBe(true);
    expect(event).toMatchObject({ type: 'booking.created', data: { bookingId: booking.id, spaceId, status: 'confirmed' } });
    expect(eventIdHeader).toBe(event.id);
    // The same delivery checked with another secret, or with one byte changed, fails: the pass above was not vacuous.
    expect(verifyWebhookSignature({ rawBody, headers, secret: 'whsec_someone-else' })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature({ rawBody: Buffer.concat([rawBody, Buffer.from(' ')]), headers, secret: signingSecret })).toEqual({ ok: false, reason: 'mismatch' });
  });
});
