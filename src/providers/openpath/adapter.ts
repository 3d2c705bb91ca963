/**
 * Adapter for Avigilon Alta (formerly Openpath), api.openpath.com. See notes.md for the routes and
 * their sources.
 *
 * Model: one integration = one Alta organisation (orgId). Lockstep logs in as an Alta admin with
 * e-mail + password and gets a JWT (re-login once on 401, i.e. an expired token). Targets are access
 * groups; a grant is a user's membership of a group. Alta memberships carry no window, so the adapter
 * declares membershipWindows: false and the engine adds a membership when the booking window starts and
 * removes it when it ends. Optionally a mobile credential is created for each new user and Alta e-mails
 * them the app set-up link.
 */
import { JsonHttpClient, transportOf, type HttpMethod, type JsonRequestOptions, type JsonResponse } from '../http.js';
import {
  ProviderError,
  type AccessTarget,
  type GrantInput,
  type Observation,
  type ObservedUser,
  type PinRules,
  type ProviderAdapter,
  capabilities,
  type ProviderIdentity,
  type ProviderTransport,
} from '../types.js';

interface ApiList<T> {
  totalCount?: number;
  data: T[];
}

interface ApiGroup {
  id: number;
  name: string;
  description?: string | null;
}

interface ApiUser {
  id: number;
  externalId?: string | null;
  identity?: { email?: string | null };
}

interface ApiCredential {
  id: number;
  credentialType?: { id: number; modelName?: string };
}

interface ApiLogin {
  data: { token: string; expiresAt?: string | null };
}

export interface OpenpathAdapterOptions extends ProviderTransport {
  baseUrl: string;
  email: string;
  password: string;
  orgId: string;
  /** Create a mobile credential (and have Alta e-mail the set-up link) for each user Lockstep creates. */
  mobileCredential: boolean;
}

const CAPABILITIES = capabilities({
  accessGroups: true,
  providerUsers: true,
  mobileCredential: true,
  revocable: true,
  updatableGrants: true,
});

/** Not used (no PINs are written to Alta); required by the interface. */
const PIN_RULES: PinRules = Object.freeze({
  length: 6,
  minLength: 4,
  maxLength: 8,
  allowedDigits: '0123456789',
  bannedPrefixes: Object.freeze([]) as unknown as string[],
});

const PAGE = 1000; // Alta's maximum `limit`
/** Log in again this long before the token's stated expiry rather than wait for the 401. */
const EXPIRY_MARGIN_MS = 60_000;
const MOBILE_CREDENTIAL_NAME = 'Lockstep mobile key';
const enc = encodeURIComponent;

/** Alta memberships have no window: a held group is reported as open-ended. */
const HELD: { startsAt: number; endsAt: null } = Object.freeze({ startsAt: 0, endsAt: null });

export class OpenpathAdapter implements ProviderAdapter {
  readonly kind = 'openpath';
  readonly capabilities = CAPABILITIES;
  readonly pinRules = PIN_RULES;
  /** Deleting an Alta user takes its group memberships with it. */
  readonly deletingUserRemovesGrants = true;

  private readonly http: JsonHttpClient;
  private readonly org: string;
  private token: { value: string; expiresAt: number | null } | null = null;
  private loggingIn: Promise<void> | null = null;
  /** Users known to have a mobile credential (an optimisation only; lost on restart, then re-checked). */
  private readonly mobileReady = new Set<string>();

