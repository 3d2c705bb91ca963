/**
 * Adapter for the built-in demo provider (see emulator.ts / notes.md), spoken over real HTTP.
 *
 * Model: provider users carry one PIN; a grant is a membership of the user in an access group with a
 * [from, until) window the provider enforces.
 */
import { JsonHttpClient } from '../http.js';
import {
  ProviderError,
  type AccessTarget,
  type GrantInput,
  type Observation,
  type ObservedGrant,
  type ObservedUser,
  type PinRules,
  type ProviderAdapter,
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

function toMs(value: string, what: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ProviderError('transient', `demo: the provider returned an unreadable ${what} date`);
  return ms;
}

const enc = encodeURIComponent;

export class DemoAdapter implements ProviderAdapter {
  readonly kind = 'demo';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules = PIN_RULES;
  /** DELETE /api/users/:id takes the user's memberships with it. */
  readonly deletingUserRemovesGrants = true;
  private readonly http: JsonHttpClient;
  private readonly baseUrl: string;

  constructor(opts: DemoAdapterOptions) {
    this.baseUrl = opts.baseUrl;
    const authorization = `Bearer ${opts.apiKey}`;
    this.http = new JsonHttpClient({
      baseUrl: opts.baseUrl,
      headers: { authorization },
      timeoutMs: opts.timeoutMs,
      pacer: opts.pacer,
      connections: opts.connections,
      provider: 'demo',
    });
  }

  /** Releases pooled connections. Not part of ProviderAdapter; call when the integration is dropped. */
  close(): Promise<void> {
    return this.http.close();
  }

  async testConnection(): Promise<void> {
    try {
      await this.http.request<ApiList<ApiAccessGroup>>('GET', '/api/access-groups');
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') {
        throw new ProviderError('not-found', `demo: no demo provider API found at ${this.baseUrl}; check the integration's base URL`, err.details);
      }
      throw err;
    }
  }

  async listTargets(): Promise<AccessTarget[]> {
    const { body } = await this.http.request<ApiList<ApiAccessGroup>>('GET', '/api/access-groups');
    return body.results.map((g) => ({
      ref: g.id,
      name: g.name,
      ...(g.description ? { description: g.description } : {}),
      kind: 'access-group' as const,
    }));
  }

  async findUser(key: string): Promise<ObservedUser | null> {
    const { body } = await this.http.request<ApiList<ApiUser>>('GET', '/api/users', { query: { externalId: key } });
    const u = body.results.find((r) => r.externalId === key);
    return u ? toObservedUser(u) : null;
  }

  async createUser(identity: ProviderIdentity): Promise<{ ref: string }> {
    const res = await this.http.request<ApiUser>('POST', '/api/users', {
      body: {
        externalId: identity.key,
        name: identity.displayName,
        ...(identity.email ? { email: identity.email } : {}),
        ...(identity.phone ? { phone: identity.phone } : {}),
      },
      expect: [409],
    });
    if (res.status !== 409) return { ref: res.body.id };
    // A user with this key exists: an earlier create succeeded on the provider but we never recorded
    // it (crash, timeout). Adopt it.
    const existing = await this.findUser(identity.key);
    if (existing) return { ref: existing.ref };
    throw new ProviderError('transient', 'demo: POST /api/users answered 409 (externalId exists) but no such user was found; retry', {
      status: 409,
    });
  }

  async deleteUser(userRef: string): Promise<void> {
    await this.http.request('DELETE', `/api/users/${enc(userRef)}`, { expect: [404] });
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

  async observe(input: { userRef?: string; key: string; grantRefs: { ref: string; targetRef: string }[] }): Promise<Observation> {
    let user: ObservedUser | null;
    if (input.userRef) {
      const res = await this.http.request<ApiUser>('GET', `/api/users/${enc(input.userRef)}`, { expect: [404] });
      user = res.status === 404 ? null : toObservedUser(res.body);
    } else {
      user = await this.findUser(input.key);
    }
    if (!user) return { user: null, grants: [] };

    const res = await this.http.request<ApiList<ApiMembership>>('GET', `/api/users/${enc(user.ref)}/memberships`, { expect: [404] });
    if (res.status === 404) return { user: null, grants: [] }; // deleted between the two reads
    const grants: ObservedGrant[] = res.body.results.map((m) => ({
      ref: m.id,
      targetRef: m.accessGroupId,
      window: { startsAt: toMs(m.from, 'membership from'), endsAt: m.until === null ? null : toMs(m.until, 'membership until') },
    }));
    return { user, grants };
  }

  private async resolveUserRef(userRef: string | undefined, key: string): Promise<string> {
    if (userRef) return userRef;
    const found = await this.findUser(key);
    if (!found) throw new ProviderError('not-found', 'demo: the provider user for this grant does not exist (create the user first)');
    return found.ref;
  }
}

function toObservedUser(u: ApiUser): ObservedUser {
  return { ref: u.id, key: u.externalId, hasPin: u.hasPin };
}
