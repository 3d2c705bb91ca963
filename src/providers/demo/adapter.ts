/**
 * Adapter for the built-in demo provider (see emulator.ts / notes.md), spoken over real HTTP.
 *
 * Model: provider users carry one PIN; a grant is a membership of the user in an access group with a
 * [from, until) window the provider enforces.
 */
import { JsonHttpClient, providerDate, transportOf } from '../http.js';
import { AccessGroupAdapter, accessGroupTarget, contactFields } from '../access-group.js';
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

interface ApiAccessGroup {
  id: string;
  name: string;
  description?: string | null;
}

interface ApiUser {
  id: string;
  externalId: string;
  name: string;
  email: string | null;
  phone: string | null;
  hasPin: boolean;
  createdAt: string;
}

interface ApiMembership {
  id: string;
  accessGroupId: string;
  from: string;
  until: string | null;
}

interface ApiList<T> {
  results: T[];
}

export interface DemoAdapterOptions extends ProviderTransport {
  baseUrl: string;
  apiKey: string;
}

const CAPABILITIES = capabilities({
  accessGroups: true,
  providerUsers: true,
  membershipWindows: true,
  pinOnUser: true,
  revocable: true,
  updatableGrants: true,
  // POST/PATCH/DELETE /api/users/:id/memberships[/:membershipId]: one resource per membership.
  independentGrants: true,
});

const PIN_RULES: PinRules = Object.freeze({
  length: 6,
  minLength: 4,
  maxLength: 8,
  allowedDigits: '0123456789',
  bannedPrefixes: Object.freeze(['00']) as string[],
});

const toIso = (ms: number): string => new Date(ms).toISOString();

const enc = encodeURIComponent;

export class DemoAdapter extends AccessGroupAdapter<ApiUser> {
  readonly kind = 'demo';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules = PIN_RULES;
  /** DELETE /api/users/:id takes the user's memberships with it. */
  readonly deletingUserRemovesGrants = true;
  private readonly baseUrl: string;

  constructor(opts: DemoAdapterOptions) {
    super(
      new JsonHttpClient({
        baseUrl: opts.baseUrl,
        headers: { authorization: `Bearer ${opts.apiKey}` },
        ...transportOf(opts),
        provider: 'demo',
      }),
    );
    this.baseUrl = opts.baseUrl;
  }

  async testConnection(): Promise<void> {
    await this.probe(() => this.http.request<ApiList<ApiAccessGroup>>('GET', '/api/access-groups'), `demo: no demo provider API found at ${this.baseUrl}; check the integration's base URL`);
  }

  async listTargets(): Promise<AccessTarget[]> {
    const { body } = await this.http.request<ApiList<ApiAccessGroup>>('GET', '/api/access-groups');
    return body.results.map((g) => accessGroupTarget(g.id, g.name, g.description));
  }

  async setUserPin(userRef: string, pin: string): Promise<void> {
    await this.http.request('PUT', `/api/users/${enc(userRef)}/pin`, { body: { pin } });
  }

  async createGrant(input: GrantInput): Promise<{ ref: string }> {
    const userRef = await this.resolveUserRef(input.userRef, input.identity.key);
    const { body } = await this.http.request<ApiMembership>('POST', `/api/users/${enc(userRef)}/memberships`, {
      body: {
        accessGroupId: input.targetRef,
        from: toIso(input.window.startsAt),
        ...(input.window.endsAt === null ? {} : { until: toIso(input.window.endsAt) }),
      },
    });
    return { ref: body.id };
  }

  async updateGrant(input: GrantInput & { grantRef: string }): Promise<void> {
    const userRef = await this.resolveUserRef(input.userRef, input.identity.key);
    await this.http.request<ApiMembership>('PATCH', `/api/users/${enc(userRef)}/memberships/${enc(input.grantRef)}`, {
      body: {
        from: toIso(input.window.startsAt),
        until: input.window.endsAt === null ? null : toIso(input.window.endsAt),
      },
    });
  }

  async deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void> {
    if (!input.userRef) {
      throw new ProviderError('rejected', 'demo: deleting a membership needs the provider user it belongs to (userRef missing)');
    }
    await this.http.request('DELETE', `/api/users/${enc(input.userRef)}/memberships/${enc(input.grantRef)}`, { expect: [404] });
  }

  protected async searchUser(key: string): Promise<ApiUser | null> {
    const { body } = await this.http.request<ApiList<ApiUser>>('GET', '/api/users', { query: { externalId: key } });
    return body.results.find((r) => r.externalId === key) ?? null;
  }

  /** null on 409: a user with this key exists (an earlier create landed unrecorded), to be adopted. */
  protected async postUser(identity: ProviderIdentity): Promise<string | null> {
    const res = await this.http.request<ApiUser>('POST', '/api/users', {
      body: { externalId: identity.key, name: identity.displayName, ...contactFields(identity) },
      expect: [409],
    });
    return res.status === 409 ? null : res.body.id;
  }

  protected lostCreate(): ProviderError {
    return new ProviderError('transient', 'demo: POST /api/users answered 409 (externalId exists) but no such user was found; retry', { status: 409 });
  }

  protected userPath(ref: string): string {
    return `/api/users/${enc(ref)}`;
  }

  protected observedUser(u: ApiUser): ObservedUser {
    return { ref: u.id, key: u.externalId, hasPin: u.hasPin };
  }

  protected async grantsOf(user: ApiUser): Promise<ObservedGrant[] | null> {
    const res = await this.http.request<ApiList<ApiMembership>>('GET', `/api/users/${enc(user.id)}/memberships`, { expect: [404] });
    if (res.status === 404) return null; // deleted between the two reads
    return res.body.results.map((m) => ({
      ref: m.id,
      targetRef: m.accessGroupId,
      window: { startsAt: providerDate('demo', m.from, 'membership from date'), endsAt: m.until === null ? null : providerDate('demo', m.until, 'membership until date') },
    }));
  }
}
