/**
 * The reference receiver for Lockstep's signed webhook contract (notes.md), on the shared emulator
 * kit (fault injection, stats and /_emulator/* come from there). Venues can read it as a worked
 * example of a receiver; tests and the contract suite run against it.
 *
 * For every POST it: verifies the signature, refuses timestamps outside ±5 minutes (401), answers a
 * replayed event id with the response it gave the first time (no second apply), validates the event,
 * and applies it to in-memory state (users with one PIN each; grants = user × target × window).
 *
 * PINs live in their own maps and never appear in a response, an error, the delivery log or the
 * state dump; neither does the signing secret.
 */
import { createHash } from 'node:crypto';
import { EmulatorHttpError, startEmulatorServer, type EmulatorResponse, type EmulatorServer, controlsOf, type EmulatorControls } from '../emulator-kit.js';
import { EVENT_ID_HEADER, REPLAYED_HEADER, SIGNATURE_HEADER, TOLERANCE_SECONDS, verifySignature } from './signing.js';

// ---------------------------------------------------------------------------------------------------
// Public types

export interface WebhookTarget {
  id: string;
  name: string;
  description: string;
  kind: 'access-group' | 'zone' | 'door' | 'lock';
}

export interface WebhookUser {
  id: string;
  key: string;
  displayName: string;
  email: string | null;
  phone: string | null;
  hasPin: boolean;
}

export interface WebhookGrant {
  id: string;
  targetId: string;
  startsAt: string;
  endsAt: string | null;
}

export type DeliveryOutcome = 'applied' | 'refused' | 'replayed' | 'bad-signature' | 'stale' | 'malformed';

/** One POST the receiver saw (no bodies: they can carry PINs). */
export interface Delivery {
  eventId: string | null;
  type: string | null;
  status: number;
  outcome: DeliveryOutcome;
}

export interface WebhookEmulatorState {
  /** Plain copies of the whole state; never contains PINs or the secret. */
  snapshot(): { targets: WebhookTarget[]; users: WebhookUser[]; grants: (WebhookGrant & { userId: string })[] };
  users(): WebhookUser[];
  user(id: string): WebhookUser | null;
  userByKey(key: string): WebhookUser | null;
  grants(userId: string): WebhookGrant[];
  pinMatches(userId: string, pin: string): boolean;
  /** Keypad model: does `pin` open `targetId` at `at` (epoch ms, default now)? */
  canEnter(input: { pin: string; targetId: string; at?: number }): boolean;
  /** Every delivery in arrival order (cleared by reset). */
  deliveries(): Delivery[];
  /** How many times the event with this id changed state: 1 however often it was delivered (0 if refused). */
  timesApplied(eventId: string): number;
  /** Edits made inside the access-control system itself, behind Lockstep's back (drift tests). */
  removeGrant(userId: string, grantId: string): boolean;
  removeUser(userId: string): boolean;
}

export interface WebhookEmulator extends EmulatorControls {
  /** The receiver URL to configure as the integration's base URL (origin + path). */
  url: string;
  origin: string;
  /** Clears users, grants, PINs, remembered event ids, deliveries, faults and stats. */
  reset(): void;
  state: WebhookEmulatorState;
}

export interface WebhookEmulatorOptions {
  port?: number;
  host?: string;
  signingSecret?: string;
  /** Path of the receiver. Default '/lockstep/events'. */
  path?: string;
  targets?: WebhookTarget[];
  toleranceSeconds?: number;
  /** Clock in epoch ms (tests). */
  now?: () => number;
}

export const DEFAULT_WEBHOOK_TARGETS: readonly WebhookTarget[] = Object.freeze([
  { id: 'main-entrance', name: 'Main entrance', description: 'Street door and reception, 07:00–22:00', kind: 'door' as const },
  { id: 'studio-a', name: 'Studio A', description: 'Ground floor, 12 people, sound-proofed', kind: 'access-group' as const },
  { id: 'studio-b', name: 'Studio B', description: 'First floor, 6 people, daylight', kind: 'access-group' as const },
  { id: 'roof-terrace', name: 'Roof terrace', description: 'Outdoor area, summer only', kind: 'zone' as const },
]);

// ---------------------------------------------------------------------------------------------------
// Validation helpers

const HttpError = EmulatorHttpError;
const invalid = (field: string, what: string) => new HttpError(422, 'validation', `${field}: ${what}`);

const MAX_TEXT = 200;
const PIN_RE = /^\d{4,8}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const EVENT_ID_RE = /^[A-Za-z0-9_.:-]{8,128}$/;
const EVENT_TYPES = ['targets.list', 'observe', 'user.upsert', 'user.delete', 'pin.set', 'grant.create', 'grant.update', 'grant.delete'] as const;
type EventType = (typeof EVENT_TYPES)[number];

