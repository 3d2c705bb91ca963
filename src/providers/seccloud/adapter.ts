/**
 * Adapter for SecCloud, spoken over real HTTP against an ASSUMED API contract.
 *
 * No published SecCloud API documentation could be found (see notes.md). Every path, header, field
 * name, paging rule and PIN rule below is an assumption shaped like other access-group ACPs, written
 * down in notes.md "Not confirmed" so a venue can check it before production use. The wire details
 * are kept in the small constants and mappers at the top of this file so that correcting the
 * contract touches as little as possible.
 *
 * Model: users (keyed by our stable identity key in `external_ref`) carry one PIN; a grant is a
 * membership of a user in an access group with a [valid_from, valid_to) window SecCloud enforces.
 */
import { AccessGroupAdapter, accessGroupTarget, contactFields } from '../access-group.js';
import { JsonHttpClient, providerDate, transportOf } from '../http.js';
import {
  ProviderError,
  type AccessTarget,
  type GrantInput,
  type ObservedGrant,
  type ObservedUser,
  type PinRules,
  capabilities,
  type ProviderCapabilities,
  type ProviderIdentity,
  type ProviderTransport,
} from '../types.js';

// ----- assumed wire shapes ---------------------------------------------------------------------------

interface ApiAccessGroup {
  id: string;
  name: string;
  description?: string | null;
}

interface ApiUser {
  id: string;
  external_ref: string;
  display_name: string;
  pin_set: boolean;
}

interface ApiMembership {
  id: string;
  user_id: string;
  access_group_id: string;
  valid_from: string;
  valid_to: string | null;
}

interface ApiPage<T> {
  data: T[];
  next_cursor: string | null;
}

/** Header carrying the API key (assumed). */
const API_KEY_HEADER = 'x-api-key';
/** Page size we ask for; the API may hand out less (assumed max 100) and we follow next_cursor. */
const PAGE_SIZE = 100;
/** Stop following cursors after this many pages: a provider bug must not loop us forever. */
const MAX_PAGES = 1000;

const CAPABILITIES = capabilities({
  accessGroups: true,
  providerUsers: true,
  membershipWindows: true,
  pinOnUser: true,
  revocable: true,
  updatableGrants: true,
});

/** Assumed: 4–8 digits, unique per site, no reserved prefix; trivial codes refused (Lockstep never makes those). */
const PIN_RULES: PinRules = Object.freeze({
  length: 6,
  minLength: 4,
  maxLength: 8,
  allowedDigits: '0123456789',
  bannedPrefixes: Object.freeze([]) as unknown as string[],
});

export interface SecCloudAdapterOptions extends ProviderTransport {
  baseUrl: string;
  apiKey: string;
  siteId: string;
}

