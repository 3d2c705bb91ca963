/**
 * Booking e-mails through the whole Lockstep: API → engine → demo provider → notifier → a real SMTP
 * server in this process. Each mail is read back with mailparser.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { startHarness, secretKey, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { createApp } from '../../src/app.js';
import { startSmtp, type TestSmtp } from './smtp.js';

const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

/** Tomorrow at `hh:mm` on the location's wall clock, as a local ISO string (no offset). */
const tomorrowAt = (zone: string, hhmm: string) => `${DateTime.now().setZone(zone).plus({ days: 1 }).toISODate()}T${hhmm}`;

describe.each(storeKinds)('booking e-mails on %s', (kind) => {
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

  const book = async (hh: Harness, body: Record<string, unknown>) => {
    const res = await hh.call('POST', '/v1/bookings', body, hh.keys.admin);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  it('mails the organiser and each invitee once, after the access is on the door, with PIN, doors and local times', async () => {
    smtp = await startSmtp();
    const key = secretKey();
    h = await startHarness(kind, { secretKey: key, notifier: { smtpUrl: smtp.url } });
    const hh = h;
    const space = await hh.space(['ag-front-door', 'ag-meeting-1']);
    // Retries on the way: the engine fails twice on PIN writes before it gets through.
    hh.emulator.faults.add({ match: { method: 'PUT' }, times: 2, fault: { kind: 'status', status: 503 } });
    const booking = await book(hh, {
      spaceId: space,
      title: 'Board <meeting> & review',
      organiser: { name: 'Ada Guest', email: 'ada@example.com' },
      invitees: [{ name: 'Bob Invitee', email: 'bob@example.com' }],
      startLocal: tomorrowAt('Europe/London', '09:00'),
      endLocal: tomorrowAt('Europe/London', '11:00'),
    });
    await expect.poll(() => smtp!.to('ada@example.com').length, { timeout: 15_000 }).toBe(1);
    // Sent only once the provider holds the access.
    const user = hh.emulator.state.userByExternalId(`lockstep-${booking.organiserId}`)!;
    expect(user).toBeTruthy();
    expect(hh.emulator.state.memberships(user.id)).toHaveLength(2);

    const mail = smtp.to('ada@example.com')[0];
    const pin = await guestPin(hh, booking.organiserId);
    expect(mail.subject).toMatch(/^Booking confirmed: Board <meeting> & review \(Space 1\)/);
    expect(mail.subject).not.toContain(pin);
    expect(mail.text).toContain(`PIN: ${pin}`);
    expect(mail.text).toContain('Front door');
    expect(mail.text).toContain('Meeting room 1');
    expect(mail.text).toMatch(/09:00 – 11:00 \(Europe\/London\)/);
    // Doors open with the integration's 15-minute buffers, in local time too.
    expect(mail.text).toMatch(/Front door: open to you .*08:45 – 11:15 \(Europe\/London\)/);
    expect(mail.text).not.toContain('still being set up');
    expect(mail.html).toContain('Board &lt;meeting&gt; &amp; review');
    expect(mail.html).not.toContain('<meeting>');
    expect(mail.html).toContain(pin);

    await expect.poll(() => smtp!.to('bob@example.com').length, { timeout: 10_000 }).toBe(1);
    const bobPin = await guestPin(hh, booking.inviteeIds[0]);
    expect(smtp.to('bob@example.com')[0].text).toContain(`PIN: ${bobPin}`);
    expect(smtp.to('bob@example.com')[0].text).not.toContain(pin);

    // A read-back of everything (more syncs, more wakes) sends nothing new.
    await hh.app.engine.scheduleDriftCheck();
    await hh.converge();
    await hh.app.notifier.runOnce();
    await settle();
    expect(smtp.mails).toHaveLength(2);

    // Restart: a new Lockstep on the same database (fresh notifier memory) sends nothing twice.
    await hh.app.notifier.stop();
    const again = await createApp({ databaseUrl: hh.database.url, secretKey: key, notifier: { smtpUrl: smtp.url, pollMs: 50 } });
    try {
      again.notifier.start();
      await again.notifier.runOnce();
      await settle();
      await again.notifier.runOnce();
    } finally {
      await again.close();
    }
    expect(smtp.mails).toHaveLength(2);
    const rows = await hh.app.store.db.selectFrom('notifications').select(['kind', 'status']).execute();
    expect(rows).toEqual([
      { kind: 'booking.confirmed', status: 'sent' },
      { kind: 'booking.confirmed', status: 'sent' },
    ]);
  });

  it('leaves a backlog that waits for the engine alone, then mails each booking once the engine has caught up', async () => {
    h = await startHarness(kind, { notifier: { enabled: false } });
    const hh = h;
    const space = await hh.space(['ag-meeting-1']);
    await hh.app.engine.stop(); // a backlog: bookings in, nothing synced yet
    const guests = 30;
    for (let i = 0; i < guests; i++) {
      await book(hh, { spaceId: space, organiser: { name: `Guest ${i}`, email: `guest${i}@example.com` }, startLocal: tomorrowAt('Europe/London', '09:00'), endLocal: tomorrowAt('Europe/London', '10:00') });
    }
    await hh.app.notifier.runOnce();
    await hh.app.notifier.runOnce();
    // Everyone on them is still due for a sync: not one booking was worth a full look, nothing sent.
    expect(hh.app.notifier.stats.bookingsExamined).toBe(0);
    const outbox = async () => (await hh.call('GET', '/v1/outbox', undefined, hh.keys.admin)).body.results as { kind: string }[];
    expect(await outbox()).toHaveLength(0);

    await hh.app.engine.start();
    await hh.converge();
    await hh.app.notifier.runOnce();
    expect(hh.app.notifier.stats.bookingsExamined).toBe(guests);
    const sent = await outbox();
    expect(sent).toHaveLength(guests);
    expect(sent.every((m) => m.kind === 'booking.confirmed')).toBe(true);
    await hh.app.notifier.runOnce();
    expect(hh.app.notifier.stats.bookingsExamined).toBe(guests); // settled: not looked at again
  });

  it('a notifier told to stop mid-pass returns between bookings, and the next pass mails every one of them once', async () => {
    h = await startHarness(kind, { notifier: { enabled: false } });
    const hh = h;
    const space = await hh.space(['ag-meeting-1']);
    const guests = 20;
    for (let i = 0; i < guests; i++) {
      await book(hh, { spaceId: space, organiser: { name: `Guest ${i}`, email: `guest${i}@example.com` }, startLocal: tomorrowAt('Europe/London', '09:00'), endLocal: tomorrowAt('Europe/London', '10:00') });
    }
    await hh.converge();
    // A pass with twenty bookings to mail is under way when the process is told to stop (SIGTERM).
    hh.app.notifier.start();
    const pass = hh.app.notifier.runOnce();
    await hh.app.notifier.stop();
    await pass;
    expect(hh.app.notifier.stats.bookingsExamined).toBeLessThan(guests);

    hh.app.notifier.start();
    await hh.app.notifier.runOnce();
    const sent = (await hh.call('GET', '/v1/outbox', undefined, hh.keys.admin)).body.results as { kind: string; to: string }[];
    expect(sent).toHaveLength(guests);
    expect(new Set(sent.map((m) => m.to)).size).toBe(guests);
    await hh.app.notifier.stop();
  });

  it('several notifiers on one database (workers) racing over the same change still send one mail', async () => {
    smtp = await startSmtp();
    const key = secretKey();
    // The harness's own notifier stays off: three workers start together once the access is applied.
    h = await startHarness(kind, { secretKey: key, notifier: { enabled: false } });
    const hh = h;
    const space = await hh.space(['ag-meeting-1']);
    await book(hh, { spaceId: space, organiser: { name: 'Ada Guest', email: 'ada@example.com' }, startLocal: tomorrowAt('Europe/London', '09:00'), endLocal: tomorrowAt('Europe/London', '10:00') });
    await hh.converge();
    const workers = await Promise.all([1, 2, 3].map(() => createApp({ databaseUrl: hh.database.url, secretKey: key, notifier: { smtpUrl: smtp!.url } })));
    try {
      await Promise.all(workers.map((w) => w.notifier.runOnce()));
      await Promise.all(workers.map((w) => w.notifier.runOnce()));
    } finally {
      for (const w of workers) await w.close();
    }
    expect(smtp.mails).toHaveLength(1);
    expect(await hh.app.store.db.selectFrom('notifications').select('status').execute()).toEqual([{ status: 'sent' }]);
  });

  it('sends one "moved" mail with the new window, nothing for a title edit, and a revoked mail on cancellation', async () => {
    smtp = await startSmtp();
    h = await startHarness(kind, { notifier: { smtpUrl: smtp.url } });
    const hh = h;
    const space = await hh.space(['ag-meeting-1']);
    const booking = await book(hh, {
      spaceId: space,
      organiser: { name: 'Ada Guest', email: 'ada@example.com' },
      startLocal: tomorrowAt('Europe/London', '09:00'),
      endLocal: tomorrowAt('Europe/London', '10:00'),
    });
    await expect.poll(() => smtp!.mails.length, { timeout: 15_000 }).toBe(1);

    const moved = await hh.call('PATCH', `/v1/bookings/${booking.id}`, { startLocal: tomorrowAt('Europe/London', '14:30'), endLocal: tomorrowAt('Europe/London', '16:00') }, hh.keys.admin);
    expect(moved.status).toBe(200);
    await expect.poll(() => smtp!.mails.length, { timeout: 15_000 }).toBe(2);
    const mail = smtp.mails[1];
    expect(mail.subject).toMatch(/^Booking moved: Space 1, now .*14:30 \(Europe\/London\)/);
    expect(mail.text).toMatch(/has moved to .*14:30 – 16:00 \(Europe\/London\)/);
    expect(mail.text).toMatch(/Meeting room 1: open to you .*14:15 – 16:15/);
    // The mail went out once the provider held the new window.
    const user = hh.emulator.state.userByExternalId(`lockstep-${booking.organiserId}`)!;
    expect(hh.emulator.state.memberships(user.id)[0].from).toBe(new Date(Date.parse(moved.body.start) - 15 * 60_000).toISOString());

    const renamed = await hh.call('PATCH', `/v1/bookings/${booking.id}`, { title: 'Renamed' }, hh.keys.admin);
    expect(renamed.status).toBe(200);
    await hh.converge();
    await hh.app.notifier.runOnce();
    await settle();
    expect(smtp.mails).toHaveLength(2);

    const pin = await guestPin(hh, booking.organiserId);
    expect((await hh.call('POST', `/v1/bookings/${booking.id}/cancel`, undefined, hh.keys.admin)).status).toBe(200);
    await expect.poll(() => smtp!.mails.length, { timeout: 15_000 }).toBe(3);
    const revoked = smtp.mails[2];
    expect(revoked.subject).toMatch(/^Booking cancelled: Renamed \(Space 1\)/);
    expect(revoked.text).toMatch(/has been cancelled, and the access it gave you has been withdrawn/);
    expect(revoked.text).not.toContain(pin);
    expect(hh.emulator.state.memberships(user.id)).toHaveLength(0);
    await hh.app.notifier.runOnce();
    await settle();
    expect(smtp.mails).toHaveLength(3);
  });

  it('mails the new PIN after a host regenerates it, once the provider has it', async () => {
    smtp = await startSmtp();
    h = await startHarness(kind, { notifier: { smtpUrl: smtp.url } });
    const hh = h;
    const space = await hh.space(['ag-meeting-1']);
    const booking = await book(hh, {
      spaceId: space,
      organiser: { name: 'Ada Guest', email: 'ada@example.com' },
      startLocal: tomorrowAt('Europe/London', '09:00'),
      endLocal: tomorrowAt('Europe/London', '10:00'),
    });
    await expect.poll(() => smtp!.mails.length, { timeout: 15_000 }).toBe(1);
    const oldPin = await guestPin(hh, booking.organiserId);

    const regen = await hh.call('POST', `/v1/people/${booking.organiserId}/pins/regenerate`, { integrationId: hh.integrationId }, hh.keys.host);
    expect(regen.status).toBe(200);
    await expect.poll(() => smtp!.mails.length, { timeout: 15_000 }).toBe(2);
    const newPin = await guestPin(hh, booking.organiserId);
    expect(newPin).not.toBe(oldPin);
    const mail = smtp.mails[1];
    expect(mail.subject).toBe('Your PIN has changed (Doors)');
    expect(mail.subject).not.toContain(newPin);
    expect(mail.text).toContain(`PIN: ${newPin}`);
    expect(mail.text).not.toContain(oldPin);
    expect(mail.text).toMatch(/Space 1: .*09:00 – 10:00 \(Europe\/London\)/);
    const user = hh.emulator.state.userByExternalId(`lockstep-${booking.organiserId}`)!;
    expect(hh.emulator.state.pinMatches(user.id, newPin)).toBe(true);

    await hh.app.notifier.runOnce();
    await settle();
    expect(smtp.mails).toHaveLength(2);
  });

  it("writes times in the location's own zone (America/New_York)", async () => {
    smtp = await startSmtp();
    h = await startHarness(kind, { timeZone: 'America/New_York', notifier: { smtpUrl: smtp.url } });
    const hh = h;
    const space = await hh.space(['ag-meeting-1']);
    await book(hh, {
      spaceId: space,
      organiser: { name: 'Ada Guest', email: 'ada@example.com' },
      startLocal: tomorrowAt('America/New_York', '18:00'),
      endLocal: tomorrowAt('America/New_York', '19:30'),
    });
    await expect.poll(() => smtp!.mails.length, { timeout: 15_000 }).toBe(1);
    expect(smtp.mails[0].text).toMatch(/18:00 – 19:30 \(America\/New_York\)/);
    expect(smtp.mails[0].text).toMatch(/Meeting room 1: open to you .*17:45 – 19:45 \(America\/New_York\)/);
    expect(smtp.mails[0].text).not.toContain('Europe/London');
  });
});

describe('booking e-mails with provider-issued offline codes (igloohome algoPIN)', () => {
  it('mails the issued code with its door, and on cancellation says the code keeps working until it expires but must not be used', async () => {
    const { igloohomeFixture } = await import('../contract/igloohome.js');
    const { hoursFromNow } = await import('../support/harness.js');
    const provider = await igloohomeFixture.start();
    const smtp = await startSmtp();
    const h = await startHarness('sqlite', { provider, notifier: { smtpUrl: smtp.url } });
    try {
      const space = await h.space([provider.targets[0]]);
      const res = await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada Guest', email: 'ada@example.com' }, start: hoursFromNow(3), end: hoursFromNow(5) }, h.keys.admin);
      expect(res.status).toBe(201);
      await expect.poll(() => smtp.mails.length, { timeout: 15_000 }).toBe(1);
      const guest = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId: res.body.organiserId }, h.keys.admin)).body.key;
      const creds = (await h.call('GET', '/v1/me/credentials', undefined, guest)).body.results;
      expect(creds).toHaveLength(1);
      const confirmed = smtp.mails[0];
      expect(confirmed.text).toContain(creds[0].secret);
      expect(confirmed.text).toContain('Your codes');
      // The code's own validity (whole hours for algoPIN) is shown in local time next to it.
      expect(confirmed.text).toMatch(/Front door, valid: .*:00 – .*:00 \(Europe\/London\)/);
      expect(confirmed.text).toMatch(/Front door, first use before: /);
      expect(confirmed.text).not.toContain('still being set up');

      // A host asks for a new code: the guest gets one mail with the new code, not the old one.
      const regen = await h.call('POST', `/v1/people/${res.body.organiserId}/pins/regenerate`, { integrationId: h.integrationId }, h.keys.host);
      expect(regen.status).toBe(200);
      await expect.poll(() => smtp.mails.length, { timeout: 15_000 }).toBe(2);
      await h.converge();
      const fresh = (await h.call('GET', '/v1/me/credentials', undefined, guest)).body.results;
      expect(fresh).toHaveLength(1);
      expect(fresh[0].secret).not.toBe(creds[0].secret);
      const changed = smtp.mails[1];
      expect(changed.subject).toMatch(/^New access code: Space 1/);
      expect(changed.text).toContain(fresh[0].secret);
      expect(changed.text).not.toContain(creds[0].secret);
      await h.app.notifier.runOnce();
      await settle();
      expect(smtp.mails).toHaveLength(2);

      expect((await h.call('POST', `/v1/bookings/${res.body.id}/cancel`, undefined, h.keys.admin)).status).toBe(200);
      await expect.poll(() => smtp.mails.length, { timeout: 15_000 }).toBe(3);
      const revoked = smtp.mails[2];
      expect(revoked.subject).toMatch(/^Booking cancelled/);
      expect(revoked.text).toMatch(/works offline and cannot be withdrawn remotely: technically it keeps working until .*\(Europe\/London\), but you must not use it\./);
      expect(revoked.text).not.toContain(creds[0].secret);
      expect(revoked.text).not.toContain(fresh[0].secret);
    } finally {
      await h.close();
      await smtp.stop();
      await provider.close();
    }
  });
});
