/**
 * Sessions and CSRF over real HTTP (no browser): cookie flags, sealed session, per-session token
 * required on every POST, cross-origin POSTs refused, tampered or revoked sessions logged out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startHarness, type Harness } from '../support/harness.js';
import { csrfMatches, newCsrfToken, openSession, sealSession, SESSION_TTL_MS } from '../../src/web/session.js';
import { SecretBox } from '../../src/security/crypto.js';

class Browserish {
  jar: Record<string, string> = {};
  raw: string[] = [];
  constructor(private readonly base: string) {}
  async go(method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}) {
    const res = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        cookie: Object.entries(this.jar).map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const c of res.headers.getSetCookie()) {
      this.raw.push(c);
      const [kv] = c.split(';');
      const i = kv.indexOf('=');
      const v = kv.slice(i + 1);
      if (v === '' || /Expires=Thu, 01 Jan 1970/i.test(c)) delete this.jar[kv.slice(0, i)];
      else this.jar[kv.slice(0, i)] = v;
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text(), headers: res.headers };
  }
  static csrf(text: string) {
    return /name="_csrf" value="([^"]+)"/.exec(text)![1];
  }
  async login(key: string) {
    const form = await this.go('GET', '/web/login');
    const res = await this.go('POST', '/web/login', { _csrf: Browserish.csrf(form.text), key });
    const page = await this.go('GET', res.location!);
    return { res, csrf: Browserish.csrf(page.text) };
  }
}

describe('CSRF token helpers', () => {
  it('matches only the exact token', () => {
    const t = newCsrfToken();
    expect(t.length).toBeGreaterThanOrEqual(40);
    expect(csrfMatches(t, t)).toBe(true);
    expect(csrfMatches(t, t.slice(0, -1))).toBe(false);
    expect(csrfMatches(t, `${t}x`)).toBe(false);
    expect(csrfMatches(t, newCsrfToken())).toBe(false);
    expect(csrfMatches(t, undefined)).toBe(false);
    expect(csrfMatches(t, [t])).toBe(false);
    expect(csrfMatches('', '')).toBe(false);
    expect(csrfMatches(undefined, undefined)).toBe(false);
  });

  it('seals the session (key not readable) and expires it', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = sealSession(box, { key: 'lsk_secret', csrf: newCsrfToken(), org: null, at: Date.now() });
    expect(sealed).not.toContain('lsk_secret');
    expect(openSession(box, sealed)?.key).toBe('lsk_secret');
    expect(openSession(box, sealed, Date.now() + SESSION_TTL_MS + 1)).toBeNull();
    expect(openSession(new SecretBox(randomBytes(32)), sealed)).toBeNull();
    expect(openSession(box, 'v1.garbage')).toBeNull();
  });
});

describe('web sessions over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('sqlite');
  });
  afterAll(async () => h?.close());

  const locationCount = async () => (await h.call('GET', '/v1/locations', undefined, h.keys.admin)).body.results.length;

  it('sets signed, httpOnly, SameSite=Lax cookies and never stores the key in the clear', async () => {
    const b = new Browserish(h.baseUrl);
    const { res } = await b.login(h.keys.admin);
    expect(res.status).toBe(303);
    const session = b.raw.find((c) => c.startsWith('ls_session='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(session).toMatch(/Path=\//);
    expect(session).not.toContain(h.keys.admin);
    const page = await b.go('GET', '/web/spaces');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('refuses a log-in form without its token, and a wrong key', async () => {
    const b = new Browserish(h.baseUrl);
    await b.go('GET', '/web/login');
    expect((await b.go('POST', '/web/login', { key: h.keys.admin })).status).toBe(403);
    const form = await b.go('GET', '/web/login');
    const bad = await b.go('POST', '/web/login', { _csrf: Browserish.csrf(form.text), key: 'lsk_nope' });
    expect(bad.status).toBe(401);
    expect(bad.text).toContain('unknown or has been revoked');
    expect(b.jar.ls_session).toBeUndefined();
  });

  it('requires the session token on every POST and changes nothing without it', async () => {
    const b = new Browserish(h.baseUrl);
    const { csrf } = await b.login(h.keys.admin);
    const other = await new Browserish(h.baseUrl).login(h.keys.admin);
    const before = await locationCount();
    expect((await b.go('POST', '/web/locations', { name: 'A', timeZone: 'Europe/Paris' })).status).toBe(403);
    expect((await b.go('POST', '/web/locations', { _csrf: 'x'.repeat(43), name: 'A', timeZone: 'Europe/Paris' })).status).toBe(403);
    expect((await b.go('POST', '/web/locations', { _csrf: other.csrf, name: 'A', timeZone: 'Europe/Paris' })).status).toBe(403);
    expect((await b.go('POST', '/web/locations', { _csrf: csrf, name: 'A', timeZone: 'Europe/Paris' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await locationCount()).toBe(before);
    const ok = await b.go('POST', '/web/locations', { _csrf: csrf, name: 'A', timeZone: 'Europe/Paris' }, { origin: h.baseUrl });
    expect(ok.status).toBe(303);
    expect(await locationCount()).toBe(before + 1);
  });

  it('logs out, and treats a tampered or revoked session as logged out', async () => {
    const b = new Browserish(h.baseUrl);
    const { csrf } = await b.login(h.keys.host);
    expect((await b.go('GET', '/web/bookings')).status).toBe(200);
    const saved = b.jar.ls_session;
    b.jar.ls_session = saved.replace(/.(?=\.[^.]*$)/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await b.go('GET', '/web/bookings')).location).toMatch(/^\/web\/login/);
    b.jar.ls_session = saved;
    expect((await b.go('POST', '/web/logout', { _csrf: csrf })).status).toBe(303);
    expect(b.jar.ls_session).toBeUndefined();

    const key = (await h.call('POST', '/v1/api-keys', { role: 'host', name: 'temp' }, h.keys.admin)).body;
    const c = new Browserish(h.baseUrl);
    await c.login(key.key);
    expect((await c.go('GET', '/web/bookings')).status).toBe(200);
    await h.call('DELETE', `/v1/api-keys/${key.id}`, undefined, h.keys.admin);
    expect((await c.go('GET', '/web/bookings')).location).toMatch(/^\/web\/login/);
  });

  it('the new-booking form and the outbox check role and CSRF server-side', async () => {
    const bookingCount = async () => (await h.call('GET', '/v1/bookings', undefined, h.keys.admin)).body.results.length;
    const space = await h.space(['ag-front-door']);
    const form = { spaceId: space, startLocal: '2030-01-10T09:00', endLocal: '2030-01-10T10:00', 'organiser.name': 'Ada', 'organiser.email': 'ada@example.com', invitees: '' };
    const hostB = new Browserish(h.baseUrl);
    const hostLogin = await hostB.login(h.keys.host);
    for (const path of ['/web/bookings/new', '/web/outbox', '/web/outbox/msg_x']) expect((await hostB.go('GET', path)).status, path).toBe(403);
    expect((await hostB.go('POST', '/web/bookings', { _csrf: hostLogin.csrf, ...form })).status).toBe(403);
    expect((await hostB.go('GET', '/web/bookings')).text).not.toContain('/web/bookings/new');

    const b = new Browserish(h.baseUrl);
    const { csrf } = await b.login(h.keys.admin);
    const before = await bookingCount();
    expect((await b.go('POST', '/web/bookings', form)).status).toBe(403);
    expect((await b.go('POST', '/web/bookings', { _csrf: csrf, ...form }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await bookingCount()).toBe(before);
    const bad = await b.go('POST', '/web/bookings', { _csrf: csrf, ...form, startLocal: '<b>soon</b>' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('id="f-startLocal-err"');
    expect(bad.text).not.toContain('<b>soon</b>');
    const ok = await b.go('POST', '/web/bookings', { _csrf: csrf, ...form, invitees: 'bob@example.com\nCy <cy@example.com>' });
    expect(ok.status).toBe(303);
    expect(ok.location).toMatch(/^\/web\/bookings\/bk_/);
    const created = (await h.call('GET', `/v1/bookings/${ok.location!.split('/').pop()}`, undefined, h.keys.admin)).body;
    expect(created.startLocal.slice(0, 16)).toBe('2030-01-10T09:00');
    expect(created.inviteeIds).toHaveLength(2);
    expect((await b.go('GET', '/web/outbox')).status).toBe(200);
  });

  it('redirects to the log-in page and back to where the user was going', async () => {
    const b = new Browserish(h.baseUrl);
    const first = await b.go('GET', '/web/codes');
    expect(first.status).toBe(303);
    expect(first.location).toBe('/web/login?next=%2Fweb%2Fcodes');
    const form = await b.go('GET', first.location!);
    const res = await b.go('POST', '/web/login', { _csrf: Browserish.csrf(form.text), key: h.keys.host, next: '/web/codes' });
    expect(res.location).toBe('/web/codes');
    const evil = await new Browserish(h.baseUrl).go('GET', '/web/login');
    const b2 = new Browserish(h.baseUrl);
    const f2 = await b2.go('GET', '/web/login');
    const r2 = await b2.go('POST', '/web/login', { _csrf: Browserish.csrf(f2.text), key: h.keys.host, next: '//evil.example/x' });
    expect(r2.location).toBe('/web/bookings');
    expect(evil.status).toBe(200);
  });
});
