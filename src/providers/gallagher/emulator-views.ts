/**
 * How the Gallagher emulator shows its objects. To API clients: the absolute hrefs it hands out (and
 * reads back), the JSON of discovery, access groups, cardholders and memberships, `fields=` selection,
 * `top`/`pos` paging and Gallagher's search-term matching. To tests, through the state API: plain
 * cardholder and membership views. Pure helpers sit at module level; the rest comes from
 * `createGallagherViews`, bound to one emulator's base URL, groups, default page size and usercodes.
 */
import { formatGallagherDate } from './dates.js';
import { bad, type AccessGroupRecord, type CardholderRecord, type GallagherCardholderView, type GallagherMembershipView, type Json, type MembershipRecord } from './emulator-types.js';

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

/** The id at the end of one of our hrefs of the given collection, or null. */
export const idFromHref = (value: unknown, collection: string): string | null => {
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

/** `fields=` parsing: comma-separated, case-sensitive, `defaults` expands, `a.b` selects block `a`. */
export const parseFields = (query: URLSearchParams, defaults: string[]): string[] => {
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

export interface GallagherViewsOptions {
  /** The server's URL; read on every call, as it is only known once the server listens. */
  base: () => string;
  groupById: Map<string, AccessGroupRecord>;
  /** Items per page when the client sends no `top`. */
  defaultPageSize: number;
  /** Whether cardholder `id` has a usercode set (the code itself is never shown). */
  hasUsercode: (id: string) => boolean;
}

export function createGallagherViews({ base, groupById, defaultPageSize, hasUsercode }: GallagherViewsOptions) {
  // Hrefs are absolute like Command Centre's.
  const href = {
    api: () => `${base()}/api`,
    groups: () => `${base()}/api/access_groups`,
    group: (id: string) => `${base()}/api/access_groups/${id}`,
    division: (id: string) => `${base()}/api/divisions/${id}`,
    cardholders: () => `${base()}/api/cardholders`,
    cardholder: (id: string) => `${base()}/api/cardholders/${id}`,
    membership: (chId: string, mId: string) => `${base()}/api/cardholders/${chId}/access_groups/${mId}`,
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

  const discovery = (): Json => ({
    version: '9.30.0',
    features: {
      accessGroups: { accessGroups: { href: href.groups() } },
      cardholders: {
        cardholders: { href: href.cardholders() },
        changes: { href: `${href.cardholders()}/changes` },
      },
      divisions: { divisions: { href: `${base()}/api/divisions` } },
    },
  });

  const groupJson = (g: AccessGroupRecord, fields: string[]): Json => {
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

  // ----- views for the state API (plain copies; never a usercode) -----------------------------------

  const cardholderView = (c: CardholderRecord): GallagherCardholderView => ({
    id: c.id,
    href: href.cardholder(c.id),
    firstName: c.firstName,
    lastName: c.lastName,
    description: c.description,
    authorised: c.authorised,
    divisionId: c.divisionId,
    hasUsercode: hasUsercode(c.id),
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

  return { href, cardholderJson, SUMMARY_FIELDS, DETAIL_FIELDS, paged, discovery, groupJson, GROUP_SUMMARY, GROUP_DETAIL, cardholderView, membershipView };
}
