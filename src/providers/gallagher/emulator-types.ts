/**
 * The Gallagher emulator's vocabulary, shared by its modules: the public types and defaults that
 * tests and tools import (through emulator.ts, which re-exports them), the in-memory records the
 * emulator keeps, and the small helpers every module throws or checks with.
 */
import { EmulatorHttpError, type RecordedRequest, type EmulatorControls } from '../emulator-kit.js';

// ---------------------------------------------------------------------------------------------------
// Public types

export interface GallagherDivisionSeed {
  id: string;
  name: string;
}

export interface GallagherAccessGroupSeed {
  id: string;
  name: string;
  description: string;
  /** Division id; defaults to the first division. */
  divisionId?: string;
}

export interface GallagherCardholderView {
  id: string;
  href: string;
  firstName: string;
  lastName: string;
  description: string;
  authorised: boolean;
  divisionId: string;
  /** Whether a usercode is set (the code itself never leaves the emulator). */
  hasUsercode: boolean;
}

export interface GallagherMembershipView {
  id: string;
  href: string;
  cardholderId: string;
  accessGroupId: string;
  accessGroupHref: string;
  /** ISO (UTC, whole seconds) or null when unset. */
  from: string | null;
  until: string | null;
}

export interface GallagherSnapshot {
  divisions: GallagherDivisionSeed[];
  accessGroups: GallagherAccessGroupSeed[];
  cardholders: GallagherCardholderView[];
  memberships: GallagherMembershipView[];
}

export interface GallagherEmulatorState {
  /** Plain copies of the whole state; never contains usercodes. */
  snapshot(): GallagherSnapshot;
  cardholders(): GallagherCardholderView[];
  cardholder(id: string): GallagherCardholderView | null;
  cardholderByDescription(description: string): GallagherCardholderView | null;
  memberships(cardholderId: string): GallagherMembershipView[];
  accessGroupHref(id: string): string;
  divisionHref(id: string): string;
  /** Whether `code` is the usercode set on cardholder `cardholderId` (checked without revealing it). */
  usercodeMatches(cardholderId: string, code: string): boolean;
  /** Keypad model: does an authorised cardholder with usercode `pin`, in `accessGroupId` at `at`, get in? */
  canEnter(input: { pin: string; accessGroupId: string; at?: number }): boolean;
}

export interface GallagherEmulator extends EmulatorControls {
  apiKey: string;
  /** Clears cardholders, memberships, usercodes, fault rules and stats (groups, divisions and key stay). */
  reset(): void;
  state: GallagherEmulatorState;
  /** Requests recorded when `recordRequests` is on (credential headers redacted; bodies may hold PINs, never log them). */
  recorded(): RecordedRequest[];
  clearRecorded(): void;
}

export interface GallagherEmulatorOptions {
  port?: number;
  /** Keep every API request for conformance tests (`recorded()`); off by default. */
  recordRequests?: boolean;
  host?: string;
  /** Default: a key in Gallagher's xxxx-xxxx-… format. */
  apiKey?: string;
  divisions?: GallagherDivisionSeed[];
  accessGroups?: GallagherAccessGroupSeed[];
  /** Items per page when the client sends no `top` (Command Centre 8.70+: 1000). */
  defaultPageSize?: number;
  /** Site-configured minimum usercode length (at least 4). */
  minUsercodeLength?: number;
}

export const DEFAULT_GALLAGHER_API_KEY = 'C774-B01F-D695-AA4B-215F-A158-AC22-ADEB';

export const DEFAULT_GALLAGHER_DIVISIONS: readonly GallagherDivisionSeed[] = Object.freeze([
  { id: '2', name: 'Root Division' },
  { id: '5387', name: 'Coworking' },
]);

export const DEFAULT_GALLAGHER_ACCESS_GROUPS: readonly GallagherAccessGroupSeed[] = Object.freeze([
  { id: '352', name: 'Front door', description: 'Street entrance and lobby, all hours', divisionId: '5387' },
  { id: '353', name: 'Meeting room 1', description: 'Ground floor, seats 8, screen and whiteboard', divisionId: '5387' },
  { id: '354', name: 'Meeting room 2', description: 'First floor, seats 4, quiet room', divisionId: '5387' },
  { id: '355', name: 'Hot desks', description: 'Open-plan co-working floor', divisionId: '5387' },
  { id: '356', name: 'Parking gate', description: 'Underground car park barrier', divisionId: '2' },
]);

// ---------------------------------------------------------------------------------------------------
// Internals shared by the emulator modules

export interface CardholderRecord {
  id: string;
  firstName: string;
  lastName: string;
  shortName: string;
  description: string;
  authorised: boolean;
  divisionId: string;
  memberships: Map<string, MembershipRecord>;
}

export interface MembershipRecord {
  id: string;
  groupId: string;
  from: number | null;
  until: number | null;
}

/** An access group as the emulator holds it: the division is always filled in. */
export interface AccessGroupRecord extends GallagherAccessGroupSeed {
  divisionId: string;
}

/** A 400 in Gallagher's shape; messages name the field and never echo secrets. */
export const bad = (message: string) => new EmulatorHttpError(400, 'bad_request', message);
export const notFound = (message: string) => new EmulatorHttpError(404, 'not_found', message);

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
