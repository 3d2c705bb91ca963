/**
 * An emulator of the parts of the Avigilon Alta (formerly Openpath) API that Lockstep uses
 * (api.openpath.com; see notes.md for sources). A real HTTP server on the shared emulator kit with
 * in-memory state.
 *
 * Model: an admin logs in with e-mail + password (POST /auth/login) and gets a JWT that is scoped to
 * the organisations the admin belongs to. Inside an org there are access groups (which open zones,
 * which contain entries = doors), users (identity = e-mail + name) and memberships of users in groups.
 * A membership has no window: it is on or off. Users can hold credentials; a mobile credential is
 * activated by Alta e-mailing the user a set-up link (setupMobile).
 *
 * Passwords and tokens are never written to any response other than the login answer, to errors or
 * to the state dump.
 */
import { randomBytes } from 'node:crypto';
import { EmulatorHttpError, startEmulatorServer, type EmulatorRequest, type EmulatorResponse, type EmulatorServer, controlsOf, type EmulatorControls } from '../emulator-kit.js';

// ---------------------------------------------------------------------------------------------------
// Public types

export interface AltaZone {
  id: number;
  name: string;
  entries: { id: number; name: string }[];
}

export interface AltaGroupSeed {
  id: number;
  name: string;
  description: string | null;
  zones: AltaZone[];
}

export interface AltaOrgSeed {
  id: number;
  name: string;
  groups: AltaGroupSeed[];
}

export interface AltaAdmin {
  email: string;
  password: string;
  /** Orgs this admin's token is scoped to. */
  orgIds: number[];
}

export interface AltaUserView {
  id: number;
  orgId: number;
  externalId: string | null;
  email: string;
  firstName: string;
  lastName: string;
  status: string;
  groupIds: number[];
  /** Mobile credentials and whether the set-up e-mail was sent (no secrets). */
  mobileCredentials: { id: number; setupEmailsSent: number }[];
  createdAt: string;
}

export interface AltaEmulatorState {
  users(orgId?: number): AltaUserView[];
  userByExternalId(orgId: number, externalId: string): AltaUserView | null;
  /** Keys of every property of the last POST /users body (tests check no extra personal data is sent). */
  lastCreateUserBodyKeys(): { top: string[]; identity: string[] } | null;
  logins(): number;
  /** Invalidate every issued token (as if they expired), to exercise re-login. */
  expireTokens(): void;
  /** Staff action inside Alta: add a user to a group. */
  addMembership(orgId: number, userId: number, groupId: number): void;
  removeMembership(orgId: number, userId: number, groupId: number): void;
  deleteUser(orgId: number, userId: number): void;
  /** Does the user hold the group right now (membership has no window; Alta enforces on/off only)? */
  isMember(orgId: number, userId: number, groupId: number): boolean;
}

export interface AltaEmulator extends EmulatorControls {
  state: AltaEmulatorState;
}

export interface AltaEmulatorOptions {
  port?: number;
  host?: string;
  admins?: AltaAdmin[];
  orgs?: AltaOrgSeed[];
  /** Token lifetime; default one hour. */
  tokenTtlMs?: number;
}

export const DEFAULT_ALTA_ADMIN: Readonly<AltaAdmin> = Object.freeze({ email: 'bot@venue.example', password: 'alta-secret-pw', orgIds: [4711] });

export const DEFAULT_ALTA_ORGS: readonly AltaOrgSeed[] = Object.freeze([
  {
    id: 4711,
    name: 'Venue HQ',
    groups: [
      {
        id: 101,
        name: 'Front door',
        description: 'Street entrance, all hours',
        zones: [{ id: 11, name: 'Lobby', entries: [{ id: 1001, name: 'Main entrance' }, { id: 1002, name: 'Lobby turnstile' }] }],
      },
      {
        id: 102,
        name: 'Meeting room 1',
        description: 'Ground floor, seats 8',
        zones: [{ id: 12, name: 'Ground floor rooms', entries: [{ id: 1003, name: 'Meeting room 1 door' }] }],
      },
      { id: 103, name: 'Parking', description: null, zones: [{ id: 13, name: 'Car park', entries: [{ id: 1004, name: 'Barrier' }] }] },
    ],
  },
  { id: 5000, name: 'Another tenant', groups: [{ id: 201, name: 'Their door', description: null, zones: [] }] },
]);

