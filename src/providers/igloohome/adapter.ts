/**
 * Adapter for igloohome's cloud API (iglooaccess / igloodeveloper "igloohome API"), spoken over real HTTP.
 *
 * Model: offline smart locks. There are no users and nothing is written to a lock: for each grant the
 * provider computes an algoPIN for one lock and one window, and the lock checks it offline. Lockstep
 * shows that PIN to the guest. An algoPIN cannot be changed or withdrawn through the API; it stays valid
 * until its end. Windows are rounded outward to what igloohome can issue (see algopin.ts).
 *
 * Auth: OAuth2 client credentials against the auth host (HTTP Basic client_id:client_secret, form body)
 * returns a bearer token, cached until shortly before it expires and fetched again after a 401.
 */
import { createHash } from 'node:crypto';
import { JsonHttpClient, transportOf } from '../http.js';
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
import { ACTIVATION_WINDOW_MS, DAY_MS, HOUR_MS, MAX_DAILY_DAYS, algoPinWindow, igloohomeDate, type AlgoPinType } from './algopin.js';
import { OAuthClient } from './oauth.js';

interface ApiDevice {
  id?: string;
  type: string;
  deviceId: string;
  deviceName: string;
  batteryLevel?: number | null;
  linkedDevices?: { type: string; deviceId: string }[];
}

interface ApiDeviceList {
  nextCursor?: string | null;
  payload: ApiDevice[];
}

interface ApiAlgoPin {
  pin: string;
  pinId: string;
}

export interface IgloohomeAdapterOptions extends ProviderTransport {
  /** The API base including its path, e.g. https://api.igloodeveloper.co/igloohome */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** OAuth2 token endpoint, e.g. https://auth.igloohome.co/oauth2/token */
  tokenUrl: string;
}

/** Scopes Lockstep needs (igloohome's Cognito resource-server scopes). */
export const IGLOOHOME_SCOPES = ['igloohomeapi/get-devices', 'igloohomeapi/algopin-hourly', 'igloohomeapi/algopin-daily'];

const CAPABILITIES = capabilities({
  membershipWindows: true,
  offlineAlgorithmicPin: true,
  issuesCredentials: true,
});

/** igloohome issues the PIN (9 digits); Lockstep never generates one for this provider. */
const PIN_RULES: PinRules = Object.freeze({
  length: 9,
  minLength: 9,
  maxLength: 9,
  allowedDigits: '0123456789',
  bannedPrefixes: Object.freeze([]) as unknown as string[],
});

/** Devices that take no PIN themselves (a bridge only relays to a lock). */
const NOT_A_LOCK = new Set(['bridge']);
const MAX_DEVICE_PAGES = 50;
const MAX_ACCESS_NAME = 60;
const MAX_SLOT_SHIFTS = 24;

type AlgoPinSlot = { type: AlgoPinType; startsAt: number; endsAt: number };

const enc = encodeURIComponent;

