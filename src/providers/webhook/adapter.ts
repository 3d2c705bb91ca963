/**
 * Adapter for the generic signed-webhook provider: Lockstep POSTs signed JSON events to a receiver
 * the venue runs in front of an access-control system Lockstep does not support natively. The
 * contract (events, fields, answers, signing) is Lockstep's own and is written down in notes.md.
 *
 * Model: the receiver keeps users (found by Lockstep's stable key) that carry one PIN; a grant puts a
 * user on a target (access group, zone, door) for a [startsAt, endsAt) window the receiver enforces.
 */
import {
  ProviderError,
  type AccessTarget,
  type GrantInput,
  type Observation,
  type ObservedGrant,
  type ObservedUser,
  type PinRules,
  type ProviderAdapter,
  capabilities,
  type ProviderCapabilities,
  type ProviderIdentity,
  type TargetKind,
  type ProviderTransport,
} from '../types.js';
import { SignedEventClient } from './signed-client.js';

interface WireTarget {
  id: string;
  name: string;
  description?: string | null;
  kind?: string;
}

interface WireUser {
  id: string;
  key: string;
  hasPin?: boolean;
}

interface WireGrant {
  id: string;
  targetId: string;
  startsAt: string;
  endsAt: string | null;
}

export interface WebhookAdapterOptions extends ProviderTransport {
  /** The receiver URL; every event is POSTed to it. */
  baseUrl: string;
  signingSecret: string;
  /** PIN length Lockstep generates for this venue (4–8; default 6). */
  pinLength?: number;
  now?: () => number;
}

const CAPABILITIES = capabilities({
  accessGroups: true,
  providerUsers: true,
  membershipWindows: true,
  pinOnUser: true,
  revocable: true,
  updatableGrants: true,
});

export const WEBHOOK_PIN_MIN = 4;
export const WEBHOOK_PIN_MAX = 8;
export const WEBHOOK_PIN_DEFAULT = 6;

const TARGET_KINDS: readonly TargetKind[] = ['access-group', 'zone', 'door', 'lock'];

const toIso = (ms: number): string => new Date(ms).toISOString();

function toMs(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw unreadable(`${what} is not an ISO-8601 date-time`);
  return ms;
}

/** A receiver answering 2xx with something we cannot read is broken or mid-deploy: retry later. */
const unreadable = (what: string) => new ProviderError('transient', `webhook: the receiver's answer could not be read: ${what}`);

