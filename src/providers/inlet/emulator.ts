/**
 * An emulator of Inlet's Cloud Access Hub API as the adapter uses it (see notes.md for what is
 * confirmed from Inlet's knowledge base and what is an assumed contract).
 *
 * Model: Inlet, not the caller, issues the credential. POST /GrantAccess for one lock and one time
 * frame answers with a ReferenceId and the credential the operation asks for: an access code (with
 * the keypad's symbols in codeFormatted), a URL key (a link the guest taps) or a mobile key. The
 * ReferenceId is what later updates or revokes the access. POST /GrantPulseAccess opens a door now,
 * but only for someone holding access to it at this moment.
 *
 * Secrets (codes, URL keys, mobile keys) are only ever in GrantAccess answers, as the real API gives
 * them once; list routes, errors and the state dump never carry them. Tests check them through
 * `state.credentialOpens()`.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { EmulatorHttpError, startEmulatorServer, type EmulatorServer, controlsOf, type EmulatorControls } from '../emulator-kit.js';
import { parseIsoWithOffset } from '../demo/emulator.js';

export type InletOperation = 'code' | 'mobilekey' | 'urlkey' | 'unlock';
const OPERATIONS: readonly InletOperation[] = ['code', 'mobilekey', 'urlkey', 'unlock'];

export interface InletLock {
  lockId: string;
  name: string;
  description: string;
  locationId: string;
  locationName: string;
  /** How the keypad wants the code typed, `{code}` standing for the digits (Inlet: "such as #1234*"). */
  codeFormat: string;
}

/** An access as the list route shows it: no secret. */
export interface InletAccess {
  referenceId: string;
  operation: InletOperation;
  lockId: string;
  uniqueId: string;
  startTime: string;
  endTime: string;
}

export interface InletEmulatorState {
  locks(): InletLock[];
  /** Active (not revoked) accesses, optionally for one uniqueId; never contains secrets. */
  accesses(uniqueId?: string): InletAccess[];
  /** Does this credential, as the guest was given it, open `lockId` at `at` (epoch ms, default now)? */
  credentialOpens(secret: string, lockId: string, at?: number): boolean;
  /** Door pulses sent through GrantPulseAccess. */
  pulses(): { lockId: string; uniqueId: string; at: number }[];
  /** Every JSON body the write routes received, in order (tests check what personal data left Lockstep). */
  receivedBodies(): { route: string; body: unknown }[];
}

export interface InletEmulator extends EmulatorControls {
  state: InletEmulatorState;
}

export interface InletEmulatorOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  locks?: InletLock[];
}

export const DEFAULT_INLET_LOCKS: readonly InletLock[] = Object.freeze([
  { lockId: 'lock-main-entrance', name: 'Main entrance', description: 'Street door with keypad, online', locationId: 'loc-hq', locationName: 'HQ', codeFormat: '#{code}*' },
  { lockId: 'lock-room-1', name: 'Room 1', description: 'Meeting room, first floor, keypad', locationId: 'loc-hq', locationName: 'HQ', codeFormat: '{code}' },
  { lockId: 'lock-sauna', name: 'Lake sauna', description: 'Sauna door by the jetty', locationId: 'loc-lake', locationName: 'Lake', codeFormat: '{code}#' },
]);

interface AccessRecord extends Omit<InletAccess, 'startTime' | 'endTime'> {
  from: number;
  until: number;
  /** What the guest uses: codeFormatted, URL or mobile key (null for 'unlock'). */
  secret: string | null;
  code: string | null;
}

const HttpError = EmulatorHttpError;
const invalid = (field: string, what: string) => new HttpError(422, 'validation', `${field}: ${what}`);
const MAX_TEXT = 200;
const PHONE_RE = /^\+?\d{6,15}$/;
const COUNTRY_RE = /^\+\d{1,3}$/;
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function asObject(body: unknown): Record<string, unknown> {
  if (body === undefined) throw new HttpError(400, 'bad_request', 'body: a JSON object is required');
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'bad_request', 'body: must be a JSON object');
  return body as Record<string, unknown>;
}

function text(body: Record<string, unknown>, field: string, required: boolean): string | null {
  const v = body[field];
  if (v === undefined || v === null || v === '') {
    if (required) throw invalid(field, 'is required');
    return null;
  }
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  if (v.length > MAX_TEXT) throw invalid(field, `must be at most ${MAX_TEXT} characters`);
  return v;
}

