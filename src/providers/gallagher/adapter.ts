/**
 * Adapter for the Gallagher Command Centre REST API (see notes.md for the routes and their sources).
 *
 * Model: a Lockstep person is a cardholder whose `description` holds Lockstep's stable identity key;
 * a grant is one of the cardholder's access-group memberships with a from/until window; the PIN is the
 * cardholder's write-only `usercode`. Every object is addressed by the absolute `href` Command Centre
 * hands out (HATEOAS: only `/api` is hard-coded), so refs are hrefs: user = cardholder href,
 * target = access group href, grant = membership href.
 *
 * Command Centre changes a membership's href when the membership is updated. The adapter learns the
 * new href from the read-back after the PATCH and returns it (`updateGrant` → `{ ref }`,
 * `applyGrantBatch` → `updated`); the engine stores it. The adapter itself keeps no state about
 * memberships, so a restart changes nothing. A ref that is no longer on the cardholder is simply gone
 * (see `observe` and notes.md, "Hrefs change when a membership is updated").
 */
import { AccessGroupAdapter } from '../access-group.js';
import { JsonHttpClient, transportOf } from '../http.js';
import {
  ProviderError,
  type AccessTarget,
  type AccessWindow,
  type GrantInput,
  type ObservedGrant,
  type ObservedUser,
  type PinRules,
  capabilities,
  type ProviderCapabilities,
  type ProviderIdentity,
  type ProviderTransport,
} from '../types.js';
import { formatGallagherDate, parseGallagherDate } from './dates.js';

interface ApiLink {
  href?: string;
  name?: string;
}

interface ApiDiscovery {
  version?: string;
  features?: {
    accessGroups?: { accessGroups?: ApiLink };
    cardholders?: { cardholders?: ApiLink };
  };
}

interface ApiPage<T> {
  results?: T[];
  next?: ApiLink;
}

interface ApiAccessGroup {
  href: string;
  name: string;
  description?: string;
  division?: ApiLink;
}

interface ApiMembership {
  href: string;
  accessGroup?: ApiLink;
  from?: string;
  until?: string;
}

interface ApiCardholder {
  href: string;
  description?: string;
  accessGroups?: ApiMembership[];
}

export interface GallagherAdapterOptions extends ProviderTransport {
  /** Command Centre's REST address, e.g. https://cc.example.com:8904 (a trailing /api is fine). */
  baseUrl: string;
  /** The REST client's API key (xxxx-xxxx-…); sent as `Authorization: GGL-API-KEY <key>`. */
  apiKey: string;
  /** The href of the division new cardholders go into (mandatory when creating a cardholder). */
  divisionHref: string;
}

const CAPABILITIES = capabilities({
  accessGroups: true,
  providerUsers: true,
  membershipWindows: true,
  pinOnUser: true,
  revocable: true,
  updatableGrants: true,
});

/**
 * usercode: "at least four digits", possibly more by site configuration, "0000" does not work. The
 * upper bound (8) is Lockstep's choice, not a documented Command Centre limit. Banning the prefix
 * 0000 keeps every generated code clear of an all-zero one (it costs 1 code in 10 000).
 */
const PIN_RULES: PinRules = Object.freeze({
  length: 6,
  minLength: 4,
  maxLength: 8,
  allowedDigits: '0123456789',
  bannedPrefixes: Object.freeze(['0000']) as unknown as string[],
});

const MAX_PAGES = 1000;
const CARDHOLDER_FIELDS = 'href,description,accessGroups';

type NewMembership = { targetRef: string; window: AccessWindow };

export class GallagherAdapter extends AccessGroupAdapter<ApiCardholder> {
  readonly kind = 'gallagher';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules = PIN_RULES;
  /** DELETE of a cardholder removes the cardholder with all its memberships. */
  readonly deletingUserRemovesGrants = true;
  protected override readonly userNoun = 'cardholder';
  // Command Centre does not keep descriptions unique, so look first: an earlier create may have
  // landed without Lockstep recording it (crash, timeout).
  protected override readonly searchBeforeCreate = true;

  private readonly apiPath: string;
  private readonly baseUrl: string;
  private readonly divisionHref: string;
  private discovery: Promise<{ cardholders: string; accessGroups: string }> | null = null;

