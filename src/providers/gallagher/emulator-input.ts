/**
 * How the Gallagher emulator reads request bodies: field-by-field validation of cardholders and
 * memberships, with 400 messages that name the field and never echo a secret. Value rules that need
 * nothing else sit at module level; `createGallagherInput` binds the rest to one emulator's site
 * minimum usercode length, divisions, access groups and membership ids.
 */
import { parseGallagherDate } from './dates.js';
import { idFromHref } from './emulator-views.js';
import { bad, isObject, type AccessGroupRecord, type CardholderRecord, type Json, type MembershipRecord } from './emulator-types.js';

const TEXT_MAX = 200;

/** A text field: absent is undefined, null clears it (""); otherwise a string of at most `max` characters. */
export const optionalString = (body: Json, field: string, max = TEXT_MAX): string | undefined => {
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

export interface GallagherInputOptions {
  /** Site-configured minimum usercode length. */
  minUsercode: number;
  divisionIds: Set<string>;
  groupById: Map<string, AccessGroupRecord>;
  /** A fresh membership id (a membership's href changes when it is updated). */
  newMembershipId: () => string;
}

export function createGallagherInput({ minUsercode, divisionIds, groupById, newMembershipId }: GallagherInputOptions) {
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

  return { parseUsercode, parseDivision, parseNewMembership, applyMembershipPatch };
}
