/**
 * Guest portal and host desk in a real browser: a booking becomes a PIN on the guest's dashboard
 * (door names, local times); the host regenerates it and the guest sees the new one; the booking is
 * cancelled and host and guest see access revoked. Guests cannot open each other's pages; hosts
 * cannot reach platform-admin pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hoursFromNow, startHarness, type Harness } from '../support/harness.js';
import { formatLocal } from '../../src/domain/time.js';
import { launch, loginAs, shot, unlabelledControls } from './browser.js';

const local = (iso: string, minutes = 0) => {
  const s = formatLocal(Date.parse(iso) + minutes * 60_000, 'Europe/London');
  return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
};

describe('guest portal and host desk (browser)', () => {
  let h: Harness;
  let browser: Browser;
  let booking: any;
  let other: any;
  let adaKey: string;
  let bobKey: string;
  let guest: Page;
  let host: Page;

  const pinOf = async (key: string) => (await h.call('GET', '/v1/me/pins', undefined, key)).body.results[0]?.pin as string;

  beforeAll(async () => {
    [h, browser] = await Promise.all([startHarness('sqlite'), launch()]);
    const space = await h.space(['ag-front-door', 'ag-meeting-1']);
    const start = hoursFromNow(2);
    const end = hoursFromNow(4);
    booking = (await h.call('POST', '/v1/bookings', { spaceId: space, title: 'Board meeting', organiser: { name: 'Ada Lovelace', email: 'ada@example.com' }, invitees: [{ name: 'Charles Babbage', email: 'charles@example.com' }], start, end }, h.keys.admin)).body;
    other = (await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Bob Other', email: 'bob@example.com' }, start: hoursFromNow(6), end: hoursFromNow(7) }, h.keys.admin)).body;
    adaKey = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'Ada', personId: booking.organiserId }, h.keys.admin)).body.key;
    bobKey = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'Bob', personId: other.organiserId }, h.keys.admin)).body.key;
    await h.converge();
    guest = (await loginAs(browser, h.baseUrl, adaKey, { mobile: true })).page;
    host = (await loginAs(browser, h.baseUrl, h.keys.host)).page;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('the guest sees their PIN at the top, with door names and local times', async () => {
    expect(new URL(guest.url()).pathname).toBe('/web/me');
    const pin = await pinOf(adaKey);
    expect(pin).toMatch(/^\d{4,12}$/);
    expect(await guest.getByTestId('pin').innerText()).toBe(pin);
    const text = await guest.locator('main').innerText();
    expect(text).toContain('Hello, Ada Lovelace');
    expect(text).toContain('Front door');
    expect(text).toContain('Meeting room 1');
    // The booking in the location's zone, and the door window with the 15-minute buffers.
    expect(text).toContain(`${local(booking.start)} – ${local(booking.end)}`);
    expect(text).toContain(local(booking.start, -15));
    expect(text).toContain(local(booking.end, 15));
    expect(text).toContain('On the door');
    expect(text).not.toContain('Bob Other');
    // The PIN comes before the bookings.
    const order = await guest.evaluate(() => [...document.querySelectorAll('main h2')].map((e) => e.textContent));
    expect(order.slice(0, 2)).toEqual(['Your PIN', 'Your bookings']);
    // Usable on a phone: nothing wider than the screen.
    expect(await guest.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await unlabelledControls(guest)).toEqual([]);
    await shot(guest, 'guest-dashboard-mobile');
  });

  it("a guest cannot open another guest's booking or staff pages", async () => {
    expect((await guest.goto(`/web/bookings/${other.id}`))?.status()).toBe(403);
    expect(await guest.locator('main').innerText()).not.toContain('Bob');
    expect((await guest.goto(`/web/bookings/${booking.id}`))?.status()).toBe(200);
    expect((await guest.goto('/web/bookings'))?.status()).toBe(403);
    expect((await guest.goto('/web/codes'))?.status()).toBe(403);
    // And Bob cannot see Ada's booking either.
    const bob = await loginAs(browser, h.baseUrl, bobKey);
    expect((await bob.page.goto(`/web/bookings/${booking.id}`))?.status()).toBe(403);
    await bob.context.close();
    await guest.goto('/web/me');
  });

  it('a host cannot reach platform-admin or team-admin pages', async () => {
    expect((await host.goto('/web/integrations'))?.status()).toBe(403);
    expect((await host.goto('/web/integrations/new'))?.status()).toBe(403);
    expect((await host.goto('/web/buffers'))?.status()).toBe(403);
  });

  it('the host sees per-door status, retries, and regenerates the PIN; the guest sees the new one', async () => {
    await host.goto('/web/bookings');
    const list = await host.locator('main').innerText();
    expect(list).toContain('Ada Lovelace, Charles Babbage');
    expect(list).toMatch(/Ada Lovelace · Front door:\s*On the door/);
    await shot(host, 'host-bookings');
    await host.getByRole('link', { name: new RegExp(local(booking.start)) }).click();
    await host.getByRole('heading', { name: /Booking: Space 1/ }).waitFor();
    const rows = await host.locator('main table').first().innerText();
    expect(rows).toMatch(/Charles Babbage\s+Meeting room 1/);
    await host.getByRole('button', { name: 'Retry Ada Lovelace at Front door' }).click();
    await expect.poll(() => host.locator('.flash.ok').innerText()).toContain('Retry queued');

    const before = await pinOf(adaKey);
    await host.getByRole('button', { name: 'Regenerate PIN for Ada Lovelace on Doors' }).click();
    await expect.poll(() => host.locator('.flash.ok').innerText()).toContain('New PIN issued');
    await shot(host, 'host-booking-detail');
    await h.converge();
    const after = await pinOf(adaKey);
    expect(after).not.toBe(before);
    await guest.reload();
    expect(await guest.getByTestId('pin').innerText()).toBe(after);

    // The code overview lists the PIN masked, never the code itself.
    await host.goto('/web/codes');
    const codes = await host.locator('main').innerText();
    expect(codes).toMatch(/Ada Lovelace\s+••••••/);
    expect(codes).toContain('Front door, Meeting room 1');
    expect(await host.content()).not.toContain(after);
    await shot(host, 'host-codes');
  });

  it('the host sees a failed door with the reason, and Retry brings it on the door', async () => {
    h.emulator.faults.add({ match: { method: 'POST', path: '/api/users' }, fault: { kind: 'status', status: 503 } });
    const failing = (await h.call('POST', '/v1/bookings', { spaceId: booking.spaceId, organiser: { name: 'Fay Failing', email: 'fay@example.com' }, start: hoursFromNow(8), end: hoursFromNow(9) }, h.keys.admin)).body;
    const state = async () => (await h.call('GET', `/v1/bookings/${failing.id}/sync`, undefined, h.keys.host)).body.state;
    await expect.poll(state, { timeout: 10_000 }).toBe('failed');
    await host.goto(`/web/bookings/${failing.id}`);
    const text = await host.locator('main table').first().innerText();
    expect(text).toMatch(/Fay Failing\s+Front door[\s\S]*Failed/);
    expect(text).toMatch(/503/);
    await shot(host, 'host-booking-failed');
    h.emulator.faults.clear();
    await host.getByRole('button', { name: 'Retry Fay Failing at Front door' }).click();
    await expect.poll(() => host.locator('.flash.ok').innerText()).toContain('Retry queued');
    await expect.poll(state, { timeout: 10_000 }).toBe('applied');
    await host.reload();
    expect(await host.locator('main table').first().innerText()).not.toContain('Failed');
  });

  it("the host asks why a guest can't get in: now is before the window; inside it, the chain holds to the door", async () => {
    await host.goto(`/web/bookings/${booking.id}`);
    await host.locator('#explain + form select[name=explain]').selectOption({ label: 'Charles Babbage' });
    await host.getByRole('button', { name: 'Explain' }).click();
    const verdict = host.locator('#explain-result .verdict');
    await expect.poll(() => verdict.innerText()).toMatch(/^Charles Babbage cannot.*is outside the access window/);
    expect(await host.locator('#explain-result ol.chain li.broken').first().innerText()).toMatch(/window/);
    await shot(host, 'host-explain-outside-window');
    // Inside the window (the location's wall clock), the same guest gets in by PIN at both doors.
    await host.locator('#explain + form input[name=at]').fill(formatLocal(Date.parse(booking.start) + 30 * 60_000, 'Europe/London').slice(0, 16));
    await host.getByRole('button', { name: 'Explain' }).click();
    await expect.poll(() => host.locator('#explain-result .verdict').innerText()).toMatch(/^Charles Babbage can enter from .* by PIN at Front door and Meeting room 1/);
    expect(await host.locator('#explain-result').innerText()).toMatch(/provider\s+Doors holds Front door for Charles Babbage/);
    expect(await unlabelledControls(host)).toEqual([]);
    await shot(host, 'host-explain-can-enter');
  });

  it('cancelling revokes access, shown to host and guest', async () => {
    const admin = await loginAs(browser, h.baseUrl, h.keys.admin);
    await admin.page.goto(`/web/bookings/${booking.id}`);
    await admin.page.getByRole('button', { name: 'Cancel booking' }).click();
    await expect.poll(() => admin.page.locator('.flash.ok').innerText()).toContain('Booking cancelled');
    await admin.context.close();
    await h.converge();
    await host.goto(`/web/bookings/${booking.id}`);
    const hostText = await host.locator('main').innerText();
    expect(hostText).toContain('cancelled');
    expect(hostText).not.toContain('On the door');
    expect((hostText.match(/Revoked/g) ?? []).length).toBeGreaterThanOrEqual(4);
    await shot(host, 'host-booking-revoked');
    await guest.goto('/web/me');
    const guestText = await guest.locator('main').innerText();
    expect(guestText).toContain('Cancelled');
    expect(guestText).toMatch(/Front door[\s\S]*Revoked/);
    await shot(guest, 'guest-dashboard-revoked');
  });
});
