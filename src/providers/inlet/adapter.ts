/**
 * Adapter for Inlet's Cloud Access Hub, spoken over HTTP (see notes.md: the route names GrantAccess
 * and GrantPulseAccess, ReferenceId, operation, phoneNumber/countryCode and codeFormatted are from
 * Inlet's knowledge base; the rest of the wire contract is assumed and says so there).
 *
 * Model: no provider users. A grant is one GrantAccess for one lock and one time frame, and Inlet
 * issues the credential (access code, URL key or mobile key), which createGrant hands to Lockstep to
 * seal and show the guest. Inlet is told who the guest is only by a pseudonymous unique id plus the
 * phone number or e-mail its delivery channel needs — never a name.
 */
import { JsonHttpClient, providerDate, transportOf } from '../http.js';
import {
  ProviderError,
  type AccessTarget,
  type AccessWindow,
  type GrantInput,
  type IssuedCredential,
  type Observation,
  type ObservedGrant,
  type ObservedUser,
  type PinRules,
  type ProviderAdapter,
  capabilities,
  type ProviderCapabilities,
  type ProviderIdentity,
  type ProviderTransport,
} from '../types.js';

/** What the guest receives, as an admin chooses it in the integration's settings. */
export type InletCredentialType = 'access-code' | 'mobile-key' | 'url-key';
export const INLET_CREDENTIAL_TYPES: readonly InletCredentialType[] = ['access-code', 'mobile-key', 'url-key'];

/** Who sends the guest their credential: Lockstep (none) or Inlet by SMS / e-mail. */
export type InletDelivery = 'none' | 'sms' | 'email';
export const INLET_DELIVERY: readonly InletDelivery[] = ['none', 'sms', 'email'];

interface ApiLock {
  lockId: string;
  name: string;
  description?: string | null;
  locationId?: string | null;
  locationName?: string | null;
}

interface ApiAccess {
  referenceId: string;
  lockId: string;
  startTime: string;
  endTime: string;
}

interface ApiGrantAnswer extends ApiAccess {
  code?: string;
  codeFormatted?: string;
  urlKey?: string;
  mobileKey?: string;
}

interface ApiList<T> {
  results: T[];
}

export interface InletAdapterOptions extends ProviderTransport {
  baseUrl: string;
  apiKey: string;
  credentialType?: InletCredentialType;
  delivery?: InletDelivery;
}

const CAPABILITIES = capabilities({
  membershipWindows: true,
  mobileCredential: true,
  urlKey: true,
  pulseOpen: true,
  revocable: true,
  updatableGrants: true,
  issuesCredentials: true,
});

/**
 * Inlet chooses the code, so Lockstep never generates one for it; these rules only describe what
 * Inlet's codes look like (assumed: digits, 4–8 long) for anything that validates a PIN.
 */
const PIN_RULES: PinRules = Object.freeze({
  length: 6,
  minLength: 4,
  maxLength: 8,
  allowedDigits: '0123456789',
  bannedPrefixes: Object.freeze([]) as unknown as string[],
});

const OPERATION: Record<InletCredentialType, 'code' | 'mobilekey' | 'urlkey'> = {
  'access-code': 'code',
  'mobile-key': 'mobilekey',
  'url-key': 'urlkey',
};

const toIso = (ms: number): string => new Date(ms).toISOString();


export class InletAdapter implements ProviderAdapter {
  readonly kind = 'inlet';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules = PIN_RULES;
  private readonly http: JsonHttpClient;
  private readonly baseUrl: string;
  private readonly credentialType: InletCredentialType;
  private readonly delivery: InletDelivery;

