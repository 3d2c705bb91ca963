/**
 * iCal feed sources end to end: a local HTTP server serves feeds (with ETag, counting requests), the
 * source is added through the API, polled through the API or the poller, and the resulting bookings
 * and their access are checked. Runs on SQLite and PostgreSQL.
 *
 * The feeds are modelled on what each producer publishes:
 * - Airbnb: the listing export after Airbnb's December 2019 change — all-day (VALUE=DATE) events,
 *   SUMMARY "Reserved" or "Airbnb (Not available)", DESCRIPTION with the reservation URL and the last 4
 *   phone digits, no ORGANIZER/ATTENDEE, PRODID "-//Airbnb Inc//Hosting Calendar 0.8.8//EN", DTSTAMP
 *   set to the time of the request (see https://www.uplisting.io/blog/how-the-airbnb-icalendar-ical-changes-will-affect-you-and-how-to-avoid-disruption,
 *   quoting Airbnb's announcement, and Airbnb Help "Sync your Airbnb calendar", airbnb.com/help/article/99).
 * - Google Calendar: the "secret address in iCal format" export (support.google.com/calendar/answer/37648):
 *   X-WR-TIMEZONE, a VTIMEZONE for Europe/London with X-LIC-LOCATION and yearly DAYLIGHT/STANDARD
 *   rules, DTSTART;TZID=…, RRULE with EXDATE, an overridden instance as a second VEVENT with the same
 *   UID and RECURRENCE-ID, ORGANIZER/ATTENDEE with CN and mailto, SEQUENCE, CREATED, LAST-MODIFIED.
 * - Booking.com: the extranet's calendar export (Booking.com Partner Help, "How do I sync my
 *   calendars?"): PRODID "-//admin.booking.com//…", METHOD:PUBLISH, all-day events whose SUMMARY is
 *   always "CLOSED - Not available", DTSTAMP, no guest data.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { formatLocal } from '../../src/domain/time.js';

const ZONE = 'America/New_York'; // the location's zone: all-day and floating times are read here
const TOKEN = 'SECRET-FEED-TOKEN-3f9a';

interface Served {
  body: string;
  etag?: string;
  status?: number;
}

/** A feed host: serves what `feeds[path]` says, answers 304 to a matching If-None-Match, counts. */
async function startFeedServer() {
  const feeds = new Map<string, Served>();
  const log: { path: string; status: number; ifNoneMatch: string | null }[] = [];
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const feed = feeds.get(path);
    const inm = (req.headers['if-none-match'] as string | undefined) ?? null;
    let status = 404;
    if (feed) {
      status = feed.status ?? 200;
      if (status === 200 && feed.etag && inm === feed.etag) status = 304;
    }
    log.push({ path, status, ifNoneMatch: inm });
    if (status === 200 && feed) {
      res.writeHead(200, { 'content-type': 'text/calendar; charset=utf-8', ...(feed.etag ? { etag: feed.etag } : {}) });
      res.end(feed.body);
    } else {
      res.writeHead(status);
      res.end(status === 304 ? undefined : 'error');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    feeds,
    log,
    url: (path: string) => `${base}${path}?s=${TOKEN}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const ics = (...lines: string[]) => lines.join('\r\n') + '\r\n';
/** YYYYMMDD `n` days from today at the location. */
const day = (n: number) => DateTime.now().setZone(ZONE).startOf('day').plus({ days: n }).toFormat('yyyyLLdd');
const stampNow = () => DateTime.utc().toFormat("yyyyLLdd'T'HHmmss'Z'");
const localMidnight = (n: number) => DateTime.now().setZone(ZONE).startOf('day').plus({ days: n }).toMillis();

const airbnb = (events: { uid: string; from: number; to: number; summary?: string }[]) =>
  ics(
    'BEGIN:VCALENDAR',
    'PRODID;X-RICAL-TZSOURCE=TZINFO:-//Airbnb Inc//Hosting Calendar 0.8.8//EN',
    'CALSCALE:GREGORIAN',
    'VERSION:2.0',
    ...events.flatMap((e) => [
      'BEGIN:VEVENT',
      `DTSTAMP:${stampNow()}`,
      `DTEND;VALUE=DATE:${day(e.to)}`,
      `DTSTART;VALUE=DATE:${day(e.from)}`,
      `UID:${e.uid}`,
      ...(e.summary === 'Airbnb (Not available)'
        ? ['SUMMARY:Airbnb (Not available)']
        : ['DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMABCD1234\\nPhone', '  Number (Last 4 Digits): 4321', 'SUMMARY:Reserved']),
      'END:VEVENT',
    ]),
    'END:VCALENDAR',
  );

const LONDON_VTIMEZONE = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/London',
  'X-LIC-LOCATION:Europe/London',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0000',
  'TZOFFSETTO:+0100',
  'TZNAME:BST',
  'DTSTART:19700329T010000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0000',
  'TZNAME:GMT',
  'DTSTART:19701025T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
];

const google = (vevents: string[][]) =>
  ics(
    'BEGIN:VCALENDAR',
    'PRODID:-//Google Inc//Google Calendar 70.9054//EN',
    'VERSION:2.0',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    'X-WR-CALNAME:Studio bookings',
    'X-WR-TIMEZONE:Europe/London',
    ...LONDON_VTIMEZONE,
    ...vevents.flat(),
    'END:VCALENDAR',
  );

/** London wall-clock `yyyyLLdd'T'HHmmss`. */
const london = (dt: DateTime) => dt.setZone('Europe/London').toFormat("yyyyLLdd'T'HHmmss");

/** A Monday 10:00 in London, three weeks before the next change of London's UTC offset that is at least 4 weeks away. */
function seriesStartAcrossDst(): DateTime {
  let t = DateTime.now().setZone('Europe/London').startOf('day').plus({ days: 28 });
  const offset = t.offset;
  while (t.offset === offset) t = t.plus({ days: 1 });
  return t.minus({ days: 21 }).startOf('week').set({ hour: 10 });
}

const stamp = (dt: DateTime) => dt.toUTC().toFormat("yyyyLLdd'T'HHmmss'Z'");

for (const kind of storeKinds) {
  describe(`iCal feed sources (${kind})`, () => {
    let h: Harness;
    let feeds: Awaited<ReturnType<typeof startFeedServer>>;
    afterEach(async () => {
      await h?.close();
      await feeds?.close();
    });

    const setup = async (opts: Parameters<typeof startHarness>[1] = {}) => {
      feeds = await startFeedServer();
      h = await startHarness(kind, { timeZone: ZONE, sources: { enabled: false }, ...opts });
      return h.space();
    };
    const addSource = async (path: string, settings: Record<string, unknown>) => {
      const res = await h.call('POST', '/v1/sources', { kind: 'ical', name: 'Feed', settings: { url: feeds.url(path), ...settings } }, h.keys.admin);
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const poll = async (id: string) => {
      const res = await h.call('POST', `/v1/sources/${id}/poll`, undefined, h.keys.admin);
      expect(res.status).toBe(200);
      return res.body;
    };
    const bookings = (id: string) =>
      h.app.store.db.selectFrom('bookings').selectAll().where('source', '=', `ical:${id}`).orderBy('startsAt').orderBy('externalId').execute();
    const syncState = async (bookingId: string) => (await h.call('GET', `/v1/bookings/${bookingId}/sync`, undefined, h.keys.admin)).body.state;
    const organiserEmail = async (personId: string) => (await h.app.store.db.selectFrom('people').select('email').where('id', '=', personId).executeTakeFirstOrThrow()).email;

    it('Airbnb: all-day stays become whole days at the location; 304s are used; unchanged feeds write nothing; a removed stay is cancelled and its access revoked', async () => {
      const space = await setup();
      const events = [
        { uid: '1418fb94e984-0a1b2c3d4e5f60718293a4b5c6d7e8f9@airbnb.com', from: 3, to: 6 },
        { uid: '7f3e8a1c9d2b-11223344556677889900aabbccddeeff@airbnb.com', from: 10, to: 12 },
        { uid: '5c2d7e1a4b3f-0f0e0d0c0b0a09080706050403020100@airbnb.com', from: 14, to: 15, summary: 'Airbnb (Not available)' },
      ];
      feeds.feeds.set('/calendar/ical/4242.ics', { body: airbnb(events), etag: '"v1"' });
      const id = await addSource('/calendar/ical/4242.ics', { spaceId: space, guestName: 'Airbnb guest', guestEmail: 'frontdesk@example.com', removeAfterMinutes: 0 });

      const first = await poll(id);
      expect(first).toMatchObject({ state: 'ok', lastHttpStatus: 200, lastError: null, etag: true, report: { events: 3, created: 3 } });
      let rows = await bookings(id);
      expect(rows.map((r) => [r.externalId, r.startsAt, r.endsAt, r.status, r.spaceId])).toEqual([
        [events[0]!.uid, localMidnight(3), localMidnight(6), 'confirmed', space],
        [events[1]!.uid, localMidnight(10), localMidnight(12), 'confirmed', space],
        [events[2]!.uid, localMidnight(14), localMidnight(15), 'confirmed', space],
      ]);
      expect(rows[0]!.title).toBe('Reserved');
      expect(await organiserEmail(rows[0]!.organiserId)).toBe('frontdesk@example.com');

      // Same ETag: the poller asks conditionally and gets a 304; nothing is written.
      const second = await poll(id);
      expect(second).toMatchObject({ state: 'not-modified', lastHttpStatus: 304 });
      expect(feeds.log.map((l) => [l.status, l.ifNoneMatch])).toEqual([
        [200, null],
        [304, '"v1"'],
      ]);

      // Airbnb regenerates DTSTAMP on every request: a new ETag, same stays → no booking writes.
      await new Promise((r) => setTimeout(r, 1100));
      feeds.feeds.set('/calendar/ical/4242.ics', { body: airbnb(events), etag: '"v2"' });
      const third = await poll(id);
      expect(third.report).toMatchObject({ unchanged: 3, created: 0, updated: 0, cancelled: 0, removed: 0 });
      expect((await bookings(id)).map((r) => r.updatedAt)).toEqual(rows.map((r) => r.updatedAt));

      await h.converge();
      expect(await syncState(rows[1]!.id)).toBe('applied');

      // The second stay disappears from the feed: one poll is not enough to take it away…
      feeds.feeds.set('/calendar/ical/4242.ics', { body: airbnb([events[0]!, events[2]!]), etag: '"v3"' });
      const fourth = await poll(id);
      expect(fourth.report).toMatchObject({ removed: 0, missing: 1, unchanged: 2 });
      expect((await bookings(id)).map((r) => r.status)).toEqual(['confirmed', 'confirmed', 'confirmed']);
      // …the next poll (a 304: the feed still lacks it) confirms the absence: cancelled, access revoked.
      const fifth = await poll(id);
      expect(fifth).toMatchObject({ state: 'not-modified', report: { removed: 1, missing: 0 } });
      rows = await bookings(id);
      expect(rows.map((r) => r.status)).toEqual(['confirmed', 'cancelled', 'confirmed']);
      await h.converge();
      expect(await syncState(rows[1]!.id)).toBe('revoked');
      expect(await syncState(rows[0]!.id)).toBe('applied');

      // It comes back (e.g. re-booked): the same booking is confirmed again.
      feeds.feeds.set('/calendar/ical/4242.ics', { body: airbnb(events), etag: '"v4"' });
      expect((await poll(id)).report).toMatchObject({ updated: 1 });
      expect((await bookings(id)).map((r) => r.status)).toEqual(['confirmed', 'confirmed', 'confirmed']);
    });

    it('a feed that comes back empty or partial takes nobody\'s access away until the absence is confirmed over polls and time', async () => {
      const space = await setup();
      const now = DateTime.now().setZone(ZONE);
      // A stay in progress (the guest is on site) and one next week.
      const onSite = { uid: 'onsite-1@airbnb.com', from: -1, to: 2 };
      const later = { uid: 'later-1@airbnb.com', from: 7, to: 9 };
      feeds.feeds.set('/f.ics', { body: airbnb([onSite, later]) });
      const id = await addSource('/f.ics', { spaceId: space, guestEmail: 'frontdesk@example.com' });
      expect((await poll(id)).report).toMatchObject({ created: 2 });
      await h.converge();
      const [current] = await bookings(id);
      expect(current!.startsAt).toBeLessThan(now.toMillis());
      expect(await syncState(current!.id)).toBe('applied');

      // The host's feed answers with an empty calendar, twice in a row: both stays are only "missing",
      // because 30 minutes (the default removeAfterMinutes) have not passed.
      feeds.feeds.set('/f.ics', { body: airbnb([]) });
      expect((await poll(id)).report).toMatchObject({ events: 0, missing: 2, removed: 0 });
      expect((await poll(id)).report).toMatchObject({ missing: 2, removed: 0 });
      expect((await bookings(id)).map((r) => r.status)).toEqual(['confirmed', 'confirmed']);
      await h.converge();
      expect(await syncState(current!.id)).toBe('applied');
      const counted = await h.app.store.db.selectFrom('icalFeedEvents').select(['externalId', 'missingPolls']).where('sourceId', '=', id).orderBy('externalId').execute();
      expect(counted.map((r) => Number(r.missingPolls))).toEqual([2, 2]);

      // The feed recovers: the count starts again from zero, so a later blip does not add to it.
      feeds.feeds.set('/f.ics', { body: airbnb([onSite, later]) });
      expect((await poll(id)).report).toMatchObject({ unchanged: 2, missing: 0, removed: 0 });
      const reset = await h.app.store.db.selectFrom('icalFeedEvents').select(['missingPolls', 'missingSince']).where('sourceId', '=', id).execute();
      expect(reset.every((r) => Number(r.missingPolls) === 0 && r.missingSince === null)).toBe(true);

      // Only when both rules hold (here: 2 polls, no minimum time) is a vanished stay cancelled.
      const patched = await h.call('PATCH', `/v1/sources/${id}`, { settings: { url: feeds.url('/f.ics'), spaceId: space, guestEmail: 'frontdesk@example.com', removeAfterMinutes: 0 } }, h.keys.admin);
      expect(patched.status).toBe(200);
      feeds.feeds.set('/f.ics', { body: airbnb([onSite]) });
      expect((await poll(id)).report).toMatchObject({ missing: 1, removed: 0 });
      expect((await poll(id)).report).toMatchObject({ missing: 0, removed: 1 });
      expect((await bookings(id)).map((r) => r.status)).toEqual(['confirmed', 'cancelled']);
    });

    it('Google Calendar: TZID with VTIMEZONE, weekly RRULE across a DST change keeps 10:00 London, EXDATE skipped, overridden instance moved; attendees become invitees', async () => {
      const space = await setup();
      const start = seriesStartAcrossDst();
      const uid = '4n1q2v8o7m3k9p0r5s6t@google.com';
      const occurrence = (i: number) => start.plus({ weeks: i });
      const master = [
        'BEGIN:VEVENT',
        `DTSTART;TZID=Europe/London:${london(start)}`,
        `DTEND;TZID=Europe/London:${london(start.plus({ hours: 2 }))}`,
        'RRULE:FREQ=WEEKLY;COUNT=8',
        `EXDATE;TZID=Europe/London:${london(occurrence(2))}`,
        `DTSTAMP:${stampNow()}`,
        'ORGANIZER;CN=Studio Owner:mailto:owner@example.com',
        `UID:${uid}`,
        'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Ada Lovelace;X-NUM-GUESTS=0:mailto:ada@example.com',
        'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;CN=Bob;X-NUM-GUESTS=0:mailto:bob@example.com',
        'CREATED:20250101T090000Z',
        `LAST-MODIFIED:${stamp(DateTime.now().minus({ days: 1 }))}`,
        'SEQUENCE:0',
        'STATUS:CONFIRMED',
        'SUMMARY:Band rehearsal',
        'TRANSP:OPAQUE',
        'END:VEVENT',
      ];
      const override = [
        'BEGIN:VEVENT',
        `DTSTART;TZID=Europe/London:${london(occurrence(4).plus({ hours: 1 }))}`,
        `DTEND;TZID=Europe/London:${london(occurrence(4).plus({ hours: 3 }))}`,
        `DTSTAMP:${stampNow()}`,
        'ORGANIZER;CN=Studio Owner:mailto:owner@example.com',
        `UID:${uid}`,
        `RECURRENCE-ID;TZID=Europe/London:${london(occurrence(4))}`,
        'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Ada Lovelace:mailto:ada@example.com',
        `LAST-MODIFIED:${stamp(DateTime.now().minus({ hours: 1 }))}`,
        'SEQUENCE:1',
        'STATUS:CONFIRMED',
        'SUMMARY:Band rehearsal (late start)',
        'END:VEVENT',
      ];
      feeds.feeds.set('/calendar/ical/studio%40example.com/private-abc/basic.ics', { body: google([master, override]), etag: '"g1"' });
      const id = await addSource('/calendar/ical/studio%40example.com/private-abc/basic.ics', { spaceId: space });
      const status = await poll(id);
      expect(status.lastError).toBeNull();
      expect(status).toMatchObject({ state: 'ok', report: { events: 2, created: 7, skippedCount: 0 } });

      const rows = await bookings(id);
      expect(rows).toHaveLength(7); // 8 weekly, one EXDATE'd
      const localStarts = rows.map((r) => formatLocal(r.startsAt, 'Europe/London').slice(11, 16));
      expect(localStarts).toEqual(['10:00', '10:00', '10:00', '11:00', '10:00', '10:00', '10:00']);
      expect(rows.map((r) => (r.endsAt - r.startsAt) / 3_600_000)).toEqual([2, 2, 2, 2, 2, 2, 2]);
      // The series really crosses a change of UTC offset, and the wall-clock time held.
      const offsets = new Set(rows.map((r) => formatLocal(r.startsAt, 'Europe/London').slice(19)));
      expect(offsets.size).toBe(2);
      expect(rows.map((r) => r.startsAt)).not.toContain(occurrence(2).toMillis());
      const moved = rows[3]!;
      expect(moved.externalId).toBe(`${uid}#${occurrence(4).toUTC().toISO({ suppressMilliseconds: false })}`);
      expect(moved.title).toBe('Band rehearsal (late start)');
      expect(rows[0]!.externalId).toBe(`${uid}#${occurrence(0).toUTC().toISO()}`);
      expect(await organiserEmail(rows[0]!.organiserId)).toBe('owner@example.com');
      const invitees = await h.app.store.db
        .selectFrom('bookingInvitees')
        .innerJoin('people', 'people.id', 'bookingInvitees.personId')
        .select('people.email')
        .where('bookingId', '=', rows[0]!.id)
        .execute();
      expect(invitees.map((i) => i.email)).toEqual(['ada@example.com']); // Bob declined

      // The organiser lengthens every session by an hour (SEQUENCE 1): the plain instances are updated
      // in place (same booking ids), the overridden instance keeps its own times.
      const edited = master.map((l) => (l.startsWith('DTEND') ? `DTEND;TZID=Europe/London:${london(start.plus({ hours: 3 }))}` : l.startsWith('SEQUENCE') ? 'SEQUENCE:1' : l));
      feeds.feeds.set('/calendar/ical/studio%40example.com/private-abc/basic.ics', { body: google([edited, override]), etag: '"g2"' });
      const after = await poll(id);
      expect(after.report).toMatchObject({ updated: 6, unchanged: 1, created: 0, removed: 0 });
      const again = await bookings(id);
      expect(again.map((r) => r.id)).toEqual(rows.map((r) => r.id));
      expect(again.map((r) => (r.endsAt - r.startsAt) / 3_600_000)).toEqual([3, 3, 3, 2, 3, 3, 3]);
      expect(again.map((r) => formatLocal(r.startsAt, 'Europe/London').slice(11, 16))).toEqual(localStarts);
    });

    it('edits: a SEQUENCE bump moves the booking, an older copy of the feed does not move it back, STATUS:CANCELLED cancels and revokes', async () => {
      const space = await setup();
      const uid = 'evt-5521@calendar.example.com';
      const event = (seq: number, from: DateTime, extra: string[] = []) =>
        ics(
          'BEGIN:VCALENDAR',
          'VERSION:2.0',
          'PRODID:-//Example Corp//Room Calendar//EN',
          'BEGIN:VEVENT',
          `UID:${uid}`,
          `DTSTAMP:${stamp(DateTime.now().minus({ hours: 3 - seq }))}`,
          `SEQUENCE:${seq}`,
          `DTSTART:${stamp(from)}`,
          `DTEND:${stamp(from.plus({ hours: 2 }))}`,
          'SUMMARY:Workshop',
          'ORGANIZER;CN=Grace Hopper:mailto:grace@example.com',
          ...extra,
          'END:VEVENT',
          'END:VCALENDAR',
        );
      const t0 = DateTime.utc().plus({ days: 2 }).startOf('hour');
      feeds.feeds.set('/room.ics', { body: event(0, t0), etag: '"a"' });
      const id = await addSource('/room.ics', { spaceId: space });
      await poll(id);
      const [created] = await bookings(id);
      expect(created).toMatchObject({ externalId: uid, startsAt: t0.toMillis(), status: 'confirmed' });
      await h.converge();

      feeds.feeds.set('/room.ics', { body: event(1, t0.plus({ days: 1 })), etag: '"b"' });
      const edit = await poll(id);
      expect(edit.lastError).toBeNull();
      expect(edit.report).toEqual(expect.objectContaining({ updated: 1, stale: 0 }));
      let rows = await bookings(id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: created!.id, startsAt: t0.plus({ days: 1 }).toMillis() });

      // A stale mirror serves the old revision again: ignored.
      feeds.feeds.set('/room.ics', { body: event(0, t0), etag: '"a-stale"' });
      expect((await poll(id)).report).toMatchObject({ stale: 1, updated: 0 });
      expect((await bookings(id))[0]!.startsAt).toBe(t0.plus({ days: 1 }).toMillis());

      feeds.feeds.set('/room.ics', { body: event(2, t0.plus({ days: 1 }), ['STATUS:CANCELLED']), etag: '"c"' });
      expect((await poll(id)).report).toMatchObject({ cancelled: 1 });
      rows = await bookings(id);
      expect(rows[0]!.status).toBe('cancelled');
      await h.converge();
      expect(await syncState(rows[0]!.id)).toBe('revoked');
    });

    it('Booking.com: CLOSED blocks book the fallback guest; an event naming nobody without a fallback is skipped with the reason', async () => {
      const space = await setup();
      const body = ics(
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//admin.booking.com\\, b.v.//NONSGML v1.0//EN',
        'CALSCALE:GREGORIAN',
        'METHOD:PUBLISH',
        'BEGIN:VEVENT',
        `DTSTAMP:${stampNow()}`,
        `DTSTART;VALUE=DATE:${day(5)}`,
        `DTEND;VALUE=DATE:${day(9)}`,
        'UID:ab8907e00fb0089a06e5acfdea101250@booking.com',
        'SUMMARY:CLOSED - Not available',
        'END:VEVENT',
        'END:VCALENDAR',
      );
      feeds.feeds.set('/v1/export', { body, etag: 'W/"bk1"' });
      const noGuest = await addSource('/v1/export', { spaceId: space });
      const skipped = await poll(noGuest);
      expect(skipped).toMatchObject({ state: 'ok', report: { created: 0, skippedCount: 1, skipped: [{ uid: 'ab8907e00fb0089a06e5acfdea101250@booking.com', reason: expect.stringMatching(/guestEmail/) }] } });
      expect(await bookings(noGuest)).toEqual([]);

      const withGuest = await addSource('/v1/export', { spaceId: space, guestName: 'Booking.com guest', guestEmail: 'Arrivals@Example.com' });
      expect((await poll(withGuest)).report).toMatchObject({ created: 1 });
      const [row] = await bookings(withGuest);
      expect(row).toMatchObject({ startsAt: localMidnight(5), endsAt: localMidnight(9), title: 'CLOSED - Not available' });
      expect(await organiserEmail(row!.organiserId)).toBe('arrivals@example.com');
    });

    it('a malformed feed or an HTTP error is recorded (without the URL token), backs off, and changes nothing', async () => {
      const space = await setup();
      feeds.feeds.set('/feed.ics', { body: airbnb([{ uid: 'keep@airbnb.com', from: 2, to: 4 }]), etag: '"1"' });
      const id = await addSource('/feed.ics', { spaceId: space, guestEmail: 'guest@example.com', pollMinutes: 5 });
      await poll(id);
      const before = await bookings(id);
      expect(before).toHaveLength(1);

      feeds.feeds.set('/feed.ics', { body: '<!DOCTYPE html><html><body>Sign in</body></html>', etag: '"2"' });
      const broken = await poll(id);
      expect(broken).toMatchObject({ state: 'error', consecutiveFailures: 1 });
      expect(broken.lastError).toMatch(/not valid iCalendar|not a VCALENDAR/);

      feeds.feeds.set('/feed.ics', { body: 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:2026', etag: '"3"' });
      expect((await poll(id)).state).toBe('error');

      feeds.feeds.set('/feed.ics', { body: '', status: 503 });
      const down = await poll(id);
      expect(down).toMatchObject({ state: 'error', lastHttpStatus: 503, consecutiveFailures: 3 });
      expect(down.lastError).toMatch(/answered HTTP 503/);
      expect(JSON.stringify(down)).not.toContain(TOKEN);
      // Back-off: the third failure waits about 4× the 5-minute interval.
      expect(Date.parse(down.nextPollAt) - Date.parse(down.lastPolledAt)).toBeGreaterThan(3 * 5 * 60_000);
      const source = (await h.call('GET', `/v1/sources/${id}`, undefined, h.keys.admin)).body;
      expect(source.lastError).toMatch(/503/);
      expect(source.lastError).not.toContain(TOKEN);

      // Nothing was lost or changed.
      expect(await bookings(id)).toEqual(before);

      // Recovery clears the error.
      feeds.feeds.set('/feed.ics', { body: airbnb([{ uid: 'keep@airbnb.com', from: 2, to: 4 }]), etag: '"4"' });
      expect(await poll(id)).toMatchObject({ state: 'ok', lastError: null, consecutiveFailures: 0, report: { unchanged: 1 } });
    });

    it('the poller polls on its own: a new source right away, then on schedule with a conditional GET', async () => {
      const space = await setup({ sources: { tickMs: 50, minuteMs: 300 } });
      feeds.feeds.set('/auto.ics', { body: airbnb([{ uid: 'auto@airbnb.com', from: 1, to: 2 }]), etag: '"auto"' });
      const id = await addSource('/auto.ics', { spaceId: space, guestEmail: 'guest@example.com', pollMinutes: 1 });
      const until = async (check: () => Promise<boolean> | boolean, ms = 10_000) => {
        const end = Date.now() + ms;
        while (!(await check())) {
          if (Date.now() > end) throw new Error('timed out');
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      await until(async () => (await bookings(id)).length === 1);
      await until(() => feeds.log.some((l) => l.status === 304));
      const status = (await h.call('GET', `/v1/sources/${id}/status`, undefined, h.keys.admin)).body;
      expect(['ok', 'not-modified']).toContain(status.state);
      expect(feeds.log[0]).toMatchObject({ status: 200, ifNoneMatch: null });
    });

    it('API: poll/status only for ical sources, team-admin only, other organisations see nothing', async () => {
      const space = await setup();
      feeds.feeds.set('/x.ics', { body: airbnb([]), etag: '"x"' });
      const id = await addSource('/x.ics', { spaceId: space, guestEmail: 'guest@example.com' });
      expect((await h.call('POST', `/v1/sources/${id}/poll`, undefined, h.keys.host)).status).toBe(403);
      const hook = await h.call('POST', '/v1/sources', { kind: 'webhook', name: 'Hook', settings: { defaultSpaceId: space } }, h.keys.admin);
      const notFeed = await h.call('POST', `/v1/sources/${hook.body.id}/poll`, undefined, h.keys.admin);
      expect(notFeed.status).toBe(400);
      expect((await h.call('GET', `/v1/sources/src_nope/status`, undefined, h.keys.admin)).status).toBe(404);
      expect((await h.call('GET', `/v1/sources/${id}/status`, undefined, h.keys.admin)).body).toMatchObject({ state: 'never-polled', report: null });
      expect(feeds.log).toEqual([]);
    });
  });
}