/** RFC 3339 in UTC; whole seconds are sent without a fraction (the assumed API's own output form). */
function toRfc3339(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

const enc = encodeURIComponent;

export class SecCloudAdapter extends AccessGroupAdapter<ApiUser> {
  readonly kind = 'seccloud';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules = PIN_RULES;
  /** Assumed: DELETE /users/{id} removes the user's memberships and PIN with it. */
  readonly deletingUserRemovesGrants = true;
  private readonly baseUrl: string;
  private readonly siteId: string;

  constructor(opts: SecCloudAdapterOptions) {
    // Every route lives under /v1/sites/{site_id}. Kept in the client's base path so request labels
    // in error messages read "GET /users" and never carry the venue's site id.
    super(
      new JsonHttpClient({
        baseUrl: `${opts.baseUrl.replace(/\/+$/, '')}/v1/sites/${enc(opts.siteId)}`,
        headers: { [API_KEY_HEADER]: opts.apiKey },
        ...transportOf(opts),
        provider: 'seccloud',
      }),
    );
    this.baseUrl = opts.baseUrl;
    this.siteId = opts.siteId;
  }

  async testConnection(): Promise<void> {
    await this.probe(
      () => this.http.request<ApiPage<ApiAccessGroup>>('GET', '/access_groups', { query: { limit: '1' } }),
      `seccloud: no SecCloud site "${this.siteId}" was found at ${this.baseUrl}; check the integration's base URL and site id`,
    );
  }

  async listTargets(): Promise<AccessTarget[]> {
    const groups = await this.listAll<ApiAccessGroup>('/access_groups', {});
    return groups.map((g) => accessGroupTarget(g.id, g.name, g.description));
  }

  async setUserPin(userRef: string, pin: string): Promise<void> {
    await this.http.request('PUT', `/users/${enc(userRef)}/pin`, { body: { pin } });
  }

  async createGrant(input: GrantInput): Promise<{ ref: string }> {
    const userRef = await this.resolveUserRef(input.userRef, input.identity.key);
    const { body } = await this.http.request<ApiMembership>('POST', '/memberships', {
      body: {
        user_id: userRef,
        access_group_id: input.targetRef,
        valid_from: toRfc3339(input.window.startsAt),
        valid_to: input.window.endsAt === null ? null : toRfc3339(input.window.endsAt),
      },
    });
    return { ref: body.id };
  }

  async updateGrant(input: GrantInput & { grantRef: string }): Promise<void> {
    await this.http.request<ApiMembership>('PATCH', `/memberships/${enc(input.grantRef)}`, {
      body: {
        valid_from: toRfc3339(input.window.startsAt),
        valid_to: input.window.endsAt === null ? null : toRfc3339(input.window.endsAt),
      },
    });
  }

  /** Memberships are addressed by their own id, so no userRef is needed; 404 = already gone. */
  async deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void> {
    await this.http.request('DELETE', `/memberships/${enc(input.grantRef)}`, { expect: [404] });
  }

  protected async searchUser(key: string): Promise<ApiUser | null> {
    const users = await this.listAll<ApiUser>('/users', { external_ref: key });
    // Match exactly: a provider that treated the filter as a prefix or case-insensitively must not
    // make us adopt someone else's record.
    return users.find((r) => r.external_ref === key) ?? null;
  }

  /** null on 409: the external_ref is taken (an earlier create landed unrecorded), to be adopted. */
  protected async postUser(identity: ProviderIdentity): Promise<string | null> {
    const res = await this.http.request<ApiUser>('POST', '/users', {
      body: { external_ref: identity.key, display_name: identity.displayName, ...contactFields(identity) },
      expect: [409],
    });
    return res.status === 409 ? null : res.body.id;
  }

  protected lostCreate(): ProviderError {
    return new ProviderError('transient', 'seccloud: POST /users answered 409 (external_ref exists) but no such user was found; retry', { status: 409 });
  }

  protected userPath(ref: string): string {
    return `/users/${enc(ref)}`;
  }

  protected observedUser(u: ApiUser): ObservedUser {
    return { ref: u.id, key: u.external_ref, hasPin: u.pin_set };
  }

  protected async grantsOf(user: ApiUser): Promise<ObservedGrant[] | null> {
    let list: ApiMembership[];
    try {
      list = await this.listAll<ApiMembership>('/memberships', { user_id: user.id });
    } catch (err) {
      // The user was deleted between the two reads.
      if (err instanceof ProviderError && err.kind === 'not-found') return null;
      throw err;
    }
    return list.map((m) => ({
      ref: m.id,
      targetRef: m.access_group_id,
      window: { startsAt: providerDate('seccloud', m.valid_from, 'valid_from date'), endsAt: m.valid_to === null ? null : providerDate('seccloud', m.valid_to, 'valid_to date') },
    }));
  }

  /** Follows `next_cursor` until the last page. */
  private async listAll<T>(path: string, query: Record<string, string>): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const { body } = await this.http.request<ApiPage<T>>('GET', path, { query: { ...query, limit: String(PAGE_SIZE), cursor } });
      if (!body || !Array.isArray(body.data)) {
        throw new ProviderError('transient', `seccloud: GET ${path} answered without a data list`);
      }
      out.push(...body.data);
      if (!body.next_cursor) return out;
      if (body.next_cursor === cursor) throw new ProviderError('transient', `seccloud: GET ${path} returned the same cursor twice`);
      cursor = body.next_cursor;
    }
    throw new ProviderError('transient', `seccloud: GET ${path} returned more than ${MAX_PAGES} pages`);
  }
}