  constructor(opts: GallagherAdapterOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new ProviderError('rejected', "gallagher: the base URL is not a valid URL; check the integration's settings");
    }
    // Hrefs from the server are absolute; requests go to their path on the configured origin.
    super(
      new JsonHttpClient({
        baseUrl: url.origin,
        headers: { authorization: `GGL-API-KEY ${opts.apiKey}` },
        ...transportOf(opts),
        provider: 'gallagher',
      }),
    );
    this.baseUrl = opts.baseUrl;
    this.divisionHref = opts.divisionHref;
    const prefix = url.pathname.replace(/\/+$/, '');
    this.apiPath = prefix.endsWith('/api') ? prefix : `${prefix}/api`;
  }

  // ----- connection and targets --------------------------------------------------------------------

  async testConnection(): Promise<void> {
    await this.features();
    const res = await this.http.request('GET', this.path(this.divisionHref, { fields: 'href,name' }), { expect: [404] });
    if (res.status === 404) {
      throw new ProviderError('rejected', "gallagher: the division for new cardholders was not found (or the REST operator cannot see it); check the integration's division href", {
        status: 404,
      });
    }
  }

  async listTargets(): Promise<AccessTarget[]> {
    const { accessGroups } = await this.features();
    const groups = await this.allPages<ApiAccessGroup>(this.path(accessGroups, { top: '1000', sort: 'id', fields: 'href,name,description,division' }));
    return groups
      .filter((g) => typeof g.href === 'string' && typeof g.name === 'string')
      .map((g) => {
        const parts = [g.description?.trim(), g.division?.name ? `division: ${g.division.name}` : undefined].filter(Boolean);
        return { ref: g.href, name: g.name, ...(parts.length ? { description: parts.join(' — ') } : {}), kind: 'access-group' as const };
      });
  }

  // ----- cardholders -------------------------------------------------------------------------------

  /** With the fields observe needs (the memberships). */
  protected override async fetchUser(ref: string): Promise<ApiCardholder | null> {
    const res = await this.http.request<ApiCardholder>('GET', this.path(ref, { fields: CARDHOLDER_FIELDS }), { expect: [404] });
    return res.status === 404 ? null : res.body;
  }

  /** The cardholder whose description is exactly `key` (the search is case-insensitive and `_`/`%` are wildcards). */
  protected async searchUser(key: string): Promise<ApiCardholder | null> {
    const { cardholders } = await this.features();
    const hits = await this.allPages<ApiCardholder>(this.path(cardholders, { description: `"${key}"`, fields: CARDHOLDER_FIELDS, sort: 'id', top: '100' }));
    return hits.find((c) => c.description === key && typeof c.href === 'string') ?? null;
  }

  protected async postUser(identity: ProviderIdentity): Promise<string | null> {
    const { cardholders } = await this.features();
    const res = await this.http.request('POST', this.path(cardholders), {
      body: {
        ...splitName(identity.displayName),
        description: identity.key,
        authorised: true, // false by default: an unauthorised cardholder opens nothing
        division: { href: this.divisionHref },
      },
    });
    // 201 with the new cardholder's href in the Location header (documented); without a usable one
    // (a proxy dropped it), the cardholder is found by its description.
    return cardholderLocation(res.headers.location, cardholders);
  }

  protected lostCreate(): ProviderError {
    return new ProviderError('transient', 'gallagher: the cardholder was created but a search by its description did not find it yet; retry');
  }

  /** 404 on DELETE = already gone (Command Centre 9.30+; 9.20 and earlier answer 403, which reads as 'auth'). */
  protected userPath(ref: string): string {
    return this.path(ref);
  }

  protected observedUser(ch: ApiCardholder, key: string): ObservedUser {
    return { ref: ch.href, key: ch.description ?? key };
  }

  /**
   * What the cardholder holds, each membership under its current href. Stateless: a ref the engine
   * holds that is no longer on the cardholder is reported absent (the engine drops it and adopts the
   * membership it may have become, under its new href, as drift; see notes.md).
   */
  protected async grantsOf(ch: ApiCardholder): Promise<ObservedGrant[]> {
    return (ch.accessGroups ?? [])
      .filter((m) => typeof m.href === 'string' && typeof m.accessGroup?.href === 'string')
      .map((m) => ({ ref: m.href, targetRef: m.accessGroup!.href!, window: readWindow(m) }));
  }

  async setUserPin(userRef: string, pin: string): Promise<void> {
    // A string keeps leading zeros (the API documents the loss for numbers).
    await this.http.request('PATCH', this.path(userRef), { body: { usercode: pin } });
  }

  // ----- memberships -------------------------------------------------------------------------------

  async createGrant(input: GrantInput): Promise<{ ref: string }> {
    const userRef = await this.resolveUserRef(input.userRef, input.identity.key);
    const { created } = await this.applyGrantBatch({ userRef, identity: input.identity, create: [{ targetRef: input.targetRef, window: input.window }], update: [], remove: [] });
    return { ref: created[0] };
  }

  /** Returns the membership's new href (Command Centre re-issues it on every update). */
  async updateGrant(input: GrantInput & { grantRef: string }): Promise<{ ref?: string }> {
    const userRef = await this.resolveUserRef(input.userRef, input.identity.key);
    const { updated } = await this.applyGrantBatch({ userRef, identity: input.identity, create: [], update: [{ grantRef: input.grantRef, targetRef: input.targetRef, window: input.window }], remove: [] });
    return updated[0] === undefined ? {} : { ref: updated[0] };
  }

  async deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void> {
    if (!input.userRef) {
      throw new ProviderError('rejected', 'gallagher: removing a membership needs the cardholder it belongs to (userRef missing)');
    }
    await this.applyGrantBatch({ userRef: input.userRef, identity: { key: '', displayName: '' }, create: [], update: [], remove: [{ grantRef: input.grantRef, targetRef: input.targetRef }] });
  }

  /**
   * Every membership change for one cardholder in ONE PATCH (`accessGroups: {add, update, remove}`),
   * as Command Centre recommends. Reads the memberships first when existing ones are touched (to tell
   * which refs are still there) and afterwards when hrefs must be learned (the PATCH answers 204):
   * `created` in the order of `create`, `updated` (the new href of each updated membership) in the
   * order of `update`.
   *
   * A ref that is no longer on the cardholder (removed inside Command Centre, or re-hrefed by an update
   * whose new href was never recorded) is gone: removing it is done, and updating it adds a new
   * membership with the wanted window, whose href is returned as the updated ref. No guessing which
   * other membership it might have become; the engine's read-back adopts any membership it does not
   * know and repairs the difference.
   */
  async applyGrantBatch(input: {
    userRef: string;
    identity: ProviderIdentity;
    create: NewMembership[];
    update: { grantRef: string; targetRef: string; window: AccessWindow }[];
    remove: { grantRef: string; targetRef: string }[];
  }): Promise<{ created: string[]; updated: (string | undefined)[] }> {
    const { userRef } = input;
    if (!input.create.length && !input.update.length && !input.remove.length) return { created: [], updated: [] };

    const before = input.update.length || input.remove.length ? await this.memberships(userRef) : [];
    const present = new Set(before.map((m) => m.href));
    const seen = new Set<string>();
    /** A ref is used at most once per PATCH (Command Centre refuses one href twice). */
    const live = (ref: string) => present.has(ref) && !seen.has(ref) && (seen.add(ref), true);

    const add: NewMembership[] = [...input.create];
    /** Per update: the href it PATCHes, or the index of the membership re-added in its place. */
    const plan = input.update.map((u) => (live(u.grantRef) ? { href: u.grantRef } : { index: add.push({ targetRef: u.targetRef, window: u.window }) - 1 }));
    const remove = input.remove.filter((r) => live(r.grantRef)); // the others are already gone: done

    const update = input.update.flatMap((u, i) => {
      const p = plan[i];
      return 'href' in p ? [{ href: p.href, window: u.window }] : [];
    });
    const block: Record<string, unknown[]> = {};
    if (add.length) block.add = add.map((a) => ({ accessGroup: { href: a.targetRef }, ...windowFields(a.window, 'add') }));
    if (update.length) block.update = update.map((u) => ({ href: u.href, ...windowFields(u.window, 'update') }));
    if (remove.length) block.remove = remove.map((r) => ({ href: r.grantRef }));
    if (!Object.keys(block).length) return { created: [], updated: [] }; // only removes, all already gone

    await this.http.request('PATCH', this.path(userRef), { body: { accessGroups: block } });
    if (!add.length && !update.length) return { created: [], updated: [] };

    // Learn the hrefs this PATCH produced: a membership on the same access group with exactly the
    // window just written, whose href did not exist before the PATCH (so it belongs to no other ref).
    const after = await this.memberships(userRef);
    const assigned = new Set<string>();
    const pick = (targetRef: string, window: AccessWindow, what: string, previous?: string): string => {
      const want = roundWindow(window);
      const fits = (m: ApiMembership) => m.accessGroup?.href === targetRef && !assigned.has(m.href) && sameWindow(m, want);
      // A server that kept the href on update (not Command Centre's documented behaviour) is fine too.
      const hit = after.find((m) => fits(m) && !present.has(m.href)) ?? (previous ? after.find((m) => m.href === previous && fits(m)) : undefined);
      if (!hit) {
        throw new ProviderError('transient', `gallagher: Command Centre accepted the membership ${what} but it did not show in the cardholder's memberships; retry`);
      }
      assigned.add(hit.href);
      return hit.href;
    };
    const updatedHrefs = new Map<number, string>();
    input.update.forEach((u, i) => {
      const p = plan[i];
      if ('href' in p) updatedHrefs.set(i, pick(u.targetRef, u.window, 'update', p.href));
    });
    const addedHrefs = add.map((a) => pick(a.targetRef, a.window, 'add'));
    const updated = input.update.map((_, i) => {
      const p = plan[i];
      return 'href' in p ? updatedHrefs.get(i)! : addedHrefs[p.index];
    });
    return { created: addedHrefs.slice(0, input.create.length), updated };
  }

  /** Command Centre keeps membership times to the second: plan with whole seconds, widened outward. */
  roundWindow(window: AccessWindow): AccessWindow {
    return roundWindow(window);
  }

  // ----- helpers -----------------------------------------------------------------------------------

  /** Discovery (`GET /api`), once: Gallagher asks clients to take every URL from it. */
  private features(): Promise<{ cardholders: string; accessGroups: string }> {
    if (!this.discovery) {
      this.discovery = this.discover();
      this.discovery.catch(() => (this.discovery = null));
    }
    return this.discovery;
  }

  private async discover(): Promise<{ cardholders: string; accessGroups: string }> {
    let body: ApiDiscovery;
    try {
      body = (await this.http.request<ApiDiscovery>('GET', this.apiPath)).body;
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') {
        throw new ProviderError('not-found', `gallagher: no Command Centre REST API found at ${this.baseUrl}; check the integration's base URL`, err.details);
      }
      throw err;
    }
    const cardholders = body?.features?.cardholders?.cardholders?.href;
    const accessGroups = body?.features?.accessGroups?.accessGroups?.href;
    if (typeof cardholders !== 'string' || typeof accessGroups !== 'string') {
      throw new ProviderError(
        'rejected',
        'gallagher: Command Centre does not offer the cardholders and access-groups features to this REST client (RESTCardholders licence, or operator privileges)',
      );
    }
    return { cardholders, accessGroups };
  }

  /** The request path for a server href (or an /api path), with query parameters appended safely. */
  private path(href: string, query: Record<string, string> = {}): string {
    let url: URL;
    try {
      url = new URL(href, 'http://placeholder');
    } catch {
      throw new ProviderError('rejected', 'gallagher: a Command Centre href is not a valid URL');
    }
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url.pathname + url.search;
  }

  private async allPages<T>(first: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = first;
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const res: { body: ApiPage<T> } = await this.http.request<ApiPage<T>>('GET', next);
      out.push(...(res.body?.results ?? []));
      next = res.body?.next?.href ? this.path(res.body.next.href) : undefined;
    }
    return out;
  }

  private async memberships(userRef: string): Promise<ApiMembership[]> {
    const res = await this.http.request<ApiCardholder>('GET', this.path(userRef, { fields: 'href,accessGroups' }));
    return (res.body?.accessGroups ?? []).filter((m) => typeof m.href === 'string');
  }
}

