/**
 * What the shared provider contract suite needs from each provider: a running peer (our emulator or
 * the provider's own fake) and a way to look inside it. Each provider folder's test/contract/<kind>.ts
 * exports one `ProviderFixture`; contract.test.ts runs the same scenarios against all of them.
 */
import type { FaultRule } from '../../src/providers/demo/emulator.js';

export interface PersonOnProvider {
  /** Lockstep person id; the provider knows them by the identity key `lockstep-<id>` or by name. */
  id: string;
  name: string;
  email: string | null;
}

export interface HeldAccess {
  targetRef: string;
  from: number;
  /** null = open-ended */
  until: number | null;
}

export interface RunningProvider {
  kind: string;
  baseUrl: string;
  credentials: Record<string, string>;
  /** Credentials the provider refuses (wrong key/token). */
  badCredentials: Record<string, string>;
  /** At least two access targets to map a space to (door + room). */
  targets: string[];
  /** What the provider holds for this person right now, read from the peer's own state or API. */
  holdings(person: PersonOnProvider): Promise<HeldAccess[]>;
  /** Does this PIN open `targetRef` at `at` for this person? Omit when the provider cannot tell. */
  pinOpens?(person: PersonOnProvider, pin: string, targetRef: string, at: number): Promise<boolean>;
  /**
   * For providers that issue the credential (algoPIN, access code, URL key): does this credential, as
   * the guest was shown it, open `targetRef` at `at`? Checked against the peer's own rules.
   */
  credentialOpens?(secret: string, targetRef: string, at: number): Promise<boolean>;
  /** Drift: someone removes one grant (or the whole user) inside the provider, behind Lockstep's back. */
  removeBehindOurBack(person: PersonOnProvider, what: 'one-grant' | 'everything'): Promise<void>;
  /** Fault injection on the provider's HTTP API (same rule shape as the demo emulator). */
  faults: { add(rule: FaultRule): void; clear(): void };
  /** Requests served (for calls-per-booking figures). */
  requestCount(): number;
  close(): Promise<void>;
}

export interface ProviderFixture {
  kind: string;
  /** What the provider can do; scenarios that need a capability are skipped for providers without it. */
  revocable: boolean;
  personalPin: boolean;
  /** The provider issues the guest's credential (shown via GET /v1/me/credentials) instead of Lockstep's PIN. */
  issuesCredentials?: boolean;
  /** The provider cannot hold a future window (membership is on or off): access is added when a window starts. */
  startedWindowsOnly?: boolean;
  /** Windows the provider rounds (e.g. to whole hours) are checked for covering, not equality. */
  roundsWindows: boolean;
  start(): Promise<RunningProvider>;
}
