/**
 * Adapter for the Nuki Web API (https://api.nuki.io), spoken over real HTTP with a Bearer API token.
 *
 * Model: online smart locks with keypads and no provider users. A grant is a keypad-code
 * authorization (type 13) on one smartlock that carries the person's PIN and a from/until window.
 * Nuki answers a create with 204 and no id, so the auth is named after the person's identity key and
 * found again by reading the lock's auths back.
 */
import { JsonHttpClient, providerDate, transportOf } from '../http.js';
import {
  ProviderError,
  type AccessTarget,
  type AccessWindow,
  type GrantInput,
  type Observation,
  type ObservedGrant,
  type PinRules,
  type ProviderAdapter,
  capabilities,
  type ProviderCapabilities,
  type ProviderIdentity,
  type ProviderTransport,
} from '../types.js';

interface ApiSmartlock {
  smartlockId: number;
  type: number;
  name: string;
  config?: { keypadPaired?: boolean; keypad2Paired?: boolean } | null;
}

interface ApiSmartlockAuth {
  id: string;
  smartlockId: number;
  type: number;
  name: string;
  enabled?: boolean;
  allowedFromDate?: string | null;
  allowedUntilDate?: string | null;
  creationDate?: string | null;
}

export interface NukiAdapterOptions extends ProviderTransport {
  baseUrl: string;
  apiToken: string;
}

const CAPABILITIES = capabilities({
  membershipWindows: true,
  pinOnLock: true,
  revocable: true,
  updatableGrants: true,
});

/** Keypad codes: 6 digits, 1–9 only (the keypad has no 0), not starting with 12. */
const PIN_RULES: PinRules = Object.freeze({
  length: 6,
  minLength: 6,
  maxLength: 6,
  allowedDigits: '123456789',
  bannedPrefixes: Object.freeze(['12']) as string[],
});

/** SmartlockAuth type 13 = keypad code. */
const KEYPAD_CODE = 13;
/** Nuki: "The name of the authorization (max 32 chars)". */
const NAME_MAX = 32;
/** Every weekday (Mon 64 … Sun 1): the date window alone limits access. */
const ALL_WEEKDAYS = 127;

const TYPE_NAMES: Record<number, string> = {
  0: 'Nuki Smart Lock (1st/2nd gen)',
  1: 'Nuki Box',
  2: 'Nuki Opener',
  3: 'Nuki Smart Door',
  4: 'Nuki Smart Lock 3.0 / 4th gen',
};

const enc = encodeURIComponent;

/**
 * Nuki's published SmartlockAuthUpdate has `allowedUntilDate` as a date-time string (not nullable), and
 * Nuki documents elsewhere that a null field is "not being updated": null cannot clear an end date. An
 * update to an open-ended window therefore sends this far-future end, and reading it (or anything
 * later) back counts as open-ended.
 */
export const NUKI_OPEN_END_ISO = '2099-12-31T23:59:59.000Z';
const NUKI_OPEN_END_MS = Date.parse(NUKI_OPEN_END_ISO);

/** Windows go out whole seconds, widened outward (see notes.md: Nuki's stored precision is not confirmed). */
function roundOut(window: AccessWindow): AccessWindow {
  return {
    startsAt: Math.floor(window.startsAt / 1000) * 1000,
    endsAt: window.endsAt === null ? null : Math.ceil(window.endsAt / 1000) * 1000,
  };
}


function windowOf(a: ApiSmartlockAuth): AccessWindow {
  return {
    startsAt: a.allowedFromDate ? providerDate('nuki', a.allowedFromDate, 'allowedFromDate') : 0,
    endsAt: a.allowedUntilDate && providerDate('nuki', a.allowedUntilDate, 'allowedUntilDate') < NUKI_OPEN_END_MS ? providerDate('nuki', a.allowedUntilDate, 'allowedUntilDate') : null,
  };
}

function authName(key: string): string {
  if (key.length > NAME_MAX) {
    throw new ProviderError('rejected', `nuki: the identity key is longer than the ${NAME_MAX} characters Nuki allows in an authorization name`);
  }
  return key;
}

function keypadCode(pin: string | undefined): number {
  if (pin === undefined) throw new ProviderError('rejected', 'nuki: a keypad authorization needs a PIN (none was given)');
  if (!/^\d+$/.test(pin)) throw new ProviderError('rejected', 'nuki: the PIN must be digits only');
  return Number(pin);
}

export class NukiAdapter implements ProviderAdapter {
  readonly kind = 'nuki';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules = PIN_RULES;
  private readonly http: JsonHttpClient;
  private readonly baseUrl: string;