function timeFrame(body: Record<string, unknown>): { from: number; until: number } {
  if (body.startTime === undefined || body.startTime === null) throw invalid('startTime', 'is required');
  if (body.endTime === undefined || body.endTime === null) throw invalid('endTime', 'is required');
  const from = parseIsoWithOffset(body.startTime, 'startTime');
  const until = parseIsoWithOffset(body.endTime, 'endTime');
  if (until <= from) throw invalid('endTime', 'must be after startTime');
  return { from, until };
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function startInletEmulator(opts: InletEmulatorOptions = {}): Promise<InletEmulator> {
  const apiKey = opts.apiKey ?? 'inlet-key';
  const expectedAuth = `Bearer ${apiKey}`;
  const locks = (opts.locks ?? DEFAULT_INLET_LOCKS).map((l) => ({ ...l }));
  const lockById = new Map(locks.map((l) => [l.lockId, l]));

  // Ids keep counting across reset() so a stale ReferenceId answers 404 rather than hit a new access.
  const accesses = new Map<string, AccessRecord>();
  const pulses: { lockId: string; uniqueId: string; at: number }[] = [];
  const received: { route: string; body: unknown }[] = [];
  let nextRef = 1;
  let baseUrl = '';

  const view = (a: AccessRecord): InletAccess => ({
    referenceId: a.referenceId,
    operation: a.operation,
    lockId: a.lockId,
    uniqueId: a.uniqueId,
    startTime: iso(a.from),
    endTime: iso(a.until),
  });
  const getAccess = (body: Record<string, unknown>): AccessRecord => {
    const ref = text(body, 'referenceId', true)!;
    const a = accesses.get(ref);
    if (!a) throw new HttpError(404, 'not_found', `referenceId: no active access ${ref}`);
    return a;
  };
  const getLock = (lockId: string): InletLock => {
    const lock = lockById.get(lockId);
    if (!lock) throw invalid('lockId', `unknown lock ${lockId}`);
    return lock;
  };
  /** A code no other active access on this lock holds (a keypad cannot tell two guests' equal codes apart). */
  const freshCode = (lockId: string): string => {
    for (;;) {
      const code = String(randomInt(100_000, 1_000_000));
      if (![...accesses.values()].some((a) => a.lockId === lockId && a.code === code)) return code;
    }
  };

  const grantAccess = (raw: unknown) => {
    const body = asObject(raw);
    const operation = text(body, 'operation', true) as InletOperation;
    if (!OPERATIONS.includes(operation)) throw invalid('operation', `must be one of ${OPERATIONS.join(', ')}`);
    const lock = getLock(text(body, 'lockId', true)!);
    const uniqueId = text(body, 'uniqueId', true)!;
    const { from, until } = timeFrame(body);
    const phoneNumber = text(body, 'phoneNumber', false);
    const countryCode = text(body, 'countryCode', false);
    const email = text(body, 'email', false);
    if (phoneNumber !== null && !PHONE_RE.test(phoneNumber)) throw invalid('phoneNumber', 'must be 6 to 15 digits, optionally starting with +');
    if (countryCode !== null && !COUNTRY_RE.test(countryCode)) throw invalid('countryCode', 'must look like +47');
    if (phoneNumber !== null && !phoneNumber.startsWith('+') && countryCode === null) throw invalid('countryCode', 'is required unless phoneNumber starts with +');
    if (email !== null && !EMAIL_RE.test(email)) throw invalid('email', 'is not an e-mail address');
    // A mobile key is delivered to the lock vendor's app, which knows the guest by phone number.
    if (operation === 'mobilekey' && phoneNumber === null) throw invalid('phoneNumber', 'is required for a mobile key');

    const a: AccessRecord = { referenceId: `ref-${nextRef++}`, operation, lockId: lock.lockId, uniqueId, from, until, secret: null, code: null };
    const answer: Record<string, unknown> = {};
    if (operation === 'code') {
      a.code = freshCode(lock.lockId);
      a.secret = lock.codeFormat.replace('{code}', a.code);
      answer.code = a.code;
      answer.codeFormatted = a.secret;
    } else if (operation === 'urlkey') {
      a.secret = `${baseUrl}/k/${randomBytes(18).toString('base64url')}`;
      answer.urlKey = a.secret;
    } else if (operation === 'mobilekey') {
      a.secret = `mk_${randomBytes(18).toString('base64url')}`;
      answer.mobileKey = a.secret;
    }
    accesses.set(a.referenceId, a);
    return { status: 200, body: { ...view(a), ...answer } };
  };

  const updateAccess = (raw: unknown) => {
    const body = asObject(raw);
    const a = getAccess(body);
    for (const k of Object.keys(body)) {
      if (k !== 'referenceId' && k !== 'startTime' && k !== 'endTime') throw invalid(k, 'cannot be changed (only startTime and endTime)');
    }
    const { from, until } = timeFrame(body);
    a.from = from;
    a.until = until;
    return { status: 200, body: view(a) };
  };

  const revokeAccess = (raw: unknown) => {
    const a = getAccess(asObject(raw));
    accesses.delete(a.referenceId);
    return { status: 200, body: { referenceId: a.referenceId, revoked: true } };
  };

  const pulseAccess = (raw: unknown) => {
    const body = asObject(raw);
    const lock = getLock(text(body, 'lockId', true)!);
    const uniqueId = text(body, 'uniqueId', true)!;
    const now = Date.now();
    const valid = [...accesses.values()].some((a) => a.uniqueId === uniqueId && a.lockId === lock.lockId && a.from <= now && now < a.until);
    if (!valid) throw new HttpError(422, 'no_valid_access', `no valid access to ${lock.lockId} for this uniqueId right now`);
    pulses.push({ lockId: lock.lockId, uniqueId, at: now });
    return { status: 200, body: { lockId: lock.lockId, pulsedAt: iso(now) } };
  };

  const listAccess = (query: URLSearchParams) => {
    const uniqueId = query.get('uniqueId');
    const ref = query.get('referenceId');
    if (uniqueId === null && ref === null) throw invalid('uniqueId', 'uniqueId or referenceId is required');
    const found = [...accesses.values()].filter((a) => (uniqueId === null || a.uniqueId === uniqueId) && (ref === null || a.referenceId === ref));
    return { status: 200, body: { results: found.map(view) } };
  };

  const writeRoutes: Record<string, (body: unknown) => { status: number; body: unknown }> = {
    GrantAccess: grantAccess,
    UpdateAccess: updateAccess,
    RevokeAccess: revokeAccess,
    GrantPulseAccess: pulseAccess,
  };

  const server: EmulatorServer = await startEmulatorServer({
    port: opts.port,
    host: opts.host ?? '127.0.0.1',
    apiPrefix: '/',
    route: (method, segs) => {
      if (segs.length !== 1) return null;
      const name = segs[0];
      if (method === 'GET' && name === 'GetLocks') {
        return {
          template: 'GET /GetLocks',
          handle: () => ({ status: 200, body: { results: locks.map(({ codeFormat: _f, ...l }) => l) } }),
        };
      }
      if (method === 'GET' && name === 'GetAccess') return { template: 'GET /GetAccess', handle: (req) => listAccess(req.query) };
      const write = writeRoutes[name];
      if (method === 'POST' && write) {
        return {
          template: `POST /${name}`,
          handle: (req) => {
            received.push({ route: name, body: structuredClone(req.body) });
            return write(req.body);
          },
        };
      }
      return null;
    },
    authorize: (req) =>
      req.headers.authorization === expectedAuth
        ? null
        : { status: 401, body: { status: 'ERROR', code: '401', message: 'missing or invalid API key' }, headers: { 'www-authenticate': 'Bearer' } },
    // Inlet's published error example: {"status":"ERROR","code":"422","message":"…"}.
    errorBody: (status, _code, message) => ({ status: 'ERROR', code: String(status), message }),
    state: () => ({ locks: locks.map((l) => ({ ...l })), accesses: [...accesses.values()].map(view), pulses: pulses.length }),
    reset: () => {
      accesses.clear();
      pulses.length = 0;
      received.length = 0;
    },
  });
  baseUrl = server.url;

  const state: InletEmulatorState = {
    locks: () => locks.map((l) => ({ ...l })),
    accesses: (uniqueId) => [...accesses.values()].filter((a) => uniqueId === undefined || a.uniqueId === uniqueId).map(view),
    credentialOpens: (secret, lockId, at = Date.now()) =>
      [...accesses.values()].some((a) => a.secret !== null && a.secret === secret && a.lockId === lockId && a.from <= at && at < a.until),
    pulses: () => pulses.map((p) => ({ ...p })),
    receivedBodies: () => received.map((r) => ({ route: r.route, body: structuredClone(r.body) })),
  };

  return {
    ...controlsOf(server),
    state,
  };
}
