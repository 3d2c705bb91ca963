/**
 * OAuth2 client-credentials token for igloohome (AWS Cognito behind auth.igloohome.co).
 *
 * The token endpoint takes a form body, which the shared JsonHttpClient does not send, so this uses
 * Node's fetch with the same error kinds: 400 invalid_client / 401 / 403 → 'auth', 429 → 'rate-limited',
 * 5xx / network / timeout → 'transient'. Messages never carry the client secret or the token.
 */
import { ProviderError } from '../types.js';
import { parseRetryAfter } from '../http.js';

export interface OAuthClientOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  timeoutMs?: number;
  provider: string;
}

/** Refresh a little before expiry so a request never leaves with a token about to lapse. */
const EXPIRY_MARGIN_MS = 60_000;

export class OAuthClient {
  private accessToken: string | null = null;
  private expiresAt = 0;
  private inFlight: Promise<string> | null = null;
  private readonly url: URL;

  constructor(private readonly opts: OAuthClientOptions) {
    try {
      this.url = new URL(opts.tokenUrl);
    } catch {
      throw new ProviderError('rejected', `${opts.provider}: the token URL is not a valid URL; check the integration's settings`);
    }
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new ProviderError('rejected', `${opts.provider}: the token URL must start with http:// or https://`);
    }
  }

  /** The cached token, if any (for request headers). */
  current(): string | null {
    return this.accessToken;
  }

  invalidate(): void {
    this.accessToken = null;
    this.expiresAt = 0;
  }

  /** A valid token, fetched when missing or about to expire; concurrent callers share one request. */
  async token(): Promise<string> {
    if (this.accessToken && Date.now() < this.expiresAt - EXPIRY_MARGIN_MS) return this.accessToken;
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async fetchToken(): Promise<string> {
    const label = `${this.opts.provider}: POST ${this.url.pathname}`;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.opts.scope) form.set('scope', this.opts.scope);
    const basic = Buffer.from(`${this.opts.clientId}:${this.opts.clientSecret}`).toString('base64');
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      text = await res.text();
    } catch (err) {
      const name = (err as { name?: string } | null)?.name;
      const reason = name === 'TimeoutError' ? 'timed out' : 'failed: network error';
      throw new ProviderError('transient', `${label} (token request) ${reason}`);
    }
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      /* non-JSON error page: handled by status below */
    }
    const error = typeof body.error === 'string' ? body.error : '';
    if (res.status === 401 || res.status === 403 || (res.status === 400 && (error === 'invalid_client' || error === 'unauthorized_client'))) {
      throw new ProviderError(
        'auth',
        `${label} was refused (HTTP ${res.status}${error ? `, ${error}` : ''}): igloohome did not accept Lockstep's credentials; check the integration's client ID and client secret (iglooaccess API credentials)`,
        { status: res.status },
      );
    }
    if (res.status === 400 && error === 'invalid_scope') {
      throw new ProviderError('auth', `${label} was refused (HTTP 400, invalid_scope): these credentials lack the algoPIN or device scopes Lockstep needs; check the credentials' permissions in iglooaccess`, { status: 400 });
    }
    if (res.status === 404) {
      throw new ProviderError('not-found', `${label} answered HTTP 404: no OAuth2 token endpoint at ${this.url.origin}${this.url.pathname}; check the integration's token URL`, { status: 404 });
    }
    if (res.status === 429) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after') ?? undefined);
      throw new ProviderError('rate-limited', `${label} (token request) was rate limited (HTTP 429)`, { status: 429, retryAfterMs });
    }
    if (res.status >= 500 || res.status === 408) throw new ProviderError('transient', `${label} (token request) failed with HTTP ${res.status}`, { status: res.status });
    if (res.status < 200 || res.status >= 300) {
      throw new ProviderError('rejected', `${label} (token request) was rejected with HTTP ${res.status}${error ? `: ${error}` : ''}`, { status: res.status });
    }
    const token = body.access_token;
    if (typeof token !== 'string' || token === '') throw new ProviderError('transient', `${label} answered without an access_token; retry`);
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    this.accessToken = token;
    this.expiresAt = Date.now() + expiresIn * 1000;
    return token;
  }
}