/** Event ids are remembered at least twice the tolerance: any older replay already fails the clock check. */
const REMEMBER_MS = 2 * TOLERANCE_SECONDS * 1000;

function text(data: Record<string, unknown>, field: string, required: boolean): string | null {
  const v = data[field];
  if (v === undefined || v === null || v === '') {
    if (required) throw invalid(field, 'is required');
    return null;
  }
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  if (v.length > MAX_TEXT) throw invalid(field, `must be at most ${MAX_TEXT} characters`);
  if (required && v.trim() === '') throw invalid(field, 'must not be blank');
  return v;
}

/** ISO-8601 with an explicit offset; rejects impossible calendar dates such as 30 February. */
function instant(data: Record<string, unknown>, field: string): number {
  const v = data[field];
  if (v === undefined || v === null) throw invalid(field, 'is required');
  if (typeof v !== 'string' || !ISO_RE.test(v)) throw invalid(field, 'must be an ISO-8601 date-time with an offset, e.g. 2030-01-31T09:00:00Z');
  const ms = Date.parse(v);
  const [y, m, d] = v.slice(0, 10).split('-').map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  if (Number.isNaN(ms) || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) throw invalid(field, 'is not a valid date-time');
  return ms;
}

/** [startsAt, endsAt) with endsAt null = open-ended. */
function window(data: Record<string, unknown>): { startsAt: number; endsAt: number | null } {
  const startsAt = instant(data, 'startsAt');
  if (!('endsAt' in data)) throw invalid('endsAt', 'is required (null for open-ended)');
  const endsAt = data.endsAt === null ? null : instant(data, 'endsAt');
  if (endsAt !== null && endsAt <= startsAt) throw invalid('endsAt', 'must be after startsAt');
  return { startsAt, endsAt };
}

const iso = (ms: number) => new Date(ms).toISOString();
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// ---------------------------------------------------------------------------------------------------
// Emulator

interface UserRecord {
  id: string;
  key: string;
  displayName: string;
  email: string | null;
  phone: string | null;
  grants: Map<string, GrantRecord>;
}

interface GrantRecord {
  id: string;
  targetId: string;
  startsAt: number;
  endsAt: number | null;
}

interface Remembered {
  bodyHash: string;
  response: EmulatorResponse;
  at: number;
}

