/**
 * Delivery: the local outbox when no SMTP is configured, retries while SMTP is down, alerts for a
 * failing provider, and no secret in any log line.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import type { EngineLogger } from '../../src/engine/runner.js';
import { startSmtp, type TestSmtp } from './smtp.js';

const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

/** Collects every log line (engine, notifier, HTTP server) as text. */
function captureLogs() {
  const lines: string[] = [];
  const logger: EngineLogger = {
    info: (obj, msg) => lines.push(JSON.stringify({ ...obj, msg })),
    warn: (obj, msg) => lines.push(JSON.stringify({ ...obj, msg })),
    error: (obj, msg) => lines.push(JSON.stringify({ ...obj, msg, err: String((obj as { err?: unknown }).err ?? '') })),
  };
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger, fastify: { level: 'trace', stream } };
}

describe.each(storeKinds)('notification delivery on %s', (kind) => {
  let h: Harness | undefined;
  let smtp: TestSmtp | undefined;
  afterEach(async () => {
    await h?.close();
    await smtp?.stop();
    h = smtp = undefined;
  });

  const guestPin = async (hh: Harness, personId: string) => {
    const key = (await hh.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId }, hh.keys.admin)).body.key;
    return (await hh.call('GET', '/v1/me/pins', undefined, key)).body.results[0]?.pin as string;
  };

  it('keeps messages in the local outbox when no SMTP is configured, visible to admins with PINs masked', async () => {
    h = await startHarness(kind);
    const hh = h;
    expect(hh.app.notifier.delivering).toBe(false);
    const space = await hh.space(['ag-meeting-1']);
    // Someone without an e-mail address is skipped, not an error.
    const noMail = (await hh.call('POST', '/v1/people', { name: 'No Mail' }, hh.keys.admin)).body;
    const res = await hh.call('POST', '/v1/bookings', {
      spaceId: space,
      organiser: { name: 'Ada Guest', email: 'ada@example.com' },
      invitees: [{ name: 'Bob Invitee', email: 'bob@example.com' }],
      inviteeIds: [noMail.id],
      start: hoursFromNow(3),
      end: hoursFromNow(4),
    }, hh.keys.admin);
    expect(res.status).toBe(201);
    await hh.converge();
    await expect.poll(async () => (await hh.call('GET', '/v1/outbox', undefined, hh.keys.admin)).body.results.length, { timeout: 10_000 }).toBe(2);

    const list = await hh.call('GET', '/v1/outbox', undefined, hh.keys.admin);
    expect(list.status).toBe(200);
    expect(list.body.delivery).toBe('local-outbox');
    const pin = await guestPin(hh, res.body.organiserId);
    const ada = list.body.results.find((r: any) => r.to === 'ada@example.com');
    expect(ada).toMatchObject({ kind: 'booking.confirmed', status: 'outbox', personId: res.body.organiserId, bookingId: res.body.id, sentAt: null });
    expect(ada.subject).toMatch(/^Booking confirmed: Space 1/);
    expect(ada.text).toContain('PIN: ••••••');
    expect(ada.text).not.toContain(pin);
    expect(ada.createdAt).toMatch(/Z$/);
    expect(list.body.results.map((r: any) => r.to).sort()).toEqual(['ada@example.com', 'bob@example.com']);

    // One message in full: only the platform admin sees the PIN, and that read is audited.
    const whole = await hh.call('GET', `/v1/outbox/${ada.id}`, undefined, hh.keys.platform);
    expect(whole.status).toBe(200);
    expect(whole.body.redacted).toBe(false);
    expect(whole.body.text).toContain(`PIN: ${pin}`);
    expect(whole.body.html).toContain(pin);
    const masked = await hh.call('GET', `/v1/outbox/${ada.id}`, undefined, hh.keys.admin);
    expect(masked.body.redacted).toBe(true);
    expect(JSON.stringify(masked.body)).not.toContain(pin);
    const audit = await hh.call('GET', `/v1/audit?subjectId=${ada.id}`, undefined, hh.keys.admin);
    expect(audit.body.results.map((r: any) => r.action)).toContain('outbox.read');

    // Hosts and guests cannot read the outbox; another organisation's admin sees none of it.
    expect((await hh.call('GET', '/v1/outbox', undefined, hh.keys.host)).status).toBe(403);
    const otherOrg = (await hh.call('POST', '/v1/organisations', { name: 'Other venue' })).body;
    const otherAdmin = (await hh.call('POST', '/v1/api-keys', { role: 'team-admin', name: 'other', organisationId: otherOrg.id })).body.key;
    expect((await hh.call('GET', '/v1/outbox', undefined, otherAdmin)).body.results).toEqual([]);
    expect((await hh.call('GET', `/v1/outbox/${ada.id}`, undefined, otherAdmin)).status).toBe(404);
    // The platform admin lists every organisation's messages.
    expect((await hh.call('GET', '/v1/outbox', undefined, hh.keys.platform)).body.results).toHaveLength(2);

    // Nothing lost, nothing doubled over more passes.
    await hh.app.notifier.runOnce();
    await settle();
    expect((await hh.call('GET', '/v1/outbox', undefined, hh.keys.admin)).body.results).toHaveLength(2);
  });

  it('retries while SMTP is down and delivers once it is up; no PIN or SMTP password in any log line or stored error', async () => {
    const logs = captureLogs();
    smtp = await startSmtp({ user: 'mailer', pass: 'smtp-Pa55word!', startStopped: true });
    h = await startHarness(kind, { logger: logs.fastify, engine: { logger: logs.logger }, notifier: { smtpUrl: smtp.url, logger: logs.logger } });
    const hh = h;
    const space = await hh.space(['ag-meeting-1']);
    const booking = (await hh.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada Guest', email: 'ada@example.com' }, start: hoursFromNow(3), end: hoursFromNow(4) }, hh.keys.admin)).body;
    await hh.converge();
    const row = () => hh.app.store.db.selectFrom('notifications').selectAll().executeTakeFirst();
    await expect.poll(async () => (await row())?.attempts ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const failing = (await row())!;
    expect(failing.status).toBe('queued');
    expect(failing.lastError).toMatch(/ECONNREFUSED/);
    expect(failing.lastError).not.toContain('smtp-Pa55word!');
    expect(smtp.mails).toHaveLength(0);
    // The engine was not held up by the mail server.
    expect((await hh.call('GET', `/v1/bookings/${booking.id}/sync`, undefined, hh.keys.host)).body.state).toBe('applied');

    await smtp.start();
    await expect.poll(() => smtp!.mails.length, { timeout: 10_000 }).toBe(1);
    expect(smtp.logins).toContain('mailer');
    await expect.poll(async () => (await row())?.status, { timeout: 5_000 }).toBe('sent');
    const pin = await guestPin(hh, booking.organiserId);
    expect(smtp.mails[0].text).toContain(`PIN: ${pin}`);
    expect(smtp.mails[0].messageId).toBe(`<${failing.id}@lockstep>`);

    // A regenerated PIN goes out too; then check every log line for secrets.
    await hh.call('POST', `/v1/people/${booking.organiserId}/pins/regenerate`, { integrationId: hh.integrationId }, hh.keys.host);
    await expect.poll(() => smtp!.mails.length, { timeout: 10_000 }).toBe(2);
    const newPin = await guestPin(hh, booking.organiserId);
    expect(logs.lines.some((l) => l.includes('e-mail not sent; will retry'))).toBe(true);
    expect(logs.lines.some((l) => l.includes('e-mail sent'))).toBe(true);
    for (const line of logs.lines) {
      expect(line).not.toContain(pin);
      expect(line).not.toContain(newPin);
      expect(line).not.toContain('smtp-Pa55word!');
    }
    const stored = await hh.app.store.db.selectFrom('notifications').select(['subject', 'bodySealed', 'lastError']).execute();
    for (const r of stored) expect(JSON.stringify(r)).not.toContain(newPin);
  });

  it('alerts admins once per failure episode of a provider, and sends the booking mail with a "still being set up" note after the grace', async () => {
    smtp = await startSmtp();
    h = await startHarness(kind, { notifier: { smtpUrl: smtp.url, alertTo: ['ops@example.com'], graceMs: 800 } });
    const hh = h;
    const space = await hh.space(['ag-meeting-1']);
    hh.emulator.faults.add({ fault: { kind: 'status', status: 500 } });
    const booking = (await hh.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada Guest', email: 'ada@example.com' }, start: hoursFromNow(3), end: hoursFromNow(4) }, hh.keys.admin)).body;

    await expect.poll(() => smtp!.to('ops@example.com').length, { timeout: 10_000 }).toBe(1);
    const alert = smtp.to('ops@example.com')[0];
    expect(alert.subject).toBe('Integration failing: Doors (Test venue)');
    expect(alert.text).toMatch(/Last error: transient/);
    await expect.poll(() => smtp!.to('ada@example.com').length, { timeout: 10_000 }).toBe(1);
    expect(smtp.to('ada@example.com')[0].text).toContain('Your access is still being set up on the door system');
    expect((await hh.call('GET', `/v1/bookings/${booking.id}/sync`, undefined, hh.keys.host)).body.state).toBe('failed');

    // Still failing, many more attempts: still one alert.
    await settle(800);
    expect(smtp.to('ops@example.com')).toHaveLength(1);

    // Recovery ends the episode; no new booking mail either (the guest was already told).
    hh.emulator.faults.clear();
    await hh.converge(10_000);
    await expect.poll(async () => (await hh.app.store.db.selectFrom('notifierMarks').selectAll().execute()).length, { timeout: 5_000 }).toBe(0);
    await settle();
    expect(smtp.to('ops@example.com')).toHaveLength(1);
    expect(smtp.to('ada@example.com')).toHaveLength(1);

    // A new failure later is a new episode: one more alert.
    hh.emulator.faults.add({ fault: { kind: 'status', status: 500 } });
    await hh.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Cy Guest', email: 'cy@example.com' }, start: hoursFromNow(5), end: hoursFromNow(6) }, hh.keys.admin);
    await expect.poll(() => smtp!.to('ops@example.com').length, { timeout: 10_000 }).toBe(2);
    await settle(600);
    expect(smtp.to('ops@example.com')).toHaveLength(2);
    hh.emulator.faults.clear();
  });

  it('alerts when a failure persists, even when the provider is rate-limiting and attempts are not counted', async () => {
    smtp = await startSmtp();
    h = await startHarness(kind, { notifier: { smtpUrl: smtp.url, alertTo: ['ops@example.com', 'oncall@example.com'], failingPersistMs: 700 } });
    const hh = h;
    const space = await hh.space(['ag-meeting-1']);
    hh.emulator.faults.add({ fault: { kind: 'status', status: 429, retryAfterSeconds: 1 } });
    const began = Date.now();
    await hh.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada Guest', email: 'ada@example.com' }, start: hoursFromNow(3), end: hoursFromNow(4) }, hh.keys.admin);
    await expect.poll(() => smtp!.to('ops@example.com').length, { timeout: 10_000 }).toBe(1);
    expect(Date.now() - began).toBeGreaterThanOrEqual(700);
    await expect.poll(() => smtp!.to('oncall@example.com').length, { timeout: 5_000 }).toBe(1);
    expect(smtp.to('ops@example.com')[0].text).toMatch(/Last error: rate-limited/);
    const work = await hh.app.store.db.selectFrom('syncWork').select('attempts').execute();
    expect(Math.max(...work.map((w) => w.attempts))).toBeLessThan(3);
    hh.emulator.faults.clear();
  });
});
