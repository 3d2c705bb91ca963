/**
 * SMS through a configurable HTTP gateway (LOCKSTEP_SMS_GATEWAY_URL, LOCKSTEP_SMS_GATEWAY_TOKEN): one
 * POST of JSON `{ "to": "+447700900123", "text": "…" }` per message, with `Authorization: Bearer
 * <token>` when a token is set. Any 2xx is success; anything else (or no answer) is retried by the
 * notifier with back-off. Errors never carry the token or the message text (it holds the PIN).
 */
import type { MessageContent, RenderedMessage } from './render.js';

export interface SmsSender {
  send(sms: { to: string; text: string }): Promise<void>;
  /** Where SMS go, without credentials. */
  describe: string;
}

/** Outbox rows for SMS carry the phone number as `sms:<number>` in their address. */
export const SMS_PREFIX = 'sms:';

export function httpSmsGateway(url: string, token?: string, opts: { timeoutMs?: number } = {}): SmsSender {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('LOCKSTEP_SMS_GATEWAY_URL must start with http:// or https://');
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return {
    describe: `${parsed.protocol}//${parsed.host}${parsed.pathname}`,
    async send({ to, text }) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ to, text }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new Error(`SMS gateway ${parsed.host} unreachable (${(err as Error).name})`);
      }
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`SMS gateway ${parsed.host} answered HTTP ${res.status}`);
    },
  };
}

/** A short text for an SMS: the subject, then each detail row (PINs, doors, windows). */
export function smsText(c: MessageContent): string {
  const lines = [c.subject];
  if (c.note) lines.push(c.note);
  for (const s of c.sections) for (const [label, value] of s.rows) lines.push(`${label}: ${value}`);
  return lines.join('\n');
}

/** A rendered message whose text part is the SMS text (its secrets, and so its redacted copy, unchanged). */
export function asSms(c: MessageContent, rendered: RenderedMessage): RenderedMessage {
  return { ...rendered, text: smsText(c) };
}
