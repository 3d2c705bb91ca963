/**
 * The demo access-control provider: a real HTTP server with in-memory state and fault injection.
 *
 * It models a small users + access-groups system (the shape of Gallagher, Salto, Kisi…): users carry
 * one PIN; a membership puts a user into an access group for a [from, until) window. See notes.md.
 *
 * Built on node:http with Map-backed state so every API request is O(1) (listing routes aside).
 * PINs are kept in a separate map and are never written to any response, error or log.
 */
import { EmulatorHttpError, startEmulatorServer, type EmulatorServer, type FaultRule, controlsOf, type EmulatorControls } from '../emulator-kit.js';

// ---------------------------------------------------------------------------------------------------
// Public types

export interface DemoAccessGroup {
  id: string;
  name: string;
  description: string;
}

export interface DemoUser {
  id: string;
  externalId: string;
  name: string;
  email: string | null;
  phone: string | null;
  hasPin: boolean;
  createdAt: string;
}

export interface DemoMembership {
  id: string;
  accessGroupId: string;
  from: string;
  until: string | null;
}

export type { FaultKind, FaultRule } from '../emulator-kit.js';

export interface DemoSnapshot {
  accessGroups: DemoAccessGroup[];
  users: DemoUser[];
  /** Every membership with the id of the user it belongs to. */
  memberships: (DemoMembership & { userId: string })[];
  faults: FaultRule[];
}

export interface DemoEmulatorState {
  /** Plain copies of the whole state; never contains PINs. */
  snapshot(): DemoSnapshot;
  users(): DemoUser[];
  user(id: string): DemoUser | null;
  userByExternalId(externalId: string): DemoUser | null;
  memberships(userId: string): DemoMembership[];
  /** Whether `pin` is the PIN set on user `userId` (tests check PINs without the emulator revealing them). */
  pinMatches(userId: string, pin: string): boolean;
  /** Keypad model: does `pin`, entered at `accessGroupId` at instant `at` (epoch ms, default now), open it? */
  canEnter(input: { pin: string; accessGroupId: string; at?: number }): boolean;
}

export interface DemoEmulator extends EmulatorControls {
  /** Clears users, memberships, PINs, fault rules and stats (access groups and API key stay). */
  reset(): void;
  /** The most API requests being answered at once since the stats were last reset. */
  peakInFlight(): number;
  state: DemoEmulatorState;
}

export interface DemoEmulatorOptions {
  /** 0 (default) picks a random free port. */
  port?: number;
  host?: string;
  apiKey?: string;
  accessGroups?: DemoAccessGroup[];
  /**
   * Observability for benchmarks: called with the user's externalId after every successful write to a
   * user (create, PIN, memberships, delete), once the emulator's state holds it.
   */
  onUserChange?: (externalId: string) => void;
}

export const DEFAULT_DEMO_ACCESS_GROUPS: readonly DemoAccessGroup[] = Object.freeze([
  { id: 'ag-front-door', name: 'Front door', description: 'Street entrance and lobby, all hours' },
  { id: 'ag-meeting-1', name: 'Meeting room 1', description: 'Ground floor, seats 8, screen and whiteboard' },
  { id: 'ag-meeting-2', name: 'Meeting room 2', description: 'First floor, seats 4, quiet room' },
  { id: 'ag-hot-desks', name: 'Hot desks', description: 'Open-plan co-working floor' },
  { id: 'ag-parking', name: 'Parking gate', description: 'Underground car park barrier' },
]);

// ---------------------------------------------------------------------------------------------------
// Internals

interface UserRecord {
  id: string;
  externalId: string;
  name: string;
  email: string | null;
  phone: string | null;
  createdAt: number;
  memberships: Map<string, MembershipRecord>;
}

interface MembershipRecord {
  id: string;
  accessGroupId: string;
  from: number;
  until: number | null;
}

const HttpError = EmulatorHttpError;

const validation = (field: string, what: string) => new HttpError(422, 'validation', `${field}: ${what}`);

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_TEXT = 200;
const PIN_RE = /^\d{4,8}$/;
const BANNED_PIN_PREFIXES = ['00'];
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

