/**
 * What the API answers. Most of Lockstep's routes declare no response schema, so the OpenAPI
 * document (and openapi.ts) says nothing about their bodies; these interfaces are written from the
 * routes' view functions instead. (A route that does declare one, like GET /v1/access/explain, is
 * typed from the document in from-openapi.ts.) test/client/models.test.ts holds them to the server: at compile
 * time against the exported views (bookingView, personView, the engine's sync status), and at run
 * time against the field names of live answers for every model.
 */

export type Role = 'platform-admin' | 'team-admin' | 'host' | 'guest';
export type BookingStatus = 'pending' | 'confirmed' | 'cancelled';

export interface Booking {
  id: string;
  organisationId: string;
  spaceId: string;
  spaceName: string | null;
  title: string | null;
  status: BookingStatus;
  /** ISO instants (UTC). */
  start: string;
  end: string;
  /** The same instants on the location's wall clock, with its offset. */
  startLocal: string;
  endLocal: string;
  timeZone: string;
  bumpInMinutes: number;
  bumpOutMinutes: number;
  organiserId: string;
  inviteeIds: string[];
  source: string;
  externalId: string | null;
  /** Grows with every change. */
  version: number;
  paid: boolean;
  createdAt: string;
  updatedAt: string;
}

/**
 * Whether the provider holds what a booking asks for, per person and access target.
 * 'left-valid': the booking no longer wants access but the provider cannot withdraw the credential
 * it issued (an offline code); it keeps working until `validUntil`.
 */
export type AccessState = 'applied' | 'pending' | 'failed' | 'scheduled' | 'awaiting-trigger' | 'waiting-for-slot' | 'revoking' | 'revoked' | 'left-valid';

export interface AccessEntry {
  integrationId: string;
  personId: string;
  targetRef: string;
  state: AccessState;
  /** The window the provider should hold for this booking, buffers included. */
  from: string;
  until: string;
  error?: string;
  attempts?: number;
  nextAttemptAt?: string;
  /** For 'awaiting-trigger': the rule holding access back, and when it fires (null: on payment). */
  trigger?: { issueOn: string; at: string | null };
  /** For 'left-valid': until when the credential still opens the door. */
  validUntil?: string | null;
}

export interface BookingSyncStatus {
  bookingId: string;
  /** The least settled state over all entries; 'not-mapped' when the space has no access target. */
  state: AccessState | 'not-mapped';
  entries: AccessEntry[];
}

export interface Person {
  id: string;
  organisationId: string;
  name: string;
  email: string | null;
  phone: string | null;
  externalIds: Record<string, string>;
  createdAt: string;
}

export interface Plan {
  id: string;
  organisationId: string;
  name: string;
  spaceIds: string[];
  targets: { integrationId: string; targetRef: string }[];
  createdAt: string;
}

export interface Subscription {
  id: string;
  organisationId: string;
  planId: string;
  /** Exactly one of personId and companyId is set. */
  personId: string | null;
  companyId: string | null;
  start: string;
  /** null: open-ended. */
  end: string | null;
  cancelledAt: string | null;
  createdAt: string;
}

/** The answer to creating an API key: `key` is shown this once and cannot be read again. */
export interface CreatedApiKey {
  id: string;
  key: string;
  role: Role;
  /** Absent for platform-admin keys. */
  organisationId?: string;
  personId?: string | null;
}

/** One of the guest's own PINs (guest keys only). */
export interface MyPin {
  integrationId: string;
  integrationName: string;
  pin: string;
  issuedAt: string;
}

/**
 * A regenerated PIN. The new PIN itself is shown only to the guest (`myPins()`). Providers that
 * issue their own codes answer with `grants` (how many credentials will be replaced) instead of `pinId`.
 */
export type PinRegeneration =
  | { personId: string; integrationId: string; pinId: string; issuedAt: string; note: string }
  | { personId: string; integrationId: string; grants: number; note: string };

/** What Lockstep holds on one provider account, what is due and what is failing. */
export interface IntegrationStatus {
  status: 'active' | 'revoking' | 'disconnected';
  pausedUntil: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  providerUsers: number;
  grants: number;
  due: number;
  scheduled: number;
  failing: { personId: string; attempts: number; error: string | null; nextAttemptAt: string }[];
}

export interface AuditEntry {
  id: number;
  at: string;
  organisationId: string | null;
  /** The API key id (or 'cli', 'engine', …) that acted. */
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  reason: string | null;
  details: Record<string, unknown>;
}

/** Who an API key is. */
export interface Me {
  keyId: string;
  role: Role;
  organisationId: string | null;
  person: Person | null;
}


/** A change call-back subscription: Lockstep POSTs each booking create, update and cancel to `url`. */
export interface CallbackSubscription {
  id: string;
  organisationId: string;
  url: string;
  /** null: bookings of every space. */
  spaceId: string | null;
  includeEmails: boolean;
  description: string | null;
  createdAt: string;
}

/** The answer to subscribing: `signingSecret` is shown this once; keep it to check signatures. */
export interface CreatedCallbackSubscription extends CallbackSubscription {
  signingSecret: string;
}

export type CallbackEventType = 'booking.created' | 'booking.updated' | 'booking.cancelled';

/** The JSON body of a change call-back (check its signature first: verifyWebhookSignature). */
export interface CallbackEvent {
  /** The same on every retry of one delivery: dedupe on it (also the Lockstep-Event-Id header). */
  id: string;
  type: CallbackEventType;
  createdAt: string;
  subscriptionId: string;
  data: {
    bookingId: string;
    organisationId: string;
    spaceId: string;
    spaceName: string | null;
    status: BookingStatus;
    start: string;
    end: string;
    startLocal: string | null;
    endLocal: string | null;
    timeZone: string | null;
    title: string | null;
    version: number;
    source: string;
    externalId: string | null;
    updatedAt: string;
    emailsIncluded: boolean;
    /** Only with `includeEmails` (and never for spaces of a privacy-mode integration). */
    organiser?: { email: string | null };
    attendees?: { email: string | null }[];
  };
}
