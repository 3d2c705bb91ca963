/**
 * Emulator for SecCloud's API AS ASSUMED in notes.md (no published SecCloud API was found; every
 * route, field and rule here is an assumption a venue must check, see notes.md "Not confirmed").
 *
 * Model: a site has access groups; users (keyed by our `external_ref`) carry one PIN; a membership
 * puts a user in an access group for [valid_from, valid_to). Lists are cursor-paged.
 *
 * Built on the shared emulator kit (fault injection, stats, /_emulator control routes). PINs live in
 * their own maps and never reach a response, an error message or the state dump.
 */
import { randomUUID } from 'node:crypto';
import { EmulatorHttpError, startEmulatorServer, type EmulatorRequest, type EmulatorResponse, controlsOf, type EmulatorControls } from '../emulator-kit.js';

// ---------------------------------------------------------------------------------------------------
// Public types (wire shapes, snake_case as the assumed API sends them)

export interface SecCloudAccessGroup {
  id: string;
  name: string;
  description: string | null;
}

export interface SecCloudUser {
  id: string;
  external_ref: string;
  display_name: string;
  email: string | null;
  phone: string | null;
  pin_set: boolean;
  created_at: string;
  updated_at: string;
}

export interface SecCloudMembership {
  id: string;
  user_id: string;
  access_group_id: string;
  valid_from: string;
  valid_to: string | null;
}

export interface SecCloudSnapshot {
  site_id: string;
  access_groups: SecCloudAccessGroup[];
  users: SecCloudUser[];
  memberships: SecCloudMembership[];
}

export interface SecCloudEmulatorState {
  /** Plain copies of the whole state; never contains PINs. */
  snapshot(): SecCloudSnapshot;
  users(): SecCloudUser[];
  user(id: string): SecCloudUser | null;
  userByExternalRef(externalRef: string): SecCloudUser | null;
  memberships(userId: string): SecCloudMembership[];
  /** Whether `pin` is user `userId`'s PIN (tests check PINs without the emulator revealing them). */
  pinMatches(userId: string, pin: string): boolean;
  /** Keypad model: does `pin`, entered at a door of `accessGroupId` at `at` (default now), open it? */
  canEnter(input: { pin: string; accessGroupId: string; at?: number }): boolean;
}

export interface SecCloudEmulator extends EmulatorControls {
  apiKey: string;
  siteId: string;
  /** Clears users, memberships, PINs, faults and stats (site, access groups and key stay). */
  reset(): void;
  state: SecCloudEmulatorState;
}

export interface SecCloudEmulatorOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  siteId?: string;
  accessGroups?: SecCloudAccessGroup[];
  /** Largest page the API hands out; a bigger `limit` is clamped (assumed). Default 100. */
  maxPageSize?: number;
}

export const DEFAULT_SECCLOUD_ACCESS_GROUPS: readonly SecCloudAccessGroup[] = Object.freeze([
  { id: '7d1f0c2a-0001-4c1e-9a00-000000000001', name: 'Main entrance', description: 'Street door and reception, 06:00–23:00' },
  { id: '7d1f0c2a-0002-4c1e-9a00-000000000002', name: 'Studio A', description: 'Ground floor studio, sprung floor, seats 20' },
  { id: '7d1f0c2a-0003-4c1e-9a00-000000000003', name: 'Studio B', description: 'First floor studio with mirrors' },
  { id: '7d1f0c2a-0004-4c1e-9a00-000000000004', name: 'Members lounge', description: null },
  { id: '7d1f0c2a-0005-4c1e-9a00-000000000005', name: 'Bike store', description: 'Courtyard bike cage' },
]);

// Assumed limits (notes.md): see the Not confirmed list.
const DEFAULT_PAGE_SIZE = 50;
const MAX_EXTERNAL_REF = 128;
const MAX_TEXT = 100;
const MAX_MEMBERSHIPS_PER_USER = 100;
const PIN_RE = /^\d{4,8}$/;
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-](\d{2}):(\d{2}))$/;

