/**
 * The Lockstep webhook signature, shared by the sender (adapter) and the reference receiver
 * (emulator). A venue building its own receiver can port this file: it is the whole scheme.
 *
 *   Lockstep-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * Same shape as Stripe's `Stripe-Signature` (see notes.md). Receivers accept the request when ANY
 * `v1` entry matches (so a secret can be rotated by sending two), compare in constant time, and refuse
 * timestamps more than TOLERANCE_SECONDS away from their clock.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'lockstep-signature';
export const EVENT_ID_HEADER = 'lockstep-event-id';
export const EVENT_TYPE_HEADER = 'lockstep-event-type';
/** Set by a receiver on the answer to an event id it had already processed. */
export const REPLAYED_HEADER = 'lockstep-replayed';

/** Five minutes, either way: older deliveries are replays, newer ones mean a broken clock. */
export const TOLERANCE_SECONDS = 300;

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Hex HMAC-SHA256 over `${timestamp}.${rawBody}`. */
export function computeSignature(secret: string, timestamp: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex');
}

export function signatureHeader(secret: string, timestamp: number, rawBody: string): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, rawBody)}`;
}

export interface ParsedSignature {
  timestamp: number;
  /** Every `v1` digest in the header (more than one during a secret rotation). */
  signatures: string[];
}

/** Parses `t=…,v1=…[,v1=…]`; unknown schemes are ignored (forward compatibility). Null when unusable. */
export function parseSignatureHeader(value: string | string[] | undefined): ParsedSignature | null {
  if (typeof value !== 'string' || value.length > 2048) return null;
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') {
      if (!/^\d{1,12}$/.test(v)) return null;
      timestamp = Number(v);
    } else if (k === 'v1') {
      signatures.push(v.toLowerCase());
    }
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

export type VerifyFailure = 'missing' | 'malformed' | 'mismatch' | 'stale' | 'future';
export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: VerifyFailure };

/**
 * Checks the signature first (an unsigned request learns nothing about our clock), then the age.
 * `rawBody` must be the bytes as received, before any JSON parsing.
 */
export function verifySignature(input: {
  secret: string;
  header: string | string[] | undefined;
  rawBody: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}): VerifyResult {
  if (input.header === undefined) return { ok: false, reason: 'missing' };
  const parsed = parseSignatureHeader(input.header);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(computeSignature(input.secret, parsed.timestamp, input.rawBody), 'hex');
  // timingSafeEqual needs equal lengths; a well-formed digest always has 32 bytes, so the length
  // check reveals nothing about the secret.
  const matches = parsed.signatures.some((s) => HEX_SHA256.test(s) && timingSafeEqual(Buffer.from(s, 'hex'), expected));
  if (!matches) return { ok: false, reason: 'mismatch' };
  const tolerance = input.toleranceSeconds ?? TOLERANCE_SECONDS;
  const age = input.nowSeconds - parsed.timestamp;
  if (age > tolerance) return { ok: false, reason: 'stale' };
  if (age < -tolerance) return { ok: false, reason: 'future' };
  return { ok: true, timestamp: parsed.timestamp };
}
