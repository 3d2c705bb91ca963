/**
 * The explainer (GET /v1/access/explain): one scenario per break in the chain, each asserting that the
 * verdict names the right link, against the emulators over real HTTP and on both stores.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { igloohomeFixture } from '../contract/igloohome.js';
import type { RunningProvider } from '../contract/fixture.js';

interface Explanation {
  verdict: { canEnter: boolean; broken: string | null; text: string };
  targets: { targetRef: string; canEnter: boolean; broken: string | null; way: string | null; pin: { masked: string } | null; live: { read: string; error?: string }; chain: { link: string; ok: boolean; says: string }[] }[];
  bookings: { id: string; status: string }[];
}

describe.each(storeKinds)('access explainer on %s', (kind) => {
  let h: Harness | null = null;
  let provider: RunningProvider | null = null;
  afterEach(async () => {
    await h?.close();
    await provider?.close();
    h = provider = null;
  });

  const explain = async (hh: Harness, query: Record<string, string>, key = hh.keys.host) => {
    const res = await hh.call('GET', `/v1/access/explain?${new URLSearchParams(query)}`, undefined, key);
    return res as { status: number; body: Explanation & { message?: string } };
  };
  const book = async (hh: Harness, spaceId: string, start: string, end: string) => {
    const res = await hh.call('POST', '/v1/bookings', { spaceId, organiser: { name: 'Ada Lovelace', email: 'ada@example.com' }, start, end, title: 'Board meeting' }, hh.keys.admin);
    expect(res.status).toBe(201);
    return res.body as { id: string; organiserId: string };
  };

  it('says who can enter, when, how and where, with the PIN masked', async () => {
    h = await startHarness(kind);
    const space = await h.space(['ag-front-door', 'ag-meeting-1']);
    const b = await book(h, space, hoursFromNow(-0.5), hoursFromNow(1));
    await h.converge();
    const res = await explain(h, { personId: b.organiserId, spaceId: space });
    expect(res.status).toBe(200);
    expect(res.body.verdict.canEnter).toBe(true);
    expect(res.body.verdict.broken).toBeNull();
    expect(res.body.verdict.text).toMatch(/^can enter from (?:\S+ \S+ \S+ \S+ )?\d\d:\d\d to (?:\S+ \S+ \S+ \S+ )?\d\d:\d\d by PIN at /);
    expect(res.body.targets.map((t) => t.canEnter)).toEqual([true, true]);
    expect(res.body.targets.every((t) => t.live.read === 'ok' && t.chain.every((c) => c.ok))).toBe(true);
    // The PIN itself is never part of the answer.
    const guestKey = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'Ada', personId: b.organiserId }, h.keys.admin)).body.key as string;
    const pin = (await h.call('GET', '/v1/me/pins', undefined, guestKey)).body.results[0].pin as string;
    expect(JSON.stringify(res.body)).not.toContain(pin);
    expect(res.body.targets[0]!.pin!.masked).toBe('•'.repeat(pin.length));
    // A guest may ask about themself, not about anyone else.
    expect((await explain(h, { personId: b.organiserId, spaceId: space }, guestKey)).status).toBe(200);
    const other = await book(h, space, hoursFromNow(2), hoursFromNow(3)).then(async () =>
      (await h!.call('POST', '/v1/people', { name: 'Charles Babbage', email: 'charles@example.com' }, h!.keys.admin)).body as { id: string },
    );
    expect((await explain(h, { personId: other.id, spaceId: space }, guestKey)).status).toBe(403);
  });

  it('cancelled: names the booking', async () => {
    h = await startHarness(kind);
    const space = await h.space();
    const b = await book(h, space, hoursFromNow(-0.5), hoursFromNow(1));
    await h.converge();
    expect((await h.call('POST', `/v1/bookings/${b.id}/cancel`, undefined, h.keys.admin)).status).toBe(200);
    await h.converge();
    const res = await explain(h, { personId: b.organiserId, spaceId: space });
    expect(res.body.verdict).toMatchObject({ canEnter: false, broken: 'booking' });
    expect(res.body.verdict.text).toContain(`booking ${b.id}`);
    expect(res.body.verdict.text).toContain('was cancelled');
  });

  it('unmapped: names the mapping', async () => {
    h = await startHarness(kind);
    const space = await h.space([]);
    const b = await book(h, space, hoursFromNow(-0.5), hoursFromNow(1));
    const res = await explain(h, { personId: b.organiserId, spaceId: space });
    expect(res.body.verdict).toMatchObject({ canEnter: false, broken: 'mapping' });
    expect(res.body.verdict.text).toMatch(/has no mapping on any connected door system/);
  });

  it('outside the window: names the window and when it opens', async () => {
    h = await startHarness(kind);
    const space = await h.space();
    const b = await book(h, space, hoursFromNow(5), hoursFromNow(6));
    await h.converge();
    const res = await explain(h, { personId: b.organiserId, spaceId: space });
    expect(res.body.verdict).toMatchObject({ canEnter: false, broken: 'window' });
    expect(res.body.verdict.text).toMatch(/is outside the access window: .* opens the door from /);
    // Asked about a moment inside that window instead, the same booking lets her in.
    const inside = await explain(h, { personId: b.organiserId, spaceId: space, at: hoursFromNow(5.5) });
    expect(inside.body.verdict.canEnter).toBe(true);
  });

  it('PIN never issued: names the credential and that the engine has not synced yet', async () => {
    h = await startHarness(kind);
    const space = await h.space();
    await h.app.engine.stop(); // nothing reaches the provider
    const b = await book(h, space, hoursFromNow(-0.5), hoursFromNow(1));
    const res = await explain(h, { personId: b.organiserId, spaceId: space });
    expect(res.body.verdict).toMatchObject({ canEnter: false, broken: 'credential' });
    expect(res.body.verdict.text).toMatch(/no PIN has been issued to Ada Lovelace on Doors yet; a sync is due now/);
  });

  it('provider down: names the provider and its error, read live', async () => {
    h = await startHarness(kind);
    const space = await h.space();
    const b = await book(h, space, hoursFromNow(-0.5), hoursFromNow(1));
    await h.converge();
    h.emulator.faults.add({ fault: { kind: 'status', status: 503 } });
    const res = await explain(h, { personId: b.organiserId, spaceId: space });
    expect(res.body.verdict).toMatchObject({ canEnter: false, broken: 'provider' });
    expect(res.body.verdict.text).toMatch(/could not be read just now: .*503/);
    expect(res.body.targets.every((t) => t.live.read === 'failed')).toBe(true);
  });

  it('drift removed it: names the provider, though Lockstep wrote it', async () => {
    h = await startHarness(kind);
    const space = await h.space(['ag-meeting-1']);
    const b = await book(h, space, hoursFromNow(-0.5), hoursFromNow(1));
    await h.converge();
    const user = h.emulator.state.users()[0]!;
    const membership = h.emulator.state.memberships(user.id)[0]!;
    const del = await fetch(`${h.emulator.url}/api/users/${user.id}/memberships/${membership.id}`, { method: 'DELETE', headers: { authorization: 'Bearer test-key' } });
    expect(del.ok).toBe(true);
    const res = await explain(h, { personId: b.organiserId, spaceId: space });
    expect(res.body.verdict).toMatchObject({ canEnter: false, broken: 'provider' });
    expect(res.body.verdict.text).toMatch(/no longer holds .* though Lockstep wrote it: removed outside Lockstep/);
  });

  it('subscription ended: names the subscription', async () => {
    h = await startHarness(kind);
    const space = await h.space();
    const person = (await h.call('POST', '/v1/people', { name: 'Grace Hopper', email: 'grace@example.com' }, h.keys.admin)).body as { id: string };
    const plan = (await h.call('POST', '/v1/plans', { name: 'Hot desk', spaceIds: [space] }, h.keys.admin)).body as { id: string };
    const sub = await h.call('POST', '/v1/subscriptions', { planId: plan.id, personId: person.id, start: hoursFromNow(-48), end: hoursFromNow(48) }, h.keys.admin);
    expect(sub.status).toBe(201);
    await h.converge();
    // While it runs, it opens the space.
    expect((await explain(h, { personId: person.id, spaceId: space })).body.verdict.text).toMatch(/^can enter from .* \(no end\)|^can enter from /);
    expect((await h.call('POST', `/v1/subscriptions/${sub.body.id}/cancel`, {}, h.keys.admin)).status).toBe(200);
    await h.converge();
    const res = await explain(h, { personId: person.id, spaceId: space });
    expect(res.body.verdict).toMatchObject({ canEnter: false, broken: 'subscription' });
    expect(res.body.verdict.text).toContain(`subscription ${sub.body.id} (Hot desk) was cancelled at`);
  });

  it('offline PIN already expired: names the credential (igloohome algoPIN after the booking was extended)', async () => {
    provider = await igloohomeFixture.start();
    h = await startHarness(kind, { provider });
    const lock = provider.targets[0]!;
    const space = await h.space([lock]);
    const b = await book(h, space, hoursFromNow(1), hoursFromNow(2));
    await h.converge();
    // The host extends it by three hours, and the engine has not issued a new code yet.
    await h.app.engine.stop();
    expect((await h.call('PATCH', `/v1/bookings/${b.id}`, { end: hoursFromNow(5) }, h.keys.admin)).status).toBe(200);
    const res = await explain(h, { personId: b.organiserId, spaceId: space, at: hoursFromNow(4) });
    expect(res.body.verdict).toMatchObject({ canEnter: false, broken: 'credential' });
    expect(res.body.verdict.text).toMatch(/the offline PIN issued for this window expired at /);
  });

  it('by access target, and with clear errors for bad input', async () => {
    h = await startHarness(kind);
    const space = await h.space(['ag-front-door']);
    const b = await book(h, space, hoursFromNow(-0.5), hoursFromNow(1));
    await h.converge();
    const byTarget = await explain(h, { personId: b.organiserId, targetRef: 'ag-front-door' });
    expect(byTarget.status).toBe(200);
    expect(byTarget.body.verdict.canEnter).toBe(true);
    expect(byTarget.body.targets.map((t) => t.targetRef)).toEqual(['ag-front-door']);
    // A mapping stored without a name (an import, the demo before): the provider's own name is used.
    await h.app.store.db.updateTable('mappings').set({ targetName: null }).execute();
    expect((await explain(h, { personId: b.organiserId, spaceId: space })).body.verdict.text).toMatch(/by PIN at Front door$/);

    const neither = await explain(h, { personId: b.organiserId });
    expect(neither.status).toBe(400);
    expect(neither.body.message).toMatch(/exactly one of spaceId .* or targetRef/);
    const badAt = await explain(h, { personId: b.organiserId, spaceId: space, at: '2026-12-01T09:00' });
    expect(badAt.status).toBe(400);
    expect(badAt.body.message).toMatch(/querystring.at: .* has no UTC offset/);
    expect((await explain(h, { personId: 'p_nobody', spaceId: space })).status).toBe(404);
    const unknownTarget = await explain(h, { personId: b.organiserId, targetRef: 'ag-nowhere' });
    expect(unknownTarget.status).toBe(404);
    expect(unknownTarget.body.message).toMatch(/no space or plan in this organisation uses the access target ag-nowhere/);
  });
});
