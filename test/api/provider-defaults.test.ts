/**
 * A provider's documented defaults apply when the admin sets none: Avigilon Alta opens booking access
 * 30 minutes either side; everyone else starts at Lockstep's 15. Real HTTP to the Alta emulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startAltaEmulator } from '../../src/providers/openpath/emulator.js';
import { startHarness, type Harness } from '../support/harness.js';

describe('integration defaults per provider', () => {
  let h: Harness | undefined;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await h?.close();
    await close?.();
  });

  it('an Alta integration gets 30-minute buffers unless the admin chose others', async () => {
    const emu = await startAltaEmulator({ port: 0, admins: [{ email: 'bot@venue.example', password: 'pw-123456', orgIds: [77] }] });
    close = () => emu.close();
    h = await startHarness('sqlite');
    const credentials = { email: 'bot@venue.example', password: 'pw-123456', orgId: '77' };
    const alta = await h.call('POST', '/v1/integrations', { organisationId: h.organisationId, kind: 'openpath', name: 'Alta', baseUrl: emu.url, credentials });
    expect(alta.status, JSON.stringify(alta.body)).toBe(201);
    expect(alta.body).toMatchObject({ bufferBeforeMinutes: 30, bufferAfterMinutes: 30 });
    const chosen = await h.call('POST', '/v1/integrations', { organisationId: h.organisationId, kind: 'openpath', name: 'Alta 2', baseUrl: emu.url, credentials, bufferBeforeMinutes: 5, bufferAfterMinutes: 10 });
    expect(chosen.body).toMatchObject({ bufferBeforeMinutes: 5, bufferAfterMinutes: 10 });
    const demo = (await h.call('GET', `/v1/integrations/${h.integrationId}`)).body;
    expect(demo).toMatchObject({ bufferBeforeMinutes: 15, bufferAfterMinutes: 15 });
  });
});