// ---------------------------------------------------------------------------------------------------
// Validation helpers. Errors are `{ code, message }` with message "<field>: <what is wrong>".

const invalid = (field: string, what: string) => new EmulatorHttpError(400, 'invalid_argument', `${field}: ${what}`);
const notFound = (what: string) => new EmulatorHttpError(404, 'not_found', what);

/** RFC 3339 date-time with seconds and an explicit offset; calendar-checked. */
export function parseRfc3339(value: unknown, field: string): number {
  if (typeof value !== 'string') throw invalid(field, 'must be an RFC 3339 date-time string');
  const m = RFC3339_RE.exec(value);
  if (!m) throw invalid(field, 'must be an RFC 3339 date-time with seconds and an offset, e.g. 2030-01-31T09:00:00+01:00');
  const [, y, mo, d, h, mi, s, , , oh, om] = m;
  const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  const bad =
    Number(mo) < 1 ||
    Number(mo) > 12 ||
    Number(d) < 1 ||
    Number(d) > daysInMonth ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59 ||
    (oh !== undefined && (Number(oh) > 23 || Number(om) > 59));
  const ms = Date.parse(value);
  if (bad || Number.isNaN(ms)) throw invalid(field, 'is not a valid date-time');
  return ms;
}

/** UTC, whole seconds without a fraction ("2030-01-01T09:00:00Z"), milliseconds only when present. */
export function formatRfc3339(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

function text(body: Record<string, unknown>, field: string, opts: { required: boolean; max: number }): string | null {
  const v = body[field];
  if (v === undefined || v === null || v === '') {
    if (opts.required) throw invalid(field, 'is required');
    return null;
  }
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  if (opts.required && v.trim() === '') throw invalid(field, 'must not be blank');
  if (v.length > opts.max) throw invalid(field, `must be at most ${opts.max} characters`);
  return v;
}

function jsonObject(req: EmulatorRequest): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (!type.toLowerCase().startsWith('application/json')) {
    throw new EmulatorHttpError(415, 'unsupported_media_type', 'content-type: must be application/json');
  }
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalid('body', 'must be a JSON object');
  return b as Record<string, unknown>;
}

/** Trivial codes a keypad refuses (assumed): one digit repeated, or a straight run up or down. */
function isWeakPin(pin: string): boolean {
  const d = [...pin].map(Number);
  const run = (step: number) => d.every((x, i) => i === 0 || x === d[i - 1] + step);
  return run(0) || run(1) || run(-1);
}

// ---------------------------------------------------------------------------------------------------
// Cursor paging: the cursor is opaque to clients; here it is base64url of the next offset.

function page<T>(items: T[], query: URLSearchParams, maxPageSize: number): { data: T[]; next_cursor: string | null } {
  let limit = DEFAULT_PAGE_SIZE;
  const rawLimit = query.get('limit');
  if (rawLimit !== null) {
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1) throw invalid('limit', 'must be a positive integer');
    limit = Number(rawLimit);
  }
  limit = Math.min(limit, maxPageSize);
  let offset = 0;
  const cursor = query.get('cursor');
  if (cursor !== null) {
    const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
    const m = /^o:(\d+)$/.exec(decoded);
    if (!m) throw invalid('cursor', 'is not a cursor this API issued');
    offset = Number(m[1]);
  }
  const data = items.slice(offset, offset + limit);
  const next = offset + limit;
  return { data, next_cursor: next < items.length ? Buffer.from(`o:${next}`).toString('base64url') : null };
}

// ---------------------------------------------------------------------------------------------------
// Emulator

interface UserRecord {
  id: string;
  externalRef: string;
  displayName: string;
  email: string | null;
  phone: string | null;
  createdAt: number;
  updatedAt: number;
  membershipIds: Set<string>;
}

interface MembershipRecord {
  id: string;
  userId: string;
  accessGroupId: string;
  validFrom: number;
  validTo: number | null;
}

