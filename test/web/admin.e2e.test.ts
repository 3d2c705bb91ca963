/**
 * Admin console in a real browser (Debian Chromium via playwright-core) against a full Lockstep with
 * the demo provider over HTTP: a platform admin connects, tests and disconnects an integration (secrets
 * shown masked); a team admin creates a space, maps it to doors picked from the live provider list,
 * previews and applies mapping and buffer changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { hoursFromNow, startHarness, type Harness } from '../support/harness.js';
import { expectKeyboardBasics, launch, loginAs, shot, unlabelledControls } from './browser.js';

describe('admin console (browser)', () => {
  let h: Harness;
  let browser: Browser;
  beforeAll(async () => {
    [h, browser] = await Promise.all([startHarness('sqlite'), launch()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('platform admin connects an integration, sees secrets masked, tests it and disconnects it (keep)', async () => {
    const { context, page } = await loginAs(browser, h.baseUrl, h.keys.platform);
    await expect.poll(() => new URL(page.url()).pathname).toBe('/web/integrations');
    await page.getByRole('link', { name: 'Connect an integration' }).click();
    await page.getByLabel('Provider').selectOption('demo');
    await page.getByRole('button', { name: 'Show its settings' }).click();
    await page.getByLabel('Name').fill('Back office doors');
    await page.getByLabel('Provider API base URL').fill(h.emulator.url);
    const secretInput = page.getByLabel(/API key/i);
    expect(await secretInput.getAttribute('type')).toBe('password');
    await secretInput.fill('test-key');
    await shot(page, 'platform-connect-integration');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('heading', { name: 'Integration: Back office doors' }).waitFor();
    const text = await page.locator('main').innerText();
    expect(text).toContain('Connected Back office doors');
    expect(text).not.toContain('test-key');
    expect(text).toMatch(/apiKey\s+••••/);
    await shot(page, 'platform-integration-detail');

    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.locator('.flash.ok').innerText()).toContain('Connection works');

    await page.getByLabel(/Keep it/).check();
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await expect.poll(() => page.locator('.flash.ok').innerText()).toContain('Disconnected');
    await page.goto('/web/integrations');
    await expect.poll(() => page.locator('main').innerText()).toMatch(/Back office doors\s+demo\s+disconnected/);
    await shot(page, 'platform-integrations');

    // A wrong credential is refused with the API's own message; the secret is not echoed back.
    await page.goto('/web/integrations/new?kind=demo');
    await page.getByLabel('Provider API base URL').fill('not a url');
    await page.getByLabel(/API key/i).fill('sekrit-value');
    await page.locator('#f-baseUrl').evaluate((el) => el.setAttribute('type', 'text'));
    await page.getByRole('button', { name: 'Connect' }).click();
    const summary = page.locator('#error-summary');
    await expect.poll(() => summary.innerText()).toContain('baseUrl');
    expect(await page.content()).not.toContain('sekrit-value');
    await context.close();
  });

  it('team admin creates a space, maps it to live doors with a preview, and previews then applies a buffer change', async () => {
    const { context, page } = await loginAs(browser, h.baseUrl, h.keys.admin);
    await expect.poll(() => new URL(page.url()).pathname).toBe('/web/spaces');

    // Validation comes from the API, shown next to the field.
    await page.goto('/web/locations');
    await page.getByLabel('Name').fill('Annex');
    await page.getByLabel('Time zone').fill('Mars/Olympus');
    await page.getByRole('button', { name: 'Add location' }).click();
    await expect.poll(() => page.locator('#f-timeZone-err').innerText()).toContain('IANA time zone');
    expect(await page.getByLabel('Time zone').getAttribute('aria-invalid')).toBe('true');

    await page.goto('/web/spaces');
    await page.getByLabel('Location').selectOption({ label: 'HQ (Europe/London)' });
    await page.getByLabel('Name').fill('Studio');
    await page.getByLabel('Kind').selectOption('room');
    await page.getByRole('button', { name: 'Add space' }).click();
    await page.getByRole('heading', { name: 'Space: Studio' }).waitFor();
    const spaceId = new URL(page.url()).pathname.split('/').pop()!;

    // A booking already on the space, so the preview has something to count.
    const booking = await h.call('POST', '/v1/bookings', { spaceId, organiser: { name: 'Ada Lovelace', email: 'ada@example.com' }, start: hoursFromNow(2), end: hoursFromNow(4) }, h.keys.admin);
    expect(booking.status).toBe(201);
    await page.reload();

    // Targets come live from the provider, with descriptions.
    const main = await page.locator('main').innerText();
    expect(main).toContain('Street entrance and lobby, all hours');
    expect(main).toContain('Underground car park barrier');
    await page.getByLabel('Front door').check();
    await page.getByLabel('Meeting room 2').check();
    await shot(page, 'admin-space-mapping');
    await page.getByRole('button', { name: 'Preview mapping change' }).click();
    await page.getByRole('heading', { name: 'Confirm mapping change' }).waitFor();
    const preview = await page.locator('main').innerText();
    expect(preview).toContain('1 booking and 0 subscriptions change (1 person affected)');
    expect(preview).toMatch(/Adds: Front door, Meeting room 2/);
    const mappingsBefore = await h.call('GET', `/v1/mappings?spaceId=${spaceId}`, undefined, h.keys.admin);
    expect(mappingsBefore.body.results).toHaveLength(0); // nothing written by a preview
    await shot(page, 'admin-mapping-preview');
    await page.getByRole('button', { name: 'Update' }).click();
    await expect.poll(() => page.locator('.flash.ok').innerText()).toContain('Mapping updated');
    const mappings = await h.call('GET', `/v1/mappings?spaceId=${spaceId}`, undefined, h.keys.admin);
    expect(mappings.body.results.map((m: any) => m.targetRef).sort()).toEqual(['ag-front-door', 'ag-meeting-2']);
    await h.converge();
    const sync = await h.call('GET', `/v1/bookings/${booking.body.id}/sync`, undefined, h.keys.admin);
    expect(sync.body.state).toBe('applied');

    // Buffers per integration: preview, then the explicit Update.
    await page.goto('/web/buffers');
    await page.getByLabel('Minutes before').fill('30');
    await page.getByRole('button', { name: 'Preview buffer change' }).click();
    await page.getByRole('heading', { name: 'Confirm buffer change' }).waitFor();
    expect(await page.locator('.preview').innerText()).toContain('1 booking and 0 subscriptions change');
    expect((await h.call('GET', `/v1/integrations/${h.integrationId}`)).body.bufferBeforeMinutes).toBe(15);
    await shot(page, 'admin-buffers-preview');
    await page.getByRole('button', { name: 'Update' }).click();
    await expect.poll(() => page.locator('.flash.ok').innerText()).toContain('Buffers updated');
    expect((await h.call('GET', `/v1/integrations/${h.integrationId}`)).body.bufferBeforeMinutes).toBe(30);

    // Buffers per space: blank = the integration's; preview says what changes.
    await page.goto(`/web/spaces/${spaceId}`);
    await page.locator('#f-bufferAfterMinutes').fill('0');
    await page.getByRole('button', { name: 'Preview buffer change' }).click();
    expect(await page.locator('.preview').innerText()).toContain('1 booking and 0 subscriptions change');
    await page.getByRole('button', { name: 'Update' }).click();
    await expect.poll(() => page.locator('.flash.ok').innerText()).toContain('Buffers updated');
    expect((await h.call('GET', `/v1/spaces/${spaceId}`, undefined, h.keys.admin)).body.bufferAfterMinutes).toBe(0);

    // Plans: list + create.
    await page.goto('/web/plans');
    await page.getByLabel('Name').fill('Members');
    await page.getByLabel('Studio').check();
    await page.getByRole('button', { name: 'Add plan' }).click();
    await expect.poll(() => page.locator('main table').innerText()).toContain('Members');
    await page.goto('/web/spaces');
    await shot(page, 'admin-spaces');

    // The audit log, filtered by space.
    await page.goto('/web/audit');
    await page.getByLabel('Space').selectOption({ label: 'Studio' });
    await page.getByRole('button', { name: 'Filter' }).click();
    const audit = await page.locator('main table').innerText();
    expect(audit).toContain('mapping.created');
    expect(audit).toContain('space.updated');
    expect(audit).not.toContain('integration.connected');
    await shot(page, 'admin-audit');

    // Every control is labelled and the pages start with a skip link that shows focus.
    for (const path of ['/web/spaces', `/web/spaces/${spaceId}`, '/web/locations', '/web/plans', '/web/buffers', '/web/bookings', '/web/codes', '/web/audit']) {
      await page.goto(path);
      expect(await unlabelledControls(page), path).toEqual([]);
    }
    expect(await expectKeyboardBasics(page)).toEqual({ first: 'Skip to content', outline: 'solid' });

    // A team admin is not a platform admin.
    const res = await page.goto('/web/integrations');
    expect(res?.status()).toBe(403);
    await context.close();
  });
});
