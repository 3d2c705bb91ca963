/**
 * A full run over the two-tenant world that issues every kind of secret Lockstep handles, for the
 * secrets-at-rest and secrets-in-logs suites:
 *  - PINs (Lockstep's own, on the demo provider, 8 digits), before and after regeneration;
 *  - provider-issued codes (Inlet issues the guest's access code), before and after replacement;
 *  - provider credentials: a wrong one refused at connect, the right one, a re-key, Inlet's key;
 *  - API keys of every role, call-back signing secrets, booking-source secrets (generated and given);
 *  - access-card numbers, visit registration codes, URL-key tokens (fetched, viewed and used);
 *  - e-mails into the local outbox (their bodies carry the PINs), read whole by a platform admin;
 *  - signed deliveries from a webhook and a Cal.com source, and an iCal feed behind a secret URL;
 *  - provider, call-back and feed failures, so error paths log too.
 * Every secret is read back the way its owner sees it (the guest API for PINs and codes), so the
 * suites check the real values.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { expect } from 'vitest';
import { hoursFromNow, tamperUrlKey } from '../support/harness.js';
import { startDemoEmulator, type DemoEmulator } from '../../src/providers/demo/emulator.js';
import { startInletEmulator, type InletEmulator } from '../../src/providers/inlet/emulator.js';
import { signatureHeader } from '../../src/providers/webhook/signing.js';
import { calSign, created as calcomCreated } from '../sources/calcom-payloads.js';
import { startReceiver, type Receiver } from '../integration-api/receiver.js';
import { callRaw, eventually, must } from './support.js';
import { closedPort, type World } from './world.js';

export interface Secret {
  what: string;
  value: string;
}

export interface Story {
  secrets: Secret[];
  /** Secrets that are configuration by design (stored as given) but must not reach a log. */
  logOnlySecrets: Secret[];
  pins: string[];
  issuedCodes: string[];
  close(): Promise<void>;
}