  constructor(private readonly opts: OpenpathAdapterOptions) {
    this.org = `/orgs/${enc(opts.orgId)}`;
    this.http = new JsonHttpClient({
      baseUrl: opts.baseUrl,
      ...transportOf(opts),
      provider: 'openpath',
      headers: (): Record<string, string> => (this.token ? { authorization: `Bearer ${this.token.value}` } : {}),
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  // ----- session ------------------------------------------------------------------------------------

  private async login(): Promise<void> {
    this.token = null;
    let res: JsonResponse<ApiLogin>;
    try {
      res = await this.http.request<ApiLogin>('POST', '/auth/login', { body: { email: this.opts.email, password: this.opts.password } });
    } catch (err) {
      if (err instanceof ProviderError && (err.kind === 'auth' || err.kind === 'rejected')) {
        throw new ProviderError(
          'auth',
          "openpath: Alta refused the login (wrong e-mail or password, or the account needs MFA); check the integration's credentials",
          err.details,
        );
      }
      throw err;
    }
    const token = res.body?.data?.token;
    if (typeof token !== 'string' || token === '') throw new ProviderError('transient', 'openpath: POST /auth/login answered without a token; retry');
    const exp = res.body.data.expiresAt ? Date.parse(res.body.data.expiresAt) : NaN;
    this.token = { value: token, expiresAt: Number.isNaN(exp) ? null : exp };
  }

  private async ensureToken(): Promise<void> {
    const t = this.token;
    if (t && (t.expiresAt === null || t.expiresAt - EXPIRY_MARGIN_MS > Date.now())) return;
    // One login at a time: concurrent requests share it.
    this.loggingIn ??= this.login().finally(() => (this.loggingIn = null));
    await this.loggingIn;
  }

  /** An authenticated call; a 401 (expired or revoked token) logs in again and retries once. */
  private async call<T>(method: HttpMethod, path: string, opts?: JsonRequestOptions): Promise<JsonResponse<T>> {
    await this.ensureToken();
    const used = this.token;
    try {
      return await this.http.request<T>(method, path, opts);
    } catch (err) {
      if (!(err instanceof ProviderError && err.kind === 'auth' && err.details.status === 401)) throw err;
      if (this.token === used) this.token = null;
      await this.ensureToken();
      return this.http.request<T>(method, path, opts);
    }
  }

  private async listAll<T>(path: string, query: Record<string, string> = {}): Promise<T[]> {
    const out: T[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const { body } = await this.call<ApiList<T>>('GET', path, { query: { ...query, limit: String(PAGE), offset: String(offset) } });
      out.push(...body.data);
      const total = body.totalCount ?? out.length;
      if (body.data.length < PAGE || out.length >= total) return out;
    }
  }

  // ----- connection and targets ---------------------------------------------------------------------

  async testConnection(): Promise<void> {
    await this.login();
    try {
      await this.call('GET', `${this.org}/groups`, { query: { limit: '1' } });
    } catch (err) {
      if (err instanceof ProviderError && (err.kind === 'auth' || err.kind === 'not-found')) {
        throw new ProviderError(
          'auth',
          "openpath: the Alta login works but cannot read this organisation's access groups; check the organisation ID in the integration's credentials and the account's role (needs user read/write)",
          err.details,
        );
      }
      throw err;
    }
  }

  async listTargets(): Promise<AccessTarget[]> {
    const groups = await this.listAll<ApiGroup>(`${this.org}/groups`);
    return Promise.all(
      groups.map(async (g) => {
        const description = await this.describeGroup(g);
        return { ref: String(g.id), name: g.name, ...(description ? { description } : {}), kind: 'access-group' as const };
      }),
    );
  }

  /** The group's own description plus what it opens: zones → entries (doors). */
  private async describeGroup(g: ApiGroup): Promise<string> {
    const base = `${this.org}/groups/${enc(String(g.id))}`;
    const [zones, entries] = await Promise.all([
      this.listAll<{ name: string }>(`${base}/zones`),
      this.call<ApiList<{ name: string }>>('GET', `${base}/entries`).then((r) => r.body.data),
    ]);
    const parts: string[] = [];
    if (g.description) parts.push(g.description);
    if (zones.length) parts.push(`Zones: ${zones.map((z) => z.name).join(', ')}`);
    if (entries.length) parts.push(`Entries: ${entries.map((e) => e.name).join(', ')}`);
    return parts.join(' · ');
  }

  // ----- users --------------------------------------------------------------------------------------

  async findUser(key: string): Promise<ObservedUser | null> {
    const users = await this.listAll<ApiUser>(`${this.org}/users`, { preFilter: `externalId:(=${key})` });
    const u = users.find((x) => x.externalId === key);
    return u ? { ref: String(u.id), key } : null;
  }

  async createUser(identity: ProviderIdentity): Promise<{ ref: string }> {
    if (!identity.email) {
      throw new ProviderError('rejected', "openpath: Alta needs an e-mail address for every user and this person has none (or privacy mode withholds it); Alta can't be used in privacy mode");
    }
    const { firstName, lastName } = splitName(identity.displayName);
    // Only the name and e-mail (plus Lockstep's opaque key, to find the user again): nothing more.
    const res = await this.call<{ data: ApiUser }>('POST', `${this.org}/users`, {
      body: { externalId: identity.key, identity: { email: identity.email, firstName, lastName } },
      expect: [409],
    });
    let ref: string;
    if (res.status !== 409) {
      ref = String(res.body.data.id);
    } else {
      // An earlier create may have succeeded without us recording it: adopt only a user carrying our key.
      // A user with this e-mail that Lockstep did not create (staff, another system) is never adopted.
      const existing = await this.findUser(identity.key);
      if (!existing) {
        throw new ProviderError('rejected', 'openpath: an Alta user with this e-mail already exists and was not created by Lockstep; remove it or change the e-mail', { status: 409 });
      }
      ref = existing.ref;
    }
    if (this.opts.mobileCredential) await this.ensureMobileCredential(ref);
    return { ref };
  }

  async deleteUser(userRef: string): Promise<void> {
    await this.call('DELETE', `${this.org}/users/${enc(userRef)}`, { expect: [404] });
    this.mobileReady.delete(userRef);
  }

  async setUserPin(_userRef: string, _pin: string): Promise<void> {
    throw new ProviderError('rejected', 'openpath: Lockstep does not set PINs on Alta users (access is by mobile credential or card)');
  }

  /** Creates a mobile credential unless the user has one, and asks Alta to e-mail the app set-up link. */
  private async ensureMobileCredential(userRef: string): Promise<void> {
    if (this.mobileReady.has(userRef)) return;
    const base = `${this.org}/users/${enc(userRef)}/credentials`;
    const held = await this.listAll<ApiCredential>(base);
    if (!held.some((c) => c.credentialType?.modelName === 'mobile')) {
      const types = await this.listAll<{ id: number; modelName?: string }>(`${this.org}/credentialTypes`);
      const mobile = types.find((t) => t.modelName === 'mobile');
      if (!mobile) throw new ProviderError('rejected', 'openpath: this Alta organisation offers no mobile credential type; turn mobileCredential off or enable mobile credentials in Alta');
      const { body } = await this.call<{ data: ApiCredential }>('POST', base, { body: { credentialTypeId: mobile.id, mobile: { name: MOBILE_CREDENTIAL_NAME } } });
      await this.call('POST', `${base}/${enc(String(body.data.id))}/setupMobile`);
    }
    this.mobileReady.add(userRef);
  }

  // ----- grants = group memberships -----------------------------------------------------------------

  async createGrant(input: GrantInput): Promise<{ ref: string }> {
    const userRef = await this.resolveUserRef(input.userRef, input.identity.key);
    if (this.opts.mobileCredential) await this.ensureMobileCredential(userRef);
    await this.putMembership(userRef, input.targetRef);
    // One membership per user and group, so the group id is the grant's ref.
    return { ref: input.targetRef };
  }

  /** A membership has no window to change; re-adding it repairs one removed behind our back. */
  async updateGrant(input: GrantInput & { grantRef: string }): Promise<void> {
    const userRef = await this.resolveUserRef(input.userRef, input.identity.key);
    await this.putMembership(userRef, input.targetRef);
  }

  async deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void> {
    if (!input.userRef) throw new ProviderError('rejected', 'openpath: removing a group membership needs the Alta user it belongs to (userRef missing)');
    await this.call('DELETE', `${this.org}/groups/${enc(input.targetRef)}/users/${enc(input.userRef)}`, { expect: [404] });
  }

  async observe(input: { userRef?: string; key: string; grantRefs: { ref: string; targetRef: string }[] }): Promise<Observation> {
    let userRef: string | null = null;
    if (input.userRef) {
      const res = await this.call<{ data: ApiUser }>('GET', `${this.org}/users/${enc(input.userRef)}`, { expect: [404] });
      if (res.status !== 404) userRef = String(res.body.data.id);
    } else {
      userRef = (await this.findUser(input.key))?.ref ?? null;
    }
    if (userRef === null) return { user: null, grants: [] };
    const res = await this.call<ApiList<ApiGroup>>('GET', `${this.org}/users/${enc(userRef)}/groups`, { expect: [404] });
    if (res.status === 404) return { user: null, grants: [] };
    // Every group the user holds (ours or not) is reported; the engine only claims those it asked for.
    const grants = res.body.data.map((g) => ({ ref: String(g.id), targetRef: String(g.id), window: { ...HELD } }));
    return { user: { ref: userRef, key: input.key }, grants };
  }

  private async putMembership(userRef: string, groupRef: string): Promise<void> {
    await this.call('PUT', `${this.org}/groups/${enc(groupRef)}/users/${enc(userRef)}`);
  }

  private async resolveUserRef(userRef: string | undefined, key: string): Promise<string> {
    if (userRef) return userRef;
    const found = await this.findUser(key);
    if (!found) throw new ProviderError('not-found', 'openpath: the Alta user for this grant does not exist (create the user first)');
    return found.ref;
  }
}

/** Alta wants first and last name; a one-word name becomes the first name with "-" as last name. */
export function splitName(displayName: string): { firstName: string; lastName: string } {
  const words = displayName.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { firstName: 'Guest', lastName: '-' };
  if (words.length === 1) return { firstName: words[0], lastName: '-' };
  return { firstName: words.slice(0, -1).join(' '), lastName: words[words.length - 1] };
}
