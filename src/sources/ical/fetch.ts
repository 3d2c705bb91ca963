/**
 * Fetching a feed: a conditional GET (If-None-Match / If-Modified-Since from the last 200), a time
 * limit for the whole exchange, and a size limit enforced while reading (a huge or endless body is cut
 * off, not buffered). Feed URLs often carry a secret (Airbnb's `?s=…`, Google's private address), so
 * nothing here ever puts the URL's query or path secret into an error message: errors name the host.
 */

export interface FetchOptions {
  etag?: string | null;
  lastModified?: string | null;
  timeoutMs: number;
  maxBytes: number;
  userAgent?: string;
}

export type FetchResult =
  | { status: 'not-modified'; httpStatus: 304 }
  | { status: 'ok'; httpStatus: number; body: string; etag: string | null; lastModified: string | null };

export class FeedFetchError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number | null = null,
    /** Server-asked delay (Retry-After on 429/503), ms. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** `https://www.airbnb.com/calendar/ical/123.ics?s=secret` → `https://www.airbnb.com/…` (host only). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}

/** Removes any trace of the URL (whole, or its path/query) from a message from a lower layer. */
export function scrub(message: string, url: string): string {
  let out = message;
  try {
    const u = new URL(url);
    for (const part of [url, u.href, u.pathname + u.search, u.search, u.pathname].filter((p) => p.length > 1)) {
      out = out.split(part).join('…');
    }
  } catch {
    /* not a URL: nothing to scrub */
  }
  // Any other URL-looking text keeps its host only.
  return out.replace(/https?:\/\/[^\s/?#]+[^\s]*/gi, (m) => redactUrl(m)).slice(0, 500);
}

export async function fetchFeed(url: string, opts: FetchOptions): Promise<FetchResult> {
  const host = redactUrl(url);
  const headers: Record<string, string> = {
    accept: 'text/calendar, text/plain;q=0.5, */*;q=0.1',
    'user-agent': opts.userAgent ?? 'Lockstep-iCal/1 (+booking feed poller)',
  };
  if (opts.etag) headers['if-none-match'] = opts.etag;
  if (opts.lastModified) headers['if-modified-since'] = opts.lastModified;
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { headers, signal, redirect: 'follow' });
  } catch (err) {
    throw new FeedFetchError(describeNetworkError(err, url, host, opts.timeoutMs));
  }
  if (res.status === 304) {
    await res.body?.cancel().catch(() => {});
    return { status: 'not-modified', httpStatus: 304 };
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new FeedFetchError(`${host} answered HTTP ${res.status}${res.status === 401 || res.status === 403 || res.status === 404 ? ' (is the feed address still valid?)' : ''}`, res.status, retryAfter(res.headers.get('retry-after')));
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > opts.maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new FeedFetchError(`${host} sent a feed of ${declared} bytes; the limit is ${opts.maxBytes}`, res.status);
  }
  let body: string;
  try {
    body = await readLimited(res, opts.maxBytes);
  } catch (err) {
    if (err instanceof FeedFetchError) throw err;
    throw new FeedFetchError(describeNetworkError(err, url, host, opts.timeoutMs), res.status);
  }
  return { status: 'ok', httpStatus: res.status, body, etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new FeedFetchError(`the feed is larger than the limit of ${maxBytes} bytes`, res.status);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks));
}

function describeNetworkError(err: unknown, url: string, host: string, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `${host} did not answer within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return scrub(`could not fetch ${host}: ${cause}`, url);
}

function retryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}