/** `id` is the object id from the path ('' on collection routes). */
type Handler = (req: EmulatorRequest, id: string) => EmulatorResponse;

export async function startSecCloudEmulator(opts: SecCloudEmulatorOptions = {}): Promise<SecCloudEmulator> {
  const apiKey = opts.apiKey ?? 'seccloud-dev-key';
  const siteId = opts.siteId ?? 'site-demo';
  const maxPageSize = opts.maxPageSize ?? 100;
  const groups = (opts.accessGroups ?? DEFAULT_SECCLOUD_ACCESS_GROUPS).map((g) => ({ ...g }));
  const groupIds = new Set(groups.map((g) => g.id));

  const users = new Map<string, UserRecord>();
  const byExternalRef = new Map<string, string>();
  const memberships = new Map<string, MembershipRecord>();
  const pinByUser = new Map<string, string>();
  const userByPin = new Map<string, string>();

  const userJson = (u: UserRecord): SecCloudUser => ({
    id: u.id,
    external_ref: u.externalRef,
    display_name: u.displayName,
    email: u.email,
    phone: u.phone,
    pin_set: pinByUser.has(u.id),
    created_at: formatRfc3339(u.createdAt),
    updated_at: formatRfc3339(u.updatedAt),
  });
  const membershipJson = (m: MembershipRecord): SecCloudMembership => ({
    id: m.id,
    user_id: m.userId,
    access_group_id: m.accessGroupId,
    valid_from: formatRfc3339(m.validFrom),
    valid_to: m.validTo === null ? null : formatRfc3339(m.validTo),
  });

  const getUser = (id: string): UserRecord => {
    const u = users.get(id);
    if (!u) throw notFound(`user ${id} not found`);
    return u;
  };
  const getMembership = (id: string): MembershipRecord => {
    const m = memberships.get(id);
    if (!m) throw notFound(`membership ${id} not found`);
    return m;
  };
  const clearPin = (userId: string): void => {
    const pin = pinByUser.get(userId);
    if (pin === undefined) return;
    pinByUser.delete(userId);
    userByPin.delete(pin);
  };
  const removeUser = (u: UserRecord): void => {
    for (const id of u.membershipIds) memberships.delete(id);
    clearPin(u.id);
    users.delete(u.id);
    byExternalRef.delete(u.externalRef);
  };
  const readWindow = (body: Record<string, unknown>, current?: MembershipRecord): { validFrom: number; validTo: number | null } => {
    let validFrom = current?.validFrom;
    let validTo = current ? current.validTo : null;
    if (body.valid_from !== undefined) {
      if (body.valid_from === null) throw invalid('valid_from', 'must not be null');
      validFrom = parseRfc3339(body.valid_from, 'valid_from');
    }
    if (validFrom === undefined) throw invalid('valid_from', 'is required');
    if (body.valid_to !== undefined) validTo = body.valid_to === null ? null : parseRfc3339(body.valid_to, 'valid_to');
    if (validTo !== null && validTo <= validFrom) throw invalid('valid_to', 'must be after valid_from');
    return { validFrom, validTo };
  };

  // ----- handlers -----------------------------------------------------------------------------------

  const listAccessGroups: Handler = (req) => ({ status: 200, body: page(groups, req.query, maxPageSize) });

  const listUsers: Handler = (req) => {
    const ref = req.query.get('external_ref');
    let list: UserRecord[];
    if (ref !== null) {
      const id = byExternalRef.get(ref);
      const u = id === undefined ? undefined : users.get(id);
      list = u ? [u] : [];
    } else {
      list = Array.from(users.values());
    }
    const p = page(list, req.query, maxPageSize);
    return { status: 200, body: { data: p.data.map(userJson), next_cursor: p.next_cursor } };
  };

  const createUser: Handler = (req) => {
    const body = jsonObject(req);
    const externalRef = text(body, 'external_ref', { required: true, max: MAX_EXTERNAL_REF })!;
    const displayName = text(body, 'display_name', { required: true, max: MAX_TEXT })!;
    const email = text(body, 'email', { required: false, max: MAX_TEXT });
    const phone = text(body, 'phone', { required: false, max: 32 });
    if (email !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw invalid('email', 'is not an e-mail address');
    if (phone !== null && !/^\+[1-9]\d{6,14}$/.test(phone)) throw invalid('phone', 'must be in E.164 format, e.g. +441632960000');
    if (byExternalRef.has(externalRef)) {
      throw new EmulatorHttpError(409, 'already_exists', 'external_ref: a user with this external_ref already exists');
    }
    const now = Date.now();
    const u: UserRecord = { id: randomUUID(), externalRef, displayName, email, phone, createdAt: now, updatedAt: now, membershipIds: new Set() };
    users.set(u.id, u);
    byExternalRef.set(externalRef, u.id);
    return { status: 201, body: userJson(u) };
  };

  const setPin: Handler = (req, id) => {
    const u = getUser(id);
    const body = jsonObject(req);
    const pin = body.pin;
    // Messages state the rule, never the value.
    if (pin === undefined || pin === null) throw invalid('pin', 'is required');
    if (typeof pin !== 'string' || !PIN_RE.test(pin)) throw invalid('pin', 'must be a string of 4 to 8 digits');
    if (isWeakPin(pin)) throw invalid('pin', 'is too weak (repeated digit or straight run)');
    const owner = userByPin.get(pin);
    if (owner !== undefined && owner !== u.id) throw new EmulatorHttpError(409, 'already_exists', 'pin: already assigned to another user on this site');
    clearPin(u.id);
    pinByUser.set(u.id, pin);
    userByPin.set(pin, u.id);
    u.updatedAt = Date.now();
    return { status: 204 };
  };

  const listMemberships: Handler = (req) => {
    const filter = req.query.get('user_id');
    if (filter === null) throw invalid('user_id', 'is required');
    const u = getUser(filter);
    const list = Array.from(u.membershipIds, (id) => memberships.get(id)!);
    const p = page(list, req.query, maxPageSize);
    return { status: 200, body: { data: p.data.map(membershipJson), next_cursor: p.next_cursor } };
  };

  const createMembership: Handler = (req) => {
    const body = jsonObject(req);
    const uid = text(body, 'user_id', { required: true, max: MAX_EXTERNAL_REF })!;
    const gid = text(body, 'access_group_id', { required: true, max: MAX_EXTERNAL_REF })!;
    const u = users.get(uid);
    if (!u) throw invalid('user_id', 'no such user on this site');
    if (!groupIds.has(gid)) throw invalid('access_group_id', 'no such access group on this site');
    const window = readWindow(body);
    if (u.membershipIds.size >= MAX_MEMBERSHIPS_PER_USER) {
      throw new EmulatorHttpError(409, 'limit_exceeded', `user_id: a user can hold at most ${MAX_MEMBERSHIPS_PER_USER} memberships`);
    }
    const m: MembershipRecord = { id: randomUUID(), userId: u.id, accessGroupId: gid, ...window };
    memberships.set(m.id, m);
    u.membershipIds.add(m.id);
    return { status: 201, body: membershipJson(m) };
  };

  const patchMembership: Handler = (req, id) => {
    const m = getMembership(id);
    const body = jsonObject(req);
    for (const k of Object.keys(body)) {
      if (k !== 'valid_from' && k !== 'valid_to') throw invalid(k, 'cannot be changed (only valid_from and valid_to)');
    }
    Object.assign(m, readWindow(body, m));
    return { status: 200, body: membershipJson(m) };
  };

  const deleteMembership: Handler = (_req, id) => {
    const m = getMembership(id);
    memberships.delete(m.id);
    users.get(m.userId)?.membershipIds.delete(m.id);
    return { status: 204 };
  };

  // ----- routing: /v1/sites/{site_id}/<collection>[/{id}[/pin]] ------------------------------------

  const routes: Record<string, Handler> = {
    'GET access_groups': listAccessGroups,
    'GET users': listUsers,
    'POST users': createUser,
    'GET users/:id': (_req, id) => ({ status: 200, body: userJson(getUser(id)) }),
    'DELETE users/:id': (_req, id) => {
      removeUser(getUser(id));
      return { status: 204 };
    },
    'PUT users/:id/pin': setPin,
    'DELETE users/:id/pin': (_req, id) => {
      clearPin(getUser(id).id);
      return { status: 204 };
    },
    'GET memberships': listMemberships,
    'POST memberships': createMembership,
    'PATCH memberships/:id': patchMembership,
    'DELETE memberships/:id': deleteMembership,
  };

  const route = (method: string, segs: string[]) => {
    // segs: ['v1', 'sites', siteId, collection, id?, sub?]
    if (segs[0] !== 'v1' || segs[1] !== 'sites' || segs.length < 4 || segs.length > 6) return null;
    const shape = [segs[3], ...(segs.length >= 5 ? [':id'] : []), ...(segs.length === 6 ? [segs[5]] : [])].join('/');
    const handler = routes[`${method} ${shape}`];
    if (!handler) return null;
    return {
      template: `${method} /v1/sites/:site_id/${shape}`,
      handle: (req: EmulatorRequest): EmulatorResponse => {
        if (req.segs[2] !== siteId) throw notFound(`site ${req.segs[2]} not found`);
        return handler(req, req.segs[4] ?? '');
      },
    };
  };

  const snapshot = (): SecCloudSnapshot => ({
    site_id: siteId,
    access_groups: groups.map((g) => ({ ...g })),
    users: Array.from(users.values(), userJson),
    memberships: Array.from(memberships.values(), membershipJson),
  });

  const server = await startEmulatorServer({
    port: opts.port,
    host: opts.host ?? '127.0.0.1',
    apiPrefix: '/v1/',
    route,
    authorize: (req) =>
      req.headers['x-api-key'] === apiKey
        ? null
        : { status: 401, body: { code: 'unauthenticated', message: 'missing or invalid X-Api-Key header' } },
    errorBody: (status, code, message) => ({ code: wireCode(status, code), message }),
    state: snapshot,
    reset: () => {
      users.clear();
      byExternalRef.clear();
      memberships.clear();
      pinByUser.clear();
      userByPin.clear();
    },
  });

  const state: SecCloudEmulatorState = {
    snapshot,
    users: () => Array.from(users.values(), userJson),
    user: (id) => {
      const u = users.get(id);
      return u ? userJson(u) : null;
    },
    userByExternalRef: (ref) => {
      const id = byExternalRef.get(ref);
      const u = id === undefined ? undefined : users.get(id);
      return u ? userJson(u) : null;
    },
    memberships: (id) => {
      const u = users.get(id);
      return u ? Array.from(u.membershipIds, (mid) => membershipJson(memberships.get(mid)!)) : [];
    },
    pinMatches: (id, pin) => pinByUser.get(id) === pin,
    canEnter: ({ pin, accessGroupId, at = Date.now() }) => {
      const id = userByPin.get(pin);
      const u = id === undefined ? undefined : users.get(id);
      if (!u) return false;
      for (const mid of u.membershipIds) {
        const m = memberships.get(mid)!;
        if (m.accessGroupId === accessGroupId && m.validFrom <= at && (m.validTo === null || at < m.validTo)) return true;
      }
      return false;
    },
  };

  return {
    ...controlsOf(server),
    apiKey,
    siteId,
    state,
  };
}

/** The kit's generic codes in the assumed SecCloud vocabulary. */
function wireCode(status: number, code: string): string {
  if (code === 'validation' || code === 'bad_request') return 'invalid_argument';
  if (code === 'too_large') return 'payload_too_large';
  if (code === 'injected' || code === 'internal') {
    if (status === 429) return 'rate_limited';
    if (status >= 500) return 'unavailable';
    if (status === 401) return 'unauthenticated';
    if (status === 404) return 'not_found';
    return 'failed_precondition';
  }
  return code;
}
