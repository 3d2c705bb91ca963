/**
 * Keypads that fill up, against the Nuki emulator over real HTTP (it refuses a code beyond its
 * capacity, so a slip here would fail the sync): codes Lockstep did not create count and are never
 * touched; a later code gives its slot up to a nearer one; a started code is never removed; the one
 * left out waits, shown as such in sync status, the explainer and the capacity report, and the admin
 * is alerted once; a freed slot goes to the nearest waiter.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { startNukiEmulator, type NukiEmulator } from '../../src/providers/nuki/emulator.js';
import { launch, loginAs, shot } from '../web/browser.js';

const TOKEN = 'nuki-capacity-token';
const LOCK = 17_001_001;

describe.each(storeKinds)('keypad capacity on %s', (kind) => {
  let h: Harness | null = null;
  let emu: NukiEmulator | null = null;
  afterEach(async () => {
    await h?.close();
    await emu?.close();
    h = emu = null;
  });

  it('serves the nearest bookings first, never removes a started code or a foreign one, and alerts once', async () => {
    emu = await startNukiEmulator({ port: 0, apiToken: TOKEN, keypadCapacity: 3 });
    h = await startHarness(kind, { provider: { kind: 'nuki', baseUrl: emu.url, credentials: { apiToken: TOKEN }, badCredentials: {}, targets: [String(LOCK)] } as never });
    const hh = h;
    // The venue's cleaner has a code of their own, made in the Nuki app.
    const foreign = await fetch(`${emu.url}/smartlock/${LOCK}/auth`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cleaner', type: 13, code: 364_758, remoteAllowed: false, allowedWeekDays: 127 }),
    });
    expect(foreign.status).toBe(204);
    const cleaner = emu.state.auths(LOCK).find((a) => a.name === 'Cleaner')!;

    const set = await hh.call('PUT', `/v1/integrations/${hh.integrationId}/targets/${LOCK}/capacity`, { capacity: 3 }, hh.keys.admin);
    expect(set.status).toBe(200);
    const space = await hh.space([String(LOCK)]);
    const book = async (name: string, startH: number, endH: number) => {
      const res = await hh.call('POST', '/v1/bookings', { spaceId: space, organiser: { name, email: `${name.toLowerCase()}@example.com` }, start: hoursFromNow(startH), end: hoursFromNow(endH) }, hh.keys.admin);
      expect(res.status).toBe(201);
      return res.body as { id: string; organiserId: string };
    };
    const sync = async (b: { id: string }) => (await hh.call('GET', `/v1/bookings/${b.id}/sync`, undefined, hh.keys.host)).body.state as string;
    const codesOf = () => emu!.state.auths(LOCK).map((a) => a.name);

    const ada = await book('Ada', -1, 2); // in progress
    const bob = await book('Bob', 24, 26); // tomorrow
    const cyd = await book('Cyd', 48, 50); // the day after
    await hh.converge();
    // Three slots, one taken by the cleaner: Ada and Bob get codes, Cyd waits.
    expect(codesOf()).toHaveLength(3);
    expect([await sync(ada), await sync(bob), await sync(cyd)]).toEqual(['applied', 'applied', 'waiting-for-slot']);
    const report = (await hh.call('GET', `/v1/integrations/${hh.integrationId}/capacity`, undefined, hh.keys.host)).body.results[0];
    expect(report).toMatchObject({ targetRef: String(LOCK), capacity: 3, foreignCodes: 1, lockstepCodes: 2, free: 0 });
    expect(report.waiting.map((w: { personId: string }) => w.personId)).toEqual([cyd.organiserId]);
    const why = (await hh.call('GET', `/v1/access/explain?personId=${cyd.organiserId}&spaceId=${space}&at=${encodeURIComponent(hoursFromNow(49))}`, undefined, hh.keys.host)).body;
    expect(why.verdict).toMatchObject({ canEnter: false, broken: 'capacity' });
    expect(why.verdict.text).toMatch(/keypad of .* is full \(3 of 3 codes: 2 by Lockstep, 1 by others\); Cyd's code is waiting for a free slot/);

    // Dee books for this afternoon: nearer than Bob's. Bob's code (not started) gives its slot up; Ada's never does.
    const dee = await book('Dee', 3, 4);
    await hh.converge();
    expect([await sync(ada), await sync(dee), await sync(bob), await sync(cyd)]).toEqual(['applied', 'applied', 'waiting-for-slot', 'waiting-for-slot']);
    expect(codesOf()).toHaveLength(3);
    expect(emu.state.auths(LOCK).find((a) => a.id === cleaner.id)).toMatchObject({ name: 'Cleaner', enabled: true });

    // The host's code overview shows how full the lock is and who waits (real Chromium).
    const browser = await launch();
    try {
      const page = (await loginAs(browser, hh.baseUrl, hh.keys.host)).page;
      await page.goto(`${hh.baseUrl}/web/codes`);
      const keypads = await page.locator('main table', { hasText: 'Capacity per lock' }).innerText();
      expect(keypads).toMatch(/Front door[\s\S]*3 \(set by an admin\)\s+2\s+1\s+0/);
      expect(keypads).toMatch(/Bob · from [\s\S]*Waiting for a free slot[\s\S]*Cyd · from /);
      // Codes on the lock read as on the door; Bob's and Cyd's rows say they wait, not "pending".
      const codes = await page.locator('main table', { hasText: 'Codes (times in' }).innerText();
      expect(codes).toMatch(/Ada[^\n]*[\s\S]*?On the provider/);
      expect(codes).not.toMatch(/Pending/);
      await shot(page, `codes-keypad-full-${kind}`);
    } finally {
      await browser.close();
    }

    // One alert for this full episode, however many passes look.
    await hh.app.notifier.runOnce();
    await hh.app.notifier.runOnce();
    const alerts = async () => ((await hh.call('GET', '/v1/outbox?kind=target.full', undefined, hh.keys.admin)).body.results as { subject: string }[]);
    expect(await alerts()).toHaveLength(1);
    expect((await alerts())[0]!.subject).toMatch(/^Keypad full: /);

    // Ada's booking is cancelled: her slot goes to the nearest waiter (Bob), not to Cyd.
    expect((await hh.call('POST', `/v1/bookings/${ada.id}/cancel`, undefined, hh.keys.admin)).status).toBe(200);
    await hh.converge();
    expect([await sync(dee), await sync(bob), await sync(cyd)]).toEqual(['applied', 'applied', 'waiting-for-slot']);
    expect(codesOf()).toHaveLength(3);
    // No sync ever failed: Lockstep never asked the keypad for a code it had no room for.
    expect((await hh.call('GET', `/v1/integrations/${hh.integrationId}/status`, undefined, hh.keys.host)).body.failing).toEqual([]);
    expect(await alerts()).toHaveLength(1);
  });

  it('capacity setting: clear errors, and more room lets the waiting in', async () => {
    emu = await startNukiEmulator({ port: 0, apiToken: TOKEN, keypadCapacity: 5 });
    h = await startHarness(kind, { provider: { kind: 'nuki', baseUrl: emu.url, credentials: { apiToken: TOKEN }, badCredentials: {}, targets: [String(LOCK)] } as never });
    const hh = h;
    const bad = await hh.call('PUT', `/v1/integrations/${hh.integrationId}/targets/${LOCK}/capacity`, { capacity: 0 }, hh.keys.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/capacity/);
    expect((await hh.call('PUT', `/v1/integrations/${hh.integrationId}/targets/${LOCK}/capacity`, { capacity: 1 }, hh.keys.admin)).status).toBe(200);
    const space = await hh.space([String(LOCK)]);
    const one = (await hh.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'One', email: 'one@example.com' }, start: hoursFromNow(1), end: hoursFromNow(2) }, hh.keys.admin)).body;
    const two = (await hh.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Two', email: 'two@example.com' }, start: hoursFromNow(5), end: hoursFromNow(6) }, hh.keys.admin)).body;
    await hh.converge();
    const sync = async (b: { id: string }) => (await hh.call('GET', `/v1/bookings/${b.id}/sync`, undefined, hh.keys.host)).body.state as string;
    expect([await sync(one), await sync(two)]).toEqual(['applied', 'waiting-for-slot']);
    // The team admin gives the lock its true capacity in the console's code overview (real Chromium).
    const browser = await launch();
    try {
      const page = (await loginAs(browser, hh.baseUrl, hh.keys.admin)).page;
      await page.goto(`${hh.baseUrl}/web/codes`);
      await page.getByLabel('Capacity of Front door', { exact: true }).fill('2');
      await page.getByRole('button', { name: 'Save capacity of Front door' }).click();
      await expect.poll(() => page.locator('.flash.ok').innerText()).toContain('Capacity set to 2 codes');
    } finally {
      await browser.close();
    }
    expect((await hh.call('GET', `/v1/integrations/${hh.integrationId}/capacity`, undefined, hh.keys.host)).body.results[0]).toMatchObject({ capacity: 2, setting: 2 });
    await hh.converge();
    expect([await sync(one), await sync(two)]).toEqual(['applied', 'applied']);
    expect(emu.state.auths(LOCK)).toHaveLength(2);
  });
});
