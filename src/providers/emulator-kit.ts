/**
 * What every provider emulator shares: a node:http server with JSON bodies, per-route request
 * counting, fault injection (latency, status with Retry-After, dropped and hanging connections) and
 * the `/_emulator/*` control routes. An emulator supplies its routes, its auth check and the shape
 * of its errors; the provider-specific state and rules stay in its own folder.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind =
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Destroy the socket without writing a response. */
  | { kind: 'drop' }
  /** Never answer (for client timeouts). */
  | { kind: 'hang' };

export interface FaultRule {
  match?: { method?: string; /** Prefix of the request path (query excluded). */ path?: string };
  /** Number of matching requests affected; default unlimited. */
  times?: number;
  fault: FaultKind;
}

export interface RequestStats {
  requests: number;
  byRoute: Record<string, number>;
}

/** Thrown by route handlers; becomes an error response in the provider's error shape. */
export class EmulatorHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface EmulatorRequest {
  method: string;
  path: string;
  /** Path segments after the leading slash, URI-decoded, trailing slash ignored. */
  segs: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  /** The body exactly as received (signature checks must use these bytes, not a re-serialisation). */
  rawBody: string;
}

export interface EmulatorResponse {
  status: number;
  body?: unknown;
  /** Pre-serialised JSON body (hot paths). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface EmulatorRoute {
  /** Route template for stats, e.g. 'GET /api/users/:id'. */
  template: string;
  handle(req: EmulatorRequest): EmulatorResponse | Promise<EmulatorResponse>;
}

export interface EmulatorSpec {
  port?: number;
  host?: string;
  /** Routes the request, or null for an unknown route (404). */
  route(method: string, segs: string[]): EmulatorRoute | null;
  /** Paths under this prefix are the provider API: counted, faulted and authorised. Default '/'. */
  apiPrefix?: string;
  /** Refuse an unauthenticated request by returning a response (checked after faults, before routing). */
  authorize?(req: Omit<EmulatorRequest, 'body' | 'rawBody'>): EmulatorResponse | null;
  /** The provider's error body for a status/code/message. */
  errorBody?(status: number, code: string, message: string): unknown;
  /** GET /_emulator/state (must never contain secrets such as PINs). */
  state?(): unknown;
  /** POST /_emulator/reset: clear provider state (faults and stats are cleared by the kit). */
  reset?(): void;
  maxBodyBytes?: number;
  /**
   * Opt-in (off by default): keep every API request that reached a route, for conformance tests
   * (`server.recorded()`). In memory only, never logged; credential headers are redacted.
   */
  recordRequests?: boolean;
}

/** An API request as it reached a route (see `EmulatorSpec.recordRequests`). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Request headers with credential headers (authorization, cookie, api keys) redacted. */
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when empty). May hold secrets such as PINs: never log it. */
  body: unknown;
}

const REDACTED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key', 'seam-client-session-token']);

function recordOf(req: EmulatorRequest): RecordedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    headers[k] = REDACTED_HEADERS.has(k) ? '[redacted]' : Array.isArray(v) ? v.join(', ') : v;
  }
  return { method: req.method, path: req.path, query: Object.fromEntries(req.query), headers, body: req.body };
}

export interface EmulatorServer {
  url: string;
  port: number;
  close(): Promise<void>;
  faults: { add(rule: FaultRule): void; clear(): void; list(): FaultRule[] };
  stats(): RequestStats;
  resetStats(): void;
  /** The most API requests being answered at once since the stats were last reset. */
  peakInFlight(): number;
  /** Clears provider state, faults, stats and recorded requests. */
  reset(): void;
  /** Requests recorded so far (always empty unless `recordRequests` is on). */
  recorded(): RecordedRequest[];
  clearRecorded(): void;
}

/** What every emulator hands its tests: where it listens, and its controls. */
export interface EmulatorControls {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Clears the provider's state, fault rules and stats (each emulator says what stays). */
  reset(): void;
  faults: EmulatorServer['faults'];
  stats(): RequestStats;
  resetStats(): void;
}

/** The controls of a running emulator server, for an emulator to hand on as they are. */
export function controlsOf(server: EmulatorServer): EmulatorControls {
  return { url: server.url, port: server.port, close: server.close, reset: server.reset, faults: server.faults, stats: server.stats, resetStats: server.resetStats };
}

const defaultErrorBody = (_status: number, code: string, message: string) => ({ error: code, message });

