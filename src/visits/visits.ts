/**
 * Visitor check-in/out. Each visit — a booking × a person on it (the organiser and each invitee) —
 * gets a registration code the guest shows (typed, or as a QR code) and a scanner (a host's kiosk)
 * posts back. The code is stored sealed (so the guest's e-mail and page can show it) and as a keyed
 * hash (so a scan finds it without the column revealing it); it never reaches a log line, an error or
 * the audit log.
 *
 * Visits are created on demand (level-triggered like the rest of Lockstep): the first time a code is
 * shown — confirmation e-mail, guest page, GET /v1/me/visits — it is made once, under a unique
 * (booking, person), however many callers race for it.
 */
import { randomInt } from 'node:crypto';
import QRCode from 'qrcode';
import type { Kysely } from 'kysely';
import type { Database, Row, VisitStatus } from '../store/schema.js';
import type { SecretBox } from '../security/crypto.js';
import { newId } from '../store/ids.js';
import { qrPngBuffer } from './qr-png.js';
import { bookingWindow } from '../domain/desired.js';

/** No 0/O, 1/I/L, U/V pairs to misread: 8 digits and 21 letters, 29 symbols. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTWXYZ';
/** 10 symbols of 29: ≈ 48.6 bits, far beyond what the scan rate limit lets anyone try. */
export const CODE_LENGTH = 10;
const CODE_PATTERN = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);
const HASH_PURPOSE = 'visit-code';
/** When no integration or space says otherwise: the access buffers' own default. */
const DEFAULT_MARGIN_MINUTES = 15;

export function generateCode(): string {
  let out = '';
  for (let i = 0; i < CODE_LENGTH; i++) out += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return out;
}

/** "ABCDE-FGHJK": easier to read out and type; the scanner accepts it with or without the dash. */
export const formatCode = (code: string) => `${code.slice(0, 5)}-${code.slice(5)}`;

/** What a scanner sent → the canonical code, or null when it cannot be one (case, spaces and dashes ignored). */
export function normaliseCode(input: string): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  return CODE_PATTERN.test(code) ? code : null;
}

export const hashCode = (secrets: SecretBox, code: string) => secrets.keyedHash(code, HASH_PURPOSE);

/** The QR code carries the bare code, so any barcode scanner in keyboard mode types what the API expects. */
const qrOptions = { errorCorrectionLevel: 'M' as const, margin: 2 };
export const qrSvg = (code: string) => QRCode.toString(code, { ...qrOptions, type: 'svg' });
export const qrPng = async (code: string): Promise<Buffer> => qrPngBuffer(code, { ...qrOptions, width: 200 });
export const qrPngDataUrl = async (code: string) => `data:image/png;base64,${(await qrPng(code)).toString('base64')}`;

export interface VisitWithCode {
  visit: Row<'visits'>;
  /** Canonical (undashed) code. */
  code: string;
}