function requireId(body: unknown, event: string): string {
  const id = (body as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string' || id === '') throw unreadable(`${event} must answer { "id": "<string>" }`);
  return id;
}

export class WebhookAdapter implements ProviderAdapter {
  readonly kind = 'webhook';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules;
  /** The contract makes user.delete take the user's grants with it. */
  readonly deletingUserRemovesGrants = true;
  private readonly events: SignedEventClient;

  constructor(opts: WebhookAdapterOptions) {
    const length = opts.pinLength ?? WEBHOOK_PIN_DEFAULT;
    this.pinRules = Object.freeze({
      length,
      minLength: WEBHOOK_PIN_MIN,
      maxLength: WEBHOOK_PIN_MAX,
      allowedDigits: '0123456789',
      bannedPrefixes: [] as string[],
    });
    this.events = new SignedEventClient({ url: opts.baseUrl, signingSecret: opts.signingSecret, timeoutMs: opts.timeoutMs, pacer: opts.pacer, connections: opts.connections, now: opts.now });
  }

  close(): Promise<void> {
    return this.events.close();
  }

  async testConnection(): Promise<void> {
    try {
      await this.listTargets();
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') {
        throw new ProviderError('not-found', `webhook: no Lockstep receiver answered at ${this.events.endpoint}; check the integration's base URL`, err.details);
      }
      throw err;
    }
  }

  async listTargets(): Promise<AccessTarget[]> {
    const { body } = await this.events.send<{ targets?: WireTarget[] }>('targets.list', {});
    if (!Array.isArray(body?.targets)) throw unreadable('targets.list must answer { "targets": [...] }');
    return body.targets.map((t) => {
      if (typeof t?.id !== 'string' || typeof t.name !== 'string') throw unreadable('every target needs a string id and name');
      const kind = TARGET_KINDS.includes(t.kind as TargetKind) ? (t.kind as TargetKind) : 'access-group';
      return { ref: t.id, name: t.name, ...(t.description ? { description: t.description } : {}), kind };
    });
  }

  async findUser(key: string): Promise<ObservedUser | null> {
    return (await this.read({ key })).user;
  }

  async createUser(identity: ProviderIdentity): Promise<{ ref: string }> {
    // user.upsert is keyed by `key`: a create that landed but whose answer was lost returns the same id.
    const { body } = await this.events.send('user.upsert', {
      key: identity.key,
      displayName: identity.displayName,
      email: identity.email ?? null,
      phone: identity.phone ?? null,
    });
    return { ref: requireId(body, 'user.upsert') };
  }

  async deleteUser(userRef: string): Promise<void> {
    await this.events.send('user.delete', { userId: userRef }, { expect: [404] });
  }

  async setUserPin(userRef: string, pin: string): Promise<void> {
    await this.events.send('pin.set', { userId: userRef, pin });
  }

  async createGrant(input: GrantInput): Promise<{ ref: string }> {
    const userId = await this.resolveUserRef(input.userRef, input.identity.key);
    const { body } = await this.events.send('grant.create', {
      userId,
      targetId: input.targetRef,
      startsAt: toIso(input.window.startsAt),
      endsAt: input.window.endsAt === null ? null : toIso(input.window.endsAt),
    });
    return { ref: requireId(body, 'grant.create') };
  }

  async updateGrant(input: GrantInput & { grantRef: string }): Promise<void> {
    const userId = await this.resolveUserRef(input.userRef, input.identity.key);
    await this.events.send('grant.update', {
      userId,
      grantId: input.grantRef,
      targetId: input.targetRef,
      startsAt: toIso(input.window.startsAt),
      endsAt: input.window.endsAt === null ? null : toIso(input.window.endsAt),
    });
  }

  async deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void> {
    if (!input.userRef) {
      throw new ProviderError('rejected', 'webhook: deleting a grant needs the provider user it belongs to (userRef missing)');
    }
    await this.events.send('grant.delete', { userId: input.userRef, grantId: input.grantRef, targetId: input.targetRef }, { expect: [404] });
  }

  observe(input: { userRef?: string; key: string; grantRefs: { ref: string; targetRef: string }[] }): Promise<Observation> {
    return this.read({ userId: input.userRef, key: input.key });
  }

  /** One `observe` event: the user (by id when known, else by key) and every grant it holds. */
  private async read(who: { userId?: string; key: string }): Promise<Observation> {
    const { body } = await this.events.send<{ user?: WireUser | null; grants?: WireGrant[] }>('observe', {
      userId: who.userId ?? null,
      key: who.key,
    });
    const u = body?.user;
    if (u === null || u === undefined) return { user: null, grants: [] };
    if (typeof u.id !== 'string' || typeof u.key !== 'string') throw unreadable('observe: user needs a string id and key');
    if (!Array.isArray(body.grants)) throw unreadable('observe must answer { "user": …, "grants": [...] }');
    const grants: ObservedGrant[] = body.grants.map((g) => {
      if (typeof g?.id !== 'string' || typeof g.targetId !== 'string') throw unreadable('observe: every grant needs a string id and targetId');
      return {
        ref: g.id,
        targetRef: g.targetId,
        window: { startsAt: toMs(g.startsAt, 'grant startsAt'), endsAt: g.endsAt === null ? null : toMs(g.endsAt, 'grant endsAt') },
      };
    });
    const user: ObservedUser = { ref: u.id, key: u.key, ...(typeof u.hasPin === 'boolean' ? { hasPin: u.hasPin } : {}) };
    return { user, grants };
  }

  private async resolveUserRef(userRef: string | undefined, key: string): Promise<string> {
    if (userRef) return userRef;
    const found = await this.findUser(key);
    if (!found) throw new ProviderError('not-found', 'webhook: the provider user for this grant does not exist (create the user first)');
    return found.ref;
  }
}