export function validateFaultRule(input: unknown): FaultRule {
  const bad = (what: string): never => {
    throw new EmulatorHttpError(422, 'validation', `fault: ${what}`);
  };
  if (!input || typeof input !== 'object' || Array.isArray(input)) bad('rule must be an object');
  const r = input as Record<string, unknown>;
  let match: FaultRule['match'];
  if (r.match !== undefined && r.match !== null) {
    if (typeof r.match !== 'object' || Array.isArray(r.match)) bad('match must be an object');
    const mm = r.match as Record<string, unknown>;
    if (mm.method !== undefined && typeof mm.method !== 'string') bad('match.method must be a string');
    if (mm.path !== undefined && typeof mm.path !== 'string') bad('match.path must be a string');
    match = {};
    if (typeof mm.method === 'string') match.method = mm.method.toUpperCase();
    if (typeof mm.path === 'string') match.path = mm.path;
  }
  let times: number | undefined;
  if (r.times !== undefined && r.times !== null) {
    if (typeof r.times !== 'number' || !Number.isInteger(r.times) || r.times < 1) bad('times must be a positive integer');
    times = r.times as number;
  }
  const f = r.fault as Record<string, unknown> | undefined;
  if (!f || typeof f !== 'object') bad('fault is required');
  let fault: FaultKind;
  switch (f!.kind) {
    case 'latency':
      if (typeof f!.ms !== 'number' || !(f!.ms >= 0) || f!.ms > 600_000) bad('latency ms must be a number between 0 and 600000');
      fault = { kind: 'latency', ms: f!.ms as number };
      break;
    case 'status': {
      const status = f!.status;
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) bad('status must be an integer 400–599');
      const ra = f!.retryAfterSeconds;
      if (ra !== undefined && (typeof ra !== 'number' || !(ra >= 0))) bad('retryAfterSeconds must be a non-negative number');
      fault = { kind: 'status', status: status as number, ...(ra !== undefined ? { retryAfterSeconds: ra as number } : {}) };
      break;
    }
    case 'drop':
      fault = { kind: 'drop' };
      break;
    case 'hang':
      fault = { kind: 'hang' };
      break;
    default:
      return bad("fault.kind must be one of 'latency', 'status', 'drop', 'hang'");
  }
  return { ...(match ? { match } : {}), ...(times !== undefined ? { times } : {}), fault };
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

const EMPTY_QUERY = new URLSearchParams();

function safeDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export async function startEmulatorServer(spec: EmulatorSpec): Promise<EmulatorServer> {
  const host = spec.host ?? '127.0.0.1';
  const apiPrefix = spec.apiPrefix ?? '/';
  const maxBody = spec.maxBodyBytes ?? 1024 * 1024;
  const errorBody = spec.errorBody ?? defaultErrorBody;
  let rules: ActiveRule[] = [];
  let requestCount = 0;
  let byRoute = new Map<string, number>();
  let inFlight = 0;
  let peakInFlight = 0;
  const timers = new Set<NodeJS.Timeout>();
  let recorded: RecordedRequest[] = [];

  const send = (res: http.ServerResponse, r: EmulatorResponse): void => {
    if (res.destroyed || res.writableEnded) return;
    if (r.status === 204 || (r.body === undefined && r.raw === undefined)) {
      res.writeHead(r.status, r.headers);
      res.end();
      return;
    }
    const text = r.raw ?? JSON.stringify(r.body);
    res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...r.headers });
    res.end(text);
  };
  const sendError = (res: http.ServerResponse, status: number, code: string, message: string, headers?: Record<string, string>) =>
    send(res, { status, body: errorBody(status, code, message), headers });

  const readBody = (req: http.IncomingMessage): Promise<string | null> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => resolve(tooLarge ? null : chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  /** Consumes matching rules in order; latencies add up until a terminal fault (status/drop/hang). */
  const pickFaults = (method: string, path: string): { latencyMs: number; terminal: FaultKind | null } => {
    let latencyMs = 0;
    let terminal: FaultKind | null = null;
    if (rules.length === 0) return { latencyMs, terminal };
    let expired = false;
    for (const r of rules) {
      if (r.remaining <= 0) continue;
      const m = r.rule.match;
      if (m?.method && m.method !== method) continue;
      if (m?.path && !path.startsWith(m.path)) continue;
      r.remaining -= 1;
      if (r.remaining <= 0) expired = true;
      if (r.rule.fault.kind === 'latency') {
        latencyMs += r.rule.fault.ms;
        continue;
      }
      terminal = r.rule.fault;
      break;
    }
    if (expired) rules = rules.filter((r) => r.remaining > 0);
    return { latencyMs, terminal };
  };

  const addFault = (rule: FaultRule): void => {
    const valid = validateFaultRule(rule);
    rules.push({ rule: valid, remaining: valid.times ?? Number.POSITIVE_INFINITY });
  };
  const listFaults = (): FaultRule[] => rules.map((r) => ({ ...r.rule, ...(Number.isFinite(r.remaining) ? { times: r.remaining } : {}) }));
  const stats = (): RequestStats => ({ requests: requestCount, byRoute: Object.fromEntries(byRoute) });
  const resetStats = (): void => {
    requestCount = 0;
    byRoute = new Map();
    peakInFlight = inFlight;
  };
  const reset = (): void => {
    spec.reset?.();
    rules = [];
    recorded = [];
    resetStats();
  };

  const handleControl = async (req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string): Promise<void> => {
    const text = await readBody(req);
    if (method === 'GET' && path === '/_emulator/state') {
      send(res, { status: 200, body: { ...((spec.state?.() as object) ?? {}), faults: listFaults(), stats: stats() } });
    } else if (method === 'POST' && path === '/_emulator/reset') {
      reset();
      send(res, { status: 204 });
    } else if (method === 'POST' && path === '/_emulator/faults') {
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        sendError(res, 400, 'bad_request', 'body: malformed JSON');
        return;
      }
      addFault(body as FaultRule);
      send(res, { status: 201, body: { faults: listFaults() } });
    } else if (method === 'DELETE' && path === '/_emulator/faults') {
      rules = [];
      send(res, { status: 204 });
    } else if (method === 'POST' && path === '/_emulator/stats/reset') {
      resetStats();
      send(res, { status: 204 });
    } else {
      sendError(res, 404, 'not_found', `no route ${method} ${path}`);
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    if (path.startsWith('/_emulator/')) return handleControl(req, res, method, path);

    const segs = path.split('/').slice(1).map(safeDecode);
    if (segs.length > 1 && segs[segs.length - 1] === '') segs.pop();
    const isApi = path.startsWith(apiPrefix);
    const matched = isApi ? spec.route(method, segs) : null;
    requestCount += 1;
    inFlight += 1;
    if (inFlight > peakInFlight) peakInFlight = inFlight;
    res.once('close', () => (inFlight -= 1));
    const template = matched ? matched.template : `${method} (unmatched)`;
    byRoute.set(template, (byRoute.get(template) ?? 0) + 1);

    const text = await readBody(req);
    const { latencyMs, terminal } = pickFaults(method, path);
    if (latencyMs > 0) await sleep(latencyMs);
    if (terminal) {
      if (terminal.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (terminal.kind === 'hang') return; // close() destroys the socket
      if (terminal.kind === 'status') {
        const headers: Record<string, string> = {};
        if (terminal.retryAfterSeconds !== undefined) headers['retry-after'] = String(terminal.retryAfterSeconds);
        sendError(res, terminal.status, 'injected', `injected fault: HTTP ${terminal.status}`, headers);
        return;
      }
    }
    const query = q === -1 ? EMPTY_QUERY : new URLSearchParams(rawUrl.slice(q + 1));
    if (isApi && spec.authorize) {
      const refusal = spec.authorize({ method, path, segs, query, headers: req.headers });
      if (refusal) return send(res, refusal);
    }
    if (!matched) return sendError(res, 404, 'not_found', `no route ${method} ${path}`);
    if (text === null) return sendError(res, 413, 'too_large', `body: larger than ${maxBody} bytes`);
    let body: unknown;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        return sendError(res, 400, 'bad_request', 'body: malformed JSON');
      }
    }
    const request: EmulatorRequest = { method, path, segs, query, headers: req.headers, body, rawBody: text };
    if (spec.recordRequests) recorded.push(recordOf(request));
    send(res, await matched.handle(request));
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof EmulatorHttpError) sendError(res, err.status, err.code, err.message);
      else sendError(res, 500, 'internal', 'internal emulator error');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    if (closing) return closing;
    closing = new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };

  return {
    url: `http://${urlHost}:${port}`,
    port,
    close,
    faults: {
      add: addFault,
      clear: () => {
        rules = [];
      },
      list: listFaults,
    },
    stats,
    resetStats,
    peakInFlight: () => peakInFlight,
    reset,
    recorded: () => recorded.slice(),
    clearRecorded: () => {
      recorded = [];
    },
  };
}
