/**
 * The contract every access-control provider adapter implements.
 *
 * The engine speaks only this interface. An adapter translates it into the provider's own published
 * HTTP API and declares, through `capabilities`, which parts of the model the provider has: a provider
 * with users and access groups (Gallagher, the demo) gets createUser + createGrant per group; a lock
 * without users (Nuki keypad) gets createGrant carrying the PIN.
 */

export interface ProviderCapabilities {
  /** Targets are groups/zones a user is made a member of (vs individual locks). */
  accessGroups: boolean;
  /** The provider keeps a user/cardholder record that grants hang off. */
  providerUsers: boolean;
  /** Grants carry a from/until window enforced by the provider. */
  membershipWindows: boolean;
  /** The PIN is a property of the provider user (one PIN opens every granted target). */
  pinOnUser: boolean;
  /** The PIN is written to each lock as part of the grant. */
  pinOnLock: boolean;
  /** PINs are computed offline and cannot be withdrawn once issued. */
  offlineAlgorithmicPin: boolean;
  mobileCredential: boolean;
  urlKey: boolean;
  pulseOpen: boolean;
  /** A grant can be withdrawn before its end (false for offline algorithmic PINs). */
  revocable: boolean;
  /**
   * A grant's window can be changed in place. When false (offline PINs: the window is baked into the
   * code) a moved booking is a new grant, and the old one is withdrawn or, if not revocable, left to
   * expire and shown as such.
   */
  updatableGrants: boolean;
  /** The provider, not Lockstep, issues the credential (algoPIN, URL key, access code) on createGrant. */
  issuesCredentials: boolean;
  /**
   * Each grant is a resource of its own on the provider (its own POST, PATCH and DELETE), so one
   * person's grant changes can be sent side by side. Leave unset where a grant is a read-modify-write
   * of the user's whole list (two at once would lose one) or where the provider's docs do not say.
   */
  independentGrants?: boolean;
}

/**
 * An adapter's capabilities, naming only those it has: every other one is false (and
 * `independentGrants` unset), so a provider folder states what is particular to it.
 */
export function capabilities(has: Partial<ProviderCapabilities>): ProviderCapabilities {
  return Object.freeze({
    accessGroups: false,
    providerUsers: false,
    membershipWindows: false,
    pinOnUser: false,
    pinOnLock: false,
    offlineAlgorithmicPin: false,
    mobileCredential: false,
    urlKey: false,
    pulseOpen: false,
    revocable: false,
    updatableGrants: false,
    issuesCredentials: false,
    ...has,
  });
}

export interface PinRules {
  /** Length Lockstep generates. */
  length: number;
  minLength: number;
  maxLength: number;
  /** Digits a keypad accepts, e.g. "0123456789" or "123456789" (no zero). */
  allowedDigits: string;
  /** Codes must not start with these (often reserved for duress/admin codes). */
  bannedPrefixes: string[];
}

export type TargetKind = 'access-group' | 'zone' | 'door' | 'lock';

export interface AccessTarget {
  ref: string;
  name: string;
  description?: string;
  kind: TargetKind;
  /** Target-specific tightening of the provider's PIN rules. */
  pinRules?: Partial<PinRules>;
  /** Codes the lock holds at most, where the provider reports it (Seam: max_active_codes_supported). */
  capacity?: number;
}

/** Who Lockstep is asking the provider to know about. In privacy mode only `key` and a pseudonym leave Lockstep. */
export interface ProviderIdentity {
  /** Stable, unique per person per integration; stored on the provider so a crashed create can be adopted. */
  key: string;
  displayName: string;
  email?: string;
  phone?: string;
}

/** Epoch milliseconds; `endsAt` null means open-ended (a subscription without an end date). */
export interface AccessWindow {
  startsAt: number;
  endsAt: number | null;
}

export interface ObservedGrant {
  ref: string;
  targetRef: string;
  window: AccessWindow;
}

export interface ObservedUser {
  ref: string;
  key: string;
  /** Provider's notion of whether the user's PIN is set; undefined when the provider cannot say. */
  hasPin?: boolean;
}

export interface Observation {
  user: ObservedUser | null;
  grants: ObservedGrant[];
}

/**
 * A credential the provider issued for one grant. Lockstep seals it at rest, shows it to the guest and
 * never logs it.
 */
export interface IssuedCredential {
  kind: 'pin' | 'url-key' | 'mobile-key';
  /** The code, or the URL, the guest uses. */
  secret: string;
  /** Validity as issued; may be wider than asked for where the provider rounds windows. */
  validFrom: number;
  validUntil: number | null;
  /** Guest-facing instruction without times (Lockstep adds times in the location's zone). */
  instructions?: string;
  /** The code must be used once before this instant or it never activates (igloohome algoPIN: 24 h). */
  firstUseBefore?: number;
}

export interface GrantInput {
  userRef?: string;
  identity: ProviderIdentity;
  targetRef: string;
  window: AccessWindow;
  /** Present for providers where the PIN travels with the grant (pinOnLock). */
  pin?: string;
}

export interface ProviderAdapter {
  readonly kind: string;
  readonly capabilities: ProviderCapabilities;
  readonly pinRules: PinRules;
  /** Deleting a provider user also removes its grants, so revoking everyone needs one call, not one per grant. */
  readonly deletingUserRemovesGrants?: boolean;

  /** Throws ProviderError('auth', …) with an admin-readable message on bad credentials. */
  testConnection(): Promise<void>;
  listTargets(): Promise<AccessTarget[]>;