/** Credential types every org offers (ids as Alta numbers them is not confirmed; the adapter looks them up by modelName). */
const CREDENTIAL_TYPES = Object.freeze([
  { id: 1, name: 'Openpath Mobile', modelName: 'mobile' },
  { id: 2, name: 'Openpath Card', modelName: 'card' },
  { id: 4, name: 'Cloud Key', modelName: 'cloudKey' },
]);

// ---------------------------------------------------------------------------------------------------
// Internals

interface UserRecord {
  id: number;
  orgId: number;
  externalId: string | null;
  email: string;
  firstName: string;
  lastName: string;
  createdAt: number;
  groupIds: Set<number>;
  credentials: Map<number, { id: number; typeId: number; name: string; setupEmailsSent: number; createdAt: number }>;
}

const HttpError = EmulatorHttpError;
const MAX_TEXT = 255;
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

const bad = (message: string) => new HttpError(400, 'Bad Request', message);
const notFound = (message: string) => new HttpError(404, 'Not Found', message);

function asObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('"value" must be an object');
  return body as Record<string, unknown>;
}

function text(obj: Record<string, unknown>, field: string, label: string, required: boolean): string | null {
  const v = obj[field];
  if (v === undefined || v === null) {
    if (required) throw bad(`"${label}" is required`);
    return null;
  }
  if (typeof v !== 'string') throw bad(`"${label}" must be a string`);
  const t = v.trim();
  if (required && t === '') throw bad(`"${label}" is not allowed to be empty`);
  if (t.length > MAX_TEXT) throw bad(`"${label}" length must be less than or equal to ${MAX_TEXT} characters long`);
  return t;
}

/** Path ids are integers in Alta's schema; anything else fails validation. */
function intParam(value: string, name: string): number {
  if (!/^\d{1,15}$/.test(value)) throw bad(`"${name}" must be a number`);
  return Number(value);
}

