/**
 * Visitor check-in/out over real HTTP on both stores: registration codes (unique, stable, shown to the
 * guest only), the scanner's answers and status changes, denials (window, cancellation, check-out,
 * unknown code, another organisation), the rate limit, the guest page and the confirmation e-mail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { startSmtp, type TestSmtp } from '../notify/smtp.js';
import { CODE_ALPHABET, decide, normaliseCode, qrPng } from '../../src/visits/visits.js';

const CODE_RE = new RegExp(`^[${CODE_ALPHABET}]{5}-[${CODE_ALPHABET}]{5}$`);

describe('visit code rules', () => {
  it('normalises what a scanner sends and rejects what cannot be a code', () => {
    expect(normaliseCode('abcde-fghjk')).toBe('ABCDEFGHJK');
    expect(normaliseCode(' ABCDE FGHJK ')).toBe('ABCDEFGHJK');
    expect(normaliseCode('ABCDE-FGHJ')).toBeNull();
    expect(normaliseCode('ABCDE-FGHJ0')).toBeNull(); // 0 is not in the alphabet
  });

  it('decides entry by window, cancellation and status; check-out closes a checked-in visit even late', () => {
    const f = { visitStatus: 'expected' as const, cancelled: false, bookingStatus: 'confirmed' as const, opensAt: 1000, closesAt: 2000 };
    expect(decide('check-in', f, 1500)).toEqual({ allowed: true, reason: 'checked-in', next: 'checked-in' });
    expect(decide('check-in', f, 999).reason).toBe('too-early');
    expect(decide('check-in', f, 2001).reason).toBe('too-late');
    expect(decide('check-in', { ...f, cancelled: true }, 1500).reason).toBe('cancelled');
    expect(decide('check-in', { ...f, bookingStatus: 'pending' }, 1500).reason).toBe('not-confirmed');
    expect(decide('check-out', f, 1500)).toMatchObject({ allowed: false, reason: 'not-checked-in' });
    expect(decide('check-out', { ...f, visitStatus: 'checked-in' }, 5000)).toMatchObject({ allowed: true, next: 'checked-out' });
    expect(decide('lookup', { ...f, visitStatus: 'checked-out' }, 1500)).toMatchObject({ allowed: false, reason: 'already-checked-out' });
  });
});

describe.each(storeKinds)('visitor check-in/out on %s', (kind) => {
  let h: Harness | undefined;
  let smtp: TestSmtp | undefined;
  afterEach(async () => {
    await h?.close();
    await smtp?.stop();
    h = smtp = undefined;
  });

  const book = async (hh: Harness, space: string, start: string, end: string, invitees: { name: string; email: string }[] = []) => {
    const res = await hh.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada Guest', email: 'ada@example.com' }, invitees, start, end }, hh.keys.admin);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const guestKey = async (hh: Harness, personId: string) => (await hh.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId }, hh.keys.admin)).body.key as string;
  const myVisits = async (hh: Harness, key: string) => {
    const res = await hh.call('GET', '/v1/me/visits', undefined, key);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.results as any[];
  };
  const codeOf = async (hh: Harness, personId: string, bookingId: string) => (await myVisits(hh, await guestKey(hh, personId))).find((v) => v.booking.id === bookingId).code as string;
  const scan = (hh: Harness, code: string, action: string, key = hh.keys.host) => hh.call('POST', '/v1/visits/scan', { code, action }, key);

  it('gives each person on a booking their own stable code and QR code, shown to that guest only', async () => {
    h = await startHarness(kind, { notifier: { enabled: false } });
    const hh = h;
    const space = await hh.space();
    const booking = await book(hh, space, hoursFromNow(2), hoursFromNow(3), [
      { name: 'Bob', email: 'bob@example.com' },
      { name: 'Cy', email: 'cy@example.com' },
    ]);
    const people = [booking.organiserId, ...booking.inviteeIds];
    expect(people).toHaveLength(3);
    const codes: string[] = [];
    for (const personId of people) {
      const key = await guestKey(hh, personId);
      const [v, ...rest] = await myVisits(hh, key);
      expect(rest).toHaveLength(0);
      expect(v.booking.id).toBe(booking.id);
      expect(v.status).toBe('expected');
      expect(v.code).toMatch(CODE_RE);
      expect(v.qr.content).toBe(v.code.replace('-', ''));
      expect(v.qr.svg).toMatch(/^<svg /);
      expect(v.qr.pngDataUrl).toMatch(/^data:image\/png;base64,/);
      // Stable: asking again gives the same code.
      expect((await myVisits(hh, key))[0].code).toBe(v.code);
      codes.push(v.code);
    }
    expect(new Set(codes).size).toBe(3);

    // Not for staff: /v1/me/visits is guest-only and the front-desk list carries no codes.
    expect((await hh.call('GET', '/v1/me/visits', undefined, hh.keys.host)).status).toBe(403);
    expect((await hh.call('GET', '/v1/me/visits', undefined, hh.keys.admin)).status).toBe(403);
    const desk = await hh.call('GET', `/v1/bookings/${booking.id}/visits`, undefined, hh.keys.host);
    expect(desk.status).toBe(200);
    expect(desk.body.results).toHaveLength(3);
    expect(desk.body.results.every((r: any) => r.codeIssued && r.status === 'expected')).toBe(true);
    const scanned = await scan(hh, codes[1], 'check-in');
    expect(scanned.body.visit.person).toMatchObject({ id: people[1], role: 'invitee' });
    expect(['Bob', 'Cy']).toContain(scanned.body.visit.person.name);
    const everywhere = JSON.stringify([
      desk.body,
      scanned.body,
      (await hh.call('GET', `/v1/bookings/${booking.id}`, undefined, hh.keys.admin)).body,
      (await hh.call('GET', '/v1/audit?limit=1000', undefined, hh.keys.admin)).body,
      await hh.app.store.db.selectFrom('visits').selectAll().execute(),
    ]);
    for (const c of codes) {
      expect(everywhere).not.toContain(c);
      expect(everywhere).not.toContain(c.replace('-', ''));
    }
    // Someone not on the booking sees no visit.
    const other = await hh.call('POST', '/v1/people', { name: 'Zed', email: 'zed@example.com' }, hh.keys.admin);
    expect(await myVisits(hh, await guestKey(hh, other.body.id))).toEqual([]);
  });

  it('checks a visitor in and then out, audited, and refuses the code after check-out', async () => {
    h = await startHarness(kind, { notifier: { enabled: false } });
    const hh = h;
    const space = await hh.space();
    // Starts in 5 minutes: inside the 15-minute buffer.
    const booking = await book(hh, space, hoursFromNow(5 / 60), hoursFromNow(2));
    const code = await codeOf(hh, booking.organiserId, booking.id);

    const look = await scan(hh, code.toLowerCase(), 'lookup');
    expect(look.status).toBe(200);
    expect(look.body).toMatchObject({ allowed: true, reason: 'valid', action: 'lookup', visit: { status: 'expected', person: { name: 'Ada Guest', role: 'organiser' }, booking: { id: booking.id, spaceId: space } } });

    const inn = await scan(hh, code, 'check-in');
    expect(inn.body).toMatchObject({ allowed: true, reason: 'checked-in', visit: { status: 'checked-in' } });
    expect(inn.body.visit.checkedInAt).toBeTruthy();
    expect((await scan(hh, code, 'lookup')).body).toMatchObject({ allowed: true, reason: 'already-checked-in', visit: { status: 'checked-in' } });
    // The guest sees it too.
    expect((await myVisits(hh, await guestKey(hh, booking.organiserId)))[0].status).toBe('checked-in');

    const out = await scan(hh, code.replace('-', ''), 'check-out', hh.keys.admin);
    expect(out.body).toMatchObject({ allowed: true, reason: 'checked-out', visit: { status: 'checked-out' } });
    expect(out.body.visit.checkedOutAt).toBeTruthy();

    for (const action of ['check-in', 'check-out', 'lookup']) {
      const again = await scan(hh, code, action);
      expect(again.body).toMatchObject({ allowed: false, reason: 'already-checked-out', visit: { status: 'checked-out' } });
    }
    const audit = (await hh.call('GET', `/v1/audit?subjectId=${inn.body.visit.id}`, undefined, hh.keys.admin)).body.results as any[];
    const actions = audit.map((a) => a.action);
    expect(actions.filter((a) => a === 'visit.checked-in')).toHaveLength(1);
    expect(actions.filter((a) => a === 'visit.checked-out')).toHaveLength(1);
    expect(actions).toContain('visit.denied');
    expect(JSON.stringify(audit)).not.toContain(code.replace('-', ''));
    // A guest key cannot scan.
    expect((await scan(hh, code, 'lookup', await guestKey(hh, booking.organiserId))).status).toBe(403);
  });

  it('denies a code outside its window (with the buffers) and after cancellation', async () => {
    h = await startHarness(kind, { notifier: { enabled: false } });
    const hh = h;
    const space = await hh.space();
    const later = await book(hh, space, hoursFromNow(3), hoursFromNow(4));
    const laterCode = await codeOf(hh, later.organiserId, later.id);
    const early = await scan(hh, laterCode, 'check-in');
    expect(early.body).toMatchObject({ allowed: false, reason: 'too-early', visit: { status: 'expected' } });

    const past = await book(hh, space, hoursFromNow(-3), hoursFromNow(-1));
    const pastCode = await codeOf(hh, past.organiserId, past.id);
    expect((await scan(hh, pastCode, 'check-in')).body).toMatchObject({ allowed: false, reason: 'too-late' });

    // 20 minutes ahead: outside the default 15-minute buffer, inside a space's 30-minute one.
    const soon = await book(hh, space, hoursFromNow(20 / 60), hoursFromNow(1));
    const soonCode = await codeOf(hh, soon.organiserId, soon.id);
    expect((await scan(hh, soonCode, 'lookup')).body.reason).toBe('too-early');
    const wide = await hh.space(['ag-meeting-1'], { bufferBeforeMinutes: 30 });
    const soonWide = await book(hh, wide, hoursFromNow(20 / 60), hoursFromNow(1));
    expect((await scan(hh, await codeOf(hh, soonWide.organiserId, soonWide.id), 'lookup')).body).toMatchObject({ allowed: true, reason: 'valid' });

    // Cancelled: refused, and reported as cancelled to the scanner and the guest.
    const now = await book(hh, space, hoursFromNow(0), hoursFromNow(1));
    const nowCode = await codeOf(hh, now.organiserId, now.id);
    expect((await scan(hh, nowCode, 'lookup')).body.allowed).toBe(true);
    expect((await hh.call('POST', `/v1/bookings/${now.id}/cancel`, undefined, hh.keys.admin)).status).toBe(200);
    const cancelled = await scan(hh, nowCode, 'check-in');
    expect(cancelled.body).toMatchObject({ allowed: false, reason: 'cancelled', visit: { status: 'cancelled' } });
    const mine = await myVisits(hh, await guestKey(hh, now.organiserId));
    expect(mine.find((v) => v.booking.id === now.id).status).toBe('cancelled');
    const desk = await hh.call('GET', `/v1/bookings/${now.id}/visits`, undefined, hh.keys.host);
    expect(desk.body.results[0].status).toBe('cancelled');
  });

  it('answers an unknown code and another organisation\'s scanner the same way, without changing anything', async () => {
    h = await startHarness(kind, { notifier: { enabled: false } });
    const hh = h;
    const space = await hh.space();
    const booking = await book(hh, space, hoursFromNow(0), hoursFromNow(1));
    const code = await codeOf(hh, booking.organiserId, booking.id);

    const org2 = (await hh.call('POST', '/v1/organisations', { name: 'Other venue' })).body;
    const host2 = (await hh.call('POST', '/v1/api-keys', { role: 'host', name: 'kiosk', organisationId: org2.id })).body.key;
    const unknownShape = { allowed: false, reason: 'unknown-code', message: expect.any(String), action: 'check-in', visit: null };

    const foreign = await scan(hh, code, 'check-in', host2);
    expect(foreign.status).toBe(200);
    expect(foreign.body).toEqual(unknownShape);
    // A well-formed code nobody holds, and garbage: the same answer.
    const guess = code.startsWith('2') ? `3${code.slice(1)}` : `2${code.slice(1)}`;
    const unknown = await scan(hh, guess, 'check-in');
    expect(unknown.body).toEqual(foreign.body);
    const garbage = await scan(hh, 'hello world', 'check-in');
    expect(garbage.body).toEqual(foreign.body);

    // Nothing changed for the real visit, and its own organisation's scanner still admits it.
    const own = await scan(hh, code, 'lookup');
    expect(own.body).toMatchObject({ allowed: true, visit: { status: 'expected' } });
    expect((await hh.call('GET', '/v1/audit?action=visit.checked-in', undefined, hh.keys.admin)).body.results).toHaveLength(0);
  });

  it('rate-limits scans per key', async () => {
    h = await startHarness(kind, { notifier: { enabled: false } });
    const hh = h;
    const kiosk = (await hh.call('POST', '/v1/api-keys', { role: 'host', name: 'kiosk' }, hh.keys.admin)).body.key;
    const results = await Promise.all(Array.from({ length: 61 }, () => scan(hh, 'ABCDE-FGHJK', 'lookup', kiosk)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    // Another key is not affected.
    expect((await scan(hh, 'ABCDE-FGHJK', 'lookup')).status).toBe(200);
  });

  it('shows the code and QR code on the guest page', async () => {
    h = await startHarness(kind, { notifier: { enabled: false } });
    const hh = h;
    const space = await hh.space();
    const booking = await book(hh, space, hoursFromNow(2), hoursFromNow(3));
    const key = await guestKey(hh, booking.organiserId);
    const code = (await myVisits(hh, key))[0].code;
    const jar: Record<string, string> = {};
    const go = async (method: string, path: string, form?: Record<string, string>) => {
      const res = await fetch(hh.baseUrl + path, {
        method,
        redirect: 'manual',
        headers: { cookie: Object.entries(jar).map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body: form ? new URLSearchParams(form).toString() : undefined,
      });
      for (const c of res.headers.getSetCookie()) {
        const [kv] = c.split(';');
        const i = kv.indexOf('=');
        jar[kv.slice(0, i)] = kv.slice(i + 1);
      }
      return { status: res.status, text: await res.text() };
    };
    const form = await go('GET', '/web/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
    expect((await go('POST', '/web/login', { _csrf: csrf, key })).status).toBe(303);
    const page = await go('GET', '/web/me');
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="visit-code"');
    expect(page.text).toContain(code);
    expect(page.text).toMatch(/<svg width="160" height="160" role="img" aria-label="QR code for registration code [A-Z0-9-]+"/);
  });

  it('puts the code and an inline QR image in the confirmation e-mail, masked in the outbox', async () => {
    smtp = await startSmtp();
    h = await startHarness(kind, { notifier: { smtpUrl: smtp.url } });
    const hh = h;
    const space = await hh.space();
    const booking = await book(hh, space, hoursFromNow(2), hoursFromNow(3), [{ name: 'Bob', email: 'bob@example.com' }]);
    await expect.poll(() => smtp!.to('bob@example.com').length, { timeout: 15_000 }).toBe(1);
    await expect.poll(() => smtp!.to('ada@example.com').length, { timeout: 15_000 }).toBe(1);
    const bobCode = await codeOf(hh, booking.inviteeIds[0], booking.id);
    const adaCode = await codeOf(hh, booking.organiserId, booking.id);
    expect(bobCode).not.toBe(adaCode);

    const mail = smtp.to('bob@example.com')[0];
    expect(mail.text).toContain(`Registration code: ${bobCode}`);
    expect(mail.text).not.toContain(adaCode);
    expect(mail.html).toContain(bobCode);
    // The QR code travels as an inline image (cid), and it is the QR code of Bob's code.
    const images = mail.raw.attachments.filter((a) => a.contentType === 'image/png');
    expect(images).toHaveLength(1);
    expect(images[0].contentDisposition).toBe('inline');
    expect(images[0].cid).toBeTruthy();
    expect(images[0].content.equals(await qrPng(bobCode.replace('-', '')))).toBe(true);
    expect(smtp.to('ada@example.com')[0].text).toContain(`Registration code: ${adaCode}`);

    // The outbox list (redacted) does not show it.
    const outbox = await hh.call('GET', '/v1/outbox', undefined, hh.keys.admin);
    expect(outbox.status).toBe(200);
    expect(JSON.stringify(outbox.body)).not.toContain(bobCode);
    expect(JSON.stringify(outbox.body)).toContain('Registration code');
  });
});