  /** Find a user this integration created earlier, by the stable key. */
  findUser(key: string): Promise<ObservedUser | null>;
  createUser(identity: ProviderIdentity): Promise<{ ref: string }>;
  deleteUser(userRef: string): Promise<void>;
  setUserPin(userRef: string, pin: string): Promise<void>;

  /**
   * `fixed: true` marks one grant as an offline code even on a provider whose other targets are online
   * (Seam with an igloohome lock): the engine will neither change nor pretend to withdraw it.
   */
  createGrant(input: GrantInput): Promise<{ ref: string; credential?: IssuedCredential; fixed?: boolean }>;
  /**
   * Only called when `capabilities.updatableGrants`. Returns the grant's new ref where the provider
   * gives an updated object a new identity (Gallagher re-issues a membership's href on update).
   */
  updateGrant(input: GrantInput & { grantRef: string }): Promise<void | { ref?: string }>;
  deleteGrant(input: { userRef?: string; grantRef: string; targetRef: string }): Promise<void>;

  /**
   * Optional: apply every grant change for one provider user in a single request where the API allows
   * it (Gallagher: one PATCH of the cardholder with add/update/remove). When present, the engine uses
   * it instead of per-grant calls for providerUsers + accessGroups providers. Returns the provider refs
   * of the created grants, in the order of `create`.
   */
  applyGrantBatch?(input: {
    userRef: string;
    identity: ProviderIdentity;
    create: { targetRef: string; window: AccessWindow }[];
    update: { grantRef: string; targetRef: string; window: AccessWindow }[];
    remove: { grantRef: string; targetRef: string }[];
  }): Promise<{ created: string[]; /** New refs of updated grants, in the order of `update` (undefined = unchanged). */ updated?: (string | undefined)[] }>;

  /**
   * Optional, code-on-lock providers: how many codes the target holds at most (null: the provider does
   * not say) and how many codes on it this integration did not create (counted against the capacity,
   * never touched). One read; the engine keeps the answer for a few minutes.
   */
  keypadOccupancy?(targetRef: string): Promise<{ capacity: number | null; foreignCodes: number }>;
  /** Read back what the provider actually holds for one person (drift detection, crash adoption). */
  observe(input: { userRef?: string; key: string; grantRefs: { ref: string; targetRef: string }[] }): Promise<Observation>;

  /**
   * The window the provider will actually hold for a requested one (e.g. Igloohome rounds outward to
   * whole hours or days). The engine plans with rounded windows, so a rounded grant is not seen as drift.
   * Omit when the provider stores windows exactly.
   */
  roundWindow?(window: AccessWindow, targetRef: string): AccessWindow;

  /** Open the door now (a pulse) for someone inside a valid window; only when `capabilities.pulseOpen`. */
  pulseOpen?(input: { userRef?: string; identity: ProviderIdentity; targetRef: string }): Promise<void>;

  /** Releases pooled connections when the integration is reconfigured or Lockstep stops. */
  close?(): Promise<void>;
}

export type ProviderErrorKind =
  /** 5xx, dropped connection, timeout: retry with back-off. */
  | 'transient'
  /** 429: retry after the provider's Retry-After; the whole integration pauses. */
  | 'rate-limited'
  /** 401/403: credentials are wrong; retrying will not help until an admin fixes them. */
  | 'auth'
  /** 404: the object is gone on the provider (deleted by someone else). */
  | 'not-found'
  /** 400/409/422: the provider rejected what we sent. */
  | 'rejected';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return this.kind === 'transient' || this.kind === 'rate-limited';
  }
}

/** What a provider folder exports so the registry can build adapters from stored settings. */
/**
 * Paces an adapter's requests to one provider account (see src/engine/pacer.ts): `beforeRequest`
 * resolves when a request may go out, or throws a 'rate-limited' ProviderError when the wait would
 * be long (the engine then retries that sync later instead of holding a lane).
 */
export interface RequestPacer {
  beforeRequest(): Promise<void>;
  /** The provider answered 429; `retryAfterMs` from its Retry-After header when it sent one. */
  rateLimited(retryAfterMs: number | undefined): Promise<void>;
}

/** How an adapter reaches its provider; the engine sets these for every adapter it builds. */
export interface ProviderTransport {
  /** Header and body timeout of each request. */
  timeoutMs?: number;
  /** Paces requests to stay within the account's rate limit (shared by every worker). */
  pacer?: RequestPacer;
  /**
   * Connections kept open to the provider. The engine sizes it to its lanes (each sync may send a
   * person's doors side by side), so the pool never queues requests the lanes already allow.
   */
  connections?: number;
}

export interface ProviderModule {
  kind: string;
  label: string;
  /** Validates and describes the credentials an admin enters (zod-free plain check keeps providers decoupled). */
  credentialFields: { name: string; label: string; secret: boolean; required: boolean }[];
  create(config: { baseUrl: string; credentials: Record<string, string> } & ProviderTransport): ProviderAdapter;
  /**
   * The pace Lockstep keeps on one account of this provider unless the admin sets another
   * (integration `rateLimitPerMinute`); none: unpaced, only 429s slow it down.
   */
  defaultRateLimit?: { perMinute: number };
  /** Buffers a new integration of this kind starts with when the admin sets none (Lockstep's default: 15). */
  defaultBufferMinutes?: { before: number; after: number };
}