export async function runStory(w: World, opts: { secretKey?: string } = {}): Promise<Story> {
  const h = w.h;
  const admin = w.a.keys['team-admin'];
  const hostKey = w.a.keys.host;
  const secrets: Secret[] = [];
  const logOnlySecrets: Secret[] = [];
  const add = (what: string, value: string | undefined) => {
    expect(value, what).toEqual(expect.any(String));
    secrets.push({ what, value: value! });
  };
  for (const [what, value] of Object.entries(w.issued)) add(what, value);
  if (opts.secretKey) add('master secret key', opts.secretKey);

  const sideCredential = `sk_live_${randomBytes(12).toString('hex')}`;
  const wrongCredential = `sk_wrong_${randomBytes(12).toString('hex')}`;
  const inletKey = `inlet_${randomBytes(12).toString('hex')}`;
  add('demo credential (side door)', sideCredential);
  add('wrong demo credential', wrongCredential);
  add('Inlet API key', inletKey);
  const side: DemoEmulator = await startDemoEmulator({ port: 0, apiKey: sideCredential });
  const inlet: InletEmulator = await startInletEmulator({ port: 0, apiKey: inletKey });
  const receiver: Receiver = await startReceiver();
  const feedToken = `feedtok${randomBytes(10).toString('hex')}`;
  const feed = await startFeed(`/ical/${feedToken}/basic.ics`);
  logOnlySecrets.push({ what: 'secret path of the iCal feed URL', value: feedToken });

  try {
    // Providers: a wrong credential is refused, the right one connects, then a re-key.
    const refused = await h.call('POST', '/v1/integrations', { organisationId: w.a.organisationId, kind: 'demo', name: 'Side door', baseUrl: side.url, credentials: { apiKey: wrongCredential } });
    expect(refused.status).toBe(422);
    const sideDoor = (await must(h, 'POST', '/v1/integrations', { organisationId: w.a.organisationId, kind: 'demo', name: 'Side door', baseUrl: side.url, credentials: { apiKey: sideCredential }, pinLength: 10 })).id as string;
    expect((await h.call('PATCH', `/v1/integrations/${sideDoor}`, { credentials: { apiKey: sideCredential } })).status).toBe(200);
    const inletId = (await must(h, 'POST', '/v1/integrations', { organisationId: w.a.organisationId, kind: 'inlet', name: 'Inlet locks', baseUrl: inlet.url, credentials: { apiKey: inletKey } })).id as string;
    const suite = await h.space(['ag-meeting-2'], { name: `Suite ${w.tagA}` });
    await must(h, 'POST', '/v1/mappings', { spaceId: suite, integrationId: sideDoor, targetRef: 'ag-meeting-1' }, admin);
    await must(h, 'POST', '/v1/mappings', { spaceId: suite, integrationId: inletId, targetRef: 'lock-room-1' }, admin);

    // A call-back to a receiver with a token in its URL; the receiver is down for the first delivery.
    const hookToken = `hooktok${randomBytes(10).toString('hex')}`;
    logOnlySecrets.push({ what: 'token in the call-back URL', value: hookToken });
    const hook = await must(h, 'POST', '/v1/callbacks', { url: `${receiver.url}/cb?token=${hookToken}`, includeEmails: true }, admin);
    add('call-back signing secret (receiver)', hook.signingSecret);
    receiver.secrets.set('/cb', hook.signingSecret);
    receiver.status = 503;
    // And one to a closed port with a token in its query (the network error names the URL).
    const deadToken = `deadtok${randomBytes(10).toString('hex')}`;
    logOnlySecrets.push({ what: 'token in an unreachable call-back URL', value: deadToken });
    const deadHook = await must(h, 'POST', '/v1/callbacks', { url: `http://127.0.0.1:${await closedPort()}/down?token=${deadToken}` }, admin);
    add('call-back signing secret (unreachable)', deadHook.signingSecret);

    // One failed PIN push on the demo door: the engine's error path runs too.
    h.emulator.faults.add({ match: { method: 'PUT' }, times: 1, fault: { kind: 'status', status: 500 } });
    const booking = await must(
      h,
      'POST',
      '/v1/bookings',
      { spaceId: suite, organiser: { name: `Lou ${w.tagA}`, email: `lou.${w.tagA}@example.com` }, invitees: [{ name: `Max ${w.tagA}`, email: `max.${w.tagA}@example.com` }], start: hoursFromNow(-1), end: hoursFromNow(2) },
      admin,
    );
    await h.converge();
    const lou = await must(h, 'POST', '/v1/api-keys', { role: 'guest', name: 'Lou', personId: booking.organiserId }, admin);
    const max = await must(h, 'POST', '/v1/api-keys', { role: 'guest', name: 'Max', personId: booking.inviteeIds[0] }, admin);
    add('guest key (Lou)', lou.key);
    add('guest key (Max)', max.key);
    const staff = await must(h, 'POST', '/v1/api-keys', { role: 'team-admin', name: 'second admin' }, admin);
    add('team-admin key (second)', staff.key);
    const root = await must(h, 'POST', '/v1/api-keys', { role: 'platform-admin', name: 'second root' });
    add('platform-admin key (second)', root.key);

    const cy = await must(h, 'POST', '/v1/api-keys', { role: 'guest', name: 'Cy', personId: w.a.cy }, admin);
    add('guest key (Cy)', cy.key);
    const guests = [w.a.keys.guest, w.a.guestBob, cy.key, lou.key, max.key];
    const pinsOf = async (key: string) => ((await must(h, 'GET', '/v1/me/pins', undefined, key)).results as { pin: string }[]).map((p) => p.pin);
    const codesOf = async (key: string) => ((await must(h, 'GET', '/v1/me/credentials', undefined, key)).results as { secret: string }[]).map((c) => c.secret);
    const pins = new Set<string>();
    const codes = new Set<string>();
    for (const key of guests) for (const p of await pinsOf(key)) pins.add(p);
    for (const key of [lou.key, max.key]) for (const c of await eventually('an Inlet code', async () => ((await codesOf(key)).length ? codesOf(key) : undefined))) codes.add(c);

    // Regeneration: a new PIN on each demo door, a replacement code on Inlet.
    for (const integrationId of [h.integrationId, sideDoor, inletId]) {
      const res = await h.call('POST', `/v1/people/${booking.organiserId}/pins/regenerate`, { integrationId }, hostKey);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    await h.converge();
    for (const p of await pinsOf(lou.key)) pins.add(p);
    const before = codes.size;
    await eventually('a replacement Inlet code', async () => {
      await h.converge();
      for (const c of await codesOf(lou.key)) codes.add(c);
      return codes.size > before;
    });
    // Every guest has a PIN on the main door, Lou and Max on the side door too; Lou two more after regeneration.
    expect(pins.size).toBeGreaterThanOrEqual(9);
    // Long PINs (the demo door clamps the 10 asked for to its maximum, 8): no chance match in a hash.
    for (const p of pins) expect(p).toMatch(/^\d{8,12}$/);
    for (const [i, p] of [...pins].entries()) add(`PIN #${i + 1}`, p);
    for (const [i, c] of [...codes].entries()) add(`provider-issued code #${i + 1}`, c);

    // Visits: the guest's code, scanned in by the front desk.
    const visit = (await must(h, 'GET', '/v1/me/visits?qr=both', undefined, lou.key)).results.find((v: { booking: { id: string } }) => v.booking.id === booking.id);
    add('visit code (shown)', visit.code);
    add('visit code (QR content)', visit.qr.content);
    const scan = await must(h, 'POST', '/v1/visits/scan', { code: visit.code, action: 'check-in' }, hostKey);
    expect(scan.allowed).toBe(true);
    await must(h, 'POST', '/v1/visits/scan', { code: 'WRONGCODE2', action: 'lookup' }, hostKey);

    // URL key: fetched, its page viewed, the door opened (Inlet pulses), a tampered copy refused.
    const link = await must(h, 'GET', `/v1/me/bookings/${booking.id}/url-key`, undefined, lou.key);
    add('URL-key token', link.token);
    add('URL-key MAC', link.token.split('.')[3]);
    expect((await callRaw(h, 'GET', `/k/${link.token}`, { headers: { accept: 'text/html' } })).status).toBe(200);
    const opened = await callRaw(h, 'POST', `/k/${link.token}`, { headers: { accept: 'application/json' } });
    expect(opened.status, opened.text).toBe(200);
    expect((await callRaw(h, 'POST', `/k/${tamperUrlKey(link.token)}`, { headers: { accept: 'application/json' } })).status).toBe(404);

    // Cards: a second one, read back through the controller API.
    const card2 = `CARD2-${randomBytes(8).toString('hex')}`;
    add('card number (Lou)', card2);
    await must(h, 'PUT', `/v1/cards/lou.${w.tagA}@example.com`, { cardNumber: card2 }, admin);
    const today = DateTime.fromISO(booking.start, { zone: 'Europe/London' }).toISODate();
    expect(JSON.stringify(await must(h, 'GET', `/v1/spaces/${suite}/bookings?date=${today}`, undefined, hostKey))).toContain(card2);

    // Booking sources: signed deliveries (good and forged), a Cal.com one, a rotated secret.
    const t = Math.floor(Date.now() / 1000);
    const hookBody = JSON.stringify({ event: 'booking.upserted', id: `ext-${t}`, version: 1, start: hoursFromNow(3), end: hoursFromNow(4), organiser: { name: `Nia ${w.tagA}`, email: `nia.${w.tagA}@example.com` } });
    const deliver = (path: string, body: string, headers: Record<string, string>) =>
      fetch(h.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => r.status);
    expect(await deliver(`/v1/sources/${w.a.webhookSource.id}/bookings`, hookBody, { 'lockstep-signature': signatureHeader(w.a.webhookSource.secret, t, hookBody) })).toBe(200);
    expect(await deliver(`/v1/sources/${w.a.webhookSource.id}/bookings`, hookBody, { 'lockstep-signature': signatureHeader(w.b.webhookSource.secret, t, hookBody) })).toBe(401);
    const calBody = JSON.stringify(calcomCreated({ uid: `uid-${t}` }));
    expect(await deliver(`/v1/sources/${w.a.calcomSource.id}/calcom`, calBody, { 'x-cal-signature-256': calSign(w.a.calcomSource.secret, calBody) })).toBe(200);
    expect(await deliver(`/v1/sources/${w.a.calcomSource.id}/calcom`, calBody, { 'x-cal-signature-256': calSign('not-the-secret', calBody) })).toBe(401);
    const givenSecret = `given_${randomBytes(16).toString('hex')}`;
    add('source secret (given at creation)', givenSecret);
    const given = await must(h, 'POST', '/v1/sources', { kind: 'webhook', name: 'Given secret', settings: { defaultSpaceId: suite }, secret: givenSecret }, admin);
    const rotated = await must(h, 'PATCH', `/v1/sources/${given.id}`, { rotateSecret: true }, admin);
    add('source secret (rotated)', rotated.secret);

    // iCal: a feed behind a secret URL (applied) and the world's feed on a closed port (fails).
    const feedSource = await must(h, 'POST', '/v1/sources', { kind: 'ical', name: 'Secret feed', settings: { url: feed.url, spaceId: suite, guestName: 'Feed guest', guestEmail: `feed.${w.tagA}@example.com` } }, admin);
    const polled = await must(h, 'POST', `/v1/sources/${feedSource.id}/poll`, undefined, admin);
    expect(polled.state, JSON.stringify(polled)).toBe('ok');
    await h.call('POST', `/v1/sources/${w.a.byCollection.sources}/poll`, undefined, admin);

    // E-mails into the local outbox; one read whole by a platform admin.
    await h.converge();
    await h.app.notifier.runOnce();
    await h.app.notifier.runOnce();
    const outbox = (await must(h, 'GET', '/v1/outbox?limit=100', undefined, admin)).results as { id: string; personId: string | null }[];
    expect(outbox.length).toBeGreaterThan(2);
    const whole = await must(h, 'GET', `/v1/outbox/${outbox.find((m) => m.personId === booking.organiserId)!.id}`);
    expect(whole.redacted).toBe(false);

    // Call-backs: the receiver is down (failed, logged), then up; a retry delivers.
    await eventually('call-back deliveries to the receiver', async () => {
      await h.app.callbacks.runOnce();
      return receiver.received.length > 0;
    });
    receiver.status = 200;
    const failed = (await must(h, 'GET', `/v1/callbacks/${hook.id}/deliveries?status=failed`, undefined, admin)).results;
    expect(failed.length).toBeGreaterThan(0);
    await must(h, 'POST', `/v1/callbacks/${hook.id}/deliveries/${failed[0].id}/retry`, undefined, admin);
    await eventually('a delivered call-back', async () => {
      await h.app.callbacks.runOnce();
      return receiver.accepted('/cb').length > 0;
    });
    await h.converge();

    return {
      secrets,
      logOnlySecrets,
      pins: [...pins],
      issuedCodes: [...codes],
      async close() {
        await Promise.all([side.close(), inlet.close(), receiver.close(), feed.close()]);
      },
    };
  } catch (err) {
    await Promise.all([side.close(), inlet.close(), receiver.close(), feed.close()]);
    throw err;
  }
}

/** A one-event iCalendar feed at a secret path (like an Airbnb or Google Calendar export). */
async function startFeed(path: string) {
  const fmt = (hours: number) => DateTime.utc().plus({ hours }).startOf('minute').toFormat("yyyyLLdd'T'HHmmss'Z'");
  const body = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//Feed//EN', 'BEGIN:VEVENT', `UID:feed-event-1@example.com`, `DTSTAMP:${fmt(0)}`, `DTSTART:${fmt(5)}`, `DTEND:${fmt(6)}`, 'SUMMARY:Reserved', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
  const server = http.createServer((req, res) => {
    if (req.url === path) res.writeHead(200, { 'content-type': 'text/calendar' }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
