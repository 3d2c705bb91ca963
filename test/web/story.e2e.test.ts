/**
 * The whole story in a real browser (Debian Chromium via playwright-core) against a full
 * Lockstep that e-mails through a real SMTP server in this process: a team admin creates a space, maps
 * it to doors picked from the live provider list and books it through the New booking form; the guest
 * sees the PIN on the dashboard and the same PIN (with the door window in local time) in the e-mail
 * that arrived; the host regenerates the PIN → new PIN on the dashboard and in a "PIN changed" e-mail;
 * the booking is cancelled → host and guest see access revoked and a cancellation e-mail arrives; the
 * admin outbox lists the messages. A second Lockstep with no SMTP keeps messages in the local outbox,
 * which the admin console shows (PINs masked for team admins, whole for platform admins).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import type { Browser, Page } from 'playwright-core';
import { startHarness, type Harness } from '../support/harness.js';
import { startSmtp, type TestMail, type TestSmtp } from '../notify/smtp.js';
import { launch, loginAs, shot, unlabelledControls } from './browser.js';

const ZONE = 'Europe/London';
const day = DateTime.now().setZone(ZONE).plus({ days: 1 }).toISODate()!;
/** Tomorrow at hh:mm on the location's wall clock, as a datetime-local value. */
const at = (hhmm: string) => `${day}T${hhmm}`;

/** The e-mail's HTML part rendered in the browser, for review. */
async function shotMail(page: Page, mail: TestMail, name: string) {
  await page.setContent(mail.html, { waitUntil: 'load' });
  await shot(page, name);
}

