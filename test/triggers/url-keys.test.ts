/**
 * URL keys: a guest's signed link opens the booked doors now (Inlet's pulse, through the Inlet
 * emulator over HTTP) only inside the booking's access window; refused after cancellation, outside
 * the window, when tampered with or expired; rate-limited per link.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startInletEmulator, type InletEmulator } from '../../src/providers/inlet/emulator.js';
import { startHarness, hoursFromNow, tamperUrlKey, type Harness } from '../support/harness.js';
import { signUrlKey, verifyUrlKey } from '../../src/api/url-keys.js';

describe('URL keys', () => {
  let emu: InletEmulator;
  let h: Harness;
  let space: string;
  beforeEach(async () => {
    emu = await startInletEmulator({ port: 0, apiKey: 'open-key' });
    h = await startHarness('sqlite', { provider: { kind: 'inlet', baseUrl: emu.url, credentials: { apiKey: 'open-key' } } as never });
    space = await h.space(['lock-main-entrance', 'lock-room-1'], { name: 'Room <b>1</b>' });
  });
  afterEach(async () => {
    await h?.close();
    await emu?.close();
  });

  const bookAndLink = async (start: string, end: string) => {
    const b = (await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada', email: 'ada@example.com' }, start, end }, h.keys.admin)).body;
    await h.converge();
    const key = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId: b.organiserId }, h.keys.admin)).body.key as string;
    const link = await h.call('GET', `/v1/me/bookings/${b.id}/url-key`, undefined, key);
    expect(link.status, JSON.stringify(link.body)).toBe(200);
    return { booking: b, key, link: link.body as { url: string; token: string; expiresAt: string; validFrom: string } };
  };
  const open = async (token: string, accept = 'application/json') => {
    const res = await fetch(`${h.baseUrl}/k/${token}`, { method: 'POST', headers: { accept } });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: accept === 'application/json' ? JSON.parse(text) : null };
  };

  it('opens every door of the booking inside its window, shows an escaped mobile page, audits', async () => {
    const { booking, link } = await bookAndLink(hoursFromNow(-1), hoursFromNow(1));
    expect(link.url).toBe(`${h.baseUrl}/k/${link.token}`);
    // The link expires when the booking's access ends (end + 15 min buffer).
    expect(Date.parse(link.expiresAt)).toBe(Math.floor((Date.parse(booking.end) + 15 * 60_000) / 1000) * 1000);

    const page = await fetch(link.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const body = await page.text();
    expect(body).toContain('Room &lt;b&gt;1&lt;/b&gt;');
    expect(body).not.toContain('<b>1</b>');
    expect(body).toMatch(/<button type="submit">Open door<\/button>/);

    const res = await open(link.token);
    expect(res.status, res.text).toBe(200);
    expect(res.body.opened.sort()).toEqual(['lock-main-entrance', 'lock-room-1']);
    expect(emu.state.pulses().map((p) => p.lockId).sort()).toEqual(['lock-main-entrance', 'lock-room-1']);
    const audit = (await h.call('GET', `/v1/audit?subjectId=${booking.organiserId}&action=door.opened`, undefined, h.keys.admin)).body.results;
    expect(audit).toHaveLength(2);
    expect(audit[0].actor).toBe(`url-key:${booking.id}`);

    // The page's form post (a browser) gets a page back.
    const viaForm = await fetch(link.url, { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(viaForm.status).toBe(200);
    expect(await viaForm.text()).toMatch(/Door open/);
  });

  it('refuses outside the window, with no pulse', async () => {
    const { link } = await bookAndLink(hoursFromNow(3), hoursFromNow(4));
    const res = await open(link.token);
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/not yet/);
    const page = await fetch(link.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(403);
    expect(await page.text()).not.toMatch(/<button/);
    expect(emu.state.pulses()).toEqual([]);
  });

  it('refuses after cancellation', async () => {
    const { booking, link } = await bookAndLink(hoursFromNow(-1), hoursFromNow(1));
    await h.call('POST', `/v1/bookings/${booking.id}/cancel`, undefined, h.keys.admin);
    await h.converge();
    const res = await open(link.token);
    expect(res.status).toBe(410);
    expect(res.body.error).toBe('cancelled');
    expect(emu.state.pulses()).toEqual([]);
    // And no new link for a cancelled booking.
    const key = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'g2', personId: booking.organiserId }, h.keys.admin)).body.key;
    expect((await h.call('GET', `/v1/me/bookings/${booking.id}/url-key`, undefined, key)).status).toBe(409);
  });

  it('refuses a tampered or expired link', async () => {
    const { booking, link } = await bookAndLink(hoursFromNow(-1), hoursFromNow(1));
    const [b, p, e, sig] = link.token.split('.');
    expect(link.token.length).toBeLessThan(100);
    const later = (parseInt(e, 36) + 86_400).toString(36);
    expect((await open(`${b}.${p}.${later}.${sig}`)).status).toBe(404);
    expect((await open(tamperUrlKey(link.token))).status).toBe(404);
    // The same MAC bytes spelled with other unused trailing bits: not the link that was issued.
    const last = sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = alphabet[alphabet.indexOf(last) ^ 1];
    expect(Buffer.from(`${sig.slice(0, -1)}${respelled}`, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    expect((await open(`${b}.${p}.${e}.${sig.slice(0, -1)}${respelled}`)).status).toBe(404);
    expect((await open('garbage')).status).toBe(404);
    // Signed with another key: not valid here.
    const { SecretBox } = await import('../../src/security/crypto.js');
    const other = signUrlKey(new SecretBox(Buffer.alloc(32, 7)), { bookingId: booking.id, personId: booking.organiserId, expiresAt: Date.now() + 3_600_000 });
    expect((await open(other)).status).toBe(404);
    const expired = signUrlKey(h.app.secrets, { bookingId: booking.id, personId: booking.organiserId, expiresAt: Date.now() - 1000 });
    expect(verifyUrlKey(h.app.secrets, expired, Date.now())).toEqual({ ok: false, reason: 'expired' });
    const res = await open(expired);
    expect(res.status).toBe(410);
    expect(res.body.error).toBe('expired');
    // Someone not on the booking: a validly signed key for them opens nothing.
    const stranger = (await h.call('POST', '/v1/people', { name: 'Eve', email: 'eve@example.com' }, h.keys.admin)).body.id;
    const strangers = signUrlKey(h.app.secrets, { bookingId: booking.id, personId: stranger, expiresAt: Date.now() + 3_600_000 });
    expect((await open(strangers)).status).toBe(404);
    expect(emu.state.pulses()).toEqual([]);
  });

  it('is rate-limited per link: 5 opens a minute, then 429 with Retry-After', async () => {
    const { link } = await bookAndLink(hoursFromNow(-1), hoursFromNow(1));
    for (let i = 0; i < 5; i++) expect((await open(link.token)).status).toBe(200);
    const limited = await open(link.token);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(emu.state.pulses()).toHaveLength(10);
  });

  it('is for the guest on the booking only', async () => {
    const { booking } = await bookAndLink(hoursFromNow(-1), hoursFromNow(1));
    expect((await h.call('GET', `/v1/me/bookings/${booking.id}/url-key`, undefined, h.keys.admin)).status).toBe(403);
    const eve = (await h.call('POST', '/v1/people', { name: 'Eve', email: 'eve@example.com' }, h.keys.admin)).body.id;
    const eveKey = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'e', personId: eve }, h.keys.admin)).body.key;
    expect((await h.call('GET', `/v1/me/bookings/${booking.id}/url-key`, undefined, eveKey)).status).toBe(404);
  });
});
