/**
 * An emulator of the Gallagher Command Centre REST API (the parts Lockstep uses), on the shared
 * emulator kit: a real HTTP server with in-memory state, fault injection and request stats.
 *
 * It follows Gallagher's published shape (see notes.md): `GET /api` discovery with feature hrefs;
 * every object identified by an absolute `href`; searches paged with `top` and a `next.href`;
 * cardholders created by POST (201 + Location, no body) and changed by one PATCH carrying
 * `accessGroups: { add, update, remove }` (204); a membership's href changes when it is updated;
 * `usercode` (the cardholder's PIN) is write-only; 4xx bodies are `{ "message": … }`.
 */
import { randomBytes } from 'node:crypto';
import { EmulatorHttpError, startEmulatorServer, type EmulatorServer, type FaultRule, type RecordedRequest, type RequestStats } from '../emulator-kit.js';
import { formatGallagherDate, parseGallagherDate } from './dates.js';

// ---------------------------------------------------------------------------------------------------
// Public types

export interface GallagherDivisionSeed {
  id: string;
  name: string;
}

export interface GallagherAccessGroupSeed {
  id: string;
  name: string;
  description: string;
  /** Division id; defaults to the first division. */
  divisionId?: string;
}

export interface GallagherCardholderView {
  id: string;
  href: string;
  firstName: string;
  lastName: string;
  description: string;
  authorised: boolean;
  divisionId: string;
  /** Whether a usercode is set (the code itself never leaves the emulator). */
  hasUsercode: boolean;
}

export interface GallagherMembershipView {
  id: string;
  href: string;
  cardholderId: string;
  accessGroupId: string;
  accessGroupHref: string;
  /** ISO (UTC, whole seconds) or null when unset. */
  from: string | null;
  until: string | null;
}

export interface GallagherSnapshot {
  divisions: GallagherDivisionSeed[];
  accessGroups: GallagherAccessGroupSeed[];
  cardholders: GallagherCardholderView[];
  memberships: GallagherMembershipView[];
}

export interface GallagherEmulatorState {
  /** Plain copies of the whole state; never contains usercodes. */
  snapshot(): GallagherSnapshot;
  cardholders(): GallagherCardholderView[];
  cardholder(id: string): GallagherCardholderView | null;
  cardholderByDescription(description: string): GallagherCardholderView | null;
  memberships(cardholderId: string): GallagherMembershipView[];
  accessGroupHref(id: string): string;
  divisionHref(id: string): string;
  /** Whether `code` is the usercode set on cardholder `cardholderId` (checked without revealing it). */
  usercodeMatches(cardholderId: string, code: string): boolean;
  /** Keypad model: does an authorised cardholder with usercode `pin`, in `accessGroupId` at `at`, get in? */
  canEnter(input: { pin: string; accessGroupId: string; at?: number }): boolean;
}

export interface GallagherEmulator {
  url: string;
  port: number;
  apiKey: string;
  close(): Promise<void>;
  /** Clears cardholders, memberships, usercodes, fault rules and stats (groups, divisions and key stay). */
  reset(): void;
  faults: { add(rule: FaultRule): void; clear(): void; list(): FaultRule[] };
  stats(): RequestStats;
  resetStats(): void;
  state: GallagherEmulatorState;
  /** Requests recorded when `recordRequests` is on (credential headers redacted; bodies may hold PINs, never log them). */
  recorded(): RecordedRequest[];
  clearRecorded(): void;
}

export interface GallagherEmulatorOptions {
  port?: number;
  /** Keep every API request for conformance tests (`recorded()`); off by default. */
  recordRequests?: boolean;
  host?: string;
  /** Default: a key in Gallagher's xxxx-xxxx-… format. */
  apiKey?: string;
  divisions?: GallagherDivisionSeed[];
  accessGroups?: GallagherAccessGroupSeed[];
  /** Items per page when the client sends no `top` (Command Centre 8.70+: 1000). */
  defaultPageSize?: number;
  /** Site-configured minimum usercode length (at least 4). */
  minUsercodeLength?: number;
}

export const DEFAULT_GALLAGHER_API_KEY = 'C774-B01F-D695-AA4B-215F-A158-AC22-ADEB';

