/**
 * Inputs the property-based suite (test/fuzz) found breaking the API, each pinned here as a plain
 * regression test on both stores: NUL characters, over-long path segments, mapping keys that objects
 * inherit, trigger rules outliving their space, and a booking at the highest source version edited
 * through the API.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { signatureHeader } from '../../src/providers/webhook/signing.js';
import { createHmac } from 'node:crypto';

describe.each(storeKinds)('edge inputs on %s', (kind) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(kind);
  });
  afterEach(async () => {
    await h?.close();
  });

  const raw = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(h.baseUrl + path, { method, headers: { authorization: `Bearer ${h.keys.admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, body });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const count = async (table: 'companies' | 'bookings' | 'auditLog') => Number((await h.app.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n);

  it('a NUL character anywhere in the request is a 400 naming the field, and nothing is written', async () => {
    const [companies, audit] = [await count('companies'), await count('auditLog')];
    const body = await raw('POST', '/v1/companies', JSON.stringify({ name: 'a\u0000b' }));
    expect(body.status).toBe(400);
    expect(body.body).toMatchObject({ error: 'validation', issues: [{ path: 'body.name', message: expect.stringMatching(/NUL/) }] });
    const nested = await raw('POST', '/v1/bookings', JSON.stringify({ spaceId: 'x', organiser: { name: 'Ada', email: 'ada@example.com' }, invitees: [{ name: 'B\u0000', email: 'b@example.com' }], start: hoursFromNow(1), end: hoursFromNow(2) }));
    expect(nested.body.issues[0].path).toBe('body.invitees.0.name');
    const param = await raw('DELETE', '/v1/spaces/%00');
    expect(param).toMatchObject({ status: 400, body: { issues: [{ path: 'params.id' }] } });
    expect(await count('companies')).toBe(companies);
    expect(await count('auditLog')).toBe(audit);
  });

  it('a NUL character in the path of a webhook or URL-key route is a 400 too (those routes take no API key)', async () => {
    for (const path of ['/v1/sources/src_x%00/bookings', '/v1/sources/%00/calcom', '/k/abc%00def']) {
      const res = await raw('POST', path, '{}');
      expect(res.status, path).toBe(400);
      expect(res.body.issues[0].path).toMatch(/^params\./);
    }
  });

  it('an invitee who becomes the organiser is no longer an invitee of the booking', async () => {
    const space = await h.space();
    const people = [];
    for (const n of ['Ada', 'Bob', 'Cy']) people.push((await h.call('POST', '/v1/people', { name: n, email: `${n.toLowerCase()}@example.com` }, h.keys.admin)).body.id as string);
    const [a, b, c] = people as [string, string, string];
    const booking = (await h.call('POST', '/v1/bookings', { spaceId: space, organiserId: a, inviteeIds: [b, c], start: hoursFromNow(2), end: hoursFromNow(3) }, h.keys.admin)).body;
    const patched = await h.call('PATCH', `/v1/bookings/${booking.id}`, { organiserId: b }, h.keys.admin);
    expect(patched.status).toBe(200);
    expect(patched.body.organiserId).toBe(b);
    expect(patched.body.inviteeIds).toEqual([c]);
    const rows = await h.app.store.db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', booking.id).execute();
    expect(rows.map((r) => r.personId)).toEqual([c]);
  });

  it('a body with a __proto__ key is refused with a message that says so', async () => {
    const res = await raw('POST', '/v1/companies', '{"name":"a","__proto__":{"polluted":true}}');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'validation', message: expect.stringMatching(/__proto__/), issues: [{ path: 'body', message: expect.stringMatching(/__proto__/) }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('an over-long path segment gets the API error shape without echoing the URL', async () => {
    const res = await raw('PATCH', `/v1/plans/${'a'.repeat(600)}`, '{}');
    expect(res.status).toBe(414);
    expect(res.body).toEqual({ error: 'uri_too_long', message: expect.stringMatching(/longer than 500 characters/) });
    expect(JSON.stringify(res.body)).not.toContain('aaaa');
    // Up to the limit, the route answers as usual.
    expect((await raw('PATCH', `/v1/plans/${'a'.repeat(150)}`, '{}')).status).toBe(404);
  });

  it("a source delivery naming an inherited property ('constructor', '__proto__', 'toString') as its resource or event type is a 400, not a 500", async () => {
    const space = await h.space();
    const hook = (await h.call('POST', '/v1/sources', { kind: 'webhook', name: 'w', settings: { spaceByResource: { 'room-2': space } } }, h.keys.admin)).body;
    const cal = (await h.call('POST', '/v1/sources', { kind: 'calcom', name: 'c', settings: { spaceByEventType: { meeting: space } } }, h.keys.admin)).body;
    const before = await count('bookings');
    for (const resource of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const body = JSON.stringify({ event: 'booking.upserted', id: `R-${resource}`, version: 1, resource, start: hoursFromNow(2), end: hoursFromNow(3), organiser: { name: 'Ada', email: 'ada@example.com' } });
      const res = await raw('POST', `/v1/sources/${hook.id}/bookings`, body, { 'lockstep-signature': signatureHeader(hook.secret, Math.floor(Date.now() / 1000), body) });
      expect(res.status, `${resource}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.message).toMatch(/resource/);
    }
    for (const triggerEvent of ['toString', 'constructor', 'hasOwnProperty']) {
      const body = JSON.stringify({ triggerEvent, createdAt: new Date().toISOString(), payload: { uid: `t-${triggerEvent}`, type: 'meeting', startTime: hoursFromNow(2), endTime: hoursFromNow(3), attendees: [{ name: 'Ada', email: 'ada@example.com' }] } });
      const res = await raw('POST', `/v1/sources/${cal.id}/calcom`, body, { 'x-cal-signature-256': createHmac('sha256', cal.secret).update(body).digest('hex') });
      expect(res.status, `${triggerEvent}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.message).toMatch(/unknown Cal.com trigger/);
    }
    for (const type of ['constructor', 'toString', 'valueOf']) {
      const body = JSON.stringify({ triggerEvent: 'BOOKING_CREATED', createdAt: new Date().toISOString(), payload: { uid: `u-${type}`, type, startTime: hoursFromNow(2), endTime: hoursFromNow(3), attendees: [{ name: 'Ada', email: 'ada@example.com' }] } });
      const sig = createHmac('sha256', cal.secret).update(body).digest('hex');
      const res = await raw('POST', `/v1/sources/${cal.id}/calcom`, body, { 'x-cal-signature-256': sig });
      expect(res.status, `${type}: ${JSON.stringify(res.body)}`).toBe(400);
    }
    expect(await count('bookings')).toBe(before);
  });

  it("deleting a space removes its trigger rule", async () => {
    const space = await h.space();
    expect((await h.call('PUT', `/v1/spaces/${space}/trigger`, { delivery: 'dashboard' }, h.keys.admin)).status).toBe(200);
    const rules = () => h.app.store.db.selectFrom('triggerRules').selectAll().where('scopeId', '=', space).execute();
    expect(await rules()).toHaveLength(1);
    expect((await h.call('DELETE', `/v1/spaces/${space}`, undefined, h.keys.admin)).status).toBe(204);
    expect(await rules()).toEqual([]);
  });

  it('a booking delivered at the highest source version can still be edited and cancelled through the API', async () => {
    const space = await h.space();
    const hook = (await h.call('POST', '/v1/sources', { kind: 'webhook', name: 'w', settings: { defaultSpaceId: space } }, h.keys.admin)).body;
    const body = JSON.stringify({ event: 'booking.upserted', id: 'R-max', version: 2_147_483_647, start: hoursFromNow(2), end: hoursFromNow(3), organiser: { name: 'Ada', email: 'ada@example.com' } });
    const delivered = await raw('POST', `/v1/sources/${hook.id}/bookings`, body, { 'lockstep-signature': signatureHeader(hook.secret, Math.floor(Date.now() / 1000), body) });
    expect(delivered.body.outcome).toBe('created');
    const id = delivered.body.bookingId as string;
    const patched = await h.call('PATCH', `/v1/bookings/${id}`, { title: 'renamed' }, h.keys.admin);
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.version).toBe(2_147_483_648);
    expect((await h.call('POST', `/v1/bookings/${id}/cancel`, {}, h.keys.admin)).status).toBe(200);
  });
});