  constructor(opts: InletAdapterOptions) {
    this.baseUrl = opts.baseUrl;
    this.credentialType = opts.credentialType ?? 'access-code';
    this.delivery = opts.delivery ?? 'none';
    this.http = new JsonHttpClient({
      baseUrl: opts.baseUrl,
      headers: { authorization: `Bearer ${opts.apiKey}` },
      ...transportOf(opts),
      provider: 'inlet',
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async testConnection(): Promise<void> {
    try {
      await this.http.request<ApiList<ApiLock>>('GET', '/GetLocks');
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') {
        throw new ProviderError('not-found', `inlet: no Inlet Cloud Access Hub API found at ${this.baseUrl}; check the integration's base URL`, err.details);
      }
      throw err;
    }
  }

  async listTargets(): Promise<AccessTarget[]> {
    const { body } = await this.http.request<ApiList<ApiLock>>('GET', '/GetLocks');
    return body.results.map((l) => {
      const where = l.locationName ? `${l.locationName}` : '';
      const description = [where, l.description ?? ''].filter(Boolean).join(' — ');
      return { ref: l.lockId, name: l.name, ...(description ? { description } : {}), kind: 'lock' as const };
    });
  }

  // Inlet keeps no user records: the pseudonymous uniqueId travels on every grant instead.
  async findUser(_key: string): Promise<ObservedUser | null> {
    return null;
  }

  async createUser(_identity: ProviderIdentity): Promise<{ ref: string }> {
    throw new ProviderError('rejected', 'inlet: Inlet has no user records; access is granted per lock with GrantAccess');
  }

  async deleteUser(_userRef: string): Promise<void> {}

  async setUserPin(_userRef: string, _pin: string): Promise<void> {
    throw new ProviderError('rejected', 'inlet: Inlet issues its own access codes; a PIN cannot be set');
  }

  async createGrant(input: GrantInput): Promise<{ ref: string; credential: IssuedCredential }> {
    const endTime = requireEnd(input.window);
    const { body } = await this.http.request<ApiGrantAnswer>('POST', '/GrantAccess', {
      body: {
        operation: OPERATION[this.credentialType],
        lockId: input.targetRef,
        uniqueId: input.identity.key,
        startTime: toIso(input.window.startsAt),
        endTime,
        ...this.contactFor(input.identity),
      },
    });
    return { ref: body.referenceId, credential: this.credentialFrom(body) };
  }

  async updateGrant(input: GrantInput & { grantRef: string }): Promise<void> {
    const endTime = requireEnd(input.window);
    await this.http.request<ApiAccess>('POST', '/UpdateAccess', {
      body: { referenceId: input.grantRef, startTime: toIso(input.window.startsAt), endTime },
    });
  }

  async deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void> {
    // 404 = already revoked or expired and purged: the goal is reached.
    await this.http.request('POST', '/RevokeAccess', { body: { referenceId: input.grantRef }, expect: [404] });
  }

  async observe(input: { userRef?: string; key: string; grantRefs: { ref: string; targetRef: string }[] }): Promise<Observation> {
    // Listing by uniqueId also finds a grant a crashed run created but never recorded.
    const { body } = await this.http.request<ApiList<ApiAccess>>('GET', '/GetAccess', { query: { uniqueId: input.key } });
    const grants: ObservedGrant[] = body.results.map((a) => ({
      ref: a.referenceId,
      targetRef: a.lockId,
      window: { startsAt: providerDate('inlet', a.startTime, 'startTime'), endsAt: providerDate('inlet', a.endTime, 'endTime') },
    }));
    return { user: null, grants };
  }

  async pulseOpen(input: { userRef?: string; identity: ProviderIdentity; targetRef: string }): Promise<void> {
    await this.http.request('POST', '/GrantPulseAccess', { body: { lockId: input.targetRef, uniqueId: input.identity.key } });
  }

  /**
   * Only what the chosen delivery needs leaves Lockstep: a phone number for SMS and for mobile keys
   * (the vendor app knows the guest by it), an e-mail address for e-mail. Never the name.
   */
  private contactFor(identity: ProviderIdentity): Record<string, string> {
    const out: Record<string, string> = {};
    const needsPhone = this.delivery === 'sms' || this.credentialType === 'mobile-key';
    if (needsPhone) {
      if (!identity.phone) {
        if (this.credentialType === 'mobile-key') {
          throw new ProviderError('rejected', "inlet: a mobile key needs the guest's phone number, and this person has none");
        }
      } else {
        // Sent whole in international form; Inlet takes countryCode only for a local number.
        out.phoneNumber = identity.phone.replace(/[\s()-]/g, '');
      }
    }
    if (this.delivery === 'email' && identity.email) out.email = identity.email;
    return out;
  }

  private credentialFrom(body: ApiGrantAnswer): IssuedCredential {
    const validity = { validFrom: providerDate('inlet', body.startTime, 'startTime'), validUntil: providerDate('inlet', body.endTime, 'endTime') };
    const missing = (what: string) => new ProviderError('transient', `inlet: GrantAccess answered without the ${what} it was asked to issue`);
    switch (this.credentialType) {
      case 'access-code': {
        // codeFormatted carries the keypad's symbols (e.g. #1234*): that is what the guest types.
        const secret = body.codeFormatted || body.code;
        if (!secret) throw missing('access code');
        return { kind: 'pin', secret, ...validity, instructions: 'Enter the code on the keypad exactly as shown, including any # or * symbols.' };
      }
      case 'url-key':
        if (!body.urlKey) throw missing('URL key');
        return { kind: 'url-key', secret: body.urlKey, ...validity, instructions: 'Open the link on your phone at the door to unlock it.' };
      case 'mobile-key':
        if (!body.mobileKey) throw missing('mobile key');
        return { kind: 'mobile-key', secret: body.mobileKey, ...validity, instructions: "Open the lock's app on your phone to use this key." };
    }
  }
}

function requireEnd(window: AccessWindow): string {
  if (window.endsAt === null) {
    throw new ProviderError('rejected', 'inlet: Inlet grants access for a time frame with an end; open-ended access cannot be granted');
  }
  return toIso(window.endsAt);
}
