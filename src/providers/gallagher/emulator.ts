/**
 * An emulator of the Gallagher Command Centre REST API (the parts Lockstep uses), on the shared
 * emulator kit: a real HTTP server with in-memory state, fault injection and request stats.
 *
 * It follows Gallagher's published shape (see notes.md): `GET /api` discovery with feature hrefs;
 * every object identified by an absolute `href`; searches paged with `top` and a `next.href`;
 * cardholders created by POST (201 + Location, no body) and changed by one PATCH carrying
 * `accessGroups: { add, update, remove }` (204); a membership's href changes when it is updated;
 * `usercode` (the cardholder's PIN) is write-only; 4xx bodies are `{ "message": … }`.
 *
 * This file holds the emulator itself: its state, the request handlers and routing, the server wiring
 * and the state API. Types and defaults live in emulator-types.ts, the JSON and state views it shows
 * in emulator-views.ts, request-body validation in emulator-input.ts; the public names are re-exported here.
 */
import { randomBytes } from 'node:crypto';
import { controlsOf, startEmulatorServer, type EmulatorServer } from '../emulator-kit.js';
import { createGallagherInput, optionalString } from './emulator-input.js';
import { bad, DEFAULT_GALLAGHER_ACCESS_GROUPS, DEFAULT_GALLAGHER_API_KEY, DEFAULT_GALLAGHER_DIVISIONS, isObject, notFound } from './emulator-types.js';
import type { AccessGroupRecord, CardholderRecord, GallagherEmulator, GallagherEmulatorOptions, GallagherEmulatorState, GallagherSnapshot, MembershipRecord } from './emulator-types.js';
import { createGallagherViews, gallagherMatcher, parseFields } from './emulator-views.js';

export { DEFAULT_GALLAGHER_ACCESS_GROUPS, DEFAULT_GALLAGHER_API_KEY, DEFAULT_GALLAGHER_DIVISIONS } from './emulator-types.js';
export type { GallagherAccessGroupSeed, GallagherCardholderView, GallagherDivisionSeed, GallagherEmulator, GallagherEmulatorOptions, GallagherEmulatorState, GallagherMembershipView, GallagherSnapshot } from './emulator-types.js';
export { gallagherMatcher } from './emulator-views.js';

const SHORT_NAME_MAX = 16;

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
  const groups: AccessGroupRecord[] = (opts.accessGroups ?? DEFAULT_GALLAGHER_ACCESS_GROUPS).map((g) => ({ ...g, divisionId: g.divisionId ?? divisions[0].id }));
  const groupById = new Map(groups.map((g) => [g.id, g]));

  const cardholders = new Map<string, CardholderRecord>();
  const usercodes = new Map<string, string>();
  // Ids keep counting across reset() so stale hrefs answer 404 rather than hit a new object.
  let nextCardholder = 1000;
  let nextMembership = 1;
  let base = ''; // set once the server listens; hrefs are absolute like Command Centre's

  const { href, cardholderJson, SUMMARY_FIELDS, DETAIL_FIELDS, paged, discovery, groupJson, GROUP_SUMMARY, GROUP_DETAIL, cardholderView, membershipView } =
    createGallagherViews({ base: () => base, groupById, defaultPageSize, hasUsercode: (id) => usercodes.has(id) });

  const getCardholder = (id: string): CardholderRecord => {
    const ch = cardholders.get(id);
    // 9.30 and later answer 404 for a cardholder that does not exist (9.20 and earlier: 403).
    if (!ch) throw notFound('That is not the URL of a cardholder, or the operator does not have the privilege to view it.');
    return ch;
  };

  const newMembershipId = () => `${(nextMembership++).toString(16)}${randomHex(5)}`;
  const { parseUsercode, parseDivision, parseNewMembership, applyMembershipPatch } = createGallagherInput({ minUsercode, divisionIds, groupById, newMembershipId });

  // ----- handlers -----------------------------------------------------------------------------------

  type Result = { status: number; body?: unknown; headers?: Record<string, string> };
  type Handler = (body: unknown, query: URLSearchParams) => Result;

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
    ...controlsOf(server),
    apiKey,
    recorded: server.recorded,
    clearRecorded: server.clearRecorded,
    state,
  };
}
