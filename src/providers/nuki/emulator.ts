/**
 * An emulator of the parts of the Nuki Web API (https://api.nuki.io) that Lockstep uses: smartlocks
 * and their keypad-code authorizations (type 13). Real HTTP, in-memory state, fault injection and
 * stats from the emulator kit. See notes.md for what is confirmed from Nuki's OpenAPI and what is
 * assumed.
 *
 * Keypad codes are secrets: they are returned by the auth routes (as Nuki does) but never written to
 * the state dump, to error messages or to logs.
 */
import { randomBytes } from 'node:crypto';
import { EmulatorHttpError, startEmulatorServer, type EmulatorServer, type FaultRule, type RecordedRequest, controlsOf, type EmulatorControls } from '../emulator-kit.js';

export type { FaultRule, RecordedRequest } from '../emulator-kit.js';

// ---------------------------------------------------------------------------------------------------
// Public types

export interface NukiSmartlockSeed {
  smartlockId: number;
  name: string;
  /** 0 keyturner, 1 box, 2 opener, 3 smartdoor, 4 smartlock 3.0 / 4th gen (Nuki's Smartlock.type). */
  type: number;
  keypadPaired?: boolean;
  keypad2Paired?: boolean;
}

/** A keypad authorization as the state dump shows it: everything but the code. */
export interface NukiAuthView {
  id: string;
  smartlockId: number;
  authId: number;
  type: number;
  name: string;
  enabled: boolean;
  remoteAllowed: boolean;
  allowedFromDate: string | null;
  allowedUntilDate: string | null;
  allowedWeekDays: number;
  allowedFromTime: number;
  allowedUntilTime: number;
  creationDate: string;
  updateDate: string;
}

export interface NukiRateLimit {
  /** Requests allowed per token within `windowMs`. */
  limit: number;
  windowMs: number;
}

export interface NukiEmulatorOptions {
  port?: number;
  host?: string;
  apiToken?: string;
  smartlocks?: NukiSmartlockSeed[];
  /**
   * Per-token request budget, answered with 429 + Retry-After when exceeded. Nuki publishes no number
   * (see notes.md), so this is an assumed default; null turns it off.
   */
  rateLimit?: NukiRateLimit | null;
  /** Keep every API request for conformance tests (`recorded()`); off by default. */
  recordRequests?: boolean;
  /**
   * Keypad codes one smartlock holds (default 99, see notes.md); creating one more is refused. Nuki does
   * not document the answer to a full keypad: the emulator's 422 is an assumption.
   */
  keypadCapacity?: number;
}

export interface NukiEmulatorState {
  smartlocks(): NukiSmartlockSeed[];
  /** Every keypad auth (optionally on one lock), without codes. */
  auths(smartlockId?: number): NukiAuthView[];
  authsByName(name: string): NukiAuthView[];
  /** Whether auth `id` holds keypad code `code` (tests check codes without the emulator revealing them). */
  codeMatches(id: string, code: string): boolean;
  /** Keypad model: does `code`, typed at lock `smartlockId` at `at` (epoch ms, default now), open it? */
  canEnter(input: { code: string; smartlockId: number; at?: number }): boolean;
  /** Removes an auth as someone in the Nuki app would (no HTTP, no stats). */
  removeAuth(id: string): boolean;
}

export interface NukiEmulator extends EmulatorControls {
  /** Change the rate limit at run time (null = off). */
  setRateLimit(limit: NukiRateLimit | null): void;
  /** Requests recorded when `recordRequests` is on (credential headers redacted; bodies may hold PINs, never log them). */
  recorded(): RecordedRequest[];
  clearRecorded(): void;
  state: NukiEmulatorState;
}

export const DEFAULT_NUKI_SMARTLOCKS: readonly NukiSmartlockSeed[] = Object.freeze([
  { smartlockId: 17_001_001, name: 'Front door', type: 4, keypadPaired: true },
  { smartlockId: 17_001_002, name: 'Meeting room', type: 4, keypad2Paired: true },
  { smartlockId: 17_001_003, name: 'Storage', type: 0, keypadPaired: true },
  { smartlockId: 17_001_004, name: 'Courtyard gate', type: 2, keypadPaired: true },
]);