function pageParams(q: URLSearchParams): { limit: number; offset: number } {
  const limitRaw = q.get('limit');
  const offsetRaw = q.get('offset');
  const limit = limitRaw === null ? 1000 : Number(limitRaw);
  const offset = offsetRaw === null ? 0 : Number(offsetRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw bad('"limit" must be an integer between 1 and 1000');
  if (!Number.isInteger(offset) || offset < 0) throw bad('"offset" must be a non-negative integer');
  return { limit, offset };
}

function page<T>(items: T[], q: URLSearchParams): { totalCount: number; filteredCount: number; data: T[] } {
  const { limit, offset } = pageParams(q);
  return { totalCount: items.length, filteredCount: items.length, data: items.slice(offset, offset + limit) };
}

/** preFilter as Alta's list routes take it, e.g. `externalId:(=abc)`; only equality on the fields we emulate. */
function parsePreFilter(raw: string | null): { field: string; value: string } | null {
  if (raw === null || raw === '') return null;
  const m = /^([a-zA-Z.]+):\(=(.*)\)$/.exec(raw);
  if (!m) throw bad('"preFilter" is not a valid filter expression');
  return { field: m[1], value: m[2] };
}

const iso = (ms: number) => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------------
// Emulator

export async function startAltaEmulator(opts: AltaEmulatorOptions = {}): Promise<AltaEmulator> {
  const admins = (opts.admins ?? [DEFAULT_ALTA_ADMIN]).map((a) => ({ ...a, orgIds: [...a.orgIds] }));
  const orgs = new Map((opts.orgs ?? DEFAULT_ALTA_ORGS).map((o) => [o.id, o] as const));
  const tokenTtlMs = opts.tokenTtlMs ?? 3_600_000;

  const tokens = new Map<string, { orgIds: number[]; expiresAt: number }>();
  const users = new Map<number, UserRecord>();
  let nextUser = 9001;
  let nextCredential = 77001;
  let loginCount = 0;
  let lastCreateKeys: { top: string[]; identity: string[] } | null = null;

  const group = (orgId: number, groupId: number): AltaGroupSeed => {
    const g = orgs.get(orgId)?.groups.find((x) => x.id === groupId);
    if (!g) throw notFound(`group ${groupId} not found`);
    return g;
  };
  const userIn = (orgId: number, userId: number): UserRecord => {
    const u = users.get(userId);
    if (!u || u.orgId !== orgId) throw notFound(`user ${userId} not found`);
    return u;
  };
  const groupCount = (orgId: number, groupId: number) => {
    let n = 0;
    for (const u of users.values()) if (u.orgId === orgId && u.groupIds.has(groupId)) n++;
    return n;
  };
  const groupJson = (orgId: number, g: AltaGroupSeed) => ({
    id: g.id,
    name: g.name,
    description: g.description,
    userCount: groupCount(orgId, g.id),
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
  });
  const userJson = (u: UserRecord) => ({
    id: u.id,
    opal: `opal:prod:user:${u.id}`,
    status: 'A',
    externalId: u.externalId,
    startDate: null,
    endDate: null,
    identity: { id: u.id + 500000, email: u.email, firstName: u.firstName, lastName: u.lastName, fullName: `${u.firstName} ${u.lastName}` },
    groups: [...u.groupIds].map((id) => ({ id, name: group(u.orgId, id).name })),
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.createdAt),
  });
  const credentialJson = (c: { id: number; typeId: number; name: string; setupEmailsSent: number; createdAt: number }, userId: number) => {
    const type = CREDENTIAL_TYPES.find((t) => t.id === c.typeId)!;
    return {
      id: c.id,
      credentialType: { ...type },
      user: { id: userId },
      startDate: null,
      endDate: null,
      ...(type.modelName === 'mobile' ? { mobile: { id: c.id, name: c.name, hasSetupMobileToken: c.setupEmailsSent > 0, provisionedAt: null } } : {}),
      createdAt: iso(c.createdAt),
      updatedAt: iso(c.createdAt),
    };
  };

  // ----- routes -------------------------------------------------------------------------------------

  type Handler = (req: EmulatorRequest, orgId: number) => EmulatorResponse;
  const ok = (body: unknown, status = 200): EmulatorResponse => ({ status, body });

  const login = (req: EmulatorRequest): EmulatorResponse => {
    const body = asObject(req.body);
    const email = text(body, 'email', 'email', true)!;
    if (typeof body.password !== 'string' || body.password === '') throw bad('"password" is required');
    if (!EMAIL_RE.test(email)) throw bad('"email" must be a valid email');
    const admin = admins.find((a) => a.email.toLowerCase() === email.toLowerCase() && a.password === body.password);
    // Same answer for an unknown e-mail and a wrong password.
    if (!admin) throw new HttpError(401, 'Unauthorized', 'Invalid email or password');
    loginCount++;
    const token = `eyJ.${randomBytes(24).toString('base64url')}`;
    const expiresAt = Date.now() + tokenTtlMs;
    tokens.set(token, { orgIds: [...admin.orgIds], expiresAt });
    return ok(
      {
        data: {
          identityId: 42,
          identity: { id: 42, namespace: { id: 1 } },
          token,
          tokenScopeList: admin.orgIds.map((id) => ({ org: { id, name: orgs.get(id)?.name ?? null }, user: { id: 42 }, scope: [`o${id}-user:w`, `o${id}-site:r`] })),
          createdAt: iso(Date.now()),
          expiresAt: iso(expiresAt),
        },
      },
      201,
    );
  };

  const listGroups: Handler = (req, orgId) => ok(page((orgs.get(orgId)?.groups ?? []).map((g) => groupJson(orgId, g)), req.query));
  const groupZones: Handler = (req, orgId) => {
    const g = group(orgId, intParam(req.segs[3], 'groupId'));
    return ok(page(g.zones.map((z) => ({ id: z.id, name: z.name })), req.query));
  };
  const groupEntries: Handler = (req, orgId) => {
    const g = group(orgId, intParam(req.segs[3], 'groupId'));
    return ok({ data: g.zones.flatMap((z) => z.entries.map((e) => ({ id: e.id, name: e.name, zone: { id: z.id, name: z.name } }))) });
  };

  const listUsers: Handler = (req, orgId) => {
    const filter = parsePreFilter(req.query.get('preFilter'));
    let list = [...users.values()].filter((u) => u.orgId === orgId);
    if (filter) {
      if (filter.field === 'externalId') list = list.filter((u) => u.externalId === filter.value);
      else if (filter.field === 'identity.email') list = list.filter((u) => u.email.toLowerCase() === filter.value.toLowerCase());
      else throw bad(`"preFilter" field ${filter.field} is not filterable`);
    }
    return ok(page(list.map(userJson), req.query));
  };

  const createUser: Handler = (req, orgId) => {
    const body = asObject(req.body);
    const identity = body.identity;
    if (identity === undefined || identity === null) throw bad('"identity" is required');
    const id = asObject(identity);
    lastCreateKeys = { top: Object.keys(body).sort(), identity: Object.keys(id).sort() };
    const email = text(id, 'email', 'identity.email', true)!;
    if (!EMAIL_RE.test(email)) throw bad('"identity.email" must be a valid email');
    const firstName = text(id, 'firstName', 'identity.firstName', true)!;
    const lastName = text(id, 'lastName', 'identity.lastName', true)!;
    const externalId = text(body, 'externalId', 'externalId', false);
    for (const u of users.values()) {
      if (u.orgId === orgId && u.email.toLowerCase() === email.toLowerCase()) throw new HttpError(409, 'Conflict', 'A user with this email already exists in this organization');
    }
    const u: UserRecord = { id: nextUser++, orgId, externalId: externalId || null, email, firstName, lastName, createdAt: Date.now(), groupIds: new Set(), credentials: new Map() };
    users.set(u.id, u);
    return ok({ data: userJson(u) }, 201);
  };

  const describeUser: Handler = (req, orgId) => ok({ data: userJson(userIn(orgId, intParam(req.segs[3], 'userId'))) });
  const deleteUser: Handler = (req, orgId) => {
    const u = userIn(orgId, intParam(req.segs[3], 'userId'));
    users.delete(u.id);
    return { status: 204 };
  };
  const userGroups: Handler = (req, orgId) => {
    const u = userIn(orgId, intParam(req.segs[3], 'userId'));
    return ok(page([...u.groupIds].map((gid) => groupJson(orgId, group(orgId, gid))), req.query));
  };
  const setUserToGroup: Handler = (req, orgId) => {
    const g = group(orgId, intParam(req.segs[3], 'groupId'));
    const u = userIn(orgId, intParam(req.segs[5], 'userId'));
    u.groupIds.add(g.id);
    return { status: 204 };
  };
  const removeUserFromGroup: Handler = (req, orgId) => {
    const g = group(orgId, intParam(req.segs[3], 'groupId'));
    const u = userIn(orgId, intParam(req.segs[5], 'userId'));
    u.groupIds.delete(g.id);
    return { status: 204 };
  };

  const credentialTypes: Handler = (req) => ok(page(CREDENTIAL_TYPES.map((t) => ({ ...t })), req.query));
  const listCredentials: Handler = (req, orgId) => {
    const u = userIn(orgId, intParam(req.segs[3], 'userId'));
    return ok(page([...u.credentials.values()].map((c) => credentialJson(c, u.id)), req.query));
  };
  const createCredential: Handler = (req, orgId) => {
    const u = userIn(orgId, intParam(req.segs[3], 'userId'));
    const body = asObject(req.body);
    const typeId = body.credentialTypeId;
    if (typeId === undefined || typeId === null) throw bad('"credentialTypeId" is required');
    if (typeof typeId !== 'number' || !Number.isInteger(typeId)) throw bad('"credentialTypeId" must be a number');
    const type = CREDENTIAL_TYPES.find((t) => t.id === typeId);
    if (!type) throw bad('"credentialTypeId" is not a valid credential type');
    if (type.modelName !== 'mobile') throw bad('only mobile credentials are emulated');
    const mobile = body.mobile === undefined || body.mobile === null ? null : asObject(body.mobile);
    if (!mobile) throw bad('"mobile" is required for a mobile credential');
    const name = text(mobile, 'name', 'mobile.name', true)!;
    const c = { id: nextCredential++, typeId, name, setupEmailsSent: 0, createdAt: Date.now() };
    u.credentials.set(c.id, c);
    return ok({ data: credentialJson(c, u.id) }, 201);
  };
  const setupMobile: Handler = (req, orgId) => {
    const u = userIn(orgId, intParam(req.segs[3], 'userId'));
    const c = u.credentials.get(intParam(req.segs[5], 'credentialId'));
    if (!c) throw notFound('credential not found');
    if (CREDENTIAL_TYPES.find((t) => t.id === c.typeId)?.modelName !== 'mobile') throw bad('credential is not a mobile credential');
    c.setupEmailsSent++;
    return { status: 204 };
  };

  /** Routes under /orgs/:orgId; segs[0] === 'orgs'. */
  const orgRoute = (method: string, segs: string[]): { template: string; handle: Handler } | null => {
    const n = segs.length;
    const r = (template: string, handle: Handler) => ({ template: `${method} ${template}`, handle });
    if (segs[2] === 'groups') {
      if (n === 3 && method === 'GET') return r('/orgs/:orgId/groups', listGroups);
      if (n === 5 && segs[4] === 'zones' && method === 'GET') return r('/orgs/:orgId/groups/:groupId/zones', groupZones);
      if (n === 5 && segs[4] === 'entries' && method === 'GET') return r('/orgs/:orgId/groups/:groupId/entries', groupEntries);
      if (n === 6 && segs[4] === 'users' && method === 'PUT') return r('/orgs/:orgId/groups/:groupId/users/:userId', setUserToGroup);
      if (n === 6 && segs[4] === 'users' && method === 'DELETE') return r('/orgs/:orgId/groups/:groupId/users/:userId', removeUserFromGroup);
      return null;
    }
    if (segs[2] === 'credentialTypes' && n === 3 && method === 'GET') return r('/orgs/:orgId/credentialTypes', credentialTypes);
    if (segs[2] !== 'users') return null;
    if (n === 3) {
      if (method === 'GET') return r('/orgs/:orgId/users', listUsers);
      if (method === 'POST') return r('/orgs/:orgId/users', createUser);
      return null;
    }
    if (n === 4) {
      if (method === 'GET') return r('/orgs/:orgId/users/:userId', describeUser);
      if (method === 'DELETE') return r('/orgs/:orgId/users/:userId', deleteUser);
      return null;
    }
    if (n === 5 && segs[4] === 'groups' && method === 'GET') return r('/orgs/:orgId/users/:userId/groups', userGroups);
    if (n === 5 && segs[4] === 'credentials' && method === 'GET') return r('/orgs/:orgId/users/:userId/credentials', listCredentials);
    if (n === 5 && segs[4] === 'credentials' && method === 'POST') return r('/orgs/:orgId/users/:userId/credentials', createCredential);
    if (n === 7 && segs[4] === 'credentials' && segs[6] === 'setupMobile' && method === 'POST') {
      return r('/orgs/:orgId/users/:userId/credentials/:credentialId/setupMobile', setupMobile);
    }
    return null;
  };

  const bearer = (header: string | string[] | undefined): string | null => {
    if (typeof header !== 'string') return null;
    const m = /^Bearer (\S+)$/.exec(header);
    return m ? m[1] : null;
  };

  const server: EmulatorServer = await startEmulatorServer({
    port: opts.port,
    host: opts.host ?? '127.0.0.1',
    route: (method, segs) => {
      if (segs.length === 2 && segs[0] === 'auth' && segs[1] === 'login' && method === 'POST') return { template: 'POST /auth/login', handle: login };
      if (segs[0] !== 'orgs' || segs.length < 3) return null;
      const matched = orgRoute(method, segs);
      if (!matched) return null;
      return {
        template: matched.template,
        handle: (req) => {
          const orgId = intParam(req.segs[1], 'orgId');
          const token = tokens.get(bearer(req.headers.authorization)!);
          // authorize() has already checked the token; here only the org scope.
          if (!token || !token.orgIds.includes(orgId)) throw new HttpError(403, 'Forbidden', 'Insufficient scope for this organization');
          return matched.handle(req, orgId);
        },
      };
    },
    authorize: (req) => {
      if (req.path === '/auth/login') return null;
      const raw = bearer(req.headers.authorization);
      const token = raw === null ? undefined : tokens.get(raw);
      if (!token || token.expiresAt <= Date.now()) {
        return { status: 401, body: { statusCode: 401, error: 'Unauthorized', message: raw === null ? 'Missing authentication' : 'Invalid or expired token' } };
      }
      return null;
    },
    errorBody: (status, _code, message) => ({ statusCode: status, error: STATUS_TEXT[status] ?? 'Error', message }),
    state: () => ({ orgs: [...orgs.values()].map((o) => ({ id: o.id, name: o.name, groups: o.groups.map((g) => groupJson(o.id, g)) })), users: [...users.values()].map(view) }),
    reset: () => {
      users.clear();
      tokens.clear();
      loginCount = 0;
      lastCreateKeys = null;
    },
  });

  function view(u: UserRecord): AltaUserView {
    return {
      id: u.id,
      orgId: u.orgId,
      externalId: u.externalId,
      email: u.email,
      firstName: u.firstName,
      lastName: u.lastName,
      status: 'A',
      groupIds: [...u.groupIds].sort((a, b) => a - b),
      mobileCredentials: [...u.credentials.values()].map((c) => ({ id: c.id, setupEmailsSent: c.setupEmailsSent })),
      createdAt: iso(u.createdAt),
    };
  }

  const state: AltaEmulatorState = {
    users: (orgId) => [...users.values()].filter((u) => orgId === undefined || u.orgId === orgId).map(view),
    userByExternalId: (orgId, externalId) => {
      for (const u of users.values()) if (u.orgId === orgId && u.externalId === externalId) return view(u);
      return null;
    },
    lastCreateUserBodyKeys: () => lastCreateKeys,
    logins: () => loginCount,
    expireTokens: () => tokens.clear(),
    addMembership: (orgId, userId, groupId) => void userIn(orgId, userId).groupIds.add(group(orgId, groupId).id),
    removeMembership: (orgId, userId, groupId) => void userIn(orgId, userId).groupIds.delete(groupId),
    deleteUser: (orgId, userId) => void users.delete(userIn(orgId, userId).id),
    isMember: (orgId, userId, groupId) => users.get(userId)?.orgId === orgId && Boolean(users.get(userId)?.groupIds.has(groupId)),
  };

  return {
    ...controlsOf(server),
    state,
  };
}