/** "3 Dec 2026, 14:00 UTC": the adapter does not know the location's zone, so it says UTC plainly. */
function humanUtc(ms: number): string {
  const d = new Date(ms);
  const month = d.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${month} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

/**
 * Grant refs carry the issued window (`<pinId>~<fromMs>~<untilMs>`): the API cannot list or read back
 * algoPINs, so the ref is what lets observe() and deleteGrant() speak truthfully about a PIN's validity.
 */
export function encodeGrantRef(pinId: string, window: { startsAt: number; endsAt: number }): string {
  return `${pinId}~${window.startsAt}~${window.endsAt}`;
}

export function decodeGrantRef(ref: string): { pinId: string; startsAt: number; endsAt: number } | null {
  const m = /^(.+)~(\d+)~(\d+)$/.exec(ref);
  if (!m) return null;
  return { pinId: m[1], startsAt: Number(m[2]), endsAt: Number(m[3]) };
}

/**
 * igloohome gives up to 3 different PINs for the same lock and slot through `variance` (1–3); the same
 * request gives the same PIN. Spreading guests over the variances by their key keeps two guests with
 * the same slot on the same lock from sharing a PIN in most cases (see notes.md, Not confirmed).
 */
export function varianceFor(identityKey: string): number {
  return (createHash('sha256').update(identityKey).digest()[0] % 3) + 1;
}

export class IgloohomeAdapter implements ProviderAdapter {
  readonly kind = 'igloohome';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules = PIN_RULES;
  private readonly http: JsonHttpClient;
  private readonly oauth: OAuthClient;
  private readonly baseUrl: string;
  /** lock|type|from|until → variances this integration has used (see pickSlot). */
  private readonly usedVariances = new Map<string, Set<number>>();

  constructor(opts: IgloohomeAdapterOptions) {
    this.baseUrl = opts.baseUrl;
    this.oauth = new OAuthClient({
      tokenUrl: opts.tokenUrl,
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      scope: IGLOOHOME_SCOPES.join(' '),
      timeoutMs: opts.timeoutMs,
      provider: 'igloohome',
    });
    this.http = new JsonHttpClient({
      baseUrl: opts.baseUrl,
      headers: () => ({ authorization: `Bearer ${this.oauth.current() ?? ''}` }),
      ...transportOf(opts),
      provider: 'igloohome',
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async testConnection(): Promise<void> {
    await this.oauth.token(); // its own errors name the token URL or the credentials
    try {
      await this.listDevicesPage(undefined);
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') {
        throw new ProviderError('not-found', `igloohome: no igloohome API found at ${this.baseUrl}; the base URL should be like https://api.igloodeveloper.co/igloohome`, err.details);
      }
      throw err;
    }
  }

  async listTargets(): Promise<AccessTarget[]> {
    const targets: AccessTarget[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_DEVICE_PAGES; page++) {
      const body = await this.listDevicesPage(cursor);
      for (const d of body.payload) {
        if (NOT_A_LOCK.has(d.type.toLowerCase())) continue;
        targets.push({ ref: d.deviceId, name: d.deviceName || d.deviceId, description: describeDevice(d), kind: 'lock' });
      }
      if (!body.nextCursor) return targets;
      cursor = body.nextCursor;
    }
    return targets;
  }

  /** igloohome has no user records: every grant stands alone. */
  async findUser(_key: string): Promise<ObservedUser | null> {
    return null;
  }

  async createUser(_identity: ProviderIdentity): Promise<{ ref: string }> {
    throw new ProviderError('rejected', 'igloohome: the igloohome API has no user records; access is an algoPIN per lock');
  }

  async deleteUser(_userRef: string): Promise<void> {
    throw new ProviderError('rejected', 'igloohome: the igloohome API has no user records to delete');
  }

  async setUserPin(_userRef: string, _pin: string): Promise<void> {
    throw new ProviderError('rejected', 'igloohome: PINs are issued by igloohome (algoPIN); Lockstep cannot set one');
  }

  roundWindow(window: AccessWindow): AccessWindow {
    if (window.endsAt === null) return window; // createGrant refuses open-ended windows
    const w = algoPinWindow(window.startsAt, window.endsAt);
    return { startsAt: w.startsAt, endsAt: w.endsAt };
  }

  async createGrant(input: GrantInput): Promise<{ ref: string; credential: IssuedCredential }> {
    if (input.window.endsAt === null) {
      throw new ProviderError(
        'rejected',
        'igloohome: an open-ended access would need a permanent algoPIN, which can never be withdrawn; give the subscription an end date (at most 367 days)',
      );
    }
    const w = algoPinWindow(input.window.startsAt, input.window.endsAt);
    if (w.endsAt - w.startsAt > MAX_DAILY_DAYS * DAY_MS) {
      throw new ProviderError('rejected', `igloohome: an algoPIN can be valid for at most ${MAX_DAILY_DAYS} days (about a year); split this access into shorter periods`);
    }
    const { slot, variance, release } = this.pickSlot(input.targetRef, w, input.identity.key);
    // On failure the variance is given back: a retry asks the same question, so if the provider did
    // issue the PIN before the connection dropped, the retry gets that same PIN rather than a second one.
    const { body } = await this.authed(() =>
      this.http.request<ApiAlgoPin>('POST', `/devices/${enc(input.targetRef)}/algopin/${slot.type}`, {
        body: {
          variance,
          startDate: igloohomeDate(slot.startsAt),
          endDate: igloohomeDate(slot.endsAt),
          // Pseudonymous on purpose: igloohome shows this name in its app and activity log.
          accessName: input.identity.key.slice(0, MAX_ACCESS_NAME),
        },
      }),
    ).catch((err: unknown) => {
      release();
      throw err;
    });
    if (typeof body?.pin !== 'string' || !/^\d+$/.test(body.pin) || typeof body.pinId !== 'string' || body.pinId === '') {
      throw new ProviderError('transient', 'igloohome: the algoPIN answer had no usable pin/pinId; retry');
    }
    return {
      ref: encodeGrantRef(body.pinId, slot),
      credential: {
        kind: 'pin',
        secret: body.pin,
        validFrom: slot.startsAt,
        validUntil: slot.endsAt,
        instructions: ACTIVATION_INSTRUCTIONS,
        firstUseBefore: slot.startsAt + ACTIVATION_WINDOW_MS,
      },
    };
  }

  async updateGrant(_input: GrantInput & { grantRef: string }): Promise<void> {
    throw new ProviderError('rejected', "igloohome: an algoPIN's validity is part of the code and cannot be changed; a new PIN is needed");
  }

  async deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void> {
    const decoded = decodeGrantRef(input.grantRef);
    const until = decoded ? humanUtc(decoded.endsAt) : 'the end of its validity';
    throw new ProviderError('rejected', `igloohome: an algoPIN cannot be withdrawn; it stays valid until ${until}`);
  }

  /**
   * algoPINs live only in the code the guest holds: the API can neither list nor read them back, and an
   * offline lock reports nothing. So a PIN Lockstep issued is held until its window ends; that is all
   * that can truthfully be said. No request is made.
   */
  async observe(input: { key: string; grantRefs: { ref: string; targetRef: string }[] }): Promise<Observation> {
    const now = Date.now();
    const grants: ObservedGrant[] = [];
    for (const g of input.grantRefs) {
      const d = decodeGrantRef(g.ref);
      if (d && d.endsAt > now) grants.push({ ref: g.ref, targetRef: g.targetRef, window: { startsAt: d.startsAt, endsAt: d.endsAt } });
    }
    return { user: null, grants };
  }

  /**
   * The same lock, window and variance always give the same PIN, and a window has only 3 variances. So
   * each new grant takes a variance this integration has not used yet for that slot (a regenerated code
   * differs from the old one; two guests with the same slot get different codes), starting from one
   * spread by the guest's key; when all 3 are taken the window starts an hour earlier (still covering
   * the booking). The record is in memory: after a restart, spreading by key is all that is left.
   */
  private pickSlot(lock: string, w: AlgoPinSlot, key: string): { slot: AlgoPinSlot; variance: number; release: () => void } {
    const first = varianceFor(key);
    for (let shift = 0; shift <= MAX_SLOT_SHIFTS; shift++) {
      const slot = shift === 0 ? w : algoPinWindow(w.startsAt - shift * HOUR_MS, w.endsAt);
      const slotKey = `${lock}|${slot.type}|${slot.startsAt}|${slot.endsAt}`;
      let used = this.usedVariances.get(slotKey);
      if (!used) this.usedVariances.set(slotKey, (used = new Set()));
      for (let i = 0; i < 3; i++) {
        const variance = ((first - 1 + i) % 3) + 1;
        if (used.has(variance)) continue;
        used.add(variance);
        const taken = used;
        return { slot, variance, release: () => taken.delete(variance) };
      }
    }
    throw new ProviderError('rejected', 'igloohome: every algoPIN for this lock around this time is already in use; try again for a different time');
  }

  private listDevicesPage(cursor: string | undefined): Promise<ApiDeviceList> {
    return this.authed(async () => {
      const { body } = await this.http.request<ApiDeviceList>('GET', '/devices', { query: { cursor } });
      if (!body || !Array.isArray(body.payload)) throw new ProviderError('transient', 'igloohome: GET /devices answered without a device list; retry');
      return body;
    });
  }

  /** Runs a request with a valid token; after a 401 (token expired or revoked) fetches a new one once. */
  private async authed<T>(run: () => Promise<T>): Promise<T> {
    await this.oauth.token();
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof ProviderError && err.kind === 'auth' && err.details.status === 401)) throw err;
      this.oauth.invalidate();
      await this.oauth.token();
      return run();
    }
  }
}

function describeDevice(d: ApiDevice): string {
  const parts = [`igloohome ${d.type.toLowerCase()}, offline algoPIN`];
  if (typeof d.batteryLevel === 'number') parts.push(`battery ${d.batteryLevel}%`);
  return parts.join('; ');
}

/** igloohome algoPINs activate on first use, which must fall within 24 h of the code's start. */
const ACTIVATION_INSTRUCTIONS =
  'Enter the code on the lock for the first time before the "use before" time, or it never activates; after that it works until the end of its validity.';
