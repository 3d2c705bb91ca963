/**
 * Trigger rules through the whole of Lockstep (API → store → engine → demo provider over HTTP):
 * on-payment issues nothing until the booking is paid; before-start issues access only from its
 * trigger time (the engine wakes itself up for it); the rule API validates and audits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(storeKinds)('triggers on %s', (kind) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(kind);
  });
  afterEach(async () => {
    await h?.close();
  });

  const book = async (space: string, start: string, end: string, extra: Record<string, unknown> = {}) => {
    const res = await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada', email: 'ada@example.com' }, start, end, ...extra }, h.keys.admin);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const sync = async (id: string) => (await h.call('GET', `/v1/bookings/${id}/sync`, undefined, h.keys.admin)).body;
  const outboxFor = async (bookingId: string) => (await h.call('GET', `/v1/outbox?bookingId=${bookingId}`, undefined, h.keys.admin)).body.results as any[];

  it('rule API: defaults, validation that changes nothing, team-admin only, audited', async () => {
    const path = `/v1/integrations/${h.integrationId}/trigger`;
    expect((await h.call('GET', path, undefined, h.keys.admin)).body).toMatchObject({ issueOn: 'on-confirmation', hoursBefore: null, cancellation: expect.stringMatching(/revokes/) });
    const bad = await h.call('PUT', path, { issueOn: 'before-start' }, h.keys.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('hoursBefore');
    expect((await h.call('PUT', path, { issueOn: 'on-payment', hoursBefore: 3 }, h.keys.admin)).status).toBe(400);
    expect((await h.call('PUT', path, { issueOn: 'whenever' }, h.keys.admin)).status).toBe(400);
    expect((await h.call('PUT', path, { issueOn: 'on-payment' }, h.keys.host)).status).toBe(403);
    expect((await h.call('GET', path, undefined, h.keys.admin)).body.issueOn).toBe('on-confirmation');
    const ok = await h.call('PUT', path, { issueOn: 'before-start', hoursBefore: 48 }, h.keys.admin);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ issueOn: 'before-start', hoursBefore: 48 });

    const space = await h.space();
    const sp = await h.call('PUT', `/v1/spaces/${space}/trigger`, { issueOn: 'on-payment', delivery: 'dashboard' }, h.keys.admin);
    expect(sp.status, JSON.stringify(sp.body)).toBe(200);
    expect(sp.body).toMatchObject({ override: { issueOn: 'on-payment', delivery: 'dashboard' }, delivery: 'dashboard', effective: [{ integrationId: h.integrationId, issueOn: 'on-payment' }] });
    // Clearing the override: the integration's rule applies again.
    const cleared = await h.call('PUT', `/v1/spaces/${space}/trigger`, { issueOn: null }, h.keys.admin);
    expect(cleared.body.effective[0]).toMatchObject({ issueOn: 'before-start', hoursBefore: 48 });
    expect(cleared.body.delivery).toBe('dashboard');
    expect((await h.call('PUT', `/v1/spaces/sp_nope/trigger`, { delivery: 'sms' }, h.keys.admin)).status).toBe(404);

    const audit = (await h.call('GET', '/v1/audit?action=trigger.updated', undefined, h.keys.admin)).body.results;
    expect(audit.length).toBe(3);
    const doc = (await h.call('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/integrations/{id}/trigger', '/v1/spaces/{id}/trigger', '/v1/me/bookings/{id}/url-key', '/k/{token}']));
  });

  it('on-payment: no access and no e-mail until the booking is paid, then both', async () => {
    expect((await h.call('PUT', `/v1/integrations/${h.integrationId}/trigger`, { issueOn: 'on-payment' }, h.keys.admin)).status).toBe(200);
    const space = await h.space();
    const b = await book(space, hoursFromNow(1), hoursFromNow(3));
    expect(b.paid).toBe(false);
    await h.converge();
    const waiting = await sync(b.id);
    expect(waiting.state).toBe('awaiting-trigger');
    expect(waiting.entries[0].trigger).toEqual({ issueOn: 'on-payment', at: null });
    expect(h.emulator.state.users()).toEqual([]);
    await new Promise((r) => setTimeout(r, 400)); // a few notifier passes
    expect(await outboxFor(b.id)).toEqual([]);

    const paid = await h.call('PATCH', `/v1/bookings/${b.id}`, { paid: true }, h.keys.admin);
    expect(paid.status).toBe(200);
    expect(paid.body.paid).toBe(true);
    await h.converge();
    expect((await sync(b.id)).state).toBe('applied');
    const users = h.emulator.state.users();
    expect(users).toHaveLength(1);
    expect(h.emulator.state.memberships(users[0].id).map((m) => m.accessGroupId).sort()).toEqual(['ag-front-door', 'ag-meeting-1']);
    const mail = await waitFor('confirmation', async () => (await outboxFor(b.id)).find((m) => m.kind === 'booking.confirmed'));
    expect(mail.to).toBe('ada@example.com');

    // Cancelling revokes (the cancellation trigger).
    await h.call('POST', `/v1/bookings/${b.id}/cancel`, undefined, h.keys.admin);
    await h.converge();
    expect((await sync(b.id)).state).toBe('revoked');
    expect(h.emulator.state.memberships(users[0].id)).toEqual([]);
  });

  it('a booking created paid gets access at once under on-payment', async () => {
    await h.call('PUT', `/v1/integrations/${h.integrationId}/trigger`, { issueOn: 'on-payment' }, h.keys.admin);
    const b = await book(await h.space(), hoursFromNow(1), hoursFromNow(3), { paid: true });
    expect(b.paid).toBe(true);
    await h.converge();
    expect((await sync(b.id)).state).toBe('applied');
  });

  it('before-start 24 h: access only from the trigger time, and the engine comes back for it', async () => {
    const space = await h.space();
    expect((await h.call('PUT', `/v1/spaces/${space}/trigger`, { issueOn: 'before-start', hoursBefore: 24 }, h.keys.admin)).status).toBe(200);
    // Starts 24 h + 4 s from now: the trigger fires in ~4 s.
    const startMs = Math.ceil((Date.now() + 24 * 3_600_000 + 4_000) / 1000) * 1000;
    const b = await book(space, new Date(startMs).toISOString(), new Date(startMs + 3_600_000).toISOString());
    await h.converge();
    const waiting = await sync(b.id);
    expect(waiting.state).toBe('awaiting-trigger');
    const triggerAt = Date.parse(waiting.entries[0].trigger.at);
    expect(triggerAt).toBe(startMs - 24 * 3_600_000);
    expect(h.emulator.state.users()).toEqual([]);

    const applied = await waitFor('access after the trigger', async () => ((await sync(b.id)).state === 'applied' ? Date.now() : null), 20_000);
    expect(applied).toBeGreaterThanOrEqual(triggerAt);
    const users = h.emulator.state.users();
    expect(users).toHaveLength(1);
    expect(h.emulator.state.memberships(users[0].id)).toHaveLength(2);
    // The confirmation goes out once the trigger has fired, although the booking did not change.
    await waitFor('confirmation', async () => (await outboxFor(b.id)).find((m) => m.kind === 'booking.confirmed'));
  }, 30_000);
});