/** Is the person on the booking (organiser or invitee)? */
async function onBooking(db: Kysely<Database>, booking: Pick<Row<'bookings'>, 'id' | 'organiserId'>, personId: string): Promise<boolean> {
  if (booking.organiserId === personId) return true;
  return !!(await db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', booking.id).where('personId', '=', personId).executeTakeFirst());
}

/**
 * The visit of `personId` on `booking`, created (with a fresh code) if it does not exist yet. Null
 * when the person is not on the booking. Safe to call concurrently: the unique (booking, person) and
 * unique code hash make the insert a no-op for all but one caller, and everyone reads that row back.
 */
export async function ensureVisit(
  db: Kysely<Database>,
  secrets: SecretBox,
  booking: Pick<Row<'bookings'>, 'id' | 'organisationId' | 'organiserId'>,
  personId: string,
): Promise<VisitWithCode | null> {
  const read = () => db.selectFrom('visits').selectAll().where('bookingId', '=', booking.id).where('personId', '=', personId).executeTakeFirst();
  let visit = await read();
  if (!visit) {
    if (!(await onBooking(db, booking, personId))) return null;
    // A code-hash collision (≈ never) leaves no row: try a new code.
    for (let attempt = 0; attempt < 5 && !visit; attempt++) {
      const code = generateCode();
      const now = Date.now();
      await db
        .insertInto('visits')
        .values({
          id: newId('vis'),
          organisationId: booking.organisationId,
          bookingId: booking.id,
          personId,
          codeSealed: secrets.seal(code),
          codeHash: hashCode(secrets, code),
          status: 'expected',
          checkedInAt: null,
          checkedOutAt: null,
          createdAt: now,
          updatedAt: now,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      visit = await read();
    }
    if (!visit) throw new Error('could not allocate a unique visit code');
  }
  return { visit, code: secrets.open(visit.codeSealed) };
}

/** The window in which a code admits its holder: the booking with bump-in/out and the access buffers. */
export async function visitWindow(db: Kysely<Database>, booking: Row<'bookings'>): Promise<{ opensAt: number; closesAt: number }> {
  const space = await db.selectFrom('spaces').select(['bufferBeforeMinutes', 'bufferAfterMinutes']).where('id', '=', booking.spaceId).executeTakeFirst();
  const integrations = await db
    .selectFrom('mappings')
    .innerJoin('integrations', 'integrations.id', 'mappings.integrationId')
    .select(['integrations.bufferBeforeMinutes', 'integrations.bufferAfterMinutes'])
    .where('mappings.spaceId', '=', booking.spaceId)
    .where('integrations.status', '=', 'active')
    .execute();
  // Same rule as the door access (domain/desired.ts): the space's override, else the integration's
  // buffer (the widest, if the space has doors on several), else the default.
  const widest = (values: number[]) => (values.length ? Math.max(...values) : DEFAULT_MARGIN_MINUTES);
  const before = space?.bufferBeforeMinutes ?? widest(integrations.map((i) => i.bufferBeforeMinutes));
  const after = space?.bufferAfterMinutes ?? widest(integrations.map((i) => i.bufferAfterMinutes));
  const { startsAt: opensAt, endsAt: closesAt } = bookingWindow(booking, before, after);
  return { opensAt, closesAt };
}

export type ScanAction = 'lookup' | 'check-in' | 'check-out';
export type ReportedStatus = VisitStatus | 'cancelled';
export type ScanReason =
  | 'valid'
  | 'checked-in'
  | 'already-checked-in'
  | 'checked-out'
  | 'unknown-code'
  | 'cancelled'
  | 'not-confirmed'
  | 'too-early'
  | 'too-late'
  | 'already-checked-out'
  | 'not-checked-in';

export const reasonText: Record<ScanReason, string> = {
  valid: 'valid now: this visitor may be let in',
  'checked-in': 'checked in',
  'already-checked-in': 'already checked in (re-entry during the booking)',
  'checked-out': 'checked out',
  'unknown-code': 'this code is not valid here',
  cancelled: 'the booking was cancelled (or this person was taken off it)',
  'not-confirmed': 'the booking is not confirmed yet',
  'too-early': 'too early: the booking window has not opened yet',
  'too-late': 'the booking window has closed',
  'already-checked-out': 'this visit has already checked out; the code cannot be used again',
  'not-checked-in': 'this visitor has not checked in',
};

export interface VisitFacts {
  visitStatus: VisitStatus;
  /** Booking cancelled, or the person no longer on it. */
  cancelled: boolean;
  bookingStatus: Row<'bookings'>['status'];
  opensAt: number;
  closesAt: number;
}

export const reportedStatus = (f: Pick<VisitFacts, 'visitStatus' | 'cancelled'>): ReportedStatus =>
  f.visitStatus === 'checked-out' ? 'checked-out' : f.cancelled ? 'cancelled' : f.visitStatus;

/**
 * The scanner's answer, as a pure rule. Entry (lookup, check-in) needs a confirmed, uncancelled
 * booking inside its window and a visit not yet checked out. Check-out needs a checked-in visit and is
 * allowed late or after a cancellation, so the record of someone who came in can always be closed.
 */
export function decide(action: ScanAction, f: VisitFacts, now: number): { allowed: boolean; reason: ScanReason; next: VisitStatus | null } {
  const deny = (reason: ScanReason) => ({ allowed: false, reason, next: null });
  if (f.visitStatus === 'checked-out') return deny('already-checked-out');
  if (action === 'check-out') {
    if (f.visitStatus !== 'checked-in') return deny(f.cancelled ? 'cancelled' : 'not-checked-in');
    return { allowed: true, reason: 'checked-out', next: 'checked-out' };
  }
  if (f.cancelled) return deny('cancelled');
  if (f.bookingStatus !== 'confirmed') return deny('not-confirmed');
  if (now < f.opensAt) return deny('too-early');
  if (now > f.closesAt) return deny('too-late');
  if (action === 'lookup') return { allowed: true, reason: f.visitStatus === 'checked-in' ? 'already-checked-in' : 'valid', next: null };
  if (f.visitStatus === 'checked-in') return { allowed: true, reason: 'already-checked-in', next: null };
  return { allowed: true, reason: 'checked-in', next: 'checked-in' };
}

/** Loads what `decide` needs for a visit. */
export async function visitFacts(db: Kysely<Database>, visit: Row<'visits'>, booking: Row<'bookings'>): Promise<VisitFacts> {
  const still = await onBooking(db, booking, visit.personId);
  const { opensAt, closesAt } = await visitWindow(db, booking);
  return { visitStatus: visit.status, cancelled: booking.status === 'cancelled' || !still, bookingStatus: booking.status, opensAt, closesAt };
}
