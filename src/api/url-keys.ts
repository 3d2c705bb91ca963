/**
 * URL keys: a signed, time-limited link a guest opens on their phone to open the booked door now.
 *
 * Token = "<booking id>.<person id>.<expiry, epoch s in base 36>.<MAC>", the MAC being the first 128
 * bits of HMAC-SHA256 over the first three parts (SecretBox.keyedHash: a key derived from the master
 * key, purpose "url-key"), base64url. Short enough for one URL path segment. Verifying
 * needs no stored state; the booking itself is then read from the store, so a cancelled, moved or
 * not-yet-triggered booking is refused whatever the link says.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { SecretBox } from '../security/crypto.js';
import type { Database, Row } from '../store/schema.js';
import { bookingAccessStatus, type AccessEntry } from '../engine/status.js';

export interface UrlKeyClaims {
  bookingId: string;
  personId: string;
  /** Epoch ms (whole seconds). */
  expiresAt: number;
}

const PURPOSE = 'url-key';

const mac = (secrets: SecretBox, body: string) => Buffer.from(secrets.keyedHash(body, PURPOSE), 'hex').subarray(0, 16);

export function signUrlKey(secrets: SecretBox, claims: UrlKeyClaims): string {
  if (!/^[A-Za-z0-9_-]+$/.test(claims.bookingId) || !/^[A-Za-z0-9_-]+$/.test(claims.personId)) throw new Error('URL keys need URL-safe ids');
  const body = `${claims.bookingId}.${claims.personId}.${Math.floor(claims.expiresAt / 1000).toString(36)}`;
  return `${body}.${mac(secrets, body).toString('base64url')}`;
}

export type VerifyResult = { ok: true; claims: UrlKeyClaims } | { ok: false; reason: 'invalid' | 'expired' };

export function verifyUrlKey(secrets: SecretBox, token: string, now: number): VerifyResult {
  const m = /^(([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,64})\.([0-9a-z]{1,12}))\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return { ok: false, reason: 'invalid' };
  // Compare the spelled MAC, not its decoded bytes: the 22nd character carries 4 unused bits, and a
  // byte comparison would accept 4 spellings of one MAC (a tampered link that still opens).
  const given = Buffer.from(m[5]);
  const expected = Buffer.from(mac(secrets, m[1]).toString('base64url'));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
  const claims = { bookingId: m[2], personId: m[3], expiresAt: parseInt(m[4], 36) * 1000 };
  if (!(claims.expiresAt > now)) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

export interface BookingAccessWindow {
  booking: Row<'bookings'>;
  /** The person's access window for this booking (buffers included), over all its doors. */
  from: number;
  until: number;
  entries: AccessEntry[];
  spaceName: string;
  timeZone: string;
}

/** The booking behind a key, if the person is on it; null when either is gone. */
export async function keyBooking(db: Kysely<Database>, claims: Pick<UrlKeyClaims, 'bookingId' | 'personId'>, now: number): Promise<BookingAccessWindow | null> {
  const booking = await db.selectFrom('bookings').selectAll().where('id', '=', claims.bookingId).executeTakeFirst();
  if (!booking) return null;
  if (booking.organiserId !== claims.personId) {
    const invited = await db.selectFrom('bookingInvitees').select('personId').where('bookingId', '=', booking.id).where('personId', '=', claims.personId).executeTakeFirst();
    if (!invited) return null;
  }
  const place = await db
    .selectFrom('spaces')
    .innerJoin('locations', 'locations.id', 'spaces.locationId')
    .select(['spaces.name', 'locations.timeZone'])
    .where('spaces.id', '=', booking.spaceId)
    .executeTakeFirst();
  const status = await bookingAccessStatus(db, booking, now);
  const entries = status.entries.filter((e) => e.personId === claims.personId);
  const from = entries.length ? Math.min(...entries.map((e) => Date.parse(e.from))) : booking.startsAt;
  const until = entries.length ? Math.max(...entries.map((e) => Date.parse(e.until))) : booking.endsAt;
  return { booking, from, until, entries, spaceName: place?.name ?? 'your space', timeZone: place?.timeZone ?? 'UTC' };
}

