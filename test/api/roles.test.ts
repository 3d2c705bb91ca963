/**
 * Who may do what: guest (own bookings and PINs only), host (reads, PIN regeneration), team admin
 * (their venue, but not provider accounts or credentials), platform admin (everything, but must say
 * which organisation). Other organisations' objects are 404, never 403, so ids do not leak.
 * The same checks run against SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { expectRefusal, expectRefused, rawCall } from './helpers.js';

describe.each(storeKinds)('API roles on %s', (kind) => {
  let h: Harness;
  // Organisation A (the harness's) and B (a second tenant).
  let spaceA: string;
  let adaBooking: any; // organiser Ada, invitee Bob
  let cyBooking: any; // organiser Cy
  let guestAda: string;
  let guestBob: string;
  let guestCy: string;
  let orgB: string;
  let adminB: string;
  let spaceB: string;
  let bookingB: any;

  const must = async (method: string, path: string, body?: unknown, key?: string) => {
    const res = await h.call(method, path, body, key);
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const guestKey = async (personId: string) => (await must('POST', '/v1/api-keys', { role: 'guest', name: 'guest', personId }, h.keys.admin)).key as string;

  beforeAll(async () => {
    h = await startHarness(kind);
    spaceA = await h.space(['ag-meeting-1']);
    adaBooking = await must('POST', '/v1/bookings', { spaceId: spaceA, organiser: { name: 'Ada', email: 'ada@example.com' }, invitees: [{ name: 'Bob', email: 'bob@example.com' }], start: hoursFromNow(1), end: hoursFromNow(2) }, h.keys.admin);
    cyBooking = await must('POST', '/v1/bookings', { spaceId: spaceA, organiser: { name: 'Cy', email: 'cy@example.com' }, start: hoursFromNow(3), end: hoursFromNow(4) }, h.keys.admin);
    [guestAda, guestBob, guestCy] = await Promise.all([adaBooking.organiserId, adaBooking.inviteeIds[0], cyBooking.organiserId].map(guestKey));

    orgB = (await must('POST', '/v1/organisations', { name: 'Other venue' })).id;
    adminB = (await must('POST', '/v1/api-keys', { role: 'team-admin', name: 'admin B', organisationId: orgB })).key;
    const locB = await must('POST', '/v1/locations', { name: 'B HQ', timeZone: 'Europe/Paris' }, adminB);
    spaceB = (await must('POST', '/v1/spaces', { locationId: locB.id, name: 'B room', kind: 'room' }, adminB)).id;
    bookingB = await must('POST', '/v1/bookings', { spaceId: spaceB, organiser: { name: 'Dee', email: 'dee@example.com' }, start: hoursFromNow(1), end: hoursFromNow(2) }, adminB);
    await h.converge();
  });
  afterAll(async () => {
    await h?.close();
  });

  const ids = (res: { body: any }) => (res.body.results as { id: string }[]).map((r) => r.id).sort();

  describe('guest', () => {
    it('sees only its own bookings (as organiser or invitee); another person’s booking is 404', async () => {
      expect(ids(await h.call('GET', '/v1/bookings', undefined, guestAda))).toEqual([adaBooking.id]);
      expect(ids(await h.call('GET', '/v1/bookings', undefined, guestBob))).toEqual([adaBooking.id]);
      expect(ids(await h.call('GET', '/v1/bookings', undefined, guestCy))).toEqual([cyBooking.id]);
      // Filters cannot widen what a guest sees.
      expect(ids(await h.call('GET', `/v1/bookings?personId=${cyBooking.organiserId}`, undefined, guestAda))).toEqual([]);
      expect(ids(await h.call('GET', `/v1/bookings?organisationId=${orgB}`, undefined, guestAda))).toEqual([adaBooking.id]);

      expect((await h.call('GET', `/v1/bookings/${adaBooking.id}`, undefined, guestBob)).status).toBe(200);
      expect((await h.call('GET', `/v1/bookings/${adaBooking.id}/sync`, undefined, guestAda)).status).toBe(200);
      for (const path of [`/v1/bookings/${cyBooking.id}`, `/v1/bookings/${cyBooking.id}/sync`, `/v1/bookings/${bookingB.id}`]) {
        expectRefusal(await h.call('GET', path, undefined, guestAda), { status: 404, error: 'not_found', mentions: ['does not exist'] });
      }
    });

    it('reads its own PIN, and only its own, through /v1/me/pins', async () => {
      const pinsOf = async (key: string) => (await h.call('GET', '/v1/me/pins', undefined, key)).body.results;
      const [ada, cy] = [await pinsOf(guestAda), await pinsOf(guestCy)];
      expect(ada).toEqual([expect.objectContaining({ integrationId: h.integrationId, pin: expect.stringMatching(/^\d{4,12}$/) })]);
      expect(cy).toHaveLength(1);
      expect(ada[0].pin).not.toBe(cy[0].pin);
      const adaUser = h.emulator.state.userByExternalId(`lockstep-${adaBooking.organiserId}`)!;
      expect(h.emulator.state.pinMatches(adaUser.id, ada[0].pin)).toBe(true);
      expect(h.emulator.state.pinMatches(adaUser.id, cy[0].pin)).toBe(false);
      const me = (await h.call('GET', '/v1/me', undefined, guestAda)).body;
      expect(me).toMatchObject({ role: 'guest', person: { id: adaBooking.organiserId, email: 'ada@example.com' } });
      // No other role reads PINs this way.
      for (const key of [h.keys.host, h.keys.admin, h.keys.platform]) {
        expectRefusal(await h.call('GET', '/v1/me/pins', undefined, key), { status: 403, error: 'forbidden', mentions: ['guest key'] });
      }
    });

    it('cannot create bookings (403 names the needed role) or reach staff endpoints', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: { spaceId: spaceA, organiserId: adaBooking.organiserId, start: hoursFromNow(5), end: hoursFromNow(6) }, key: guestAda },
        { status: 403, error: 'forbidden', mentions: ['team-admin role', 'guest role'] },
      );
      await expectRefused(h, { method: 'POST', path: `/v1/bookings/${adaBooking.id}/cancel`, key: guestAda }, { status: 403, error: 'forbidden', mentions: ['team-admin'] });
      await expectRefused(h, { method: 'PATCH', path: `/v1/bookings/${adaBooking.id}`, body: { title: 'mine now' }, key: guestAda }, { status: 403, error: 'forbidden' });
      await expectRefused(h, { method: 'POST', path: `/v1/people/${adaBooking.organiserId}/pins/regenerate`, body: { integrationId: h.integrationId }, key: guestAda }, { status: 403, error: 'forbidden', mentions: ['host role'] });
      await expectRefused(h, { method: 'POST', path: '/v1/api-keys', body: { role: 'guest', name: 'friend', personId: cyBooking.organiserId }, key: guestAda }, { status: 403, error: 'forbidden' });
      for (const path of ['/v1/people', `/v1/people/${cyBooking.organiserId}`, '/v1/spaces', `/v1/spaces/${spaceA}`, '/v1/audit', '/v1/integrations', '/v1/mappings', '/v1/plans']) {
        expectRefusal(await h.call('GET', path, undefined, guestAda), { status: 403, error: 'forbidden' });
      }
    });
  });

  describe('host', () => {
    it('reads bookings, their sync status and integration status', async () => {
      expect(ids(await h.call('GET', '/v1/bookings', undefined, h.keys.host))).toEqual([adaBooking.id, cyBooking.id].sort());
      expect((await h.call('GET', `/v1/bookings/${cyBooking.id}`, undefined, h.keys.host)).body.id).toBe(cyBooking.id);
      expect((await h.call('GET', `/v1/bookings/${cyBooking.id}/sync`, undefined, h.keys.host)).body.state).toBe('applied');
      expect((await h.call('GET', `/v1/integrations/${h.integrationId}/status`, undefined, h.keys.host)).status).toBe(200);
    });

    it('regenerates a guest’s PIN (the guest then sees a new one)', async () => {
      const before = (await h.call('GET', '/v1/me/pins', undefined, guestCy)).body.results[0].pin;
      const res = await h.call('POST', `/v1/people/${cyBooking.organiserId}/pins/regenerate`, { integrationId: h.integrationId }, h.keys.host);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(JSON.stringify(res.body)).not.toContain(before);
      await h.converge();
      const after = (await h.call('GET', '/v1/me/pins', undefined, guestCy)).body.results[0].pin;
      expect(after).not.toBe(before);
      const user = h.emulator.state.userByExternalId(`lockstep-${cyBooking.organiserId}`)!;
      expect(h.emulator.state.pinMatches(user.id, after)).toBe(true);
    });

    it('cannot create bookings, mappings, integrations or keys, nor change settings', async () => {
      const host = h.keys.host;
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: { spaceId: spaceA, organiserId: cyBooking.organiserId, start: hoursFromNow(5), end: hoursFromNow(6) }, key: host },
        { status: 403, error: 'forbidden', mentions: ['team-admin role', 'host role'] },
      );
      await expectRefused(h, { method: 'POST', path: '/v1/mappings', body: { spaceId: spaceA, integrationId: h.integrationId, targetRef: 'ag-parking' }, key: host }, { status: 403, error: 'forbidden', mentions: ['team-admin role'] });
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/integrations', body: { kind: 'demo', name: 'x', baseUrl: h.emulator.url, credentials: { apiKey: 'test-key' } }, key: host },
        { status: 403, error: 'forbidden', mentions: ['platform-admin role'] },
      );
      await expectRefused(h, { method: 'PATCH', path: `/v1/integrations/${h.integrationId}`, body: { bufferBeforeMinutes: 0 }, key: host }, { status: 403, error: 'forbidden', mentions: ['team-admin role'] });
      await expectRefused(h, { method: 'POST', path: '/v1/api-keys', body: { role: 'host', name: 'another' }, key: host }, { status: 403, error: 'forbidden' });
      await expectRefused(h, { method: 'DELETE', path: `/v1/bookings/${cyBooking.id}`, key: host }, { status: 403, error: 'forbidden' });
      expectRefusal(await h.call('GET', `/v1/integrations/${h.integrationId}/targets`, undefined, host), { status: 403, error: 'forbidden', mentions: ['team-admin role'] });
    });
  });

  describe('team admin', () => {
    it('cannot connect integrations, change credentials, base URL or name, disconnect, or mint platform keys', async () => {
      const admin = h.keys.admin;
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/integrations', body: { kind: 'demo', name: 'Mine', baseUrl: h.emulator.url, credentials: { apiKey: 'test-key' } }, key: admin },
        { status: 403, error: 'forbidden', mentions: ['platform-admin role', 'team-admin role'] },
      );
      // Mixed with an allowed setting, the whole change is refused: the buffer does not move either.
      await expectRefused(
        h,
        { method: 'PATCH', path: `/v1/integrations/${h.integrationId}`, body: { credentials: { apiKey: 'stolen' }, bufferBeforeMinutes: 1 }, key: admin },
        { status: 403, error: 'forbidden', mentions: ['platform-admin role'], never: ['stolen'] },
      );
      await expectRefused(h, { method: 'PATCH', path: `/v1/integrations/${h.integrationId}`, body: { baseUrl: 'https://evil.example.com' }, key: admin }, { status: 403, error: 'forbidden', mentions: ['platform-admin role'] });
      await expectRefused(h, { method: 'PATCH', path: `/v1/integrations/${h.integrationId}`, body: { name: 'Renamed' }, key: admin }, { status: 403, error: 'forbidden' });
      await expectRefused(h, { method: 'POST', path: `/v1/integrations/${h.integrationId}/disconnect`, body: { mode: 'keep' }, key: admin }, { status: 403, error: 'forbidden', mentions: ['platform-admin role'] });
      await expectRefused(h, { method: 'POST', path: '/v1/api-keys', body: { role: 'platform-admin', name: 'root' }, key: admin }, { status: 403, error: 'forbidden', mentions: ['platform-admin role'] });
      await expectRefused(h, { method: 'POST', path: '/v1/organisations', body: { name: 'Mine' }, key: admin }, { status: 403, error: 'forbidden' });
      // The stored credentials still work.
      expect((await h.call('POST', `/v1/integrations/${h.integrationId}/test`, undefined, admin)).body).toEqual({ ok: true });
    });

    it('can change buffers (and the change is audited with its key as actor)', async () => {
      const res = await h.call('PATCH', `/v1/integrations/${h.integrationId}`, { bufferBeforeMinutes: 20 }, h.keys.admin);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((await h.call('GET', `/v1/integrations/${h.integrationId}`, undefined, h.keys.admin)).body.bufferBeforeMinutes).toBe(20);
      const me = (await h.call('GET', '/v1/me', undefined, h.keys.admin)).body;
      const audit = (await h.call('GET', `/v1/audit?action=integration.settings-changed&subjectId=${h.integrationId}`, undefined, h.keys.admin)).body.results;
      expect(audit[0]).toMatchObject({ actor: me.keyId, details: { bufferBeforeMinutes: 20 } });
      const space = await h.call('PATCH', `/v1/spaces/${spaceA}`, { bufferAfterMinutes: 5 }, h.keys.admin);
      expect(space.body.bufferAfterMinutes).toBe(5);
      await h.converge();
    });

    it('of organisation A cannot see or touch organisation B’s bookings, spaces or people (404)', async () => {
      const admin = h.keys.admin;
      for (const path of [`/v1/bookings/${bookingB.id}`, `/v1/bookings/${bookingB.id}/sync`, `/v1/spaces/${spaceB}`, `/v1/people/${bookingB.organiserId}`]) {
        expectRefusal(await h.call('GET', path, undefined, admin), { status: 404, error: 'not_found', mentions: ['does not exist'] });
        expectRefusal(await h.call('GET', path, undefined, h.keys.host), { status: 404, error: 'not_found' });
      }
      expect(ids(await h.call('GET', '/v1/bookings', undefined, admin))).not.toContain(bookingB.id);
      expect(ids(await h.call('GET', '/v1/spaces', undefined, admin))).not.toContain(spaceB);
      expectRefusal(await h.call('GET', `/v1/bookings?organisationId=${orgB}`, undefined, admin), { status: 403, error: 'forbidden', mentions: ['another organisation'] });

      await expectRefused(h, { method: 'PATCH', path: `/v1/bookings/${bookingB.id}`, body: { title: 'hijacked' }, key: admin }, { status: 404, error: 'not_found' });
      await expectRefused(h, { method: 'POST', path: `/v1/bookings/${bookingB.id}/cancel`, key: admin }, { status: 404, error: 'not_found' });
      await expectRefused(h, { method: 'PATCH', path: `/v1/spaces/${spaceB}`, body: { bufferBeforeMinutes: 0 }, key: admin }, { status: 404, error: 'not_found' });
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: { spaceId: spaceB, organiserId: adaBooking.organiserId, start: hoursFromNow(5), end: hoursFromNow(6) }, key: admin },
        { status: 400, error: 'validation', field: 'spaceId' },
      );
      // B's person as organiser of a booking in A: refused on create and on change, nothing written.
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: { spaceId: spaceA, organiserId: bookingB.organiserId, start: hoursFromNow(5), end: hoursFromNow(6) }, key: admin },
        { status: 400, error: 'validation', field: 'organiserId', mentions: [bookingB.organiserId, 'POST /v1/people'] },
      );
      await expectRefused(
        h,
        { method: 'PATCH', path: `/v1/bookings/${adaBooking.id}`, body: { organiserId: bookingB.organiserId }, key: admin },
        { status: 400, error: 'validation', field: 'organiserId', mentions: [bookingB.organiserId] },
      );
      await expectRefused(h, { method: 'POST', path: '/v1/mappings', body: { spaceId: spaceB, integrationId: h.integrationId, targetRef: 'ag-parking' }, key: admin }, { status: 400, error: 'validation', field: 'spaceId' });
      await expectRefused(h, { method: 'POST', path: `/v1/people/${bookingB.organiserId}/pins/regenerate`, body: { integrationId: h.integrationId }, key: h.keys.host }, { status: 404, error: 'not_found' });
      await expectRefused(h, { method: 'PATCH', path: `/v1/organisations/${orgB}`, body: { name: 'Taken over' }, key: admin }, { status: 404, error: 'not_found' });
      expect(ids(await h.call('GET', '/v1/organisations', undefined, admin))).toEqual([h.organisationId]);
      await expectRefused(h, { method: 'PUT', path: `/v1/companies/${(await must('POST', '/v1/companies', { name: 'A co' }, admin)).id}/members/${bookingB.organiserId}`, key: admin }, { status: 404, error: 'not_found' });
      // And the other way round: B cannot see A's integration.
      expectRefusal(await h.call('GET', `/v1/integrations/${h.integrationId}`, undefined, adminB), { status: 404, error: 'not_found' });
      expect((await h.call('GET', `/v1/bookings/${bookingB.id}`, undefined, adminB)).body.title).toBeNull();
    });

    it('cannot revoke another organisation’s keys', async () => {
      const keyB = await must('POST', '/v1/api-keys', { role: 'host', name: 'B desk' }, adminB);
      await expectRefused(h, { method: 'DELETE', path: `/v1/api-keys/${keyB.id}`, key: h.keys.admin }, { status: 404, error: 'not_found' });
      expect((await h.call('GET', '/v1/bookings', undefined, keyB.key)).status).toBe(200);
    });
  });

  describe('platform admin', () => {
    it('must name the organisation for org-scoped creates and lists (400 naming organisationId)', async () => {
      const creates: [string, Record<string, unknown>][] = [
        ['/v1/bookings', { spaceId: spaceA, organiserId: adaBooking.organiserId, start: hoursFromNow(5), end: hoursFromNow(6) }],
        ['/v1/locations', { name: 'Annex', timeZone: 'Europe/London' }],
        ['/v1/spaces', { locationId: h.locationId, name: 'Annex room', kind: 'room' }],
        ['/v1/people', { name: 'Nobody' }],
        ['/v1/companies', { name: 'Nobody Ltd' }],
        ['/v1/plans', { name: 'Nothing' }],
        ['/v1/integrations', { kind: 'demo', name: 'x', baseUrl: h.emulator.url, credentials: { apiKey: 'test-key' } }],
        ['/v1/api-keys', { role: 'host', name: 'desk' }],
      ];
      for (const [path, body] of creates) {
        await expectRefused(h, { method: 'POST', path, body }, { status: 400, error: 'validation', field: 'organisationId', mentions: ['platform-admin'] });
      }
      for (const path of ['/v1/bookings', '/v1/spaces', '/v1/people', '/v1/integrations']) {
        expectRefusal(await h.call('GET', path), { status: 400, error: 'validation', field: 'organisationId' });
      }
      // Naming it works, and acts in that organisation.
      const company = await h.call('POST', '/v1/companies', { organisationId: orgB, name: 'B tenant' });
      expect(company.status).toBe(201);
      expect(company.body.organisationId).toBe(orgB);
      expect(ids(await h.call('GET', `/v1/bookings?organisationId=${orgB}`))).toEqual([bookingB.id]);
    });
  });

  describe('authentication', () => {
    it('refuses a missing, malformed, unknown or revoked key with 401', async () => {
      const noKey = await rawCall(h, 'GET', '/v1/bookings');
      expectRefusal(noKey, { status: 401, error: 'unauthorized', mentions: ['Authorization: Bearer'] });
      expectRefusal(await rawCall(h, 'GET', '/v1/bookings', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), { status: 401, error: 'unauthorized' });
      expectRefusal(await h.call('GET', '/v1/bookings', undefined, 'lsk_not-a-real-key'), { status: 401, error: 'unauthorized', mentions: ['unknown or revoked'] });
      // 401 comes before validation: an anonymous bad write learns nothing and changes nothing.
      await expectRefused(h, { method: 'POST', path: '/v1/bookings', body: { nonsense: true }, key: 'lsk_nope' }, { status: 401, error: 'unauthorized' });

      const key = await must('POST', '/v1/api-keys', { role: 'host', name: 'temp desk' }, h.keys.admin);
      expect((await h.call('GET', '/v1/bookings', undefined, key.key)).status).toBe(200);
      expect((await h.call('DELETE', `/v1/api-keys/${key.id}`, undefined, h.keys.admin)).status).toBe(204);
      expectRefusal(await h.call('GET', '/v1/bookings', undefined, key.key), { status: 401, error: 'unauthorized', mentions: ['revoked'] });
      const audit = (await h.call('GET', `/v1/audit?subjectId=${key.id}`, undefined, h.keys.admin)).body.results.map((r: any) => r.action);
      expect(audit).toEqual(['api-key.revoked', 'api-key.created']);
      // OpenAPI and the health check need no key.
      expect((await rawCall(h, 'GET', '/openapi.json')).status).toBe(200);
      expect((await rawCall(h, 'GET', '/healthz')).body).toEqual({ ok: true });
    });
  });
});
