/**
 * Bad input, endpoint by endpoint: every refusal is a 4xx `{ error, message, issues? }` whose
 * message names the field and says how to fix it, and the refused request changed nothing
 * (no row, no audit entry, no sync work). Also: local times are read in the location's zone.
 * The same checks run against SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { expectRefusal, expectRefused, rawCall, snapshot } from './helpers.js';

describe.each(storeKinds)('API input validation on %s', (kind) => {
  let h: Harness;
  let spaceId: string;
  let personId: string;
  let companyId: string;
  let planId: string;

  beforeAll(async () => {
    h = await startHarness(kind);
    spaceId = await h.space(['ag-meeting-1']);
    personId = (await h.call('POST', '/v1/people', { name: 'Pat Member', email: 'pat@example.com' }, h.keys.admin)).body.id;
    companyId = (await h.call('POST', '/v1/companies', { name: 'Acme' }, h.keys.admin)).body.id;
    planId = (await h.call('POST', '/v1/plans', { name: 'Resident', spaceIds: [spaceId] }, h.keys.admin)).body.id;
    expect([personId, companyId, planId].every(Boolean)).toBe(true);
    await h.converge();
  });
  afterAll(async () => {
    await h?.close();
  });

  const admin = () => h.keys.admin;
  const booking = (extra: Record<string, unknown>) => ({ spaceId, organiserId: personId, ...extra });

  describe('organisations', () => {
    it('refuses an empty name', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/organisations', body: { name: '   ' } }, { status: 400, error: 'validation', field: 'body.name', mentions: ['>=1 characters'] });
    });
    it('refuses unknown keys, naming them', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/organisations', body: { name: 'Venue', tier: 'gold' } }, { status: 400, error: 'validation', field: 'body', mentions: ['"tier"'] });
    });
  });

  describe('locations', () => {
    it('refuses a zone that is not IANA (Mars/Base) and says what a valid one looks like', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/locations', body: { name: 'Outpost', timeZone: 'Mars/Base' }, key: admin() },
        { status: 400, error: 'validation', field: 'body.timeZone', mentions: ['IANA', 'Europe/London'] },
      );
    });
    it('refuses a fixed UTC offset as a zone (it would get every DST change wrong)', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/locations', body: { name: 'Outpost', timeZone: '+01:00' }, key: admin() }, { status: 400, error: 'validation', field: 'body.timeZone' });
    });
    it('refuses a bad zone on update and leaves the location as it was', async () => {
      await expectRefused(h, { method: 'PATCH', path: `/v1/locations/${h.locationId}`, body: { timeZone: 'Mars/Base' }, key: admin() }, { status: 400, error: 'validation', field: 'body.timeZone' });
      expect((await h.call('GET', `/v1/locations/${h.locationId}`, undefined, admin())).body.timeZone).toBe('Europe/London');
    });
  });

  describe('spaces', () => {
    it('refuses an unknown kind, listing the valid ones', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/spaces', body: { locationId: h.locationId, name: 'Pod', kind: 'spaceship' }, key: admin() },
        { status: 400, error: 'validation', field: 'body.kind', mentions: ['"room"', '"desk"'] },
      );
    });
    it('refuses a negative buffer', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/spaces', body: { locationId: h.locationId, name: 'Pod', kind: 'room', bufferBeforeMinutes: -5 }, key: admin() },
        { status: 400, error: 'validation', field: 'body.bufferBeforeMinutes', mentions: ['0 or more minutes'] },
      );
      await expectRefused(h, { method: 'PATCH', path: `/v1/spaces/${spaceId}`, body: { bufferAfterMinutes: 1441 }, key: admin() }, { status: 400, error: 'validation', field: 'body.bufferAfterMinutes', mentions: ['at most 1440'] });
    });
    it('refuses an unknown locationId and points at POST /v1/locations', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/spaces', body: { locationId: 'loc_nope', name: 'Pod', kind: 'room' }, key: admin() },
        { status: 400, error: 'validation', field: 'locationId', mentions: ['loc_nope', 'POST /v1/locations'] },
      );
    });
  });

  describe('people and companies', () => {
    it('refuses a bad e-mail with an example of a good one', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/people', body: { name: 'Eve', email: 'eve-at-example' }, key: admin() }, { status: 400, error: 'validation', field: 'body.email', mentions: ['guest@example.com'] });
    });
    it('refuses a phone number that is not E.164', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/people', body: { name: 'Eve', phone: '07700 900123' }, key: admin() }, { status: 400, error: 'validation', field: 'body.phone', mentions: ['E.164', '+447700900123'] });
    });
    it('refuses a duplicate e-mail, pointing at the existing person', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/people', body: { name: 'Pat Again', email: 'PAT@example.com' }, key: admin() }, { status: 409, error: 'conflict', mentions: [personId] });
    });
    it('refuses a bad e-mail on update and keeps the old one', async () => {
      await expectRefused(h, { method: 'PATCH', path: `/v1/people/${personId}`, body: { email: 'nope' }, key: admin() }, { status: 400, error: 'validation', field: 'body.email' });
      expect((await h.call('GET', `/v1/people/${personId}`, undefined, admin())).body.email).toBe('pat@example.com');
    });
    it('refuses a company without a name', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/companies', body: {}, key: admin() }, { status: 400, error: 'validation', field: 'body.name', mentions: ['expected string'] });
      await expectRefused(h, { method: 'POST', path: '/v1/companies', body: { name: '' }, key: admin() }, { status: 400, error: 'validation', field: 'body.name' });
    });
    it('refuses (400, not 500) people, companies and plans for an organisation that does not exist', async () => {
      for (const [path, body] of [
        ['/v1/people', { name: 'Eve' }],
        ['/v1/companies', { name: 'Ghost Ltd' }],
        ['/v1/plans', { name: 'Ghost plan' }],
      ] as const) {
        await expectRefused(h, { method: 'POST', path, body: { organisationId: 'org_nope', ...body } }, { status: 400, error: 'validation', field: 'organisationId', mentions: ['org_nope', 'GET /v1/organisations'] });
      }
    });
  });

  describe('bookings', () => {
    it('refuses a start without UTC offset, suggesting an offset or startLocal', async () => {
      const body = await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ start: '2026-12-01T09:00', end: '2026-12-01T10:00:00Z' }), key: admin() },
        { status: 400, error: 'validation', field: 'start', mentions: ['offset', 'startLocal', '2026-12-01T09:00Z'] },
      );
      expect(body.issues).toEqual([expect.objectContaining({ path: 'start' })]);
    });
    it('refuses an end before (or at) the start', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ start: '2026-12-01T10:00:00Z', end: '2026-12-01T09:00:00Z' }), key: admin() },
        { status: 400, error: 'validation', field: 'end', mentions: ['after start'] },
      );
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ startLocal: '2026-12-01T10:00', endLocal: '2026-12-01T10:00' }), key: admin() },
        { status: 400, error: 'validation', field: 'endLocal', mentions: ['after start'] },
      );
    });
    it('refuses start together with startLocal', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ start: '2026-12-01T09:00:00Z', startLocal: '2026-12-01T09:00', endLocal: '2026-12-01T10:00' }), key: admin() },
        { status: 400, error: 'validation', field: 'start', mentions: ['startLocal', 'not both'] },
      );
    });
    it('refuses a missing start, with an example', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/bookings', body: booking({ end: '2026-12-01T10:00:00Z' }), key: admin() }, { status: 400, error: 'validation', field: 'start', mentions: ['required', 'startLocal'] });
    });
    it('refuses an unknown spaceId and points at GET /v1/spaces', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ spaceId: 'sp_nope', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' }), key: admin() },
        { status: 400, error: 'validation', field: 'spaceId', mentions: ['sp_nope', 'GET /v1/spaces'] },
      );
    });
    it('refuses an unknown organiserId and points at POST /v1/people', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ organiserId: 'per_nope', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' }), key: admin() },
        { status: 400, error: 'validation', field: 'organiserId', mentions: ['per_nope', 'POST /v1/people'] },
      );
    });
    it('refuses both organiserId and organiser', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ organiser: { name: 'Zed', email: 'zed@example.com' }, start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' }), key: admin() },
        { status: 400, error: 'validation', field: 'organiserId', mentions: ['exactly one'] },
      );
    });
    it('writes nothing when a later part fails: a new organiser is not left behind by an unknown invitee', async () => {
      await expectRefused(
        h,
        {
          method: 'POST',
          path: '/v1/bookings',
          body: { spaceId, organiser: { name: 'New Person', email: 'new.person@example.com' }, inviteeIds: ['per_ghost'], start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' },
          key: admin(),
        },
        { status: 400, error: 'validation', field: 'inviteeIds.0', mentions: ['per_ghost'] },
      );
      expect((await h.call('GET', '/v1/people?email=new.person@example.com', undefined, admin())).body.results).toEqual([]);
    });
    it('refuses unknown keys (strict body), naming them', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', colour: 'red' }), key: admin() },
        { status: 400, error: 'validation', field: 'body', mentions: ['Unrecognized key', '"colour"'] },
      );
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ startTime: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' }), key: admin() },
        { status: 400, error: 'validation', field: 'body', mentions: ['"startTime"'] },
      );
    });
    it('refuses a local time that does not exist (spring-forward gap, 2026-03-29 01:30 Europe/London)', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ startLocal: '2026-03-29T01:30', endLocal: '2026-03-29T03:00' }), key: admin() },
        { status: 400, error: 'validation', field: 'startLocal', mentions: ['does not exist in Europe/London', 'daylight-saving'] },
      );
    });
    it('refuses a startLocal that carries an offset, explaining how to drop it', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ startLocal: '2026-12-01T09:00:00+01:00', endLocal: '2026-12-01T10:00' }), key: admin() },
        { status: 400, error: 'validation', field: 'startLocal', mentions: ['2026-12-01T09:00:00', 'drop the offset'] },
      );
    });
    it('refuses out-of-range fields and bad query strings', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', bumpInMinutes: -1, status: 'maybe' }), key: admin() },
        { status: 400, error: 'validation', field: 'body.bumpInMinutes', mentions: ['body.status'] },
      );
      expectRefusal(await h.call('GET', '/v1/bookings?limit=0', undefined, admin()), { status: 400, error: 'validation', field: 'querystring.limit' });
      expectRefusal(await h.call('GET', '/v1/bookings?from=yesterday', undefined, admin()), { status: 400, error: 'validation', field: 'querystring.from', mentions: ['ISO-8601'] });
    });
    it('refuses a move that would end before it starts and leaves the booking untouched', async () => {
      const created = await h.call('POST', '/v1/bookings', booking({ start: '2027-06-01T09:00:00Z', end: '2027-06-01T10:00:00Z' }), admin());
      expect(created.status).toBe(201);
      await expectRefused(h, { method: 'PATCH', path: `/v1/bookings/${created.body.id}`, body: { end: '2027-06-01T08:00:00Z' }, key: admin() }, { status: 400, error: 'validation', field: 'end' });
      const now = (await h.call('GET', `/v1/bookings/${created.body.id}`, undefined, admin())).body;
      expect([now.start, now.end, now.version]).toEqual(['2027-06-01T09:00:00.000Z', '2027-06-01T10:00:00.000Z', 0]);
      // A duplicate externalId is a conflict that points at the existing booking.
      const ext = await h.call('POST', '/v1/bookings', booking({ start: '2027-06-02T09:00:00Z', end: '2027-06-02T10:00:00Z', externalId: 'cal-1' }), admin());
      expect(ext.status).toBe(201);
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/bookings', body: booking({ start: '2027-06-03T09:00:00Z', end: '2027-06-03T10:00:00Z', externalId: 'cal-1' }), key: admin() },
        { status: 409, error: 'conflict', mentions: [ext.body.id, `PATCH /v1/bookings/${ext.body.id}`] },
      );
    });
  });

  describe('local times are read in the location time zone', () => {
    it('stores 09:00–11:00 local on the fall-back day (2026-10-25, Europe/London) as 09:00Z–11:00Z', async () => {
      const res = await h.call('POST', '/v1/bookings', booking({ startLocal: '2026-10-25T09:00', endLocal: '2026-10-25T11:00' }), admin());
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({
        start: '2026-10-25T09:00:00.000Z',
        end: '2026-10-25T11:00:00.000Z',
        startLocal: '2026-10-25T09:00:00+00:00',
        endLocal: '2026-10-25T11:00:00+00:00',
        timeZone: 'Europe/London',
      });
      const row = await h.app.store.db.selectFrom('bookings').select(['startsAt', 'endsAt']).where('id', '=', res.body.id).executeTakeFirstOrThrow();
      expect([Number(row.startsAt), Number(row.endsAt)]).toEqual([Date.parse('2026-10-25T09:00:00Z'), Date.parse('2026-10-25T11:00:00Z')]);
      const read = (await h.call('GET', `/v1/bookings/${res.body.id}`, undefined, h.keys.host)).body;
      expect([read.startLocal, read.endLocal]).toEqual(['2026-10-25T09:00:00+00:00', '2026-10-25T11:00:00+00:00']);
    });
    it('uses summer time the day before (09:00 local on 2026-10-24 is 08:00Z, +01:00)', async () => {
      const res = await h.call('POST', '/v1/bookings', booking({ startLocal: '2026-10-24T09:00', endLocal: '2026-10-24T11:00' }), admin());
      expect(res.status).toBe(201);
      expect([res.body.start, res.body.startLocal]).toEqual(['2026-10-24T08:00:00.000Z', '2026-10-24T09:00:00+01:00']);
    });
    it('resolves a repeated local time (01:30 on the fall-back day) to its earlier occurrence', async () => {
      const res = await h.call('POST', '/v1/bookings', booking({ startLocal: '2026-10-25T01:30', endLocal: '2026-10-25T03:00' }), admin());
      expect(res.status).toBe(201);
      expect([res.body.start, res.body.startLocal, res.body.end]).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00+01:00', '2026-10-25T03:00:00.000Z']);
    });
    it("uses the space's own location, not a server default (America/New_York)", async () => {
      const loc = await h.call('POST', '/v1/locations', { name: 'NYC', timeZone: 'America/New_York' }, admin());
      const sp = await h.call('POST', '/v1/spaces', { locationId: loc.body.id, name: 'Loft', kind: 'office' }, admin());
      const res = await h.call('POST', '/v1/bookings', { spaceId: sp.body.id, organiserId: personId, startLocal: '2027-07-01T09:00', endLocal: '2027-07-01T17:00' }, admin());
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ start: '2027-07-01T13:00:00.000Z', end: '2027-07-01T21:00:00.000Z', startLocal: '2027-07-01T09:00:00-04:00', timeZone: 'America/New_York' });
    });
  });

  describe('plans and subscriptions', () => {
    it('refuses a plan target on an integration that does not exist', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/plans', body: { name: 'Broken', targets: [{ integrationId: 'int_nope', targetRef: 'ag-front-door' }] }, key: admin() },
        { status: 400, error: 'validation', field: 'targets.0.integrationId', mentions: ['int_nope', 'GET /v1/integrations'] },
      );
    });
    it('refuses a plan space that does not exist', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/plans', body: { name: 'Broken', spaceIds: [spaceId, 'sp_nope'] }, key: admin() }, { status: 400, error: 'validation', field: 'spaceIds.1', mentions: ['sp_nope'] });
    });
    it('refuses a subscription with both personId and companyId', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/subscriptions', body: { planId, personId, companyId, start: '2026-12-01T00:00:00Z' }, key: admin() },
        { status: 400, error: 'validation', field: 'personId', mentions: ['exactly one', 'companyId'] },
      );
    });
    it('refuses a subscription on an unknown plan, or without a start', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/subscriptions', body: { planId: 'pl_nope', personId, start: '2026-12-01T00:00:00Z' }, key: admin() }, { status: 400, error: 'validation', field: 'planId', mentions: ['POST /v1/plans'] });
      await expectRefused(h, { method: 'POST', path: '/v1/subscriptions', body: { planId, personId }, key: admin() }, { status: 400, error: 'validation', field: 'start', mentions: ['required'] });
    });
  });

  describe('integrations and mappings', () => {
    const connect = (extra: Record<string, unknown>) => ({ organisationId: h.organisationId, kind: 'demo', name: 'Side door', baseUrl: h.emulator.url, credentials: { apiKey: 'test-key' }, ...extra });

    it('refuses an unknown provider kind, listing the known ones', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/integrations', body: connect({ kind: 'acme-locks' }) }, { status: 400, error: 'validation', field: 'body.kind', mentions: ['must be one of', 'demo'] });
    });
    it('refuses a base URL that is not an http(s) URL (400, not a 502 "provider answered")', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/integrations', body: connect({ baseUrl: 'not a url' }) }, { status: 400, error: 'validation', field: 'body.baseUrl', mentions: ['https://'] });
      await expectRefused(h, { method: 'POST', path: '/v1/integrations', body: connect({ baseUrl: 'ftp://doors.example.com' }) }, { status: 400, error: 'validation', field: 'body.baseUrl', mentions: ['https://'] });
      await expectRefused(h, { method: 'POST', path: '/v1/integrations', body: connect({ baseUrl: 'ftp://doors.example.com', skipConnectionTest: true }) }, { status: 400, error: 'validation', field: 'body.baseUrl' });
      await expectRefused(h, { method: 'PATCH', path: `/v1/integrations/${h.integrationId}`, body: { baseUrl: 'mailto:doors@example.com' } }, { status: 400, error: 'validation', field: 'body.baseUrl' });
    });
    it('refuses a missing, blank or unknown credential field', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/integrations', body: connect({ credentials: {} }) }, { status: 400, error: 'validation', field: 'credentials.apiKey', mentions: ['required', 'API key'] });
      await expectRefused(h, { method: 'POST', path: '/v1/integrations', body: connect({ credentials: { apiKey: '   ' } }) }, { status: 400, error: 'validation', field: 'credentials.apiKey', mentions: ['required'] });
      await expectRefused(h, { method: 'POST', path: '/v1/integrations', body: connect({ credentials: { apiKey: 'test-key', password: 'hunter2' } }) }, { status: 400, error: 'validation', field: 'credentials.password', mentions: ['expected apiKey'], never: ['hunter2'] });
    });
    it('refuses wrong credentials with 422 connection_failed and never echoes the secret', async () => {
      const secret = 'wrong-secret-Zq81xW';
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/integrations', body: connect({ credentials: { apiKey: secret } }) },
        { status: 422, error: 'connection_failed', mentions: ['credentials', 'skipConnectionTest'], never: [secret] },
      );
    });
    it('refuses a bad setting on update and keeps the old settings', async () => {
      await expectRefused(h, { method: 'PATCH', path: `/v1/integrations/${h.integrationId}`, body: { bufferBeforeMinutes: -1 }, key: admin() }, { status: 400, error: 'validation', field: 'body.bufferBeforeMinutes', mentions: ['0 or more'] });
      await expectRefused(h, { method: 'PATCH', path: `/v1/integrations/${h.integrationId}`, body: {}, key: admin() }, { status: 400, error: 'validation', field: 'body', mentions: ['nothing to change', 'bufferBeforeMinutes'] });
    });
    it('refuses a mapping to a target the provider does not have, pointing at GET …/targets', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: '/v1/mappings', body: { spaceId, integrationId: h.integrationId, targetRef: 'ag-roof' }, key: admin() },
        { status: 400, error: 'validation', field: 'targetRef', mentions: ['"ag-roof"', `GET /v1/integrations/${h.integrationId}/targets`, 'ag-front-door'] },
      );
    });
    it('refuses a duplicate mapping as a conflict', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/mappings', body: { spaceId, integrationId: h.integrationId, targetRef: 'ag-meeting-1' }, key: admin() }, { status: 409, error: 'conflict', mentions: ['ag-meeting-1'] });
    });
  });

  describe('PINs and API keys', () => {
    it('refuses a PIN regeneration on an unknown integration', async () => {
      await expectRefused(
        h,
        { method: 'POST', path: `/v1/people/${personId}/pins/regenerate`, body: { integrationId: 'int_nope' }, key: h.keys.host },
        { status: 400, error: 'validation', field: 'integrationId', mentions: ['int_nope', 'GET /v1/integrations'] },
      );
      await expectRefused(h, { method: 'POST', path: `/v1/people/${personId}/pins/regenerate`, body: {}, key: h.keys.host }, { status: 400, error: 'validation', field: 'body.integrationId' });
    });
    it('refuses a guest key without personId, and a personId on a non-guest key', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/api-keys', body: { role: 'guest', name: 'Visitor' }, key: admin() }, { status: 400, error: 'validation', field: 'personId', mentions: ['guest keys', 'personId'] });
      await expectRefused(h, { method: 'POST', path: '/v1/api-keys', body: { role: 'host', name: 'Desk', personId }, key: admin() }, { status: 400, error: 'validation', field: 'personId', mentions: ['only guest keys'] });
      await expectRefused(h, { method: 'POST', path: '/v1/api-keys', body: { role: 'guest', name: 'Visitor', personId: 'per_nope' }, key: admin() }, { status: 400, error: 'validation', field: 'personId', mentions: ['per_nope'] });
      await expectRefused(h, { method: 'POST', path: '/v1/api-keys', body: { role: 'janitor', name: 'Mop' }, key: admin() }, { status: 400, error: 'validation', field: 'body.role', mentions: ['"team-admin"'] });
    });
  });

  describe('transport', () => {
    it('(the no-change check itself notices a write, an audit entry and queued sync work)', async () => {
      await h.converge();
      await h.app.engine.stop(); // so the queued work is still there to see
      try {
        const before = await snapshot(h);
        const added = await h.call('PUT', `/v1/companies/${companyId}/members/${personId}`, undefined, admin());
        expect(added.status).toBe(200);
        const after = await snapshot(h);
        expect(after.counts.companyMembers).toBe(before.counts.companyMembers + 1);
        expect(after.lastAuditId).toBeGreaterThan(before.lastAuditId);
        expect(after.syncWork).not.toBe(before.syncWork);
        await h.call('DELETE', `/v1/companies/${companyId}/members/${personId}`, undefined, admin());
      } finally {
        await h.app.engine.start();
      }
      await h.converge();
    });
    it('refuses a malformed JSON body without touching anything', async () => {
      await h.converge();
      const before = await snapshot(h);
      const res = await rawCall(h, 'POST', '/v1/companies', { body: '{"name": "Acme",', headers: { authorization: `Bearer ${admin()}`, 'content-type': 'application/json' } });
      expectRefusal(res, { status: 400, error: res.body?.error ?? '(missing)', mentions: [/JSON/] });
      expect(res.body.error).toMatch(/json/i);
      expect(await snapshot(h)).toEqual(before);
    });
    it('refuses a missing body where one is required', async () => {
      await expectRefused(h, { method: 'POST', path: '/v1/bookings', key: admin() }, { status: 400, error: 'validation', field: 'body', mentions: ['expected object'] });
    });
    it('answers an unknown route with 404 pointing at /openapi.json, with or without a key', async () => {
      const withKey = await h.call('GET', '/v1/bookingz', undefined, admin());
      expectRefusal(withKey, { status: 404, error: 'not_found', mentions: ['GET /v1/bookingz', '/openapi.json'] });
      const anonymous = await rawCall(h, 'DELETE', '/v2/everything?force=1');
      expectRefusal(anonymous, { status: 404, error: 'not_found', mentions: ['DELETE /v2/everything;', '/openapi.json'] });
      expect(anonymous.body.message).not.toContain('force=1');
    });
    it('answers an unknown id with 404 naming it', async () => {
      expectRefusal(await h.call('GET', '/v1/bookings/bk_nope', undefined, admin()), { status: 404, error: 'not_found', mentions: ['bk_nope'] });
      await expectRefused(h, { method: 'PATCH', path: '/v1/spaces/sp_nope', body: { name: 'X' }, key: admin() }, { status: 404, error: 'not_found', mentions: ['sp_nope'] });
    });
  });
});