/** Assumed default (not published by Nuki): generous enough for normal use, small enough to matter. */
export const DEFAULT_NUKI_RATE_LIMIT: NukiRateLimit = Object.freeze({ limit: 600, windowMs: 60_000 });

// ---------------------------------------------------------------------------------------------------
// Rules (see notes.md for sources)

export const NUKI_AUTH_NAME_MAX = 32;
export const NUKI_TYPE_KEYPAD_CODE = 13;
/** "Insgesamt können 99 verschiedene Zugriffscodes vergeben" (see notes.md; one Nuki answer says 100). */
export const NUKI_KEYPAD_CAPACITY = 99;
const KEYPAD_CODE_RE = /^[1-9]{6}$/;
const KEYPAD_CODE_BANNED_PREFIX = '12';
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const badRequest = (field: string, what: string) => new EmulatorHttpError(400, 'Bad Request', `${field}: ${what}`);

interface AuthRecord {
  id: string;
  smartlockId: number;
  authId: number;
  type: number;
  name: string;
  enabled: boolean;
  remoteAllowed: boolean;
  from: number | null;
  until: number | null;
  weekDays: number;
  fromTime: number;
  untilTime: number;
  code: number;
  created: number;
  updated: number;
}

/** ISO-8601 with an offset; stored to the second (see notes.md: precision not confirmed). */
function parseDate(value: unknown, field: string): number {
  if (typeof value !== 'string') throw badRequest(field, 'must be an ISO-8601 date-time string');
  const m = ISO_RE.exec(value);
  if (!m) throw badRequest(field, 'must be an ISO-8601 date-time with an offset, e.g. 2030-01-31T09:00:00.000Z');
  const [, y, mo, d, h, mi, s] = m;
  const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > daysInMonth || Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) {
    throw badRequest(field, 'is not a valid date-time');
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(field, 'is not a valid date-time');
  return Math.floor(ms / 1000) * 1000;
}

function optionalDate(body: Record<string, unknown>, field: string): number | null | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (v === null) return null;
  return parseDate(v, field);
}

function intIn(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badRequest(field, `must be an integer from ${min} to ${max}`);
  return v;
}

function authName(body: Record<string, unknown>): string {
  const v = body.name;
  if (v === undefined || v === null) throw badRequest('name', 'is required');
  if (typeof v !== 'string' || v.trim() === '') throw badRequest('name', 'must be a non-empty string');
  if (v.length > NUKI_AUTH_NAME_MAX) throw badRequest('name', `must be at most ${NUKI_AUTH_NAME_MAX} characters`);
  return v;
}

/** Validates a keypad code without ever echoing it. */
function keypadCode(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest('code', 'must be an integer');
  const s = String(v);
  if (!KEYPAD_CODE_RE.test(s)) throw badRequest('code', 'must be 6 digits, each 1 to 9 (the keypad has no 0)');
  if (s.startsWith(KEYPAD_CODE_BANNED_PREFIX)) throw badRequest('code', `must not start with ${KEYPAD_CODE_BANNED_PREFIX}`);
  return v;
}

function asObject(raw: unknown): Record<string, unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new EmulatorHttpError(400, 'Bad Request', 'body: must be a JSON object');
  return raw as Record<string, unknown>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Within the date window, on an allowed weekday and time of day (evaluated in UTC; see notes.md). */