export const DEFAULT_GALLAGHER_DIVISIONS: readonly GallagherDivisionSeed[] = Object.freeze([
  { id: '2', name: 'Root Division' },
  { id: '5387', name: 'Coworking' },
]);

export const DEFAULT_GALLAGHER_ACCESS_GROUPS: readonly GallagherAccessGroupSeed[] = Object.freeze([
  { id: '352', name: 'Front door', description: 'Street entrance and lobby, all hours', divisionId: '5387' },
  { id: '353', name: 'Meeting room 1', description: 'Ground floor, seats 8, screen and whiteboard', divisionId: '5387' },
  { id: '354', name: 'Meeting room 2', description: 'First floor, seats 4, quiet room', divisionId: '5387' },
  { id: '355', name: 'Hot desks', description: 'Open-plan co-working floor', divisionId: '5387' },
  { id: '356', name: 'Parking gate', description: 'Underground car park barrier', divisionId: '2' },
]);

// ---------------------------------------------------------------------------------------------------
// Internals

interface CardholderRecord {
  id: string;
  firstName: string;
  lastName: string;
  shortName: string;
  description: string;
  authorised: boolean;
  divisionId: string;
  memberships: Map<string, MembershipRecord>;
}

interface MembershipRecord {
  id: string;
  groupId: string;
  from: number | null;
  until: number | null;
}

/** A 400 in Gallagher's shape; messages name the field and never echo secrets. */
const bad = (message: string) => new EmulatorHttpError(400, 'bad_request', message);
const notFound = (message: string) => new EmulatorHttpError(404, 'not_found', message);

const SHORT_NAME_MAX = 16;
const TEXT_MAX = 200;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Gallagher's search-term rules (name / description / pdf_): case-insensitive; quotes make it exact;
 * `%` (any substring) and `_` (any character) anchor it at both ends, quoted or not; otherwise a
 * substring match.
 */
export function gallagherMatcher(term: string): (value: string) => boolean {
  let t = term;
  let anchored = false;
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    t = t.slice(1, -1);
    anchored = true;
  }
  const hasWild = /[%_]/.test(t);
  const body = t
    .split('')
    .map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const re = new RegExp(anchored || hasWild ? `^${body}$` : body, 'is');
  return (value) => re.test(value);
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

// ---------------------------------------------------------------------------------------------------
// Emulator

