/**
 * Feed → bookings. The feed is the truth for the window it covers (now … now + horizon):
 *
 * - an occurrence whose revision (`naturalVersion`: SEQUENCE, then LAST-MODIFIED/DTSTAMP) is lower
 *   than the one last applied comes from an older copy of the feed and is ignored — later edits win;
 * - otherwise, an occurrence whose content (times, space, status, title, people) differs from what was
 *   last applied is delivered through `ingestSourceBooking` with the ledger's version + 1 (the ledger
 *   version counts applied revisions of the occurrence), so a re-appearing event or a producer that
 *   never bumps SEQUENCE still gets through, and a duplicate delivery stays a no-op;
 * - a known occurrence that is no longer in the feed, is not over yet and starts within the horizon is
 *   cancelled (its access is revoked by the engine) once its absence is confirmed: missing from
 *   `removeAfterPolls` successful polls in a row (a 304 confirms the last download) and for
 *   `removeAfterMinutes`. Feeds do come back empty or partial now and then; one such answer never takes
 *   a door away, least of all from a guest on site. Past ones are left alone (Airbnb drops past stays);
 * - an event that cannot be read or names nobody is skipped and reported, and its bookings are left as
 *   they were (not cancelled): a half-broken feed never takes doors away.
 *
 * Unchanged occurrences cost no writes, so polling a feed that did not change is cheap even when the
 * producer rewrites DTSTAMP on every request.
 */
import { createHash } from 'node:crypto';
import type { SourceDeps } from '../deps.js';
import type { Row } from '../../store/schema.js';
import { ingestSourceBooking, SourceBookingError, type IngestOutcome, type SourcePerson } from '../ingest.js';
import type { SourceSettings } from '../kinds.js';
import { expandFeed, parseCalendar, type Occurrence, type SkippedEvent } from './expand.js';

export type IcalSettings = SourceSettings<'ical'>;

export interface ReconcileReport {
  events: number;
  occurrences: number;
  created: number;
  updated: number;
  cancelled: number;
  removed: number;
  unchanged: number;
  stale: number;
  /** Occurrences missing from the feed whose absence is not confirmed yet (their bookings stand). */
  missing: number;
  skippedCount: number;
  /** The first few skipped events and why (UIDs only; no personal data). */
  skipped: SkippedEvent[];
}

export class FeedConfigError extends Error {}

const MAX_SKIPPED_SHOWN = 20;
const KEEP_PAST_MS = 7 * 86_400_000;

export const sourceKey = (sourceId: string) => `ical:${sourceId}`;

export async function reconcileFeed(app: SourceDeps, source: Row<'bookingSources'>, settings: IcalSettings, body: string, now: number): Promise<ReconcileReport> {
  const db = app.store.db;
  const space = await db
    .selectFrom('spaces')
    .innerJoin('locations', 'locations.id', 'spaces.locationId')
    .select(['spaces.id', 'locations.timeZone'])
    .where('spaces.id', '=', settings.spaceId)
    .where('spaces.organisationId', '=', source.organisationId)
    .executeTakeFirst();
  if (!space) throw new FeedConfigError(`settings.spaceId ${settings.spaceId} is not a space of this organisation`);

  const horizonEnd = now + settings.horizonDays * 86_400_000;
  // Parse errors throw before anything is written: a malformed feed changes nothing.
  const feed = expandFeed(parseCalendar(body), { now, horizonEnd, zone: space.timeZone });

  const key = sourceKey(source.id);
  const known = new Map((await db.selectFrom('icalFeedEvents').selectAll().where('sourceId', '=', source.id).execute()).map((r) => [r.externalId, r]));
  const ledger = new Map(
    (await db.selectFrom('sourceEvents').select(['externalId', 'version']).where('organisationId', '=', source.organisationId).where('source', '=', key).execute()).map((r) => [
      r.externalId,
      Number(r.version),
    ]),
  );
  const report: ReconcileReport = { events: feed.events, occurrences: feed.occurrences.length, created: 0, updated: 0, cancelled: 0, removed: 0, unchanged: 0, stale: 0, missing: 0, skippedCount: 0, skipped: [] };
  const skip = (s: SkippedEvent) => {
    report.skippedCount++;
    if (report.skipped.length < MAX_SKIPPED_SHOWN) report.skipped.push(s);
  };
  feed.skipped.forEach(skip);

  const fallback: SourcePerson | null = settings.guestEmail ? { name: settings.guestName ?? settings.guestEmail, email: settings.guestEmail.toLowerCase() } : null;
  const present = new Set<string>();
  const actor = `source:${source.id}`;
  const count = (outcome: IngestOutcome) => {
    if (outcome === 'created') report.created++;
    else if (outcome === 'updated') report.updated++;
    else if (outcome === 'cancelled') report.cancelled++;
    else if (outcome === 'stale') report.stale++;
    else report.unchanged++;
  };

  for (const occ of feed.occurrences) {
    present.add(occ.externalId);
    const organiser = occ.organiser ?? fallback;
    if (!organiser && occ.status !== 'cancelled') {
      skip({ uid: occ.uid, reason: 'the event names no ORGANIZER or ATTENDEE e-mail and the source has no settings.guestEmail' });
      continue;
    }
    const fingerprint = fingerprintOf(occ, settings.spaceId, organiser);
    const before = known.get(occ.externalId);
    if (before && before.missingSince !== null) await markPresent(app, source.id, occ.externalId);
    if (before && before.fingerprint === fingerprint) {
      report.unchanged++;
      continue;
    }
    if (before && occ.natural < Number(before.naturalVersion)) {
      report.stale++; // an older copy of the feed (cache, mirror): what was applied is newer
      continue;
    }
    // The ledger version counts applied revisions (bookings.source_version is a 32-bit integer, too
    // small for SEQUENCE and a timestamp); which revision is newer was decided above on `natural`.
    const version = (ledger.get(occ.externalId) ?? 0) + 1;
    try {
      const result = await ingestSourceBooking(
        app,
        source.organisationId,
        {
          source: key,
          externalId: occ.externalId,
          version,
          status: occ.status,
          spaceId: settings.spaceId,
          startsAt: occ.startsAt,
          endsAt: occ.endsAt,
          title: occ.title,
          organiser: organiser ?? { name: 'unknown', email: 'unknown@invalid' },
          invitees: occ.invitees,
        },
        actor,
      );
      count(result.outcome);
    } catch (err) {
      if (!(err instanceof SourceBookingError)) throw err;
      skip({ uid: occ.uid, reason: err.message });
      continue;
    }
    ledger.set(occ.externalId, version);
    await remember(app, source.id, occ, fingerprint, now);
  }

  const absent = [...known.values()].filter((row) => !present.has(row.externalId) && !feed.unreadable.has(row.uid));
  await settleAbsences(app, source, settings, absent, now, report);
  await db.deleteFrom('icalFeedEvents').where('sourceId', '=', source.id).where('endsAt', '<', now - KEEP_PAST_MS).execute();
  return report;
}

