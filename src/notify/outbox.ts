/**
 * The notifications table as an outbox: rows are added idempotently (one per dedupe key, however many
 * workers or passes try), then claimed with a lease, sent, and marked. A crashed sender's lease runs
 * out and another worker picks the row up.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { SecretBox } from '../security/crypto.js';
import { newId } from '../store/ids.js';
import { redactHtml, redactText, type RenderedMessage } from './render.js';
import type { NotificationKind } from './messages.js';

export interface NewNotification {
  organisationId: string | null;
  personId: string | null;
  toAddress: string;
  kind: NotificationKind;
  dedupeKey: string;
  bookingId?: string | null;
  fingerprint?: string | null;
  message: RenderedMessage;
}

export interface SealedBody {
  text: string;
  html: string;
  redactedText: string;
  redactedHtml: string;
}

/**
 * What is sealed in a row: the two parts and the secrets they carry; the redacted copies are made
 * when read (each part held twice made the row, with its inline QR image, twice the size, and the
 * insert the notifier's costliest statement). Rows written before keep their stored copies.
 */
type StoredBody = { text: string; html: string } & ({ secrets: string[] } | { redactedText: string; redactedHtml: string });

export class Outbox {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * Adds the message unless one with the same dedupe key exists. `deliver`: false when no SMTP is
   * configured, so the row is kept in the local outbox instead of queued for sending.
   */
  async add(n: NewNotification, deliver: boolean, now = Date.now()): Promise<boolean> {
    const body: StoredBody = { text: n.message.text, html: n.message.html, secrets: n.message.secrets };
    const res = await this.db
      .insertInto('notifications')
      .values({
        id: newId('msg'),
        organisationId: n.organisationId,
        personId: n.personId,
        toAddress: n.toAddress,
        kind: n.kind,
        dedupeKey: n.dedupeKey,
        bookingId: n.bookingId ?? null,
        fingerprint: n.fingerprint ?? null,
        subject: n.message.subject,
        bodySealed: this.secrets.seal(JSON.stringify(body)),
        status: deliver && n.toAddress ? 'queued' : 'outbox',
        attempts: 0,
        lastError: null,
        claimedBy: null,
        claimUntil: null,
        createdAt: now,
        sendAfter: now,
        sentAt: null,
      })
      .onConflict((oc) => oc.column('dedupeKey').doNothing())
      .returning('id')
      .executeTakeFirst();
    return res !== undefined;
  }

  async exists(dedupeKey: string): Promise<boolean> {
    return !!(await this.db.selectFrom('notifications').select('id').where('dedupeKey', '=', dedupeKey).executeTakeFirst());
  }

  open(row: Pick<Row<'notifications'>, 'bodySealed'>): SealedBody {
    const body = JSON.parse(this.secrets.open(row.bodySealed)) as StoredBody;
    if (!('secrets' in body)) return body;
    return { text: body.text, html: body.html, redactedText: redactText(body.text, body.secrets), redactedHtml: redactHtml(body.html, body.secrets) };
  }

  /** Claims up to `limit` due rows for this worker. */
  async claim(workerId: string, now: number, limit: number, leaseMs: number): Promise<Row<'notifications'>[]> {
    const due = (qb: any) =>
      qb
        .where('status', '=', 'queued')
        .where('sendAfter', '<=', now)
        .where((eb: any) => eb.or([eb('claimUntil', 'is', null), eb('claimUntil', '<', now)]));
    const ids = (await due(this.db.selectFrom('notifications').select('id')).orderBy('sendAfter').limit(limit).execute()).map((r: { id: string }) => r.id);
    if (ids.length === 0) return [];
    const claimUntil = now + leaseMs;
    // The conditions are repeated on the update so two workers racing for a row cannot both win it.
    await due(this.db.updateTable('notifications').set({ claimedBy: workerId, claimUntil }).where('id', 'in', ids)).execute();
    return this.db.selectFrom('notifications').selectAll().where('id', 'in', ids).where('claimedBy', '=', workerId).where('claimUntil', '=', claimUntil).execute();
  }

  async markSent(id: string, workerId: string, now: number): Promise<void> {
    await this.db
      .updateTable('notifications')
      .set({ status: 'sent', sentAt: now, lastError: null, claimedBy: null, claimUntil: null })
      .where('id', '=', id)
      .where('claimedBy', '=', workerId)
      .execute();
  }

  async markFailed(row: Row<'notifications'>, workerId: string, error: string, retryAt: number | null): Promise<void> {
    await this.db
      .updateTable('notifications')
      .set({
        status: retryAt === null ? 'failed' : 'queued',
        attempts: row.attempts + 1,
        lastError: error,
        sendAfter: retryAt ?? row.sendAfter,
        claimedBy: null,
        claimUntil: null,
      })
      .where('id', '=', row.id)
      .where('claimedBy', '=', workerId)
      .execute();
  }

  async nextSendAfter(): Promise<number | null> {
    const row = await this.db
      .selectFrom('notifications')
      .select((eb) => eb.fn.min('sendAfter').as('next'))
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return row?.next === null || row?.next === undefined ? null : Number(row.next);
  }

  async queuedCount(): Promise<number> {
    const row = await this.db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'queued').executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The latest booking message to this person about this booking: what they were last told. */
  async lastBookingMessage(bookingId: string, personId: string): Promise<Pick<Row<'notifications'>, 'kind' | 'fingerprint' | 'createdAt'> | undefined> {
    return this.db
      .selectFrom('notifications')
      .select(['kind', 'fingerprint', 'createdAt'])
      .where('bookingId', '=', bookingId)
      .where('personId', '=', personId)
      .where('kind', 'in', ['booking.confirmed', 'booking.moved', 'booking.revoked', 'credential.changed'])
      .orderBy('createdAt', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }
}