  constructor(opts: NukiAdapterOptions) {
    this.baseUrl = opts.baseUrl;
    this.http = new JsonHttpClient({
      baseUrl: opts.baseUrl,
      headers: { authorization: `Bearer ${opts.apiToken}` },
      ...transportOf(opts),
      provider: 'nuki',
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async testConnection(): Promise<void> {
    try {
      await this.http.request<ApiSmartlock[]>('GET', '/smartlock');
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') {
        throw new ProviderError('not-found', `nuki: no Nuki Web API found at ${this.baseUrl}; check the integration's base URL`, err.details);
      }
      throw err;
    }
  }

  async listTargets(): Promise<AccessTarget[]> {
    const { body } = await this.http.request<ApiSmartlock[]>('GET', '/smartlock');
    return body.map((l) => {
      const keypad = l.config?.keypad2Paired ? 'Keypad 2.0 paired' : l.config?.keypadPaired ? 'keypad paired' : 'no keypad paired';
      return {
        ref: String(l.smartlockId),
        name: l.name,
        description: `${TYPE_NAMES[l.type] ?? `Nuki device type ${l.type}`}, ${keypad}`,
        kind: 'lock' as const,
      };
    });
  }

  // Nuki keypad codes hang off no user: the person exists only as the name of each authorization.
  async findUser(_key: string): Promise<null> {
    return null;
  }

  async createUser(_identity: ProviderIdentity): Promise<{ ref: string }> {
    throw new ProviderError('rejected', 'nuki: keypad codes have no provider user; createUser is not supported');
  }

  async deleteUser(_userRef: string): Promise<void> {}

  async setUserPin(_userRef: string, _pin: string): Promise<void> {
    throw new ProviderError('rejected', 'nuki: the PIN travels with each keypad authorization; setUserPin is not supported');
  }

  roundWindow(window: AccessWindow): AccessWindow {
    return roundOut(window);
  }

  async createGrant(input: GrantInput): Promise<{ ref: string }> {
    const name = authName(input.identity.key);
    const window = roundOut(input.window);
    const lock = enc(input.targetRef);
    await this.http.request('PUT', `/smartlock/${lock}/auth`, {
      body: {
        name,
        type: KEYPAD_CODE,
        code: keypadCode(input.pin),
        remoteAllowed: false,
        allowedFromDate: new Date(window.startsAt).toISOString(),
        ...(window.endsAt === null ? {} : { allowedUntilDate: new Date(window.endsAt).toISOString() }),
        allowedWeekDays: ALL_WEEKDAYS,
      },
    });
    // 204 without an id: read the lock's keypad auths back and pick ours by name and window.
    const { body } = await this.http.request<ApiSmartlockAuth[]>('GET', `/smartlock/${lock}/auth`, { query: { types: String(KEYPAD_CODE) } });
    const mine = body
      .filter((a) => a.name === name && a.type === KEYPAD_CODE)
      .filter((a) => {
        const w = windowOf(a);
        return w.startsAt === window.startsAt && w.endsAt === window.endsAt;
      })
      .sort((a, b) => Date.parse(b.creationDate ?? '') - Date.parse(a.creationDate ?? ''));
    if (!mine.length) {
      // Nuki creates asynchronously; the engine's read-back on retry adopts it by target and window.
      throw new ProviderError('transient', 'nuki: the new keypad authorization is not listed yet; will check again');
    }
    return { ref: mine[0].id };
  }

  async updateGrant(input: GrantInput & { grantRef: string }): Promise<void> {
    const window = roundOut(input.window);
    await this.http.request('POST', `/smartlock/${enc(input.targetRef)}/auth/${enc(input.grantRef)}`, {
      body: {
        name: authName(input.identity.key),
        allowedFromDate: new Date(window.startsAt).toISOString(),
        allowedUntilDate: window.endsAt === null ? NUKI_OPEN_END_ISO : new Date(window.endsAt).toISOString(),
        allowedWeekDays: ALL_WEEKDAYS,
        ...(input.pin !== undefined ? { code: keypadCode(input.pin) } : {}),
      },
    });
  }

  async deleteGrant(input: { grantRef: string; targetRef: string }): Promise<void> {
    await this.http.request('DELETE', `/smartlock/${enc(input.targetRef)}/auth/${enc(input.grantRef)}`, { expect: [404] });
  }

  /**
   * Nuki's API does not report how many keypad codes a lock holds (the admin sets it per target; see
   * notes.md). Codes whose name is not a Lockstep identity key (`lockstep-…`, privacy mode `ls-…`)
   * were made by someone else, in the Nuki app: they count, and Lockstep never touches them.
   */
  async keypadOccupancy(targetRef: string): Promise<{ capacity: null; foreignCodes: number }> {
    const { body } = await this.http.request<ApiSmartlockAuth[]>('GET', `/smartlock/${enc(targetRef)}/auth`, { query: { types: String(KEYPAD_CODE) } });
    const foreignCodes = body.filter((a) => a.type === KEYPAD_CODE && !/^(lockstep-|ls-)/.test(a.name)).length;
    return { capacity: null, foreignCodes };
  }

  /** One call: every keypad auth on the account, kept where the name is this person's key. */
  async observe(input: { userRef?: string; key: string; grantRefs?: { ref: string; targetRef: string }[] }): Promise<Observation> {
    const { body } = await this.http.request<ApiSmartlockAuth[]>('GET', '/smartlock/auth', { query: { types: String(KEYPAD_CODE) } });
    const grants: ObservedGrant[] = body
      .filter((a) => a.type === KEYPAD_CODE && a.name === input.key)
      .map((a) => ({ ref: a.id, targetRef: String(a.smartlockId), window: windowOf(a) }));
    return { user: null, grants };
  }
}
