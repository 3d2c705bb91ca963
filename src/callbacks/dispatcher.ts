/**
 * Change call-backs (integration API, out): every booking create/update/cancel is POSTed, signed, to
 * the URL an external system registered (`/v1/callbacks`).
 *
 * Level-triggered like the sync engine and the notifier, so it does not matter who wrote the booking
 * (the API, a booking source writing rows directly, another worker) or whether a process died:
 *
 * 1. **Scan.** Each pass reads bookings whose `updated_at` is at or after the subscriptions' cursor
 *    (`scanned_to`) minus a look-back (late commits, clock skew between workers), compares each with
 *    the last change queued for that subscription, and queues a delivery when what the payload
 *    describes differs. The insert is idempotent — unique (subscription, booking, change key) — so
 *    two workers or a re-scan after a restart never queue a change twice.
 * 2. **Send.** Due deliveries are claimed with a lease (a dead worker's lease runs out and another
 *    takes over), POSTed with the Lockstep-Signature scheme of src/providers/webhook/signing.ts, and
 *    retried with exponential back-off. One booking's deliveries go out in order: a later one waits
 *    while an earlier one is still pending. Every attempt is recorded in the delivery log.
 *
 * Changes made between two passes are coalesced into the latest state (the receiver always sees the
 * booking as it is now, never a state older than one it has already seen).
 */
import os from 'node:os';
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { SecretBox } from '../security/crypto.js';
import { PassLoop } from '../engine/pass-loop.js';
import type { EngineLogger } from '../engine/runner.js';
import { backoffDelay, type BackoffPolicy } from '../engine/backoff.js';
import { newId } from '../store/ids.js';
import { formatLocal } from '../domain/time.js';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from '../providers/webhook/signing.js';

export const CALLBACK_EVENT_TYPES = ['booking.created', 'booking.updated', 'booking.cancelled'] as const;
export type CallbackEventType = (typeof CALLBACK_EVENT_TYPES)[number];
export const DELIVERY_ATTEMPT_HEADER = 'lockstep-delivery-attempt';

export interface CallbackSettings {
  pollMs: number;
  /** How far before the cursor each scan starts again (late commits, clock skew between workers). */
  lookbackMs: number;
  backoff: BackoffPolicy;
  /** Attempts before a delivery is given up as 'failed' (the next change of that booking then goes ahead). */
  maxAttempts: number;
  leaseMs: number;
  batchSize: number;
  timeoutMs: number;
  workerId: string;
  logger: EngineLogger;
  now: () => number;
}

const silent: EngineLogger = { info() {}, warn() {}, error() {} };

export const defaultCallbackSettings = (): CallbackSettings => ({
  pollMs: 2_000,
  lookbackMs: 2 * 60_000,
  backoff: { baseMs: 10_000, maxMs: 60 * 60_000 },
  maxAttempts: 12,
  leaseMs: 60_000,
  batchSize: 20,
  timeoutMs: 10_000,
  workerId: `${os.hostname()}:${process.pid}:${newId('c')}`,
  logger: silent,
  now: Date.now,
});

/** The event's `data`: what changed, and the e-mails only where the subscription and privacy allow. */
export interface CallbackEventData {
  bookingId: string;
  organisationId: string;
  spaceId: string;
  spaceName: string | null;
  status: Row<'bookings'>['status'];
  start: string;
  end: string;
  startLocal: string | null;
  endLocal: string | null;
  timeZone: string | null;
  title: string | null;
  version: number;
  source: string;
  externalId: string | null;
  updatedAt: string;
  emailsIncluded: boolean;
  organiser?: { email: string | null };
  attendees?: { email: string | null }[];
}

const SCAN_PAGE = 200;

export class CallbackDispatcher {
  private readonly s: CallbackSettings;
  private readonly loop: PassLoop;

  constructor(
    private readonly deps: { db: Kysely<Database>; secrets: SecretBox },
    settings: Partial<CallbackSettings> = {},
  ) {
    this.s = { ...defaultCallbackSettings(), ...settings };
    this.loop = new PassLoop(() => this.pass(), { name: 'call-back', logger: () => this.s.logger, nextDelayMs: () => this.s.pollMs });
  }

