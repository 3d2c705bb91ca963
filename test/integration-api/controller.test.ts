/**
 * The site controller's side of the integration API: a space's bookings for one local day (across
 * daylight-saving changes in Europe/London) with e-mails and card numbers, and the card store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';

describe.each(storeKinds)('daily booking list and card store on %s', (kind) => {
  let h: Harness;
  let space: string;
  let guestKey: string;

  const book = async (startLocal: string, endLocal: string, organiserEmail: string, inviteeEmail?: string) => {
    const res = await h.call(
      'POST',
      '/v1/bookings',
      { spaceId: space, organiser: { name: organiserEmail.split('@')[0], email: organiserEmail }, invitees: inviteeEmail ? [{ name: 'Guest', email: inviteeEmail }] : [], startLocal, endLocal },
      h.keys.admin,
    );
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    h = await startHarness(kind, { timeZone: 'Europe/London' });
    space = await h.space(['ag-meeting-1']);
    const person = await h.call('POST', '/v1/people', { name: 'Gus', email: 'gus@example.com' }, h.keys.admin);
    guestKey = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'gus', personId: person.body.id }, h.keys.admin)).body.key;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stores e-mail → card numbers sealed, for team admins only, one card per e-mail', async () => {
    const put = await h.call('PUT', '/v1/cards/Ada@Example.com', { cardNumber: '0012345678', label: 'blue fob' }, h.keys.admin);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ email: 'ada@example.com', cardNumber: '0012345678', label: 'blue fob' });
    expect((await h.call('GET', '/v1/cards/ada@example.com', undefined, h.keys.admin)).body.cardNumber).toBe('0012345678');
    // Replace.
    expect((await h.call('PUT', '/v1/cards/ada@example.com', { cardNumber: '0099999999' }, h.keys.admin)).status).toBe(200);
    expect((await h.call('PUT', '/v1/cards/charles@example.com', { cardNumber: 'C-77' }, h.keys.admin)).status).toBe(200);
    const list = await h.call('GET', '/v1/cards', undefined, h.keys.admin);
    expect(list.body.results.map((c: any) => [c.email, c.cardNumber])).toEqual([
      ['ada@example.com', '0099999999'],
      ['charles@example.com', 'C-77'],
    ]);

    // Sealed at rest, never in the audit log.
    const rows = await h.app.store.db.selectFrom('accessCards').selectAll().execute();
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.cardSealed).not.toMatch(/0099999999|C-77/);
    const audit = JSON.stringify(await h.app.store.db.selectFrom('auditLog').selectAll().where('subjectType', '=', 'card').execute());
    expect(audit).toContain('card.replaced');
    expect(audit).not.toMatch(/0012345678|0099999999|C-77/);

    // Refusals change nothing.
    const taken = await h.call('PUT', '/v1/cards/eve@example.com', { cardNumber: 'C-77' }, h.keys.admin);
    expect(taken.status).toBe(409);
    expect(taken.body.message).toContain('charles@example.com');
    const bad = await h.call('PUT', '/v1/cards/eve@example.com', { cardNumber: '12 34' }, h.keys.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.message).not.toContain('12 34');
    expect((await h.call('PUT', '/v1/cards/not-an-email', { cardNumber: '1' }, h.keys.admin)).status).toBe(400);
    for (const k of [h.keys.host, guestKey]) {
      expect((await h.call('PUT', '/v1/cards/eve@example.com', { cardNumber: '555' }, k)).status).toBe(403);
      expect((await h.call('GET', '/v1/cards', undefined, k)).status).toBe(403);
      expect((await h.call('GET', '/v1/cards/ada@example.com', undefined, k)).status).toBe(403);
      expect((await h.call('DELETE', '/v1/cards/ada@example.com', undefined, k)).status).toBe(403);
    }
    expect(await h.app.store.db.selectFrom('accessCards').select('email').execute()).toHaveLength(2);

    // Another organisation's admin sees none of it.
    const org2 = await h.call('POST', '/v1/organisations', { name: 'Other' });
    const admin2 = (await h.call('POST', '/v1/api-keys', { role: 'team-admin', name: 'a2', organisationId: org2.body.id })).body.key;
    expect((await h.call('GET', '/v1/cards', undefined, admin2)).body.results).toEqual([]);
    expect((await h.call('GET', '/v1/cards/ada@example.com', undefined, admin2)).status).toBe(404);
    expect((await h.call('GET', `/v1/spaces/${space}/bookings?date=2027-03-28`, undefined, admin2)).status).toBe(404);

    expect((await h.call('DELETE', '/v1/cards/charles@example.com', undefined, h.keys.admin)).status).toBe(204);
    expect((await h.call('GET', '/v1/cards/charles@example.com', undefined, h.keys.admin)).status).toBe(404);
    expect((await h.call('DELETE', '/v1/cards/charles@example.com', undefined, h.keys.admin)).status).toBe(404);
    // The freed card can go to someone else now.
    expect((await h.call('PUT', '/v1/cards/charles@example.com', { cardNumber: 'C-78' }, h.keys.admin)).status).toBe(200);
  });

  it('lists a space’s bookings for the local day across the spring-forward change, with e-mails and cards', async () => {
    // 2027-03-28: Europe/London goes from GMT to BST at 01:00; the day is 23 hours long.
    const before = await book('2027-03-27T23:00', '2027-03-27T23:50', 'early@example.com'); // the day before
    const overnight = await book('2027-03-27T23:30', '2027-03-28T00:30', 'ada@example.com', 'charles@example.com');
    const morning = await book('2027-03-28T09:00', '2027-03-28T10:00', 'ada@example.com', 'nocard@example.com');
    const late = await book('2027-03-28T23:15', '2027-03-28T23:45', 'late@example.com');
    // 00:30 BST on the 29th is 23:30 UTC on the 28th: not in the 28th's list (a UTC day would include it).
    const nextDay = await book('2027-03-29T00:30', '2027-03-29T01:00', 'next@example.com');
    const cancelled = await book('2027-03-28T12:00', '2027-03-28T13:00', 'gone@example.com');
    expect((await h.call('POST', `/v1/bookings/${cancelled.id}/cancel`, undefined, h.keys.admin)).status).toBe(200);

    const res = await h.call('GET', `/v1/spaces/${space}/bookings?date=2027-03-28`, undefined, h.keys.host);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ spaceId: space, date: '2027-03-28', timeZone: 'Europe/London' });
    expect(Date.parse(res.body.until) - Date.parse(res.body.from)).toBe(23 * 3_600_000);
    expect(res.body.from).toBe('2027-03-28T00:00:00.000+00:00');
    expect(res.body.until).toBe('2027-03-29T00:00:00.000+01:00');
    expect(res.body.bookings.map((b: any) => b.id)).toEqual([overnight.id, morning.id, late.id]);
    const [o, m] = res.body.bookings;
    expect(o.startLocal).toBe('2027-03-27T23:30:00+00:00');
    expect(m.startLocal).toBe('2027-03-28T09:00:00+01:00');
    expect(m.start).toBe('2027-03-28T08:00:00.000Z');
    expect(o.organiser).toMatchObject({ email: 'ada@example.com', cardNumber: '0099999999' });
    expect(o.attendees).toEqual([expect.objectContaining({ email: 'charles@example.com', cardNumber: 'C-78' })]);
    expect(m.attendees).toEqual([expect.objectContaining({ email: 'nocard@example.com', cardNumber: null })]);

    const withCancelled = await h.call('GET', `/v1/spaces/${space}/bookings?date=2027-03-28&includeCancelled=true`, undefined, h.keys.admin);
    expect(withCancelled.body.bookings.map((b: any) => b.id)).toContain(cancelled.id);
    const next = await h.call('GET', `/v1/spaces/${space}/bookings?date=2027-03-29`, undefined, h.keys.admin);
    expect(next.body.bookings.map((b: any) => b.id)).toEqual([nextDay.id]);
    const prev = await h.call('GET', `/v1/spaces/${space}/bookings?date=2027-03-27`, undefined, h.keys.admin);
    expect(prev.body.bookings.map((b: any) => b.id)).toEqual([before.id, overnight.id]);
  });

  it('makes the autumn change day 25 hours long; refuses bad dates and guests', async () => {
    const res = await h.call('GET', `/v1/spaces/${space}/bookings?date=2027-10-31`, undefined, h.keys.host);
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.until) - Date.parse(res.body.from)).toBe(25 * 3_600_000);
    const bad = await h.call('GET', `/v1/spaces/${space}/bookings?date=2027-02-30`, undefined, h.keys.host);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('date');
    expect((await h.call('GET', `/v1/spaces/${space}/bookings?date=28-03-2027`, undefined, h.keys.host)).status).toBe(400);
    expect((await h.call('GET', `/v1/spaces/${space}/bookings`, undefined, h.keys.host)).status).toBe(400);
    expect((await h.call('GET', `/v1/spaces/${space}/bookings?date=2027-03-28`, undefined, guestKey)).status).toBe(403);
    expect((await h.call('GET', `/v1/spaces/sp_nope/bookings?date=2027-03-28`, undefined, h.keys.host)).status).toBe(404);
  });
});
