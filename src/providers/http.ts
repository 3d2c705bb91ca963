/**
 * A small JSON-over-HTTP client shared by provider adapters.
 *
 * - One undici `Pool` per client (keep-alive, bounded connections) with header and body timeouts.
 * - Every failure becomes a `ProviderError` whose kind tells the engine what to do next:
 *   network error / timeout / 5xx → 'transient', 429 → 'rate-limited' (+ retryAfterMs),
 *   401/403 → 'auth', 404 → 'not-found', any other 4xx → 'rejected' (with the provider's message).
 * - Error messages never contain request bodies (they can carry PINs), query strings or headers
 *   (they carry credentials). A provider message that echoes a secret we sent is redacted.
 */
import { Pool, errors as undiciErrors } from 'undici';
import { ProviderError, type ProviderTransport, type RequestPacer } from './types.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/** The transport's timeout (header and body, each; default 10 000 ms), connections (default 64) and pacer. */
export interface JsonHttpClientOptions extends ProviderTransport {
  /** e.g. "https://provider.example.com" or "https://host/api-prefix" (a path prefix is kept). */
  baseUrl: string;
  /** Static headers, or a function called per request (e.g. to attach a fresh token). */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** Provider name used in error messages, e.g. "demo". */
  provider: string;
}

/** Only the transport settings of an adapter's options (which also hold its credentials). */
export function transportOf(opts: ProviderTransport): ProviderTransport {
  return { timeoutMs: opts.timeoutMs, pacer: opts.pacer, connections: opts.connections };
}

export interface JsonRequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  /**
   * Statuses that resolve instead of throwing, in addition to any 2xx (e.g. `[404]` on a delete
   * where "already gone" is success, or `[409]` to handle a conflict yourself).
   */
  expect?: number[];
}

export interface JsonResponse<T> {
  status: number;
  body: T;
  /** Response headers, names lower-cased; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
}

/** A date-time the provider answered with, in epoch ms; a missing or unreadable one is a transient provider fault. */
export function providerDate(provider: string, value: string | undefined, what: string): number {
  const ms = value === undefined ? Number.NaN : Date.parse(value);
  if (Number.isNaN(ms)) throw new ProviderError('transient', `${provider}: the provider returned an unreadable ${what}`);
  return ms;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_PROVIDER_MESSAGE = 300;

export class JsonHttpClient {
  private readonly pool: Pool;
  private readonly pathPrefix: string;
  private readonly provider: string;
  private readonly timeoutMs: number;
  private readonly headers: JsonHttpClientOptions['headers'];
  private readonly pacer: RequestPacer | undefined;
  private closed = false;

  constructor(opts: JsonHttpClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new ProviderError('rejected', `${opts.provider}: the base URL is not a valid URL; check the integration's settings`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ProviderError('rejected', `${opts.provider}: the base URL must start with http:// or https://`);
    }
    this.provider = opts.provider;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.headers = opts.headers;
    this.pacer = opts.pacer;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: opts.connections ?? 64,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  async request<T = unknown>(method: HttpMethod, path: string, opts: JsonRequestOptions = {}): Promise<JsonResponse<T>> {
    const label = `${this.provider}: ${method} ${path}`;
    if (this.closed) throw new ProviderError('transient', `${label} failed: the HTTP client is closed`);

    const headers: Record<string, string> = { accept: 'application/json' };
    const extra = typeof this.headers === 'function' ? this.headers() : this.headers;
    if (extra) for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v;

    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }

    let fullPath = this.pathPrefix + (path.startsWith('/') ? path : `/${path}`);
    if (opts.query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) if (v !== undefined) qs.append(k, v);
      const s = qs.toString();
      if (s) fullPath += (fullPath.includes('?') ? '&' : '?') + s;
    }

    await this.pacer?.beforeRequest();
    let status: number;
    let responseHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await this.pool.request({
        method,
        path: fullPath,
        headers,
        body: payload,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      status = res.statusCode;
      responseHeaders = res.headers;
      text = await res.body.text();
    } catch (err) {
      throw networkError(label, err, this.timeoutMs);
    }

    const parsed = parseJson(text);
    const ok = (status >= 200 && status < 300) || (opts.expect?.includes(status) ?? false);
    if (ok) {
      if (parsed === INVALID) {
        throw new ProviderError('transient', `${label} answered HTTP ${status} with a body that is not JSON`, { status });
      }
      return { status, body: parsed as T, headers: flattenHeaders(responseHeaders) };
    }
    const error = statusError(label, status, responseHeaders, parsed === INVALID ? text : parsed, opts.body);
    if (error.kind === 'rate-limited') await this.pacer?.rateLimited(error.details.retryAfterMs);
    throw error;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // close() waits for in-flight requests; those are bounded by the timeouts, but do not let a
    // hung provider hold shutdown: destroy after a grace period.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.pool.close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.pool.destroy().then(resolve, resolve);
        }, 1_000);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

const INVALID = Symbol('invalid-json');

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}

function networkError(label: string, err: unknown, timeoutMs: number): ProviderError {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new ProviderError('transient', `${label} timed out after ${timeoutMs} ms`);
  }
  if (err instanceof undiciErrors.InvalidArgumentError) {
    // A malformed request (e.g. a header value with a newline): retrying will not help. The undici
    // message names the header but never its value.
    return new ProviderError('rejected', `${label} could not be sent: ${safeMessage(err)}`);
  }
  const detail = typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown error';
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
        ? 'connection closed by the provider'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'host name could not be resolved'
          : 'network error';
  return new ProviderError('transient', `${label} failed: ${reason} (${detail})`);
}

