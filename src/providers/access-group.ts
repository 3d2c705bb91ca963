/**
 * The flow every access-group provider walks (demo, SecCloud, Gallagher): a provider user found by
 * Lockstep's key, or created, adopting one that an earlier create left behind unrecorded (a crash
 * or timeout after the provider said yes); a PIN on that user; a membership per door with a window;
 * and a read-back of the user and their memberships.
 *
 * A provider extends `AccessGroupAdapter` with what is particular to it: how a user is fetched,
 * searched and created, how its memberships are read, and its grant writes (field names, paths,
 * paging, Gallagher's one PATCH per cardholder). The steps in between are written once, here.
 */
import type { JsonHttpClient } from './http.js';
import { ProviderError } from './types.js';
import type { AccessTarget, GrantInput, Observation, ObservedGrant, ObservedUser, PinRules, ProviderAdapter, ProviderCapabilities, ProviderIdentity } from './types.js';

/** `U` is the provider's own user record, as its API returns it. */
export abstract class AccessGroupAdapter<U> implements ProviderAdapter {
  abstract readonly kind: string;
  abstract readonly capabilities: ProviderCapabilities;
  abstract readonly pinRules: PinRules;
  /** What the provider calls a user, in messages ("provider user", "cardholder"). */
  protected readonly userNoun: string = 'provider user';
  /**
   * Search before creating: for a provider whose user key is not unique (Gallagher's description),
   * a create cannot answer "that key exists", so an earlier unrecorded create is found first.
   */
  protected readonly searchBeforeCreate: boolean = false;

  constructor(protected readonly http: JsonHttpClient) {}

  /** Releases pooled connections when the integration is reconfigured or Lockstep stops. */
  close(): Promise<void> {
    return this.http.close();
  }

  abstract testConnection(): Promise<void>;
  abstract listTargets(): Promise<AccessTarget[]>;
  abstract setUserPin(userRef: string, pin: string): Promise<void>;
  abstract createGrant(input: GrantInput): Promise<{ ref: string }>;
  abstract updateGrant(input: GrantInput & { grantRef: string }): Promise<void | { ref?: string }>;
  abstract deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void>;

  /** The user whose key is exactly `key` (a provider's filter may be a prefix or case-blind). */
  protected abstract searchUser(key: string): Promise<U | null>;
  /** Sends the create; the new user's ref, or null when the provider did not say it (a 409 on the key, no Location). */
  protected abstract postUser(identity: ProviderIdentity): Promise<string | null>;
  /** The error when a create answered without a ref and no user with the key can be found. */
  protected abstract lostCreate(): ProviderError;
  /** The path of the user at `ref`: GET reads it, DELETE removes it (404: already gone). */
  protected abstract userPath(ref: string): string;
  protected abstract observedUser(user: U, key: string): ObservedUser;
  /** The user's memberships as grants; null when the user was deleted since it was read. */
  protected abstract grantsOf(user: U): Promise<ObservedGrant[] | null>;

  /** The user at `ref` (GET of its path), or null when the provider answers 404. */
  protected async fetchUser(ref: string): Promise<U | null> {
    const res = await this.http.request<U>('GET', this.userPath(ref), { expect: [404] });
    return res.status === 404 ? null : res.body;
  }

  async findUser(key: string): Promise<ObservedUser | null> {
    const user = await this.searchUser(key);
    return user ? this.observedUser(user, key) : null;
  }

  async createUser(identity: ProviderIdentity): Promise<{ ref: string }> {
    if (this.searchBeforeCreate) {
      const existing = await this.findUser(identity.key);
      if (existing) return { ref: existing.ref };
    }
    const created = await this.postUser(identity);
    if (created !== null) return { ref: created };
    const existing = await this.findUser(identity.key);
    if (existing) return { ref: existing.ref };
    throw this.lostCreate();
  }

  async deleteUser(userRef: string): Promise<void> {
    await this.http.request('DELETE', this.userPath(userRef), { expect: [404] });
  }

  async observe(input: { userRef?: string; key: string; grantRefs: { ref: string; targetRef: string }[] }): Promise<Observation> {
    const user = input.userRef ? await this.fetchUser(input.userRef) : await this.searchUser(input.key);
    if (!user) return { user: null, grants: [] };
    const grants = await this.grantsOf(user);
    if (grants === null) return { user: null, grants: [] };
    return { user: this.observedUser(user, input.key), grants };
  }

  /** The user a grant belongs to: the ref the engine holds, else the one found by key. */
  protected async resolveUserRef(userRef: string | undefined, key: string): Promise<string> {
    if (userRef) return userRef;
    const found = await this.findUser(key);
    if (!found) throw new ProviderError('not-found', `${this.kind}: the ${this.userNoun} for this grant does not exist (create the user first)`);
    return found.ref;
  }

  /** Runs the connection probe; a 404 there means the address is wrong, which `message` explains. */
  protected async probe(request: () => Promise<unknown>, message: string): Promise<void> {
    try {
      await request();
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') throw new ProviderError('not-found', message, err.details);
      throw err;
    }
  }
}

/** A provider's access group as a target an admin maps a space to. */
export function accessGroupTarget(ref: string, name: string, description?: string | null): AccessTarget {
  return { ref, name, ...(description ? { description } : {}), kind: 'access-group' };
}

/** The contact details of a new user, for a provider that keeps them (only those Lockstep has). */
export function contactFields(identity: ProviderIdentity): { email?: string; phone?: string } {
  return { ...(identity.email ? { email: identity.email } : {}), ...(identity.phone ? { phone: identity.phone } : {}) };
}