export async function startGallagherEmulator(opts: GallagherEmulatorOptions = {}): Promise<GallagherEmulator> {
  const apiKey = opts.apiKey ?? DEFAULT_GALLAGHER_API_KEY;
  const expectedAuth = `GGL-API-KEY ${apiKey}`;
  const defaultPageSize = opts.defaultPageSize ?? 1000;
  const minUsercode = Math.max(4, opts.minUsercodeLength ?? 4);
  const divisions = (opts.divisions ?? DEFAULT_GALLAGHER_DIVISIONS).map((d) => ({ ...d }));
  const divisionIds = new Set(divisions.map((d) => d.id));
  const groups = (opts.accessGroups ?? DEFAULT_GALLAGHER_ACCESS_GROUPS).map((g) => ({ ...g, divisionId: g.divisionId ?? divisions[0].id }));
  const groupById = new Map(groups.map((g) => [g.id, g]));

  const cardholders = new Map<string, CardholderRecord>();
  const usercodes = new Map<string, string>();
  // Ids keep counting across reset() so stale hrefs answer 404 rather than hit a new object.
  let nextCardholder = 1000;
  let nextMembership = 1;
  let base = ''; // set once the server listens; hrefs are absolute like Command Centre's

  const href = {
    api: () => `${base}/api`,
    groups: () => `${base}/api/access_groups`,
    group: (id: string) => `${base}/api/access_groups/${id}`,
    division: (id: string) => `${base}/api/divisions/${id}`,
    cardholders: () => `${base}/api/cardholders`,
    cardholder: (id: string) => `${base}/api/cardholders/${id}`,
    membership: (chId: string, mId: string) => `${base}/api/cardholders/${chId}/access_groups/${mId}`,
  };

  /** The id at the end of one of our hrefs of the given collection, or null. */
  const idFromHref = (value: unknown, collection: string): string | null => {
    if (typeof value !== 'string') return null;
    let path: string;
    try {
      path = new URL(value).pathname;
    } catch {
      return null;
    }
    const m = new RegExp(`^/api/${collection}/([^/]+)/?$`).exec(path);
    return m ? decodeURIComponent(m[1]) : null;
  };

  const membershipStatus = (m: MembershipRecord, now: number) => {
    const type = m.from !== null && m.from > now ? 'pending' : m.until !== null && m.until <= now ? 'expired' : 'active';
    return { value: type[0].toUpperCase() + type.slice(1), type };
  };

  const membershipJson = (ch: CardholderRecord, m: MembershipRecord, now: number): Json => {
    const g = groupById.get(m.groupId)!;
    return {
      href: href.membership(ch.id, m.id),
      accessGroup: { name: g.name, href: href.group(g.id) },
      status: membershipStatus(m, now),
      // Command Centre omits empty fields: an unset from/until is simply absent.
      ...(m.from !== null ? { from: formatGallagherDate(m.from) } : {}),
      ...(m.until !== null ? { until: formatGallagherDate(m.until) } : {}),
    };
  };

  const SUMMARY_FIELDS = ['href', 'id', 'firstName', 'lastName', 'shortName', 'description', 'authorised'];
  const DETAIL_FIELDS = [...SUMMARY_FIELDS, 'division', 'accessGroups'];

  const cardholderJson = (ch: CardholderRecord, fields: string[]): Json => {
    const now = Date.now();
    const all: Json = {
      href: href.cardholder(ch.id),
      id: ch.id,
      ...(ch.firstName ? { firstName: ch.firstName } : {}),
      ...(ch.lastName ? { lastName: ch.lastName } : {}),
      ...(ch.shortName ? { shortName: ch.shortName } : {}),
      ...(ch.description ? { description: ch.description } : {}),
      authorised: ch.authorised,
      division: { href: href.division(ch.divisionId) },
      ...(ch.memberships.size ? { accessGroups: Array.from(ch.memberships.values(), (m) => membershipJson(ch, m, now)) } : {}),
    };
    const out: Json = {};
    for (const f of fields) if (f in all) out[f] = all[f];
    return out;
  };

  /** `fields=` parsing: comma-separated, case-sensitive, `defaults` expands, `a.b` selects block `a`. */
  const parseFields = (query: URLSearchParams, defaults: string[]): string[] => {
    const raw = query.get('fields');
    if (raw === null) return defaults;
    const out = new Set<string>();
    for (const f of raw.split(',')) {
      const name = f.trim();
      if (!name) continue;
      if (name === 'defaults') defaults.forEach((d) => out.add(d));
      else out.add(name.split('.')[0]);
    }
    return [...out];
  };

  const pageSize = (query: URLSearchParams): number => {
    const top = query.get('top');
    if (top === null) return defaultPageSize;
    const n = Number(top);
    if (!Number.isInteger(n) || n < 1) throw bad('top: must be a positive integer');
    return n;
  };

  /** One page of `items` plus a `next` link that keeps the caller's query (minus our position). */
  const paged = <T>(items: T[], query: URLSearchParams, collectionHref: string, toJson: (t: T) => Json): Json => {
    const size = pageSize(query);
    const pos = Number(query.get('pos') ?? '0');
    const start = Number.isInteger(pos) && pos > 0 ? pos : 0;
    const page = items.slice(start, start + size);
    const body: Json = { results: page.map(toJson) };
    if (start + size < items.length) {
      const q = new URLSearchParams(query);
      q.set('pos', String(start + size));
      body.next = { href: `${collectionHref}?${q.toString()}` };
    }
    return body;
  };

  const getCardholder = (id: string): CardholderRecord => {
    const ch = cardholders.get(id);
    // 9.30 and later answer 404 for a cardholder that does not exist (9.20 and earlier: 403).
    if (!ch) throw notFound('That is not the URL of a cardholder, or the operator does not have the privilege to view it.');
    return ch;
  };

  // ----- validation ---------------------------------------------------------------------------------

  const optionalString = (body: Json, field: string, max = TEXT_MAX): string | undefined => {
    const v = body[field];
    if (v === undefined) return undefined;
    if (v === null) return '';
    if (typeof v !== 'string') throw bad(`${field}: must be a string`);
    if (v.length > max) throw bad(`${field}: must be at most ${max} characters`);
    return v;
  };

  /** `from`/`until` of a membership: "" or null clears it (unset); otherwise a date-time. */
  const optionalTime = (entry: Json, field: 'from' | 'until', where: string): number | null | undefined => {
    const v = entry[field];
    if (v === undefined) return undefined;
    if (v === null || v === '') return null;
    if (typeof v !== 'string') throw bad(`${where}.${field}: must be a date-time string`);
    const ms = parseGallagherDate(v);
    if (ms === null) throw bad(`${where}.${field}: '${v}' is not an ISO-8601 date-time (YYYY-MM-DDTHH:MM:SSZ)`);
    return ms;
  };

  const checkWindow = (from: number | null, until: number | null, where: string) => {
    if (from !== null && until !== null && from > until) throw bad(`${where}: 'from' must not be later than 'until'`);
  };

  /** usercode: write-only; "" clears; otherwise digits, at least the site minimum, not all zeros. */
  const parseUsercode = (v: unknown): string | undefined => {
    if (v === undefined) return undefined;
    // A JSON number is accepted but, as on the real server, loses any leading zeros.
    const code = typeof v === 'number' && Number.isInteger(v) && v >= 0 ? String(v) : v;
    if (typeof code !== 'string') throw bad('usercode: must be a string of digits');
    if (code === '') return '';
    // Messages describe the rule only: never echo the value.
    if (!/^\d+$/.test(code)) throw bad('usercode: must contain only digits');
    if (code.length < minUsercode) throw bad(`usercode: must be at least ${minUsercode} digits long`);
    if (code.length > 10) throw bad('usercode: must be at most 10 digits long');
    if (/^0+$/.test(code)) throw bad('usercode: a code of all zeros is not allowed');
    return code;
  };

  const parseDivision = (v: unknown): string => {
    const id = isObject(v) ? idFromHref(v.href, 'divisions') : null;
    if (id === null || !divisionIds.has(id)) throw bad('division: must be an object holding the href of a division');
    return id;
  };

  const parseNewMembership = (entry: unknown, where: string): MembershipRecord => {
    if (!isObject(entry)) throw bad(`${where}: must be an object`);
    const groupId = isObject(entry.accessGroup) ? idFromHref(entry.accessGroup.href, 'access_groups') : null;
    if (groupId === null) throw bad(`${where}.accessGroup: an object holding the href of an access group is required`);
    if (!groupById.has(groupId)) throw bad(`${where}.accessGroup: that is not the href of an access group`);
    const from = optionalTime(entry, 'from', where) ?? null;
    const until = optionalTime(entry, 'until', where) ?? null;
    checkWindow(from, until, where);
    return { id: '', groupId, from, until };
  };

  const newMembershipId = () => `${(nextMembership++).toString(16)}${randomHex(5)}`;

  /** Validates the whole `accessGroups` PATCH block first, then applies it, so a bad PATCH changes nothing. */
  const applyMembershipPatch = (ch: CardholderRecord, block: unknown): (() => void) => {
    if (!isObject(block)) throw bad("accessGroups: in a PATCH this must be an object with 'add', 'update' and/or 'remove' arrays");
    const arr = (name: string): unknown[] => {
      const v = block[name];
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v)) throw bad(`accessGroups.${name}: must be an array`);
      return v;
    };
    const adds = arr('add').map((e, i) => parseNewMembership(e, `accessGroups.add[${i}]`));
    const membershipOf = (e: unknown, where: string): MembershipRecord => {
      if (!isObject(e)) throw bad(`${where}: must be an object`);
      let chId: string | null = null;
      let mId: string | null = null;
      if (typeof e.href === 'string') {
        try {
          const m = /^\/api\/cardholders\/([^/]+)\/access_groups\/([^/]+)\/?$/.exec(new URL(e.href).pathname);
          if (m) [chId, mId] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
        } catch {
          /* not a URL */
        }
      }
      const m = chId === ch.id && mId !== null ? ch.memberships.get(mId) : undefined;
      if (!m) throw bad(`${where}.href: that is not the href of one of this cardholder's access group memberships`);
      return m;
    };
    const updates = arr('update').map((e, i) => {
      const where = `accessGroups.update[${i}]`;
      const m = membershipOf(e, where);
      const from = optionalTime(e as Json, 'from', where);
      const until = optionalTime(e as Json, 'until', where);
      const next = { from: from === undefined ? m.from : from, until: until === undefined ? m.until : until };
      checkWindow(next.from, next.until, where);
      return { m, ...next };
    });
    const removes = arr('remove').map((e, i) => membershipOf(e, `accessGroups.remove[${i}]`));
    const touched = new Set<string>();
    for (const m of [...updates.map((u) => u.m), ...removes]) {
      if (touched.has(m.id)) throw bad('accessGroups: the same membership href appears more than once (do not put one in both update and remove)');
      touched.add(m.id);
    }
    return () => {
      for (const m of removes) ch.memberships.delete(m.id);
      for (const u of updates) {
        // Updating a membership changes its href (documented): the old one stops working.
        ch.memberships.delete(u.m.id);
        const id = newMembershipId();
        ch.memberships.set(id, { id, groupId: u.m.groupId, from: u.from, until: u.until });
      }
      for (const a of adds) {
        const id = newMembershipId();
        ch.memberships.set(id, { ...a, id });
      }
    };
  };

  // ----- handlers -----------------------------------------------------------------------------------

  type Result = { status: number; body?: unknown; headers?: Record<string, string> };
  type Handler = (body: unknown, query: URLSearchParams) => Result;

  const discovery = (): Json => ({
    version: '9.30.0',
    features: {
      accessGroups: { accessGroups: { href: href.groups() } },
      cardholders: {
        cardholders: { href: href.cardholders() },
        changes: { href: `${href.cardholders()}/changes` },
      },
      divisions: { divisions: { href: `${base}/api/divisions` } },
    },
  });

  const groupJson = (g: (typeof groups)[number], fields: string[]): Json => {
    const all: Json = {
      id: g.id,
      href: href.group(g.id),
      name: g.name,
      ...(g.description ? { description: g.description } : {}),
      division: { id: g.divisionId, href: href.division(g.divisionId) },
      cardholders: { href: `${href.group(g.id)}/cardholders` },
    };
    const out: Json = {};
    for (const f of fields) if (f in all) out[f] = all[f];
    return out;
  };
  const GROUP_SUMMARY = ['id', 'href', 'name', 'description'];
  const GROUP_DETAIL = ['id', 'href', 'name', 'description', 'division', 'cardholders'];

  const createCardholder: Handler = (raw) => {
    if (!isObject(raw)) throw bad('Invalid cardholder: the body must be a JSON object');
    const divisionId = parseDivision(raw.division);
    const firstName = optionalString(raw, 'firstName') ?? '';
    const lastName = optionalString(raw, 'lastName') ?? '';
    if (!firstName.trim() && !lastName.trim()) throw bad('firstName, lastName: a cardholder needs a first or a last name');
    const description = optionalString(raw, 'description') ?? '';
    const shortName = (optionalString(raw, 'shortName', 1000) ?? '').slice(0, SHORT_NAME_MAX); // truncated, as documented
    if (raw.authorised !== undefined && typeof raw.authorised !== 'boolean') throw bad('authorised: must be true or false');
    for (const k of Object.keys(raw)) if (k.startsWith('@')) throw bad(`${k}: no such personal data field on this cardholder's access groups`);
    const usercode = parseUsercode(raw.usercode);
    let initial: MembershipRecord[] = [];
    if (raw.accessGroups !== undefined) {
      if (!Array.isArray(raw.accessGroups)) throw bad('accessGroups: in a POST this must be an array of memberships');
      initial = raw.accessGroups.map((e, i) => parseNewMembership(e, `accessGroups[${i}]`));
    }
    const ch: CardholderRecord = {
      id: String(nextCardholder++),
      firstName,
      lastName,
      shortName,
      description,
      authorised: raw.authorised === true, // false by default, as documented
      divisionId,
      memberships: new Map(),
    };
    for (const m of initial) {
      const id = newMembershipId();
      ch.memberships.set(id, { ...m, id });
    }
    cardholders.set(ch.id, ch);
    if (usercode) usercodes.set(ch.id, usercode);
    return { status: 201, headers: { location: href.cardholder(ch.id) } };
  };

  const patchCardholder = (id: string): Handler => (raw) => {
    const ch = getCardholder(id);
    if (!isObject(raw) || Object.keys(raw).length === 0) throw bad('No fields have been defined for update');
    const changes: (() => void)[] = [];
    const firstName = optionalString(raw, 'firstName');
    const lastName = optionalString(raw, 'lastName');
    if (firstName !== undefined || lastName !== undefined) {
      const f = firstName ?? ch.firstName;
      const l = lastName ?? ch.lastName;
      if (!f.trim() && !l.trim()) throw bad('firstName, lastName: a cardholder needs a first or a last name');
      changes.push(() => Object.assign(ch, { firstName: f, lastName: l }));
    }
    const description = optionalString(raw, 'description');
    if (description !== undefined) changes.push(() => (ch.description = description));
    if (raw.authorised !== undefined) {
      if (typeof raw.authorised !== 'boolean') throw bad('authorised: must be true or false');
      const a = raw.authorised;
      changes.push(() => (ch.authorised = a));
    }
    if (raw.division !== undefined) {
      const d = parseDivision(raw.division);
      changes.push(() => (ch.divisionId = d));
    }
    const usercode = parseUsercode(raw.usercode);
    if (usercode !== undefined) {
      changes.push(() => (usercode === '' ? usercodes.delete(ch.id) : usercodes.set(ch.id, usercode)));
    }
    for (const k of Object.keys(raw)) if (k.startsWith('@')) throw bad(`${k}: no such personal data field on this cardholder's access groups`);
    if (raw.accessGroups !== undefined) changes.push(applyMembershipPatch(ch, raw.accessGroups));
    for (const apply of changes) apply();
    return { status: 204 };
  };

  const route = (method: string, segs: string[]): { template: string; run: Handler } | null => {
    const n = segs.length;
    if (n === 1 && method === 'GET') return { template: 'GET /api', run: () => ({ status: 200, body: discovery() }) };
    const [, collection, id, sub, subId] = segs;
    if (collection === 'access_groups' && method === 'GET') {
      if (n === 2) {
        return {
          template: 'GET /api/access_groups',
          run: (_b, q) => {
            const fields = parseFields(q, GROUP_SUMMARY);
            const name = q.get('name');
            const desc = q.get('description');
            const byName = name === null ? null : gallagherMatcher(name);
            const byDesc = desc === null ? null : gallagherMatcher(desc);
            const hits = groups.filter((g) => (!byName || byName(g.name)) && (!byDesc || byDesc(g.description)));
            return { status: 200, body: paged(hits, q, href.groups(), (g) => groupJson(g, fields)) };
          },
        };
      }
      if (n === 3) {
        return {
          template: 'GET /api/access_groups/:id',
          run: (_b, q) => {
            const g = groupById.get(id);
            if (!g) throw notFound('That is not the URL of an access group.');
            return { status: 200, body: groupJson(g, parseFields(q, GROUP_DETAIL)) };
          },
        };
      }
      return null;
    }
    if (collection === 'divisions' && method === 'GET' && n === 3) {
      return {
        template: 'GET /api/divisions/:id',
        run: () => {
          const d = divisions.find((x) => x.id === id);
          if (!d) throw notFound('That is not the URL of a division.');
          return { status: 200, body: { id: d.id, href: href.division(d.id), name: d.name } };
        },
      };
    }
    if (collection !== 'cardholders') return null;
    if (n === 2) {
      if (method === 'GET') {
        return {
          template: 'GET /api/cardholders',
          run: (_b, q) => {
            const fields = parseFields(q, SUMMARY_FIELDS);
            const name = q.get('name');
            const desc = q.get('description');
            const byName = name === null ? null : gallagherMatcher(name);
            const byDesc = desc === null ? null : gallagherMatcher(desc);
            const hits = [...cardholders.values()].filter(
              (c) =>
                (!byName || byName(c.firstName) || byName(c.lastName) || byName(`${c.lastName}, ${c.firstName}`)) &&
                (!byDesc || byDesc(c.description)),
            );
            return { status: 200, body: paged(hits, q, href.cardholders(), (c) => cardholderJson(c, fields)) };
          },
        };
      }
      if (method === 'POST') return { template: 'POST /api/cardholders', run: createCardholder };
      return null;
    }
    if (n === 3) {
      if (method === 'GET') {
        return { template: 'GET /api/cardholders/:id', run: (_b, q) => ({ status: 200, body: cardholderJson(getCardholder(id), parseFields(q, DETAIL_FIELDS)) }) };
      }
      if (method === 'PATCH') return { template: 'PATCH /api/cardholders/:id', run: patchCardholder(id) };
      if (method === 'DELETE') {
        return {
          template: 'DELETE /api/cardholders/:id',
          run: () => {
            const ch = getCardholder(id);
            cardholders.delete(ch.id); // memberships go with it
            usercodes.delete(ch.id);
            return { status: 204 };
          },
        };
      }
      return null;
    }
    if (n === 5 && sub === 'access_groups' && method === 'DELETE') {
      return {
        template: 'DELETE /api/cardholders/:id/access_groups/:membershipId',
        run: () => {
          const ch = cardholders.get(id);
          if (!ch || !ch.memberships.delete(subId)) throw notFound('That is not the href of an access group membership.');
          return { status: 204 };
        },
      };
    }
    return null;
  };

  // ----- state helpers ------------------------------------------------------------------------------

  const cardholderView = (c: CardholderRecord): GallagherCardholderView => ({
    id: c.id,
    href: href.cardholder(c.id),
    firstName: c.firstName,
    lastName: c.lastName,
    description: c.description,
    authorised: c.authorised,
    divisionId: c.divisionId,
    hasUsercode: usercodes.has(c.id),
  });
  const membershipView = (c: CardholderRecord, m: MembershipRecord): GallagherMembershipView => ({
    id: m.id,
    href: href.membership(c.id, m.id),
    cardholderId: c.id,
    accessGroupId: m.groupId,
    accessGroupHref: href.group(m.groupId),
    from: m.from === null ? null : formatGallagherDate(m.from),
    until: m.until === null ? null : formatGallagherDate(m.until),
  });

  const snapshot = (): GallagherSnapshot => ({
    divisions: divisions.map((d) => ({ ...d })),
    accessGroups: groups.map((g) => ({ ...g })),
    cardholders: Array.from(cardholders.values(), cardholderView),
    memberships: [...cardholders.values()].flatMap((c) => Array.from(c.memberships.values(), (m) => membershipView(c, m))),
  });

  const server: EmulatorServer = await startEmulatorServer({
    port: opts.port,
    recordRequests: opts.recordRequests,
    host: opts.host ?? '127.0.0.1',
    apiPrefix: '/api',
    route: (method, segs) => {
      const matched = segs[0] === 'api' ? route(method, segs) : null;
      return matched && { template: matched.template, handle: (req) => matched.run(req.body, req.query) };
    },
    authorize: (req) =>
      req.headers.authorization === expectedAuth
        ? null
        : { status: 401, body: { message: "Unauthorized: send the REST client's API key as 'Authorization: GGL-API-KEY <key>'" } },
    errorBody: (_status, _code, message) => ({ message }),
    state: () => snapshot(),
    reset: () => {
      cardholders.clear();
      usercodes.clear();
    },
  });
  base = server.url;

  const state: GallagherEmulatorState = {
    snapshot,
    cardholders: () => Array.from(cardholders.values(), cardholderView),
    cardholder: (id) => {
      const c = cardholders.get(id);
      return c ? cardholderView(c) : null;
    },
    cardholderByDescription: (description) => {
      for (const c of cardholders.values()) if (c.description === description) return cardholderView(c);
      return null;
    },
    memberships: (cardholderId) => {
      const c = cardholders.get(cardholderId);
      return c ? Array.from(c.memberships.values(), (m) => membershipView(c, m)) : [];
    },
    accessGroupHref: (id) => href.group(id),
    divisionHref: (id) => href.division(id),
    usercodeMatches: (cardholderId, code) => usercodes.get(cardholderId) === code,
    canEnter: ({ pin, accessGroupId, at = Date.now() }) => {
      for (const [chId, code] of usercodes) {
        if (code !== pin) continue;
        const c = cardholders.get(chId);
        if (!c?.authorised) continue;
        for (const m of c.memberships.values()) {
          if (m.groupId === accessGroupId && (m.from === null || m.from <= at) && (m.until === null || at < m.until)) return true;
        }
      }
      return false;
    },
  };

  return {
    url: server.url,
    port: server.port,
    apiKey,
    close: server.close,
    reset: server.reset,
    faults: server.faults,
    stats: server.stats,
    resetStats: server.resetStats,
    recorded: server.recorded,
    clearRecorded: server.clearRecorded,
    state,
  };
}
