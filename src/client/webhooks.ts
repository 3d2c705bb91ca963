/**
 * Checking a change call-back Lockstep sent you (POST to your subscribed URL, src/callbacks/dispatcher.ts).
 * The scheme is the project's own (src/providers/webhook/signing.ts, reused here, not copied):
 *
 *   Lockstep-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * compared in constant time, any `v1` matching (secret rotation), timestamps more than five minutes
 * from your clock refused as replays.
 */
import { SIGNATURE_HEADER, TOLERANCE_SECONDS, verifySignature } from '../providers/webhook/signing.js';

export const WEBHOOK_SIGNATURE_HEADER = SIGNATURE_HEADER;
export const WEBHOOK_TOLERANCE_SECONDS = TOLERANCE_SECONDS;

/** Request headers as a framework gives them: a fetch `Headers`, or Node's lower-cased record. */
export type HeadersLike = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export type WebhookVerifyFailure = 'missing' | 'malformed' | 'mismatch' | 'stale' | 'future';
export type WebhookVerifyResult = { ok: true; timestamp: number } | { ok: false; reason: WebhookVerifyFailure };

export interface VerifyWebhookInput {
  /** The body exactly as received, before any JSON parsing (re-serialised JSON will not match). */
  rawBody: string | Uint8Array;
  /** The subscription's signing secret (`signingSecret` from creating the call-back). */
  secret: string;
  /** The request's headers; or give `signatureHeader` alone. */
  headers?: HeadersLike;
  /** The Lockstep-Signature header's value. */
  signatureHeader?: string | string[];
  /** How far the timestamp may be from now; default 300 seconds. */
  toleranceSeconds?: number;
  /** The clock, in Unix seconds (tests). */
  nowSeconds?: number;
}

/**
 * Checks a call-back's signature and age. Accept the delivery only when `ok`; dedupe on the
 * Lockstep-Event-Id header, which is the same on every retry of one delivery.
 */
export function verifyWebhookSignature(input: VerifyWebhookInput): WebhookVerifyResult {
  const header = input.signatureHeader ?? (input.headers ? readHeader(input.headers, SIGNATURE_HEADER) : undefined);
  const rawBody = typeof input.rawBody === 'string' ? input.rawBody : Buffer.from(input.rawBody).toString('utf8');
  return verifySignature({
    secret: input.secret,
    header,
    rawBody,
    nowSeconds: input.nowSeconds ?? Math.floor(Date.now() / 1000),
    toleranceSeconds: input.toleranceSeconds,
  });
}

function readHeader(headers: HeadersLike, name: string): string | string[] | undefined {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  if (record[name] !== undefined) return record[name];
  // A plain object may keep the sender's capitalisation (Lockstep-Signature).
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : record[key];
}
