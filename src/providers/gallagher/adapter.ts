/**
 * Adapter for the Gallagher Command Centre REST API (see notes.md for the routes and their sources).
 *
 * Model: a Lockstep person is a cardholder whose `description` holds Lockstep's stable identity key;
 * a grant is one of the cardholder's access-group memberships with a from/until window; the PIN is the
 * cardholder's write-only `usercode`. Every object is addressed by the absolute `href` Command Centre
 * hands out (HATEOAS: only `/api` is hard-coded), so refs are hrefs: user = cardholder href,
 * target = access group href, grant = membership href.
 *
 * Command Centre changes a membership's href when the membership is updated, so the adapter keeps a
 * small alias map (the ref the engine holds → the membership's current href) and, when it has none,
 * re-finds a membership by its access group. See `resolveMembership`.
 */
import { JsonHttpClient } from '../http.js';
import {
  ProviderError,
  type AccessTarget,
  type AccessWindow,
  type GrantInput,
  type Observation,
  type ObservedGrant,
  type ObservedUser,
  type PinRules,
  type ProviderAdapter,
  type ProviderCapabilities,
  type ProviderIdentity,
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

export interface GallagherAdapterOptions {
  /** Command Centre's REST address, e.g. https://cc.example.com:8904 (a trailing /api is fine). */
  baseUrl: string;
  /** The REST client's API key (xxxx-xxxx-…); sent as `Authorization: GGL-API-KEY <key>`. */
  apiKey: string;
  /** The href of the division new cardholders go into (mandatory when creating a cardholder). */
  divisionHref: string;
  timeoutMs?: number;
}

const CAPABILITIES: ProviderCapabilities = Object.freeze({
  accessGroups: true,
  providerUsers: true,
  membershipWindows: true,
  pinOnUser: true,
  pinOnLock: false,
  offlineAlgorithmicPin: false,
  mobileCredential: false,
  urlKey: false,
  pulseOpen: false,
  revocable: true,
  updatableGrants: true,
  issuesCredentials: false,
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

export class GallagherAdapter implements ProviderAdapter {
  readonly kind = 'gallagher';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules = PIN_RULES;
  /** DELETE of a cardholder removes the cardholder with all its memberships. */
  readonly deletingUserRemovesGrants = true;

  private readonly http: JsonHttpClient;
  private readonly apiPath: string;
  private readonly baseUrl: string;
  private readonly divisionHref: string;
  private discovery: Promise<{ cardholders: string; accessGroups: string }> | null = null;
  /** Ref the engine holds → the membership's current href (updates change hrefs). */
  private readonly currentOf = new Map<string, string>();
  /** Current href → the ref the engine holds. */
  private readonly refOf = new Map<string, string>();

  constructor(opts: GallagherAdapterOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new ProviderError('rejected', "gallagher: the base URL is not a valid URL; check the integration's settings");
    }
    this.baseUrl = opts.baseUrl;
    this.divisionHref = opts.divisionHref;
    const prefix = url.pathname.replace(/\/+$/, '');
    this.apiPath = prefix.endsWith('/api') ? prefix : `${prefix}/api`;
    // Hrefs from the server are absolute; requests go to their path on the configured origin.
    this.http = new JsonHttpClient({
      baseUrl: url.origin,
      headers: { authorization: `GGL-API-KEY ${opts.apiKey}` },
      timeoutMs: opts.timeoutMs,
      provider: 'gallagher',
    });
  }

  close(): Promise<void> {
    return this.http.close();
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

  async findUser(key: string): Promise<ObservedUser | null> {
    const ch = await this.cardholderByKey(key);
    return ch ? { ref: ch.href, key } : null;
  }

  async createUser(identity: ProviderIdentity): Promise<{ ref: string }> {
    // Command Centre does not keep descriptions unique, so look first: an earlier create may have
    // landed without Lockstep recording it (crash, timeout).
    const existing = await this.cardholderByKey(identity.key);
    if (existing) return { ref: existing.href };
    const { cardholders } = await this.features();
    await this.http.request('POST', this.path(cardholders), {
      body: {
        ...splitName(identity.displayName),
        description: identity.key,
        authorised: true, // false by default: an unauthorised cardholder opens nothing
        division: { href: this.divisionHref },
      },
    });
    // The new href is in the Location header, which JsonHttpClient does not expose: read it back.
    const created = await this.cardholderByKey(identity.key);
    if (!created) throw new ProviderError('transient', 'gallagher: the cardholder was created but a search by its description did not find it yet; retry');
    return { ref: created.href };
  }

  async deleteUser(userRef: string): Promise<void> {
    // 404 = already gone (Command Centre 9.30+; 9.20 and earlier answer 403, which reads as 'auth').
    await this.http.request('DELETE', this.path(userRef), { expect: [404] });
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

  async updateGrant(input: GrantInput & { grantRef: string }): Promise<void> {
    const userRef = await this.resolveUserRef(input.userRef, input.identity.key);
    await this.applyGrantBatch({ userRef, identity: input.identity, create: [], update: [{ grantRef: input.grantRef, targetRef: input.targetRef, window: input.window }], remove: [] });
  }

  async deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void> {
    if (!input.userRef) {
      throw new ProviderError('rejected', 'gallagher: removing a membership needs the cardholder it belongs to (userRef missing)');
    }
    await this.applyGrantBatch({ userRef: input.userRef, identity: { key: '', displayName: '' }, create: [], update: [], remove: [{ grantRef: input.grantRef, targetRef: input.targetRef }] });
  }

  /**
   * Every membership change for one cardholder in ONE PATCH (`accessGroups: {add, update, remove}`),
   * as Command Centre recommends. Reads the memberships first when existing ones are touched (their
   * hrefs may have changed) and afterwards when new hrefs must be learned (the PATCH answers 204).
   */
  async applyGrantBatch(input: {
    userRef: string;
    identity: ProviderIdentity;
    create: NewMembership[];
    update: { grantRef: string; targetRef: string; window: AccessWindow }[];
    remove: { grantRef: string; targetRef: string }[];
  }): Promise<{ created: string[] }> {
    const { userRef } = input;
    if (!input.create.length && !input.update.length && !input.remove.length) return { created: [] };

    const before = input.update.length || input.remove.length ? await this.memberships(userRef) : null;
    const batchRefs = new Set([...input.update.map((u) => u.grantRef), ...input.remove.map((r) => r.grantRef)]);
    const taken = new Set<string>();
    const add: NewMembership[] = [...input.create];
    /** Updates whose membership is gone are re-added; their new href is aliased to the engine's ref. */
    const readded: { grantRef: string; index: number }[] = [];
    const update: { grantRef: string; current: string; targetRef: string; window: AccessWindow }[] = [];
    for (const u of input.update) {
      const current = this.resolveMembership(u.grantRef, u.targetRef, before!, taken, batchRefs);
      if (current) update.push({ ...u, current });
      else readded.push({ grantRef: u.grantRef, index: add.push({ targetRef: u.targetRef, window: u.window }) - 1 });
    }
    const remove: { grantRef: string; current: string }[] = [];
    for (const r of input.remove) {
      const current = this.resolveMembership(r.grantRef, r.targetRef, before!, taken, batchRefs);
      if (current) remove.push({ grantRef: r.grantRef, current });
      else this.forget(r.grantRef); // already gone: removing it is done
    }

    const block: Record<string, unknown[]> = {};
    if (add.length) block.add = add.map((a) => ({ accessGroup: { href: a.targetRef }, ...windowFields(a.window, 'add') }));
    if (update.length) block.update = update.map((u) => ({ href: u.current, ...windowFields(u.window, 'update') }));
    if (remove.length) block.remove = remove.map((r) => ({ href: r.current }));
    if (!Object.keys(block).length) return { created: [] };

    await this.http.request('PATCH', this.path(userRef), { body: { accessGroups: block } });
    for (const r of remove) this.forget(r.grantRef);
    if (!add.length && !update.length) return { created: [] };

    // Learn the hrefs of what this PATCH created (new memberships, and updated ones: new hrefs).
    const after = await this.memberships(userRef);
    const old = new Set((before ?? []).map((m) => m.href));
    const assigned = new Set<string>();
    const pick = (targetRef: string, window: AccessWindow, what: string): string => {
      const want = roundWindow(window);
      const candidates = after.filter((m) => m.accessGroup?.href === targetRef && !assigned.has(m.href) && !old.has(m.href) && sameWindow(m, want));
      // Prefer a membership nobody holds a ref to (a PATCH with identical adds makes identical twins).
      const hit = candidates.find((m) => !this.refOf.has(m.href)) ?? candidates[0];
      if (!hit) {
        throw new ProviderError('transient', `gallagher: Command Centre accepted the membership ${what} but it did not show in the cardholder's memberships; retry`);
      }
      assigned.add(hit.href);
      return hit.href;
    };
    for (const u of update) this.alias(u.grantRef, pick(u.targetRef, u.window, 'update'));
    const addedHrefs = add.map((a) => pick(a.targetRef, a.window, 'add'));
    for (const r of readded) this.alias(r.grantRef, addedHrefs[r.index]);
    return { created: addedHrefs.slice(0, input.create.length) };
  }

  async observe(input: { userRef?: string; key: string; grantRefs: { ref: string; targetRef: string }[] }): Promise<Observation> {
    let ch: ApiCardholder | null;
    if (input.userRef) {
      const res = await this.http.request<ApiCardholder>('GET', this.path(input.userRef, { fields: CARDHOLDER_FIELDS }), { expect: [404] });
      ch = res.status === 404 ? null : res.body;
    } else {
      ch = await this.cardholderByKey(input.key);
    }
    if (!ch) return { user: null, grants: [] };

    const current = (ch.accessGroups ?? []).filter((m) => typeof m.href === 'string' && typeof m.accessGroup?.href === 'string');
    // Map memberships back to the refs the engine holds, so an updated (re-hrefed) membership is not
    // mistaken for drift.
    const known = new Set(input.grantRefs.map((g) => g.ref));
    const taken = new Set<string>();
    const refFor = new Map<string, string>();
    for (const g of input.grantRefs) {
      const href = this.resolveMembership(g.ref, g.targetRef, current, taken, known);
      if (href) {
        refFor.set(href, g.ref);
        if (href !== g.ref) this.alias(g.ref, href);
      }
    }
    const grants: ObservedGrant[] = current.map((m) => ({
      ref: refFor.get(m.href) ?? this.refOf.get(m.href) ?? m.href,
      targetRef: m.accessGroup!.href!,
      window: readWindow(m),
    }));
    return { user: { ref: ch.href, key: ch.description ?? input.key }, grants };
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

  /** The cardholder whose description is exactly `key` (the search is case-insensitive and `_`/`%` are wildcards). */
  private async cardholderByKey(key: string): Promise<ApiCardholder | null> {
    const { cardholders } = await this.features();
    const hits = await this.allPages<ApiCardholder>(this.path(cardholders, { description: `"${key}"`, fields: CARDHOLDER_FIELDS, sort: 'id', top: '100' }));
    return hits.find((c) => c.description === key && typeof c.href === 'string') ?? null;
  }

  private async memberships(userRef: string): Promise<ApiMembership[]> {
    const res = await this.http.request<ApiCardholder>('GET', this.path(userRef, { fields: 'href,accessGroups' }));
    return (res.body?.accessGroups ?? []).filter((m) => typeof m.href === 'string');
  }

  private async resolveUserRef(userRef: string | undefined, key: string): Promise<string> {
    if (userRef) return userRef;
    const found = await this.cardholderByKey(key);
    if (!found) throw new ProviderError('not-found', 'gallagher: the cardholder for this grant does not exist (create the user first)');
    return found.href;
  }

  /**
   * The current href of the membership the engine knows as `ref`: the ref itself, its alias after an
   * update, or — when this process has no alias (restart) — the only membership on the same access
   * group that no other ref claims. Null when it is gone or cannot be told apart.
   */
  private resolveMembership(ref: string, targetRef: string, current: ApiMembership[], taken: Set<string>, otherRefs: Set<string>): string | null {
    const has = (href: string | undefined) => !!href && !taken.has(href) && current.some((m) => m.href === href);
    let hit: string | null = null;
    if (has(ref)) hit = ref;
    else if (has(this.currentOf.get(ref))) hit = this.currentOf.get(ref)!;
    else {
      const free = current.filter(
        (m) => m.accessGroup?.href === targetRef && !taken.has(m.href) && !otherRefs.has(m.href) && !this.refOf.has(m.href),
      );
      if (free.length === 1) hit = free[0].href;
    }
    if (hit) taken.add(hit);
    return hit;
  }

  private alias(ref: string, href: string): void {
    this.forget(ref);
    if (href === ref) return;
    this.currentOf.set(ref, href);
    this.refOf.set(href, ref);
  }

  private forget(ref: string): void {
    const current = this.currentOf.get(ref);
    if (current !== undefined) this.refOf.delete(current);
    this.currentOf.delete(ref);
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