export async function startWebhookEmulator(opts: WebhookEmulatorOptions = {}): Promise<WebhookEmulator> {
  const secret = opts.signingSecret ?? 'whsec-demo-0123456789abcdef';
  const path = '/' + (opts.path ?? '/lockstep/events').replace(/^\/+|\/+$/g, '');
  const pathSegs = path.split('/').slice(1);
  const now = opts.now ?? Date.now;
  const tolerance = opts.toleranceSeconds ?? TOLERANCE_SECONDS;
  const targets = (opts.targets ?? DEFAULT_WEBHOOK_TARGETS).map((t) => ({ ...t }));
  const targetIds = new Set(targets.map((t) => t.id));

  const users = new Map<string, UserRecord>();
  const byKey = new Map<string, string>();
  const pinByUser = new Map<string, string>();
  const userByPin = new Map<string, string>();
  /** Insertion-ordered, so pruning stops at the first entry young enough to keep. */
  const seen = new Map<string, Remembered>();
  let deliveries: Delivery[] = [];
  /** Event id → number of times it changed state; a working dedupe keeps every value at 1. */
  const applyCount = new Map<string, number>();
  let nextUser = 1;
  let nextGrant = 1;

  const userJson = (u: UserRecord): WebhookUser => ({
    id: u.id,
    key: u.key,
    displayName: u.displayName,
    email: u.email,
    phone: u.phone,
    hasPin: pinByUser.has(u.id),
  });
  const grantJson = (g: GrantRecord): WebhookGrant => ({ id: g.id, targetId: g.targetId, startsAt: iso(g.startsAt), endsAt: g.endsAt === null ? null : iso(g.endsAt) });

  const getUser = (data: Record<string, unknown>): UserRecord => {
    const id = text(data, 'userId', true)!;
    const u = users.get(id);
    if (!u) throw new HttpError(404, 'not_found', 'userId: no such user');
    return u;
  };
  const getGrant = (u: UserRecord, data: Record<string, unknown>): GrantRecord => {
    const id = text(data, 'grantId', true)!;
    const g = u.grants.get(id);
    if (!g) throw new HttpError(404, 'not_found', 'grantId: no such grant for this user');
    return g;
  };
  const dropUser = (u: UserRecord) => {
    users.delete(u.id);
    byKey.delete(u.key);
    const pin = pinByUser.get(u.id);
    if (pin !== undefined) userByPin.delete(pin);
    pinByUser.delete(u.id);
  };

  /** Applies one verified event. Returns the answer; throws EmulatorHttpError for a refusal. */
  const apply = (type: EventType, data: Record<string, unknown>): EmulatorResponse => {
    switch (type) {
      case 'targets.list':
        return { status: 200, body: { targets } };

      case 'observe': {
        const userId = text(data, 'userId', false);
        const key = text(data, 'key', false);
        if (userId === null && key === null) throw invalid('key', 'userId or key is required');
        const id = userId ?? byKey.get(key!);
        const u = id === undefined ? undefined : users.get(id);
        if (!u) return { status: 200, body: { user: null, grants: [] } };
        return { status: 200, body: { user: { id: u.id, key: u.key, hasPin: pinByUser.has(u.id) }, grants: Array.from(u.grants.values(), grantJson) } };
      }

      case 'user.upsert': {
        const key = text(data, 'key', true)!;
        const displayName = text(data, 'displayName', true)!;
        const email = text(data, 'email', false);
        const phone = text(data, 'phone', false);
        if (email !== null && !/^[^@\s]+@[^@\s]+$/.test(email)) throw invalid('email', 'is not an email address');
        const existing = byKey.get(key);
        if (existing !== undefined) {
          const u = users.get(existing)!;
          Object.assign(u, { displayName, email, phone });
          return { status: 200, body: { id: u.id } };
        }
        const u: UserRecord = { id: `usr_${nextUser++}`, key, displayName, email, phone, grants: new Map() };
        users.set(u.id, u);
        byKey.set(key, u.id);
        return { status: 201, body: { id: u.id } };
      }

      case 'user.delete':
        dropUser(getUser(data));
        return { status: 204 };

      case 'pin.set': {
        const u = getUser(data);
        const pin = data.pin;
        // Describe the rule, never echo the value.
        if (pin === undefined || pin === null) throw invalid('pin', 'is required');
        if (typeof pin !== 'string' || !PIN_RE.test(pin)) throw invalid('pin', 'must be a string of 4 to 8 digits');
        const owner = userByPin.get(pin);
        if (owner !== undefined && owner !== u.id) throw new HttpError(409, 'conflict', 'pin: already in use by another user');
        const old = pinByUser.get(u.id);
        if (old !== undefined) userByPin.delete(old);
        pinByUser.set(u.id, pin);
        userByPin.set(pin, u.id);
        return { status: 204 };
      }

      case 'grant.create': {
        const u = getUser(data);
        const targetId = text(data, 'targetId', true)!;
        if (!targetIds.has(targetId)) throw invalid('targetId', 'unknown target');
        const w = window(data);
        const g: GrantRecord = { id: `grt_${nextGrant++}`, targetId, ...w };
        u.grants.set(g.id, g);
        return { status: 201, body: { id: g.id } };
      }

      case 'grant.update': {
        const u = getUser(data);
        const g = getGrant(u, data);
        const targetId = text(data, 'targetId', false);
        if (targetId !== null && targetId !== g.targetId) throw invalid('targetId', 'cannot be changed; delete the grant and create another');
        Object.assign(g, window(data));
        return { status: 200, body: grantJson(g) };
      }

      case 'grant.delete': {
        const u = getUser(data);
        u.grants.delete(getGrant(u, data).id);
        return { status: 204 };
      }
    }
  };

  const errorResponse = (status: number, error: string, message: string, headers?: Record<string, string>): EmulatorResponse => ({
    status,
    body: { error, message },
    ...(headers ? { headers } : {}),
  });

  const forget = (at: number) => {
    for (const [id, r] of seen) {
      if (at - r.at < REMEMBER_MS) break;
      seen.delete(id);
    }
  };

  /** The whole receiver: authenticate, dedupe, validate, apply, remember. */
  const receive = (headers: Record<string, string | string[] | undefined>, body: unknown, rawBody: string): EmulatorResponse => {
    const log = (d: Omit<Delivery, 'status'>, r: EmulatorResponse) => {
      deliveries.push({ ...d, status: r.status });
      return r;
    };
    const headerId = typeof headers[EVENT_ID_HEADER] === 'string' ? (headers[EVENT_ID_HEADER] as string) : null;

    // Verify over the bytes as received, and only then trust the parsed body (notes.md).
    const at = now();
    const check = verifySignature({ secret, header: headers[SIGNATURE_HEADER], rawBody, nowSeconds: Math.floor(at / 1000), toleranceSeconds: tolerance });
    if (!check.ok) {
      const stale = check.reason === 'stale' || check.reason === 'future';
      return log(
        { eventId: headerId, type: null, outcome: stale ? 'stale' : 'bad-signature' },
        stale
          ? errorResponse(401, 'stale_timestamp', `Lockstep-Signature timestamp is more than ${tolerance} s from the receiver's clock`)
          : errorResponse(401, 'invalid_signature', 'missing or invalid Lockstep-Signature', { 'www-authenticate': 'Lockstep-Signature' }),
      );
    }

    const env = body as { id?: unknown; type?: unknown; data?: unknown } | undefined;
    const malformed = (message: string) => log({ eventId: headerId, type: null, outcome: 'malformed' }, errorResponse(400, 'bad_request', message));
    if (!env || typeof env !== 'object' || Array.isArray(env)) return malformed('body: must be a JSON event envelope { id, type, data }');
    if (typeof env.id !== 'string' || !EVENT_ID_RE.test(env.id)) return malformed('id: must be an event id of 8 to 128 characters');
    // The header is not signed; the body is. They must agree, and the signed one is used.
    if (headerId !== env.id) return malformed('Lockstep-Event-Id: must equal the id in the signed body');
    const eventId = env.id;

    forget(at);
    const bodyHash = sha256(rawBody);
    const earlier = seen.get(eventId);
    if (earlier) {
      if (earlier.bodyHash !== bodyHash) {
        return log({ eventId, type: null, outcome: 'malformed' }, errorResponse(409, 'event_id_reused', 'id: this event id was already used for a different event'));
      }
      return log(
        { eventId, type: typeof env.type === 'string' ? env.type : null, outcome: 'replayed' },
        { ...earlier.response, headers: { ...earlier.response.headers, [REPLAYED_HEADER]: 'true' } },
      );
    }

    if (typeof env.type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(env.type)) {
      return malformed(`type: must be one of ${EVENT_TYPES.join(', ')}`);
    }
    const type = env.type as EventType;
    if (!env.data || typeof env.data !== 'object' || Array.isArray(env.data)) return malformed('data: must be a JSON object');

    let response: EmulatorResponse;
    try {
      response = apply(type, env.data as Record<string, unknown>);
      if (type !== 'targets.list' && type !== 'observe') applyCount.set(eventId, (applyCount.get(eventId) ?? 0) + 1);
    } catch (err) {
      if (!(err instanceof EmulatorHttpError)) throw err; // a bug: 500, not remembered, may be retried
      response = errorResponse(err.status, err.code, err.message);
    }
    // Remember decided answers (2xx and 4xx) so a replay gets the same one and changes nothing.
    seen.set(eventId, { bodyHash, response, at });
    return log({ eventId, type, outcome: response.status < 300 ? 'applied' : 'refused' }, response);
  };

  const snapshot = () => {
    const grants: (WebhookGrant & { userId: string })[] = [];
    for (const u of users.values()) for (const g of u.grants.values()) grants.push({ ...grantJson(g), userId: u.id });
    return { targets: targets.map((t) => ({ ...t })), users: Array.from(users.values(), userJson), grants };
  };

  const server: EmulatorServer = await startEmulatorServer({
    port: opts.port,
    host: opts.host ?? '127.0.0.1',
    apiPrefix: path,
    route: (method, segs) =>
      method === 'POST' && segs.length === pathSegs.length && segs.every((s, i) => s === pathSegs[i])
        ? { template: `POST ${path}`, handle: (req) => receive(req.headers, req.body, req.rawBody) }
        : null,
    state: snapshot,
    reset: () => {
      users.clear();
      byKey.clear();
      pinByUser.clear();
      userByPin.clear();
      seen.clear();
      applyCount.clear();
      deliveries = [];
    },
  });

  const state: WebhookEmulatorState = {
    snapshot,
    users: () => Array.from(users.values(), userJson),
    user: (id) => {
      const u = users.get(id);
      return u ? userJson(u) : null;
    },
    userByKey: (key) => {
      const id = byKey.get(key);
      const u = id === undefined ? undefined : users.get(id);
      return u ? userJson(u) : null;
    },
    grants: (userId) => {
      const u = users.get(userId);
      return u ? Array.from(u.grants.values(), grantJson) : [];
    },
    pinMatches: (userId, pin) => pinByUser.get(userId) === pin,
    canEnter: ({ pin, targetId, at = Date.now() }) => {
      const userId = userByPin.get(pin);
      const u = userId === undefined ? undefined : users.get(userId);
      if (!u) return false;
      for (const g of u.grants.values()) {
        if (g.targetId === targetId && g.startsAt <= at && (g.endsAt === null || at < g.endsAt)) return true;
      }
      return false;
    },
    deliveries: () => deliveries.map((d) => ({ ...d })),
    timesApplied: (eventId) => applyCount.get(eventId) ?? 0,
    removeGrant: (userId, grantId) => users.get(userId)?.grants.delete(grantId) ?? false,
    removeUser: (userId) => {
      const u = users.get(userId);
      if (!u) return false;
      dropUser(u);
      return true;
    },
  };

  return {
    ...controlsOf(server),
    url: server.url + path,
    origin: server.url,
    state,
  };
}