describe('the whole story in the browser, with a real SMTP server', () => {
  let h: Harness;
  let smtp: TestSmtp;
  let browser: Browser;
  beforeAll(async () => {
    smtp = await startSmtp();
    [h, browser] = await Promise.all([startHarness('sqlite', { notifier: { smtpUrl: smtp.url, graceMs: 2_000 } }), launch()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await smtp?.stop();
  });

  it('create a space, map it, book it; PIN on the dashboard and in the e-mail; regenerate; cancel; outbox', async () => {
    const pinOf = async (key: string) => (await h.call('GET', '/v1/me/pins', undefined, key)).body.results[0]?.pin as string;
    const mailsTo = (address: string, subject: RegExp) => smtp.to(address).filter((m) => subject.test(m.subject));

    // Team admin: a space, mapped to doors picked from the list pulled live from the provider.
    const admin = await loginAs(browser, h.baseUrl, h.keys.admin);
    const a = admin.page;
    await a.goto('/web/spaces');
    await a.getByLabel('Location').selectOption({ label: `HQ (${ZONE})` });
    await a.getByLabel('Name').fill('Board room');
    await a.getByRole('button', { name: 'Add space' }).click();
    await a.getByRole('heading', { name: 'Space: Board room' }).waitFor();
    await a.getByLabel('Front door').check();
    await a.getByLabel('Meeting room 1').check();
    await a.getByRole('button', { name: 'Preview mapping change' }).click();
    await a.getByRole('heading', { name: 'Confirm mapping change' }).waitFor();
    expect(await a.locator('main').innerText()).toMatch(/Adds: Front door, Meeting room 1/);
    await a.getByRole('button', { name: 'Update' }).click();
    await expect.poll(() => a.locator('.flash.ok').innerText()).toContain('Mapping updated');

    // The New booking form: errors come from the API and sit next to their fields.
    await a.goto('/web/bookings');
    await a.getByRole('link', { name: 'New booking' }).click();
    await a.getByRole('heading', { name: 'New booking' }).waitFor();
    expect(await unlabelledControls(a)).toEqual([]);
    await a.getByLabel('Space').selectOption({ label: `Board room — HQ (${ZONE})` });
    await a.getByLabel('Title (optional)').fill('Quarterly <review>');
    await a.getByLabel(/^Start/).fill(at('09:00'));
    await a.getByLabel(/^End/).fill(at('11:00'));
    await a.getByLabel('Organiser name').fill('Ada Lovelace');
    await a.getByLabel('Organiser e-mail').fill('ada-at-example');
    await a.getByLabel('Invitees (optional)').fill('Charles Babbage <charles@example>');
    await shot(a, 'story-booking-form');
    await a.getByRole('button', { name: 'Create booking' }).click();
    await expect.poll(() => a.locator('#f-organiser-email-err').innerText()).toMatch(/e-?mail/i);
    expect(await a.getByLabel('Organiser e-mail').getAttribute('aria-invalid')).toBe('true');
    expect(await a.locator('#f-invitees-err').innerText()).toContain('invitee 1 (charles@example)');
    // What was typed is kept, escaped.
    expect(await a.getByLabel('Title (optional)').inputValue()).toBe('Quarterly <review>');
    expect(await a.getByLabel(/^Start/).inputValue()).toBe(at('09:00'));
    await shot(a, 'story-booking-form-errors');

    await a.getByLabel('Organiser e-mail').fill('ada@example.com');
    await a.getByLabel('Invitees (optional)').fill('Charles Babbage <charles@example.com>');
    await a.getByLabel(/^End/).fill(at('08:00'));
    await a.getByRole('button', { name: 'Create booking' }).click();
    await expect.poll(() => a.locator('#f-endLocal-err').innerText()).toContain('must be after start');
    expect((await h.call('GET', '/v1/bookings', undefined, h.keys.admin)).body.results).toHaveLength(0);

    await a.getByLabel(/^End/).fill(at('11:00'));
    await a.getByRole('button', { name: 'Create booking' }).click();
    await a.getByRole('heading', { name: 'Booking: Board room — Quarterly <review>' }).waitFor();
    expect(await a.locator('.flash.ok').innerText()).toContain(`Booked Board room, ${day} 09:00 – 11:00 (${ZONE})`);
    expect(await a.locator('main dl').innerText()).toContain(`${day} 09:00 – ${day} 11:00 (${ZONE})`);
    const bookingId = new URL(a.url()).pathname.split('/').pop()!;
    const booking = (await h.call('GET', `/v1/bookings/${bookingId}`, undefined, h.keys.admin)).body;
    expect(booking.startLocal.slice(0, 16)).toBe(at('09:00'));
    expect(booking.inviteeIds).toHaveLength(1);
    await h.converge();
    await a.reload();
    expect(await a.locator('main table').first().innerText()).toMatch(/Ada Lovelace\s+Front door[\s\S]*On the door/);
    await shot(a, 'story-booking-created');

    // The guest logs in and sees the PIN at the top of the dashboard, with the door window in local time.
    const adaKey = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'Ada', personId: booking.organiserId }, h.keys.admin)).body.key;
    const guest = (await loginAs(browser, h.baseUrl, adaKey, { mobile: true })).page;
    const pin = await pinOf(adaKey);
    expect(pin).toMatch(/^\d{4,12}$/);
    expect(await guest.getByTestId('pin').innerText()).toBe(pin);
    const dash = await guest.locator('main').innerText();
    expect(dash).toContain(`${day} 09:00 – ${day} 11:00`);
    expect(dash).toMatch(new RegExp(`Front door\\s+${day} 08:45\\s+${day} 11:15\\s+On the door`));
    await shot(guest, 'story-guest-dashboard');

    // The confirmation e-mail that reached the SMTP server carries the same PIN and the door window.
    await expect.poll(() => mailsTo('ada@example.com', /^Booking confirmed/).length, { timeout: 15_000 }).toBe(1);
    const confirmed = mailsTo('ada@example.com', /^Booking confirmed/)[0];
    expect(confirmed.subject).toContain('Quarterly <review> (Board room)');
    expect(confirmed.subject).not.toContain(pin);
    expect(confirmed.text).toContain(`PIN: ${pin}`);
    expect(confirmed.text).toMatch(/09:00 – 11:00 \(Europe\/London\)/);
    expect(confirmed.text).toMatch(/Front door: open to you .*08:45 – 11:15 \(Europe\/London\)/);
    expect(confirmed.text).toMatch(/Meeting room 1: open to you .*08:45 – 11:15 \(Europe\/London\)/);
    expect(confirmed.html).toContain(pin);
    await expect.poll(() => mailsTo('charles@example.com', /^Booking confirmed/).length, { timeout: 15_000 }).toBe(1);
    expect(mailsTo('charles@example.com', /^Booking confirmed/)[0].text).not.toContain(pin);
    const mailView = await admin.context.newPage();
    await shotMail(mailView, confirmed, 'story-email-confirmed');

    // The host regenerates the PIN: the guest sees the new one, and a "PIN changed" e-mail brings it.
    const host = (await loginAs(browser, h.baseUrl, h.keys.host)).page;
    await host.goto(`/web/bookings/${bookingId}`);
    await host.getByRole('button', { name: 'Regenerate PIN for Ada Lovelace on Doors' }).click();
    await expect.poll(() => host.locator('.flash.ok').innerText()).toContain('New PIN issued');
    await h.converge();
    const newPin = await pinOf(adaKey);
    expect(newPin).not.toBe(pin);
    await guest.reload();
    expect(await guest.getByTestId('pin').innerText()).toBe(newPin);
    await expect.poll(() => mailsTo('ada@example.com', /PIN has changed/).length, { timeout: 15_000 }).toBe(1);
    const changed = mailsTo('ada@example.com', /PIN has changed/)[0];
    expect(changed.subject).toBe('Your PIN has changed (Doors)');
    expect(changed.text).toContain(`PIN: ${newPin}`);
    expect(changed.text).not.toContain(pin);
    expect(changed.text).toMatch(/\(Board room\): .*09:00 – 11:00 \(Europe\/London\)/);
    await shotMail(mailView, changed, 'story-email-pin-changed');

    // Cancelled: host and guest see the access revoked, and a cancellation e-mail arrives.
    await a.goto(`/web/bookings/${bookingId}`);
    await a.getByRole('button', { name: 'Cancel booking' }).click();
    await expect.poll(() => a.locator('.flash.ok').innerText()).toContain('Booking cancelled');
    await h.converge();
    await host.goto(`/web/bookings/${bookingId}`);
    const hostText = await host.locator('main').innerText();
    expect(hostText).toContain('cancelled');
    expect(hostText).not.toContain('On the door');
    expect((hostText.match(/Revoked/g) ?? []).length).toBeGreaterThanOrEqual(4);
    await shot(host, 'story-host-revoked');
    await guest.goto('/web/me');
    const revokedDash = await guest.locator('main').innerText();
    expect(revokedDash).toContain('Cancelled');
    expect(revokedDash).toMatch(/Front door[\s\S]*Revoked/);
    await shot(guest, 'story-guest-revoked');
    await expect.poll(() => mailsTo('ada@example.com', /^Booking cancelled/).length, { timeout: 15_000 }).toBe(1);
    const cancelled = mailsTo('ada@example.com', /^Booking cancelled/)[0];
    expect(cancelled.text).toMatch(/has been cancelled, and the access it gave you has been withdrawn/);
    expect(cancelled.text).not.toContain(newPin);
    await shotMail(mailView, cancelled, 'story-email-cancelled');

    // The admin outbox lists every message, sent over SMTP; a message's text has the PIN masked.
    await expect.poll(() => mailsTo('charles@example.com', /^Booking cancelled/).length, { timeout: 15_000 }).toBe(1);
    await a.getByRole('link', { name: 'Outbox' }).click();
    await a.getByRole('heading', { name: 'Outbox' }).waitFor();
    expect(await a.locator('#delivery').innerText()).toContain('delivered over SMTP');
    const table = await a.locator('main table').innerText();
    expect(table).toMatch(/ada@example\.com\s+Booking confirmed\s+Booking confirmed: Quarterly <review> \(Board room\)[^\n]*\s+Sent/);
    expect(table).toMatch(/ada@example\.com\s+PIN changed\s+Your PIN has changed \(Doors\)\s+Sent/);
    expect(table).toMatch(/ada@example\.com\s+Access revoked\s+Booking cancelled/);
    expect(table).toMatch(/charles@example\.com\s+Booking confirmed/);
    expect(smtp.mails).toHaveLength(5);
    expect(await unlabelledControls(a)).toEqual([]);
    await shot(a, 'story-outbox-smtp');
    await a.getByRole('link', { name: 'Your PIN has changed (Doors)' }).click();
    await a.getByRole('heading', { name: 'Your PIN has changed (Doors)' }).waitFor();
    const message = await a.locator('pre.mail').innerText();
    expect(message).toContain('Board room');
    expect(message).not.toContain(newPin);
    expect(await a.locator('#redacted-note').innerText()).toContain('masked');
    await shot(a, 'story-outbox-message');

    // Hosts have no outbox and cannot book.
    expect((await host.goto('/web/outbox'))?.status()).toBe(403);
    expect((await host.goto('/web/bookings/new'))?.status()).toBe(403);
    await host.goto('/web/bookings');
    expect(await host.getByRole('link', { name: 'New booking' }).count()).toBe(0);
    expect(await host.getByRole('link', { name: 'Outbox' }).count()).toBe(0);
  }, 60_000);

  it('with no SMTP configured, messages stay in the local outbox, which the admin console shows', async () => {
    const local = await startHarness('sqlite', { notifier: { graceMs: 2_000 } });
    try {
      const space = await local.space(['ag-front-door']);
      const res = await local.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Grace Hopper', email: 'grace@example.com' }, startLocal: at('14:00'), endLocal: at('15:00') }, local.keys.admin);
      expect(res.status).toBe(201);
      await local.converge();
      const outbox = async () => (await local.call('GET', '/v1/outbox', undefined, local.keys.admin)).body.results as any[];
      await expect.poll(async () => (await outbox()).length, { timeout: 15_000 }).toBe(1);
      const guestKey = (await local.call('POST', '/v1/api-keys', { role: 'guest', name: 'Grace', personId: res.body.organiserId }, local.keys.admin)).body.key;
      const pin = (await local.call('GET', '/v1/me/pins', undefined, guestKey)).body.results[0].pin as string;

      const { context, page } = await loginAs(browser, local.baseUrl, local.keys.admin);
      await page.getByRole('link', { name: 'Outbox' }).click();
      expect(await page.locator('#delivery').innerText()).toContain('No SMTP server is configured');
      expect(await page.locator('main table').innerText()).toMatch(/grace@example\.com\s+Booking confirmed\s+Booking confirmed: Space 1[^\n]*\s+Kept in outbox\s+\S+ \S+\s+—\s+—/);
      await shot(page, 'story-outbox-local');
      await page.getByLabel('Status').selectOption('sent');
      await page.getByRole('button', { name: 'Filter' }).click();
      expect(await page.locator('main table').innerText()).toContain('No messages with this status yet.');
      await page.getByLabel('Status').selectOption('outbox');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByRole('link', { name: /^Booking confirmed: Space 1/ }).click();
      const text = await page.locator('pre.mail').innerText();
      expect(text).toMatch(/Front door: open to you .*13:45 – 15:15 \(Europe\/London\)/);
      expect(text).not.toContain(pin);
      await shot(page, 'story-outbox-local-message');
      const messageUrl = new URL(page.url()).pathname;
      await context.close();

      // A platform admin reads the message whole (the API audits that read).
      const platform = await loginAs(browser, local.baseUrl, local.keys.platform);
      await platform.page.goto(messageUrl);
      expect(await platform.page.locator('pre.mail').innerText()).toContain(`PIN: ${pin}`);
      expect(await platform.page.locator('#redacted-note').count()).toBe(0);
      await platform.context.close();
    } finally {
      await local.close();
    }
  }, 40_000);
});