function inWindow(a: AuthRecord, at: number): boolean {
  if (!a.enabled) return false;
  if (a.from !== null && at < a.from) return false;
  if (a.until !== null && at >= a.until) return false;
  const d = new Date(at);
  const bit = [1, 64, 32, 16, 8, 4, 2][d.getUTCDay()]; // Sunday=1 … Monday=64 (Nuki's bitmask)
  if (a.weekDays !== 0 && (a.weekDays & bit) === 0) return false;
  if (a.fromTime !== 0 || a.untilTime !== 0) {
    const minute = d.getUTCHours() * 60 + d.getUTCMinutes();
    if (minute < a.fromTime || minute >= a.untilTime) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Emulator

export async function startNukiEmulator(opts: NukiEmulatorOptions = {}): Promise<NukiEmulator> {
  const apiToken = opts.apiToken ?? 'nuki-token';
  const expectedAuth = `Bearer ${apiToken}`;
  const locks = (opts.smartlocks ?? DEFAULT_NUKI_SMARTLOCKS).map((l) => ({ ...l }));
  const lockIds = new Set(locks.map((l) => l.smartlockId));
  let rateLimit: NukiRateLimit | null = opts.rateLimit === undefined ? DEFAULT_NUKI_RATE_LIMIT : opts.rateLimit;
  const keypadCapacity = opts.keypadCapacity ?? NUKI_KEYPAD_CAPACITY;
  let recent: number[] = []; // request times inside the current window (one token is accepted)

  // State. Ids keep counting across reset() so a stale reference never hits a new object.
  const auths = new Map<string, AuthRecord>();
  let nextAuthId = 1;

  const lockJson = (l: NukiSmartlockSeed) => ({
    smartlockId: l.smartlockId,
    accountId: 1,
    type: l.type,
    authId: 0,
    name: l.name,
    favorite: false,
    config: { keypadPaired: Boolean(l.keypadPaired), keypad2Paired: Boolean(l.keypad2Paired) },
    serverState: 0,
    adminPinState: 0,
  });
  const view = (a: AuthRecord): NukiAuthView => ({
    id: a.id,
    smartlockId: a.smartlockId,
    authId: a.authId,
    type: a.type,
    name: a.name,
    enabled: a.enabled,
    remoteAllowed: a.remoteAllowed,
    allowedFromDate: iso(a.from),
    allowedUntilDate: iso(a.until),
    allowedWeekDays: a.weekDays,
    allowedFromTime: a.fromTime,
    allowedUntilTime: a.untilTime,
    creationDate: iso(a.created)!,
    updateDate: iso(a.updated)!,
  });
  // Nuki's SmartlockAuth carries the keypad code; only the HTTP API returns it, never the state dump.
  const apiJson = (a: AuthRecord) => ({ ...view(a), lockCount: 0, code: a.code });

  const getLock = (raw: string): number => {
    const id = Number(raw);
    if (!Number.isInteger(id) || !lockIds.has(id)) throw new EmulatorHttpError(404, 'Not Found', 'smartlockId: no such smartlock');
    return id;
  };
  const getAuth = (smartlockId: number, id: string): AuthRecord => {
    const a = auths.get(id);
    if (!a || a.smartlockId !== smartlockId) throw new EmulatorHttpError(404, 'Not Found', 'id: no such smartlock authorization');
    return a;
  };
  const codeTaken = (smartlockId: number, code: number, except?: string) => {
    for (const a of auths.values()) if (a.smartlockId === smartlockId && a.code === code && a.id !== except) return true;
    return false;
  };
  const typeFilter = (query: URLSearchParams): ((a: AuthRecord) => boolean) => {
    const types = query.get('types');
    if (types === null || types === '') return () => true;
    const set = new Set(types.split(',').map((t) => Number(t.trim())));
    return (a) => set.has(a.type);
  };

  const createAuth = (smartlockId: number, raw: unknown) => {
    const body = asObject(raw);
    const name = authName(body);
    if (typeof body.remoteAllowed !== 'boolean') throw badRequest('remoteAllowed', 'is required (true or false)');
    const type = body.type === undefined || body.type === null ? 0 : body.type;
    // This account has no account users, so only keypad codes can be created (others need accountUserId).
    if (type !== NUKI_TYPE_KEYPAD_CODE) throw badRequest('accountUserId', 'is required unless type is 13 (keypad code)');
    if (body.code === undefined || body.code === null) throw badRequest('code', 'is required for a keypad code');
    const code = keypadCode(body.code);
    const from = optionalDate(body, 'allowedFromDate') ?? null;
    const until = optionalDate(body, 'allowedUntilDate') ?? null;
    if (from !== null && until !== null && from >= until) throw badRequest('allowedUntilDate', 'must be after allowedFromDate');
    const weekDays = intIn(body, 'allowedWeekDays', 0, 127) ?? 0;
    const fromTime = intIn(body, 'allowedFromTime', 0, 1439) ?? 0;
    const untilTime = intIn(body, 'allowedUntilTime', 0, 1440) ?? 0;
    if (codeTaken(smartlockId, code)) throw new EmulatorHttpError(409, 'Conflict', 'code: already used by another authorization on this smartlock');
    const onLock = [...auths.values()].filter((x) => x.smartlockId === smartlockId && x.type === NUKI_TYPE_KEYPAD_CODE).length;
    if (onLock >= keypadCapacity) throw new EmulatorHttpError(422, 'Unprocessable Entity', `keypad: full (${keypadCapacity} keypad codes on this smartlock); delete one first`);
    const now = Date.now();
    const a: AuthRecord = {
      id: randomBytes(12).toString('hex'),
      smartlockId,
      authId: nextAuthId++,
      type,
      name,
      enabled: true,
      remoteAllowed: body.remoteAllowed,
      from,
      until,
      weekDays,
      fromTime,
      untilTime,
      code,
      created: now,
      updated: now,
    };
    auths.set(a.id, a);
  };

  const updateAuth = (a: AuthRecord, raw: unknown) => {
    const body = asObject(raw);
    const name = authName(body);
    // Nuki's update schema: a field that is null or not sent "is not being updated" — null never clears.
    const from = optionalDate(body, 'allowedFromDate') ?? undefined;
    const until = optionalDate(body, 'allowedUntilDate') ?? undefined;
    const nextFrom = from === undefined ? a.from : from;
    const nextUntil = until === undefined ? a.until : until;
    if (nextFrom !== null && nextUntil !== null && nextFrom >= nextUntil) throw badRequest('allowedUntilDate', 'must be after allowedFromDate');
    const weekDays = intIn(body, 'allowedWeekDays', 0, 127);
    const fromTime = intIn(body, 'allowedFromTime', 0, 1439);
    const untilTime = intIn(body, 'allowedUntilTime', 0, 1440);
    if (body.enabled !== undefined && typeof body.enabled !== 'boolean') throw badRequest('enabled', 'must be true or false');
    if (body.remoteAllowed !== undefined && typeof body.remoteAllowed !== 'boolean') throw badRequest('remoteAllowed', 'must be true or false');
    let code = a.code;
    if (body.code !== undefined && body.code !== null) {
      code = keypadCode(body.code);
      if (codeTaken(a.smartlockId, code, a.id)) throw new EmulatorHttpError(409, 'Conflict', 'code: already used by another authorization on this smartlock');
    }
    Object.assign(a, {
      name,
      from: nextFrom,
      until: nextUntil,
      code,
      ...(weekDays !== undefined ? { weekDays } : {}),
      ...(fromTime !== undefined ? { fromTime } : {}),
      ...(untilTime !== undefined ? { untilTime } : {}),
      ...(typeof body.enabled === 'boolean' ? { enabled: body.enabled } : {}),
      ...(typeof body.remoteAllowed === 'boolean' ? { remoteAllowed: body.remoteAllowed } : {}),
      updated: Date.now(),
    });
  };

  type Handler = (body: unknown, query: URLSearchParams) => { status: number; body?: unknown };
  const route = (method: string, segs: string[]): { template: string; run: Handler } | null => {
    if (segs[0] !== 'smartlock') return null;
    const n = segs.length;
    if (n === 1 && method === 'GET') {
      return { template: 'GET /smartlock', run: () => ({ status: 200, body: locks.map(lockJson) }) };
    }
    if (n === 2 && segs[1] === 'auth' && method === 'GET') {
      return {
        template: 'GET /smartlock/auth',
        run: (_b, q) => ({ status: 200, body: Array.from(auths.values()).filter(typeFilter(q)).map(apiJson) }),
      };
    }
    if (n === 2 && method === 'GET') {
      return {
        template: 'GET /smartlock/:smartlockId',
        run: () => ({ status: 200, body: lockJson(locks.find((l) => l.smartlockId === getLock(segs[1]))!) }),
      };
    }
    if (n === 3 && segs[2] === 'auth') {
      if (method === 'GET') {
        return {
          template: 'GET /smartlock/:smartlockId/auth',
          run: (_b, q) => {
            const lockId = getLock(segs[1]);
            const keep = typeFilter(q);
            return { status: 200, body: Array.from(auths.values()).filter((a) => a.smartlockId === lockId && keep(a)).map(apiJson) };
          },
        };
      }
      if (method === 'PUT') {
        // Nuki creates asynchronously and answers 204 without the new auth's id.
        return {
          template: 'PUT /smartlock/:smartlockId/auth',
          run: (raw) => {
            createAuth(getLock(segs[1]), raw);
            return { status: 204 };
          },
        };
      }
      return null;
    }
    if (n === 4 && segs[2] === 'auth') {
      if (method === 'GET') {
        return { template: 'GET /smartlock/:smartlockId/auth/:id', run: () => ({ status: 200, body: apiJson(getAuth(getLock(segs[1]), segs[3])) }) };
      }
      if (method === 'POST') {
        return {
          template: 'POST /smartlock/:smartlockId/auth/:id',
          run: (raw) => {
            updateAuth(getAuth(getLock(segs[1]), segs[3]), raw);
            return { status: 204 };
          },
        };
      }
      if (method === 'DELETE') {
        return {
          template: 'DELETE /smartlock/:smartlockId/auth/:id',
          run: () => {
            auths.delete(getAuth(getLock(segs[1]), segs[3]).id);
            return { status: 204 };
          },
        };
      }
    }
    return null;
  };

  /** Sliding window per token; only requests with the right token count (others are 401 anyway). */
  const overLimit = (): number | null => {
    if (!rateLimit) return null;
    const now = Date.now();
    const cutoff = now - rateLimit.windowMs;
    if (recent.length && recent[0] <= cutoff) recent = recent.filter((t) => t > cutoff);
    if (recent.length >= rateLimit.limit) return Math.max(1, Math.ceil((recent[0] + rateLimit.windowMs - now) / 1000));
    recent.push(now);
    return null;
  };

  const server: EmulatorServer = await startEmulatorServer({
    port: opts.port,
    recordRequests: opts.recordRequests,
    host: opts.host ?? '127.0.0.1',
    route: (method, segs) => {
      const matched = route(method, segs);
      return matched && { template: matched.template, handle: (req) => matched.run(req.body, req.query) };
    },
    authorize: (req) => {
      if (req.headers.authorization !== expectedAuth) {
        return { status: 401, body: { error: 'Unauthorized', message: 'missing or invalid API token; send Authorization: Bearer <token>' } };
      }
      const retryAfter = overLimit();
      return retryAfter === null
        ? null
        : { status: 429, body: { error: 'Too Many Requests', message: 'rate limit exceeded' }, headers: { 'retry-after': String(retryAfter) } };
    },
    errorBody: (_status, code, message) => ({ error: code, message }),
    state: () => ({ smartlocks: locks.map(lockJson), auths: Array.from(auths.values(), view), rateLimit }),
    reset: () => {
      auths.clear();
      recent = [];
    },
  });

  const state: NukiEmulatorState = {
    smartlocks: () => locks.map((l) => ({ ...l })),
    auths: (smartlockId) => Array.from(auths.values()).filter((a) => smartlockId === undefined || a.smartlockId === smartlockId).map(view),
    authsByName: (name) => Array.from(auths.values()).filter((a) => a.name === name).map(view),
    codeMatches: (id, code) => auths.get(id)?.code === Number(code) && KEYPAD_CODE_RE.test(code),
    canEnter: ({ code, smartlockId, at = Date.now() }) => {
      if (!KEYPAD_CODE_RE.test(code)) return false;
      for (const a of auths.values()) if (a.smartlockId === smartlockId && a.code === Number(code) && inWindow(a, at)) return true;
      return false;
    },
    removeAuth: (id) => auths.delete(id),
  };

  return {
    ...controlsOf(server),
    recorded: server.recorded,
    clearRecorded: server.clearRecorded,
    setRateLimit: (limit) => {
      rateLimit = limit;
      recent = [];
    },
    state,
  };
}