/** The Location of a created cardholder, when it is an href under the cardholders feature. */
function cardholderLocation(value: string | undefined, cardholders: string): string | null {
  if (!value) return null;
  try {
    const loc = new URL(value, cardholders);
    const base = new URL(cardholders);
    const prefix = base.pathname.replace(/\/+$/, '') + '/';
    return loc.origin === base.origin && loc.pathname.startsWith(prefix) && loc.pathname.length > prefix.length ? loc.href : null;
  } catch {
    return null;
  }
}

function splitName(displayName: string): { firstName?: string; lastName: string } {
  const name = displayName.trim() || 'Lockstep guest';
  const space = name.indexOf(' ');
  return space === -1 ? { lastName: name } : { firstName: name.slice(0, space), lastName: name.slice(space + 1).trim() };
}

function roundWindow(w: AccessWindow): AccessWindow {
  return { startsAt: Math.floor(w.startsAt / 1000) * 1000, endsAt: w.endsAt === null ? null : Math.ceil(w.endsAt / 1000) * 1000 };
}

/** from/until as Command Centre takes them; an open end is an absent until on add, "" (clear) on update. */
function windowFields(window: AccessWindow, op: 'add' | 'update'): { from: string; until?: string } {
  const w = roundWindow(window);
  const from = formatGallagherDate(w.startsAt);
  if (w.endsAt !== null) return { from, until: formatGallagherDate(w.endsAt) };
  return op === 'update' ? { from, until: '' } : { from };
}

function readTime(value: string | undefined, what: string): number | null {
  if (value === undefined || value === '') return null;
  const ms = parseGallagherDate(value);
  if (ms === null) throw new ProviderError('transient', `gallagher: Command Centre returned an unreadable membership ${what} date`);
  return ms;
}

/** An unset from means "since always" (epoch 0 here); an unset until means unending. */
function readWindow(m: ApiMembership): AccessWindow {
  return { startsAt: readTime(m.from, 'from') ?? 0, endsAt: readTime(m.until, 'until') };
}

function sameWindow(m: ApiMembership, w: AccessWindow): boolean {
  const got = readWindow(m);
  return got.startsAt === w.startsAt && got.endsAt === w.endsAt;
}
