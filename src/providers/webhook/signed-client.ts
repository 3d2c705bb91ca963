/**
 * Sends signed Lockstep events to the venue's receiver URL through the shared JsonHttpClient.
 *
 * Every call is one event: a fresh event id, the current timestamp, and a signature over the exact
 * bytes JsonHttpClient will send. JsonHttpClient reads its header function synchronously when a
 * request starts, so the headers for this call are staged just before it and cleared right after;
 * concurrent sends cannot see each other's headers.
 */
import { randomUUID } from 'node:crypto';
import { JsonHttpClient, transportOf, type JsonResponse } from '../http.js';
import { ProviderError, type ProviderTransport } from '../types.js';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from './signing.js';

export type WebhookEventType =
  | 'targets.list'
  | 'observe'
  | 'user.upsert'
  | 'user.delete'
  | 'pin.set'
  | 'grant.create'
  | 'grant.update'
  | 'grant.delete';

export interface WebhookEnvelope<D = Record<string, unknown>> {
  id: string;
  type: WebhookEventType;
  data: D;
}

export interface SignedEventClientOptions extends ProviderTransport {
  /** The receiver URL exactly as the venue entered it; events are POSTed to it. */
  url: string;
  signingSecret: string;
  /** Clock in epoch ms (tests). */
  now?: () => number;
}

export class SignedEventClient {
  private readonly http: JsonHttpClient;
  private readonly path: string;
  private readonly query: Record<string, string> | undefined;
  /** For admin messages: the receiver URL without its query (which may carry a venue token). */
  readonly endpoint: string;
  private readonly secret: string;
  private readonly now: () => number;
  private staged: Record<string, string> | null = null;

  constructor(opts: SignedEventClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new ProviderError('rejected', "webhook: the receiver URL is not a valid URL; check the integration's base URL");
    }
    this.secret = opts.signingSecret;
    this.now = opts.now ?? Date.now;
    // The client gets only the origin so the path is sent exactly as configured (no trailing slash
    // added); the query string travels separately so it never appears in error messages.
    this.path = url.pathname || '/';
    const query = Object.fromEntries(url.searchParams);
    this.query = Object.keys(query).length ? query : undefined;
    this.endpoint = `${url.origin}${this.path}`;
    this.http = new JsonHttpClient({
      baseUrl: url.origin,
      headers: () => this.staged ?? {},
      ...transportOf(opts),
      provider: 'webhook',
    });
  }

  send<T>(type: WebhookEventType, data: Record<string, unknown>, opts: { expect?: number[] } = {}): Promise<JsonResponse<T>> {
    const envelope: WebhookEnvelope = { id: `evt_${randomUUID()}`, type, data };
    // JsonHttpClient serialises the body with JSON.stringify too; the same object gives the same bytes.
    const rawBody = JSON.stringify(envelope);
    const timestamp = Math.floor(this.now() / 1000);
    this.staged = {
      [EVENT_ID_HEADER]: envelope.id,
      [EVENT_TYPE_HEADER]: type,
      [SIGNATURE_HEADER]: signatureHeader(this.secret, timestamp, rawBody),
    };
    try {
      return this.http.request<T>('POST', this.path, { body: envelope, query: this.query, expect: opts.expect }).catch((err: unknown) => {
        throw describeFailure(err, type, this.endpoint);
      });
    } finally {
      this.staged = null;
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/** Names the event in the message and turns a refused signature into advice an admin can act on. */
function describeFailure(err: unknown, type: WebhookEventType, endpoint: string): unknown {
  if (!(err instanceof ProviderError)) return err;
  if (err.kind === 'auth') {
    return new ProviderError(
      'auth',
      `webhook: the receiver at ${endpoint} refused the signed ${type} event (HTTP ${err.details.status}): check that the signing secret in the integration's credentials matches the receiver's, and that the receiver's clock is right (events older than 5 minutes are refused)`,
      err.details,
    );
  }
  return new ProviderError(err.kind, `${err.message} (event ${type})`, err.details);
}