  useLogger(logger: EngineLogger): void {
    this.s.logger = logger;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** A booking may have changed: look now. A burst of wakes costs one pass. */
  wake(): void {
    this.loop.wake();
  }

  /** One scan-and-send pass. Concurrent calls share the pass in flight. */
  runOnce(): Promise<void> {
    return this.loop.runOnce();
  }

  private async pass(): Promise<void> {
    const queued = await this.scan();
    if (queued) this.s.logger.info({ queued }, 'call-back deliveries queued');
    await this.dispatch();
  }

  // Scan ----------------------------------------------------------------------------------------

  /** Queues a delivery for every booking change not yet queued; returns how many were queued. */
  async scan(): Promise<number> {
    const db = this.deps.db;
    const passStart = this.s.now();
    const subs = await db.selectFrom('callbackSubscriptions').selectAll().execute();
    if (subs.length === 0) return 0;
    const byOrg = new Map<string, Row<'callbackSubscriptions'>[]>();
    for (const sub of subs) byOrg.set(sub.organisationId, [...(byOrg.get(sub.organisationId) ?? []), sub]);
    const from = Math.min(...subs.map((s) => s.scannedTo)) - this.s.lookbackMs;

    let queued = 0;
    let after: { at: number; id: string } | null = null;
    for (;;) {
      let q = db
        .selectFrom('bookings')
        .selectAll()
        .where('organisationId', 'in', [...byOrg.keys()])
        .where('updatedAt', '>=', from);
      if (after) {
        const a: { at: number; id: string } = after;
        q = q.where((eb) => eb.or([eb('updatedAt', '>', a.at), eb.and([eb('updatedAt', '=', a.at), eb('id', '>', a.id)])]));
      }
      const page = await q.orderBy('updatedAt').orderBy('id').limit(SCAN_PAGE).execute();
      if (page.length === 0) break;
      queued += await this.queuePage(page, byOrg);
      const last = page[page.length - 1]!;
      after = { at: last.updatedAt, id: last.id };
      if (page.length < SCAN_PAGE) break;
    }
    // Everything updated before the pass started has been seen (up to the look-back's late commits).
    await db.updateTable('callbackSubscriptions').set({ scannedTo: passStart }).where('scannedTo', '<', passStart).execute();
    return queued;
  }

  private async queuePage(page: Row<'bookings'>[], byOrg: Map<string, Row<'callbackSubscriptions'>[]>): Promise<number> {
    const db = this.deps.db;
    const ids = page.map((b) => b.id);
    const [invitees, prior, spaces, privateSpaces] = await Promise.all([
      db.selectFrom('bookingInvitees').select(['bookingId', 'personId']).where('bookingId', 'in', ids).execute(),
      db
        .selectFrom('callbackDeliveries')
        .select(['subscriptionId', 'bookingId', 'fingerprint', 'bookingUpdatedAt', 'createdAt', 'payload'])
        .where('bookingId', 'in', ids)
        .execute(),
      db
        .selectFrom('spaces')
        .innerJoin('locations', 'locations.id', 'spaces.locationId')
        .select(['spaces.id', 'spaces.name', 'locations.timeZone'])
        .where('spaces.id', 'in', [...new Set(page.map((b) => b.spaceId))])
        .execute(),
      // Privacy mode on an integration serving the space: no contact data leaves Lockstep for it.
      db
        .selectFrom('mappings')
        .innerJoin('integrations', 'integrations.id', 'mappings.integrationId')
        .select('mappings.spaceId')
        .where('integrations.privacyMode', '=', 1)
        .where('integrations.status', '!=', 'disconnected')
        .where('mappings.spaceId', 'in', [...new Set(page.map((b) => b.spaceId))])
        .execute(),
    ]);
    const inviteesOf = new Map<string, string[]>();
    for (const i of invitees) inviteesOf.set(i.bookingId, [...(inviteesOf.get(i.bookingId) ?? []), i.personId]);
    const latest = new Map<string, (typeof prior)[number]>();
    for (const d of prior) {
      const key = `${d.subscriptionId}|${d.bookingId}`;
      const seen = latest.get(key);
      if (!seen || d.bookingUpdatedAt > seen.bookingUpdatedAt || (d.bookingUpdatedAt === seen.bookingUpdatedAt && d.createdAt > seen.createdAt)) latest.set(key, d);
    }
    const spaceById = new Map(spaces.map((s) => [s.id, s]));
    const privateSpace = new Set(privateSpaces.map((r) => r.spaceId));

    let emails: Map<string, string | null> | null = null;
    const emailOf = async (personIds: string[]) => {
      if (!emails) {
        const all = [...new Set(page.flatMap((b) => [b.organiserId, ...(inviteesOf.get(b.id) ?? [])]))];
        const rows = all.length ? await db.selectFrom('people').select(['id', 'email']).where('id', 'in', all).execute() : [];
        emails = new Map(rows.map((r) => [r.id, r.email]));
      }
      return personIds.map((id) => emails!.get(id) ?? null);
    };

    let queued = 0;
    const now = this.s.now();
    for (const booking of page) {
      const attendeeIds = [...(inviteesOf.get(booking.id) ?? [])].sort();
      const fingerprint = createHash('sha256')
        .update(JSON.stringify([booking.status, booking.startsAt, booking.endsAt, booking.spaceId, booking.organiserId, attendeeIds, booking.title, booking.sourceVersion]))
        .digest('hex')
        .slice(0, 32);
      for (const sub of byOrg.get(booking.organisationId) ?? []) {
        if (booking.updatedAt < sub.createdAt) continue;
        const last = latest.get(`${sub.id}|${booking.id}`);
        // A subscription for one space also hears about a booking that moved away from it.
        if (sub.spaceId !== null && sub.spaceId !== booking.spaceId && !last) continue;
        if (last && (last.fingerprint === fingerprint || last.bookingUpdatedAt > booking.updatedAt)) continue;
        const lastStatus = last ? (JSON.parse(last.payload) as CallbackEventData).status : null;
        const eventType: CallbackEventType =
          booking.status === 'cancelled' && lastStatus !== 'cancelled'
            ? 'booking.cancelled'
            : !last && booking.createdAt >= sub.createdAt
              ? 'booking.created'
              : 'booking.updated';
        const space = spaceById.get(booking.spaceId);
        const zone = space?.timeZone ?? null;
        const withEmails = sub.includeEmails === 1 && !privateSpace.has(booking.spaceId);
        const data: CallbackEventData = {
          bookingId: booking.id,
          organisationId: booking.organisationId,
          spaceId: booking.spaceId,
          spaceName: space?.name ?? null,
          status: booking.status,
          start: new Date(booking.startsAt).toISOString(),
          end: new Date(booking.endsAt).toISOString(),
          startLocal: zone ? localIso(booking.startsAt, zone) : null,
          endLocal: zone ? localIso(booking.endsAt, zone) : null,
          timeZone: zone,
          title: booking.title,
          version: booking.sourceVersion,
          source: booking.source,
          externalId: booking.externalId,
          updatedAt: new Date(booking.updatedAt).toISOString(),
          emailsIncluded: withEmails,
        };
        if (withEmails) {
          const [organiser, ...attendees] = await emailOf([booking.organiserId, ...attendeeIds]);
          data.organiser = { email: organiser ?? null };
          data.attendees = attendees.map((email) => ({ email }));
        }
        const inserted = await this.deps.db
          .insertInto('callbackDeliveries')
          .values({
            id: newId('cbd'),
            subscriptionId: sub.id,
            organisationId: booking.organisationId,
            bookingId: booking.id,
            changeKey: `${fingerprint}:${booking.updatedAt}`,
            fingerprint,
            bookingUpdatedAt: booking.updatedAt,
            version: booking.sourceVersion,
            eventType,
            payload: JSON.stringify(data),
            status: 'pending',
            attempts: 0,
            lastError: null,
            responseCode: null,
            nextAttemptAt: now,
            lastAttemptAt: null,
            deliveredAt: null,
            claimedBy: null,
            claimUntil: null,
            createdAt: now,
          })
          .onConflict((oc) => oc.columns(['subscriptionId', 'bookingId', 'changeKey']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) queued++;
      }
    }
    return queued;
  }

  // Send ----------------------------------------------------------------------------------------

  /** Claims due deliveries (the earliest pending one per subscription and booking) for this worker. */
  async claim(now: number): Promise<Row<'callbackDeliveries'>[]> {
    const db = this.deps.db;
    const rows = await db
      .selectFrom('callbackDeliveries as d')
      .select('d.id')
      .where('d.status', '=', 'pending')
      .where('d.nextAttemptAt', '<=', now)
      .where((eb) => eb.or([eb('d.claimUntil', 'is', null), eb('d.claimUntil', '<', now)]))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('callbackDeliveries as e')
              .select('e.id')
              .whereRef('e.subscriptionId', '=', 'd.subscriptionId')
              .whereRef('e.bookingId', '=', 'd.bookingId')
              .where('e.status', '=', 'pending')
              .where((x) =>
                x.or([
                  x('e.bookingUpdatedAt', '<', x.ref('d.bookingUpdatedAt')),
                  x.and([x('e.bookingUpdatedAt', '=', x.ref('d.bookingUpdatedAt')), x('e.createdAt', '<', x.ref('d.createdAt'))]),
                ]),
              ),
          ),
        ),
      )
      .orderBy('d.nextAttemptAt')
      .limit(this.s.batchSize)
      .execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const claimUntil = now + this.s.leaseMs;
    // The conditions are repeated on the update so two workers racing for a row cannot both win it.
    await db
      .updateTable('callbackDeliveries')
      .set({ claimedBy: this.s.workerId, claimUntil })
      .where('id', 'in', ids)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('claimUntil', 'is', null), eb('claimUntil', '<', now)]))
      .execute();
    return db
      .selectFrom('callbackDeliveries')
      .selectAll()
      .where('id', 'in', ids)
      .where('claimedBy', '=', this.s.workerId)
      .where('claimUntil', '=', claimUntil)
      .orderBy('bookingUpdatedAt')
      .execute();
  }

  private async dispatch(): Promise<void> {
    for (;;) {
      const rows = await this.claim(this.s.now());
      if (rows.length === 0) return;
      const subs = new Map<string, Row<'callbackSubscriptions'> | undefined>();
      for (const row of rows) {
        if (!subs.has(row.subscriptionId)) {
          subs.set(row.subscriptionId, await this.deps.db.selectFrom('callbackSubscriptions').selectAll().where('id', '=', row.subscriptionId).executeTakeFirst());
        }
        const sub = subs.get(row.subscriptionId);
        if (!sub) continue; // deleted meanwhile; its deliveries went with it
        await this.deliver(sub, row);
      }
      if (!this.loop.running) return;
    }
  }

  private async deliver(sub: Row<'callbackSubscriptions'>, row: Row<'callbackDeliveries'>): Promise<void> {
    const db = this.deps.db;
    const mine = (qb: any) => qb.where('id', '=', row.id).where('claimedBy', '=', this.s.workerId);
    // A newer state of this booking already reached the receiver (a slow scan queued this one late).
    const newer = await db
      .selectFrom('callbackDeliveries')
      .select('id')
      .where('subscriptionId', '=', row.subscriptionId)
      .where('bookingId', '=', row.bookingId)
      .where('status', '=', 'delivered')
      .where('bookingUpdatedAt', '>', row.bookingUpdatedAt)
      .executeTakeFirst();
    if (newer) {
      await mine(db.updateTable('callbackDeliveries').set({ status: 'superseded', claimedBy: null, claimUntil: null })).execute();
      return;
    }

    const body = JSON.stringify({
      id: row.id,
      type: row.eventType,
      createdAt: new Date(row.createdAt).toISOString(),
      subscriptionId: row.subscriptionId,
      data: JSON.parse(row.payload) as CallbackEventData,
    });
    const attempt = row.attempts + 1;
    let responseCode: number | null = null;
    let error: string | null = null;
    try {
      const secret = this.deps.secrets.open(sub.secretSealed);
      const timestamp = Math.floor(this.s.now() / 1000);
      const res = await fetch(sub.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.s.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Lockstep-Callbacks/1',
          [SIGNATURE_HEADER]: signatureHeader(secret, timestamp, body),
          [EVENT_ID_HEADER]: row.id,
          [EVENT_TYPE_HEADER]: row.eventType,
          [DELIVERY_ATTEMPT_HEADER]: String(attempt),
        },
        body,
      });
      responseCode = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) error = `the receiver answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    } catch (err) {
      error = describeNetworkError(err, sub.url);
    }
    const now = this.s.now();
    if (error === null) {
      await mine(
        db.updateTable('callbackDeliveries').set({ status: 'delivered', attempts: attempt, responseCode, lastError: null, lastAttemptAt: now, deliveredAt: now, claimedBy: null, claimUntil: null }),
      ).execute();
      this.s.logger.info({ deliveryId: row.id, subscriptionId: sub.id, eventType: row.eventType, attempts: attempt }, 'call-back delivered');
      return;
    }
    const giveUp = attempt >= this.s.maxAttempts;
    await mine(
      db.updateTable('callbackDeliveries').set({
        status: giveUp ? 'failed' : 'pending',
        attempts: attempt,
        responseCode,
        lastError: error,
        lastAttemptAt: now,
        nextAttemptAt: giveUp ? row.nextAttemptAt : now + backoffDelay(attempt, this.s.backoff),
        claimedBy: null,
        claimUntil: null,
      }),
    ).execute();
    this.s.logger.warn({ deliveryId: row.id, subscriptionId: sub.id, attempts: attempt, error }, giveUp ? 'call-back failed; giving up' : 'call-back not delivered; will retry');
  }
}

/** Local ISO time with offset, e.g. 2026-03-29T09:00:00+01:00 (the payload's startLocal/endLocal). */
function localIso(ms: number, zone: string): string | null {
  try {
    return formatLocal(ms, zone);
  } catch {
    return null;
  }
}

/** A network failure as an admin can act on it; the URL's query (it may carry a token) is left out. */
function describeNetworkError(err: unknown, url: string): string {
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.origin}${u.pathname}`;
  } catch {
    /* keep as is */
  }
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer from ${where} within the time limit`;
  const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return `could not reach ${where}: ${cause}`;
}
