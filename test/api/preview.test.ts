/**
 * POST /v1/preview/mapping and /v1/preview/buffers: what a change would do, counted without
 * writing anything; same role and ownership checks as the writes they preview.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hoursFromNow, startHarness, type Harness } from '../support/harness.js';
import { expectRefused, snapshot } from './helpers.js';

describe('change previews', () => {
  let h: Harness;
  let space: string;
  let unmapped: string;
  beforeAll(async () => {
    h = await startHarness('sqlite');
    space = await h.space(['ag-front-door']);
    unmapped = await h.space([]);
    const book = (spaceId: string, email: string, startH: number, endH: number, extra: Record<string, unknown> = {}) =>
      h.call('POST', '/v1/bookings', { spaceId, organiser: { name: email, email }, start: hoursFromNow(startH), end: hoursFromNow(endH), ...extra }, h.keys.admin);
    await book(space, 'a@example.com', 1, 2, { invitees: [{ name: 'B', email: 'b@example.com' }] });
    await book(space, 'c@example.com', 5, 6);
    await book(space, 'old@example.com', -30, -29); // long over: never counted
    await book(space, 'pending@example.com', 3, 4, { status: 'pending' }); // not confirmed: no access
    await book(unmapped, 'd@example.com', 1, 2);
    const person = (await h.call('POST', '/v1/people', { name: 'Member', email: 'm@example.com' }, h.keys.admin)).body;
    const plan = (await h.call('POST', '/v1/plans', { name: 'Members', spaceIds: [space] }, h.keys.admin)).body;
    await h.call('POST', '/v1/subscriptions', { planId: plan.id, personId: person.id, start: hoursFromNow(-1) }, h.keys.admin);
    await h.converge();
  });
  afterAll(async () => h?.close());

  it('counts the bookings and subscriptions a mapping change touches, and writes nothing', async () => {
    const before = await snapshot(h);
    const res = await h.call('POST', '/v1/preview/mapping', { spaceId: space, integrationId: h.integrationId, targetRefs: ['ag-front-door', 'ag-meeting-1'] }, h.keys.admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ bookings: 2, subscriptions: 1, people: 4, added: ['ag-meeting-1'], removed: [], summary: '2 bookings and 1 subscription change (4 people affected)' });
    expect(await snapshot(h)).toEqual(before);
    const same = await h.call('POST', '/v1/preview/mapping', { spaceId: space, integrationId: h.integrationId, targetRefs: ['ag-front-door'] }, h.keys.admin);
    expect(same.body).toMatchObject({ bookings: 0, subscriptions: 0, summary: 'No booking or subscription changes' });
    const removing = await h.call('POST', '/v1/preview/mapping', { spaceId: space, integrationId: h.integrationId, targetRefs: [] }, h.keys.admin);
    expect(removing.body).toMatchObject({ bookings: 2, subscriptions: 1, removed: ['ag-front-door'] });
  });

  it('counts bookings whose window a buffer change moves; spaces with their own buffers are untouched', async () => {
    const int = await h.call('POST', '/v1/preview/buffers', { integrationId: h.integrationId, bufferBeforeMinutes: 30 }, h.keys.admin);
    expect(int.body).toEqual({ bookings: 2, subscriptions: 0, people: 3, summary: '2 bookings and 0 subscriptions change (3 people affected)' });
    const unchanged = await h.call('POST', '/v1/preview/buffers', { integrationId: h.integrationId, bufferBeforeMinutes: 15, bufferAfterMinutes: 15 }, h.keys.admin);
    expect(unchanged.body.bookings).toBe(0);
    const spaceOverride = await h.call('POST', '/v1/preview/buffers', { spaceId: space, bufferBeforeMinutes: 0 }, h.keys.admin);
    expect(spaceOverride.body.bookings).toBe(2);
    const sameAsInherited = await h.call('POST', '/v1/preview/buffers', { spaceId: space, bufferBeforeMinutes: 15, bufferAfterMinutes: null }, h.keys.admin);
    expect(sameAsInherited.body.bookings).toBe(0);
    // The unmapped space opens no door: no booking of it changes.
    expect((await h.call('POST', '/v1/preview/buffers', { spaceId: unmapped, bufferBeforeMinutes: 60 }, h.keys.admin)).body.bookings).toBe(0);
  });

  it('refuses hosts, bad input and other organisations', async () => {
    await expectRefused(h, { method: 'POST', path: '/v1/preview/buffers', body: { integrationId: h.integrationId, bufferBeforeMinutes: 5 }, key: h.keys.host }, { status: 403, error: 'forbidden', mentions: ['team-admin'] });
    await expectRefused(h, { method: 'POST', path: '/v1/preview/mapping', body: { spaceId: space, integrationId: h.integrationId, targetRefs: [] }, key: h.keys.host }, { status: 403, error: 'forbidden' });
    await expectRefused(h, { method: 'POST', path: '/v1/preview/buffers', body: { integrationId: h.integrationId, spaceId: space, bufferBeforeMinutes: 5 }, key: h.keys.admin }, { status: 400, error: 'validation', field: 'integrationId' });
    await expectRefused(h, { method: 'POST', path: '/v1/preview/buffers', body: { integrationId: h.integrationId, bufferBeforeMinutes: -1 }, key: h.keys.admin }, { status: 400, error: 'validation', field: 'body.bufferBeforeMinutes' });
    await expectRefused(h, { method: 'POST', path: '/v1/preview/buffers', body: { integrationId: h.integrationId, bufferBeforeMinutes: null }, key: h.keys.admin }, { status: 400, error: 'validation', field: 'bufferBeforeMinutes' });
    await expectRefused(h, { method: 'POST', path: '/v1/preview/mapping', body: { spaceId: space, integrationId: 'int_nope', targetRefs: [] }, key: h.keys.admin }, { status: 400, error: 'validation', field: 'integrationId' });
    const org2 = (await h.call('POST', '/v1/organisations', { name: 'Other' })).body;
    const admin2 = (await h.call('POST', '/v1/api-keys', { role: 'team-admin', name: 'a2', organisationId: org2.id })).body.key;
    await expectRefused(h, { method: 'POST', path: '/v1/preview/mapping', body: { spaceId: space, integrationId: h.integrationId, targetRefs: [] }, key: admin2 }, { status: 404, error: 'not_found' });
    await expectRefused(h, { method: 'POST', path: '/v1/preview/buffers', body: { spaceId: space, bufferBeforeMinutes: 1 }, key: admin2 }, { status: 404, error: 'not_found' });
  });
});