/**
 * The feed did not change since the last download (304): every occurrence already missing from it is
 * missing for one more poll. Returns what that settled; nothing when no absence was pending.
 */
export async function confirmAbsences(app: SourceDeps, source: Row<'bookingSources'>, settings: IcalSettings, now: number): Promise<Pick<ReconcileReport, 'missing' | 'removed'> | null> {
  const absent = await app.store.db.selectFrom('icalFeedEvents').selectAll().where('sourceId', '=', source.id).where('cancelled', '=', 0).where('missingSince', 'is not', null).execute();
  if (absent.length === 0) return null;
  const tally = { missing: 0, removed: 0 };
  await settleAbsences(app, source, settings, absent, now, tally);
  return tally;
}

/** Counts one more poll of absence for each row; cancels the booking of those whose absence is now confirmed. */
async function settleAbsences(
  app: SourceDeps,
  source: Row<'bookingSources'>,
  settings: IcalSettings,
  absent: Row<'icalFeedEvents'>[],
  now: number,
  tally: Pick<ReconcileReport, 'missing' | 'removed'>,
): Promise<void> {
  const db = app.store.db;
  const horizonEnd = now + settings.horizonDays * 86_400_000;
  const key = sourceKey(source.id);
  for (const row of absent) {
    if (row.cancelled || !(row.endsAt > now) || !(row.startsAt < horizonEnd)) continue;
    const missingSince = row.missingSince === null ? now : Number(row.missingSince);
    const missingPolls = row.missingPolls + 1;
    const confirmed = missingPolls >= settings.removeAfterPolls && now - missingSince >= settings.removeAfterMinutes * 60_000;
    if (!confirmed) {
      tally.missing++;
      await db.updateTable('icalFeedEvents').set({ missingSince, missingPolls, updatedAt: now }).where('sourceId', '=', source.id).where('externalId', '=', row.externalId).execute();
      continue;
    }
    const ledger = await db.selectFrom('sourceEvents').select('version').where('organisationId', '=', source.organisationId).where('source', '=', key).where('externalId', '=', row.externalId).executeTakeFirst();
    const result = await ingestSourceBooking(
      app,
      source.organisationId,
      {
        source: key,
        externalId: row.externalId,
        version: Number(ledger?.version ?? 0) + 1,
        status: 'cancelled',
        spaceId: settings.spaceId,
        startsAt: row.startsAt,
        endsAt: row.endsAt,
        organiser: { name: 'unknown', email: 'unknown@invalid' },
      },
      `source:${source.id}`,
    );
    if (result.outcome === 'cancelled') tally.removed++;
    await db
      .updateTable('icalFeedEvents')
      .set({ cancelled: 1, fingerprint: 'removed', missingSince, missingPolls, updatedAt: now })
      .where('sourceId', '=', source.id)
      .where('externalId', '=', row.externalId)
      .execute();
  }
}

/** An occurrence that was missing is back in the feed: its absence starts again from zero. */
async function markPresent(app: SourceDeps, sourceId: string, externalId: string): Promise<void> {
  await app.store.db.updateTable('icalFeedEvents').set({ missingSince: null, missingPolls: 0 }).where('sourceId', '=', sourceId).where('externalId', '=', externalId).execute();
}

async function remember(app: SourceDeps, sourceId: string, occ: Occurrence, fingerprint: string, now: number): Promise<void> {
  const values = {
    uid: occ.uid,
    fingerprint,
    naturalVersion: occ.natural,
    startsAt: occ.startsAt,
    endsAt: occ.endsAt,
    cancelled: occ.status === 'cancelled' ? 1 : 0,
    missingSince: null,
    missingPolls: 0,
    updatedAt: now,
  };
  await app.store.db
    .insertInto('icalFeedEvents')
    .values({ sourceId, externalId: occ.externalId, ...values })
    .onConflict((oc) => oc.columns(['sourceId', 'externalId']).doUpdateSet(values))
    .execute();
}

function fingerprintOf(occ: Occurrence, spaceId: string, organiser: SourcePerson | null): string {
  const content = {
    s: occ.status,
    sp: spaceId,
    a: occ.startsAt,
    b: occ.endsAt,
    t: occ.title,
    o: organiser,
    i: [...occ.invitees].sort((x, y) => x.email.localeCompare(y.email)),
  };
  return createHash('sha256').update(JSON.stringify(content)).digest('base64url');
}
