/**
 * A guest opens a booked space's door now (Inlet's GrantPulseAccess), only inside a valid window,
 * through the whole of Lockstep and the Inlet emulator over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startInletEmulator, type InletEmulator } from '../../src/providers/inlet/emulator.js';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';

describe('POST /v1/me/open', () => {
  let emu: InletEmulator;
  let h: Harness;
  let space: string;
  beforeEach(async () => {
    emu = await startInletEmulator({ port: 0, apiKey: 'open-key' });
    h = await startHarness('sqlite', {
      provider: { kind: 'inlet', baseUrl: emu.url, credentials: { apiKey: 'open-key' } } as never,
    });
    space = await h.space(['lock-main-entrance', 'lock-room-1']);
  });
  afterEach(async () => {
    await h?.close();
    await emu?.close();
  });

  const bookAndKey = async (start: string, end: string) => {
    const b = (await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada', email: 'ada@example.com' }, start, end }, h.keys.admin)).body;
    await h.converge();
    const key = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId: b.organiserId }, h.keys.admin)).body.key as string;
    return { booking: b, key };
  };

  it('opens every door of the space during the booking and audits it', async () => {
    const { booking, key } = await bookAndKey(hoursFromNow(-1), hoursFromNow(1));
    const res = await h.call('POST', '/v1/me/open', { spaceId: space }, key);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.opened.sort()).toEqual(['lock-main-entrance', 'lock-room-1']);
    expect(emu.state.pulses().map((p) => p.lockId).sort()).toEqual(['lock-main-entrance', 'lock-room-1']);
    const audit = (await h.call('GET', `/v1/audit?subjectId=${booking.organiserId}&action=door.opened`, undefined, h.keys.admin)).body.results;
    expect(audit).toHaveLength(2);
  });

  it('refuses outside the booking window, and for a space the guest has not booked', async () => {
    const { key } = await bookAndKey(hoursFromNow(3), hoursFromNow(4));
    const early = await h.call('POST', '/v1/me/open', { spaceId: space }, key);
    expect(early.status).toBe(403);
    expect(early.body.message).toMatch(/window/);
    const other = await h.space(['lock-room-1']);
    expect((await h.call('POST', '/v1/me/open', { spaceId: other }, key)).status).toBe(403);
    expect((await h.call('POST', '/v1/me/open', { spaceId: 'sp_nope' }, key)).status).toBe(404);
    expect(emu.state.pulses()).toEqual([]);
  });

  it('is for guests only', async () => {
    const res = await h.call('POST', '/v1/me/open', { spaceId: space }, h.keys.host);
    expect(res.status).toBe(403);
  });
});
