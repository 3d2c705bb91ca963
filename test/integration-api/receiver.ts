/**
 * A real HTTP receiver for call-back tests: checks every request's Lockstep-Signature with the
 * subscription's secret (src/providers/webhook/signing.ts) and records what arrived.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, verifySignature } from '../../src/providers/webhook/signing.js';

export interface Received {
  path: string;
  eventId: string;
  signatureOk: boolean;
  answered: number;
  body: any;
  attemptHeader: string | undefined;
}

export interface Receiver {
  url: string;
  /** Status to answer with (200 by default; 503 simulates the receiver being down). */
  status: number;
  /** Signing secret per path (set after creating the subscription). */
  secrets: Map<string, string>;
  received: Received[];
  /** Accepted (2xx, signature valid) events for a path, in arrival order. */
  accepted(path: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const r: Receiver = {
    url: '',
    status: 200,
    secrets: new Map(),
    received: [],
    accepted: (path) => r.received.filter((x) => x.path === path && x.signatureOk && x.answered < 300),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      const secret = r.secrets.get(path) ?? '';
      const verdict = verifySignature({ secret, header: req.headers[SIGNATURE_HEADER], rawBody: raw, nowSeconds: Math.floor(Date.now() / 1000) });
      let body: any = null;
      try {
        body = JSON.parse(raw);
      } catch {
        /* recorded as null */
      }
      const answered = verdict.ok ? r.status : 401;
      r.received.push({
        path,
        eventId: String(req.headers[EVENT_ID_HEADER] ?? ''),
        signatureOk: verdict.ok,
        answered,
        body,
        attemptHeader: req.headers['lockstep-delivery-attempt'] as string | undefined,
      });
      res.writeHead(answered, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return r;
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}