function safeMessage(err: Error): string {
  return err.message.slice(0, 120).replace(/\s+/g, ' ');
}

function statusError(
  label: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
  requestBody: unknown,
): ProviderError {
  const providerMessage = redact(extractMessage(body), requestBody);
  const suffix = providerMessage ? `: ${providerMessage}` : '';
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headerValue(headers['retry-after']));
    const when = retryAfterMs !== undefined ? ` (retry after ${Math.ceil(retryAfterMs / 1000)} s)` : '';
    return new ProviderError('rate-limited', `${label} was rate limited (HTTP 429)${when}`, { status, retryAfterMs });
  }
  if (status >= 500 || status === 408) {
    return new ProviderError('transient', `${label} failed with HTTP ${status}${suffix}`, { status });
  }
  if (status === 401 || status === 403) {
    return new ProviderError(
      'auth',
      `${label} was refused (HTTP ${status}): the provider did not accept Lockstep's credentials; check the integration's credentials (API key / token) and its permissions`,
      { status },
    );
  }
  if (status === 404) {
    return new ProviderError('not-found', `${label} answered HTTP 404 (not found)${suffix}`, { status });
  }
  return new ProviderError('rejected', `${label} was rejected with HTTP ${status}${suffix}`, { status });
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function extractMessage(body: unknown): string {
  let msg = '';
  if (typeof body === 'string') {
    msg = body;
  } else if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of ['error', 'code', 'message', 'detail', 'title']) {
      const v = b[key];
      if (typeof v === 'string' && v && !parts.includes(v)) parts.push(v);
    }
    msg = parts.length > 1 && parts[0].length <= 40 ? `${parts[0]}: ${parts.slice(1).join('; ')}` : parts.join('; ');
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return msg.length > MAX_PROVIDER_MESSAGE ? `${msg.slice(0, MAX_PROVIDER_MESSAGE)}…` : msg;
}

const SENSITIVE_KEY = /pin|code|pass|secret|token|key/i;

/** Remove any secret we sent (PIN-like digit strings, values of sensitive fields) that a provider echoes back. */
function redact(message: string, requestBody: unknown): string {
  if (!message || requestBody === undefined) return message;
  const secrets: string[] = [];
  const walk = (v: unknown, key: string, depth: number): void => {
    if (depth > 5) return;
    if (typeof v === 'string' || typeof v === 'number') {
      const s = String(v);
      if (s.length >= 3 && (SENSITIVE_KEY.test(key) || /^\d{4,}$/.test(s))) secrets.push(s);
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item, key, depth + 1);
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) walk(item, k, depth + 1);
    }
  };
  walk(requestBody, '', 0);
  let out = message;
  for (const s of secrets.sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}
