/**
 * Raw HTTP for the fuzz properties (bodies and headers exactly as generated, a hard per-request
 * timeout) and the checks every answer must pass: the documented error shape of a 4xx and a
 * message that names what is wrong.
 */
import { REQUEST_TIMEOUT_MS } from './config.js';

export interface HttpRequest {
  method: string;
  /** Path with query string, already encoded. */
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

/** A path segment as a client would send it (lone surrogates made well-formed first). */
export function segment(value: string): string {
  const wellFormed = (value as unknown as { toWellFormed(): string }).toWellFormed();
  return encodeURIComponent(wellFormed);
}

export async function send(baseUrl: string, req: HttpRequest): Promise<HttpResponse> {
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(baseUrl + req.url, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new Error(`hung request: no answer within ${REQUEST_TIMEOUT_MS} ms\n${describeRequest(req)}`);
    throw new Error(`the server dropped the request (${e.message}${e.cause ? `: ${(e.cause as Error).message}` : ''}) after ${Date.now() - started} ms\n${describeRequest(req)}`);
  }
  const text = await res.text();
  let json: unknown = undefined;
  const contentType = res.headers.get('content-type') ?? '';
  if (/json/.test(contentType) && text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, contentType, text, json };
}

const clip = (s: string, n = 1500) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** The request as a reader needs it to replay it (the API key is shown by role only). */
export function describeRequest(req: HttpRequest, keyName?: string): string {
  const headers = Object.entries(req.headers)
    .map(([k, v]) => (k === 'authorization' ? `${k}: Bearer <${keyName ?? 'key'}>` : `${k}: ${clip(v, 300)}`))
    .join('\n  ');
  return `${req.method} ${clip(req.url, 300)}\n  ${headers}\n  body: ${req.body === undefined ? '(none)' : clip(JSON.stringify(req.body))}`;
}

export function describeResponse(res: HttpResponse): string {
  return `→ ${res.status} ${res.contentType}\n  ${clip(res.text)}`;
}

/** Field-ish words a message may name: every key of the body, the schema's required keys, params. */
export function namesIn(value: unknown, out = new Set<string>(), budget = { n: 500 }): Set<string> {
  if (budget.n-- <= 0 || typeof value !== 'object' || value === null) return out;
  if (Array.isArray(value)) {
    for (const v of value.slice(0, 20)) namesIn(v, out, budget);
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k.length && k.length <= 100) out.add(k);
    namesIn(v, out, budget);
  }
  return out;
}

/** Words that name the request as a whole: a message about them names what is wrong too. */
const WHOLE_REQUEST = ['body', 'json', 'content-type', 'media type', 'querystring', 'params', 'header', 'signature', 'api key', 'authorization'];

export interface ErrorExpectations {
  /** Names the message may use to say what is wrong. */
  names: Iterable<string>;
  /** The field the near-valid mutation changed (outermost first); a schema-level refusal must name one. */
  mutated?: string[];
  /**
   * The unmutated body is known to be accepted, so any 400 validation comes from the mutation and
   * must name the mutated field (or one around it), whatever the issue paths look like.
   */
  requireMutatedNamed?: boolean;
}

/**
 * The documented refusal: `{ error, message, issues? }` with nothing else, `issues` a list of
 * `{ path, message }` each named in the message, and a message that names what is wrong.
 */
export function errorShapeProblems(res: HttpResponse, x: ErrorExpectations): string[] {
  const out: string[] = [];
  const b = res.json as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return [`a ${res.status} must answer a JSON object { error, message, issues? }`];
  const extra = Object.keys(b).filter((k) => !['error', 'message', 'issues'].includes(k));
  if (extra.length) out.push(`error body has undocumented keys ${JSON.stringify(extra)}`);
  if (typeof b.error !== 'string' || !b.error) out.push('error must be a non-empty string');
  if (typeof b.message !== 'string' || b.message.trim().length < 8) out.push('message must say what is wrong (a string of 8+ characters)');
  const message = typeof b.message === 'string' ? b.message : '';
  const lower = message.toLowerCase();
  if (b.issues !== undefined) {
    if (!Array.isArray(b.issues)) out.push('issues must be a list');
    else
      for (const i of b.issues as unknown[]) {
        const issue = i as Record<string, unknown>;
        if (typeof issue !== 'object' || issue === null || typeof issue.path !== 'string' || typeof issue.message !== 'string') {
          out.push(`issue ${JSON.stringify(i)} is not { path, message }`);
          continue;
        }
        if (!message.includes(issue.path)) out.push(`issue path "${issue.path}" is not named in the message`);
      }
  }
  if (res.status === 400 || res.status === 422) {
    const names = [...x.names, ...WHOLE_REQUEST];
    const issuePaths = Array.isArray(b.issues) ? (b.issues as { path?: unknown }[]).map((i) => String(i.path ?? '')) : [];
    const named = issuePaths.some((p) => p.length > 0) || names.some((n) => n && lower.includes(n.toLowerCase()));
    if (!named) out.push('a 400 message must name the field (or part of the request) that is wrong');
    // A schema-level refusal of a near-valid body names the field that was mutated (or one around it).
    // (A refusal of the body by its schema; a garbage path or query parameter is refused first.)
    const schemaLevel = issuePaths.length > 0 && issuePaths.every((p) => /^body(\.|$)/.test(p));
    if ((schemaLevel || (x.requireMutatedNamed && b.error === 'validation')) && x.mutated?.length) {
      const hit = x.mutated.some((k) => message.includes(k) || message.includes(JSON.stringify(k).slice(1, -1)));
      if (!hit) out.push(`the refusal does not name the mutated field ${JSON.stringify(x.mutated[x.mutated.length - 1])}`);
    }
  }
  return out;
}