/** Parses ISO-8601 with an explicit offset (Z or ±hh:mm), with calendar validation. */
export function parseIsoWithOffset(value: unknown, field: string): number {
  if (typeof value !== 'string') throw validation(field, 'must be an ISO-8601 date-time string with an offset');
  const m = ISO_RE.exec(value);
  if (!m) throw validation(field, 'must be an ISO-8601 date-time with an offset, e.g. 2025-01-31T09:00:00+01:00');
  const [, y, mo, d, h, mi, s, , oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    (s !== undefined && Number(s) > 59) ||
    (oh !== undefined && (Number(oh) > 23 || Number(om) > 59))
  ) {
    throw validation(field, 'is not a valid date-time');
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw validation(field, 'is not a valid date-time');
  return ms;
}

function optionalText(body: Record<string, unknown>, field: string): string | null {
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw validation(field, 'must be a string or null');
  if (v.length > MAX_TEXT) throw validation(field, `must be at most ${MAX_TEXT} characters`);
  return v === '' ? null : v;
}

function requiredText(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (v === undefined || v === null) throw validation(field, 'is required');
  if (typeof v !== 'string') throw validation(field, 'must be a string');
  if (v.trim() === '') throw validation(field, 'must not be empty');
  if (v.length > MAX_TEXT) throw validation(field, `must be at most ${MAX_TEXT} characters`);
  return v;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------------
// Emulator

export async function startDemoEmulator(opts: DemoEmulatorOptions = {}): Promise<DemoEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const apiKey = opts.apiKey ?? 'demo-key';
  const expectedAuth = `Bearer ${apiKey}`;
  const groups: DemoAccessGroup[] = (opts.accessGroups ?? DEFAULT_DEMO_ACCESS_GROUPS).map((g) => ({ ...g }));
  const groupIds = new Set(groups.map((g) => g.id));
  const groupsBody = JSON.stringify({ results: groups });

  // State. Ids keep counting across reset() so a stale reference never hits a new object.
  const users = new Map<string, UserRecord>();
  const byExternalId = new Map<string, string>();
  const pinByUser = new Map<string, string>();
  const userByPin = new Map<string, string>();
  let nextUser = 1;
  let nextMembership = 1;


  const userJson = (u: UserRecord): DemoUser => ({
    id: u.id,
    externalId: u.externalId,
    name: u.name,
    email: u.email,
    phone: u.phone,
    hasPin: pinByUser.has(u.id),
    createdAt: iso(u.createdAt),
  });
  const membershipJson = (m: MembershipRecord): DemoMembership => ({
    id: m.id,
    accessGroupId: m.accessGroupId,
    from: iso(m.from),
    until: m.until === null ? null : iso(m.until),
  });

  const getUser = (id: string): UserRecord => {
    const u = users.get(id);
    if (!u) throw new HttpError(404, 'not_found', `user ${id} not found`);
    return u;
  };
  const getMembership = (u: UserRecord, id: string): MembershipRecord => {
    const m = u.memberships.get(id);
    if (!m) throw new HttpError(404, 'not_found', `membership ${id} not found on user ${u.id}`);
    return m;
  };
  const deleteUser = (u: UserRecord): void => {
    users.delete(u.id);
    byExternalId.delete(u.externalId);
    const pin = pinByUser.get(u.id);
    if (pin !== undefined) {
      pinByUser.delete(u.id);
      userByPin.delete(pin);
    }
  };

  // ----- API handlers -------------------------------------------------------------------------------

  type Result = { status: number; body?: unknown; raw?: string };

  const asObject = (body: unknown): Record<string, unknown> => {
    if (body === undefined) throw new HttpError(400, 'bad_request', 'body: a JSON object is required');
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'bad_request', 'body: must be a JSON object');
    return body as Record<string, unknown>;
  };

  /** Routes the request; returns the route template (for stats) and a handler, or null when unknown. */
  const route = (method: string, segs: string[]): { template: string; run: (body: unknown, query: URLSearchParams) => Result } | null => {
    // segs: path split on '/', without the leading empty segment; segs[0] === 'api'.
    const n = segs.length;
    if (n === 2 && segs[1] === 'access-groups' && method === 'GET') {
      return { template: 'GET /api/access-groups', run: () => ({ status: 200, raw: groupsBody }) };
    }
    if (segs[1] !== 'users') return null;
    if (n === 2) {
      if (method === 'GET') {
        return {
          template: 'GET /api/users',
          run: (_b, query) => {
            const externalId = query.get('externalId');
            if (externalId !== null) {
              const id = byExternalId.get(externalId);
              const u = id === undefined ? undefined : users.get(id);
              return { status: 200, body: { results: u ? [userJson(u)] : [] } };
            }
            return { status: 200, body: { results: Array.from(users.values(), userJson) } };
          },
        };
      }
      if (method === 'POST') {
        return {
          template: 'POST /api/users',
          run: (raw) => {
            const body = asObject(raw);
            const externalId = requiredText(body, 'externalId');
            const name = requiredText(body, 'name');
            const email = optionalText(body, 'email');
            const phone = optionalText(body, 'phone');
            if (email !== null && !/^[^@\s]+@[^@\s]+$/.test(email)) throw validation('email', 'is not an email address');
            if (byExternalId.has(externalId)) {
              throw new HttpError(409, 'conflict', 'externalId: a user with this externalId already exists');
            }
            const u: UserRecord = {
              id: `usr_${nextUser++}`,
              externalId,
              name,
              email,
              phone,
              createdAt: Date.now(),
              memberships: new Map(),
            };
            users.set(u.id, u);
            byExternalId.set(externalId, u.id);
            return { status: 201, body: userJson(u) };
          },
        };
      }
      return null;
    }
    const userId = segs[2];
    if (n === 3) {
      if (method === 'GET') return { template: 'GET /api/users/:id', run: () => ({ status: 200, body: userJson(getUser(userId)) }) };
      if (method === 'DELETE') {
        return {
          template: 'DELETE /api/users/:id',
          run: () => {
            deleteUser(getUser(userId));
            return { status: 204 };
          },
        };
      }
      return null;
    }
    if (n === 4 && segs[3] === 'pin' && method === 'PUT') {
      return {
        template: 'PUT /api/users/:id/pin',
        run: (raw) => {
          const u = getUser(userId);
          const body = asObject(raw);
          const pin = body.pin;
          // Never echo the value: messages describe the rule only.
          if (pin === undefined || pin === null) throw validation('pin', 'is required');
          if (typeof pin !== 'string' || !PIN_RE.test(pin)) throw validation('pin', 'must be a string of 4 to 8 digits');
          if (BANNED_PIN_PREFIXES.some((p) => pin.startsWith(p))) {
            throw validation('pin', `must not start with ${BANNED_PIN_PREFIXES.join(' or ')} (reserved for duress codes)`);
          }
          const owner = userByPin.get(pin);
          if (owner !== undefined && owner !== u.id) throw new HttpError(409, 'conflict', 'pin: already in use by another user');
          const old = pinByUser.get(u.id);
          if (old !== undefined) userByPin.delete(old);
          pinByUser.set(u.id, pin);
          userByPin.set(pin, u.id);
          return { status: 204 };
        },
      };
    }
    if (segs[3] !== 'memberships') return null;
    if (n === 4) {
      if (method === 'GET') {
        return {
          template: 'GET /api/users/:id/memberships',
          run: () => ({ status: 200, body: { results: Array.from(getUser(userId).memberships.values(), membershipJson) } }),
        };
      }
      if (method === 'POST') {
        return {
          template: 'POST /api/users/:id/memberships',
          run: (raw) => {
            const u = getUser(userId);
            const body = asObject(raw);
            const groupId = body.accessGroupId;
            if (groupId === undefined || groupId === null) throw validation('accessGroupId', 'is required');
            if (typeof groupId !== 'string') throw validation('accessGroupId', 'must be a string');
            if (!groupIds.has(groupId)) throw validation('accessGroupId', 'unknown access group');
            if (body.from === undefined || body.from === null) throw validation('from', 'is required');
            const from = parseIsoWithOffset(body.from, 'from');
            const until = body.until === undefined || body.until === null ? null : parseIsoWithOffset(body.until, 'until');
            if (until !== null && from >= until) throw validation('until', 'must be after from');
            const m: MembershipRecord = { id: `mbr_${nextMembership++}`, accessGroupId: groupId, from, until };
            u.memberships.set(m.id, m);
            return { status: 201, body: membershipJson(m) };
          },
        };
      }
      return null;
    }
    if (n === 5) {
      const membershipId = segs[4];
      if (method === 'PATCH') {
        return {
          template: 'PATCH /api/users/:id/memberships/:membershipId',
          run: (raw) => {
            const u = getUser(userId);
            const m = getMembership(u, membershipId);
            const body = asObject(raw);
            for (const k of Object.keys(body)) {
              if (k !== 'from' && k !== 'until') throw validation(k, 'cannot be changed (only from and until)');
            }
            let from = m.from;
            let until = m.until;
            if (body.from !== undefined) {
              if (body.from === null) throw validation('from', 'must not be null');
              from = parseIsoWithOffset(body.from, 'from');
            }
            if (body.until !== undefined) until = body.until === null ? null : parseIsoWithOffset(body.until, 'until');
            if (until !== null && from >= until) throw validation('until', 'must be after from');
            m.from = from;
            m.until = until;
            return { status: 200, body: membershipJson(m) };
          },
        };
      }
      if (method === 'DELETE') {
        return {
          template: 'DELETE /api/users/:id/memberships/:membershipId',
          run: () => {
            const u = getUser(userId);
            getMembership(u, membershipId);
            u.memberships.delete(membershipId);
            return { status: 204 };
          },
        };
      }
    }
    return null;
  };

  const snapshot = (): DemoSnapshot => {
    const memberships: DemoSnapshot['memberships'] = [];
    for (const u of users.values()) for (const m of u.memberships.values()) memberships.push({ ...membershipJson(m), userId: u.id });
    return {
      accessGroups: groups.map((g) => ({ ...g })),
      users: Array.from(users.values(), userJson),
      memberships,
      faults: server ? server.faults.list() : [],
    };
  };

  const server: EmulatorServer = await startEmulatorServer({
    port: opts.port,
    host: opts.host ?? '127.0.0.1',
    apiPrefix: '/api/',
    route: (method, segs) => {
      const matched = segs[0] === 'api' ? route(method, segs) : null;
      const notify = opts.onUserChange;
      if (!matched || !notify || method === 'GET' || segs[1] !== 'users') return matched && { template: matched.template, handle: (req) => matched.run(req.body, req.query) };
      return {
        template: matched.template,
        handle: (req) => {
          // Read the externalId before the write: a delete removes the user.
          const before = segs[2] ? users.get(segs[2])?.externalId : undefined;
          const result = matched.run(req.body, req.query);
          const created = !segs[2] && result.body && typeof result.body === 'object' ? (result.body as { externalId?: string }).externalId : undefined;
          const externalId = before ?? created;
          if (externalId && result.status < 300) notify(externalId);
          return result;
        },
      };
    },
    authorize: (req) =>
      req.headers.authorization === expectedAuth
        ? null
        : {
            status: 401,
            body: { error: 'unauthorized', message: 'missing or invalid API key; send Authorization: Bearer <apiKey>' },
            headers: { 'www-authenticate': 'Bearer' },
          },
    state: () => {
      const { faults: _faults, ...rest } = snapshot();
      return rest;
    },
    reset: () => {
      users.clear();
      byExternalId.clear();
      pinByUser.clear();
      userByPin.clear();
    },
    maxBodyBytes: MAX_BODY_BYTES,
  });

  const state: DemoEmulatorState = {
    snapshot,
    users: () => Array.from(users.values(), userJson),
    user: (id) => {
      const u = users.get(id);
      return u ? userJson(u) : null;
    },
    userByExternalId: (externalId) => {
      const id = byExternalId.get(externalId);
      const u = id === undefined ? undefined : users.get(id);
      return u ? userJson(u) : null;
    },
    memberships: (userId) => {
      const u = users.get(userId);
      return u ? Array.from(u.memberships.values(), membershipJson) : [];
    },
    pinMatches: (userId, pin) => pinByUser.get(userId) === pin,
    canEnter: ({ pin, accessGroupId, at = Date.now() }) => {
      const userId = userByPin.get(pin);
      const u = userId === undefined ? undefined : users.get(userId);
      if (!u) return false;
      for (const m of u.memberships.values()) {
        if (m.accessGroupId === accessGroupId && m.from <= at && (m.until === null || at < m.until)) return true;
      }
      return false;
    },
  };

  return {
    ...controlsOf(server),
    peakInFlight: server.peakInFlight,
    state,
  };
}
