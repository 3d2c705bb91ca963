/**
 * Table types for Kysely. Column names are camelCase here and snake_case in the database
 * (CamelCasePlugin). Instants are epoch milliseconds (BIGINT); booleans are 0/1 integers and
 * JSON is text, so the same rows work on SQLite and PostgreSQL.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface OrganisationsTable {
  id: string;
  name: string;
  createdAt: number;
}

export interface LocationsTable {
  id: string;
  organisationId: string;
  name: string;
  timeZone: string;
  createdAt: number;
}

export interface SpacesTable {
  id: string;
  organisationId: string;
  locationId: string;
  name: string;
  kind: string;
  bufferBeforeMinutes: number | null;
  bufferAfterMinutes: number | null;
  createdAt: number;
}

export interface PeopleTable {
  id: string;
  organisationId: string;
  name: string;
  email: string | null;
  phone: string | null;
  /** JSON object of source → id. */
  externalIds: string;
  createdAt: number;
}

export interface CompaniesTable {
  id: string;
  organisationId: string;
  name: string;
  createdAt: number;
}

export interface CompanyMembersTable {
  companyId: string;
  personId: string;
}

export interface BookingsTable {
  id: string;
  organisationId: string;
  spaceId: string;
  organiserId: string;
  title: string | null;
  status: 'pending' | 'confirmed' | 'cancelled';
  startsAt: number;
  endsAt: number;
  bumpInMinutes: number;
  bumpOutMinutes: number;
  source: string;
  externalId: string | null;
  sourceVersion: number;
  createdAt: number;
  updatedAt: number;
}

export interface BookingInviteesTable {
  bookingId: string;
  personId: string;
}

export interface PlansTable {
  id: string;
  organisationId: string;
  name: string;
  createdAt: number;
}

export interface PlanSpacesTable {
  planId: string;
  spaceId: string;
}

export interface PlanTargetsTable {
  planId: string;
  integrationId: string;
  targetRef: string;
}

export interface SubscriptionsTable {
  id: string;
  organisationId: string;
  planId: string;
  personId: string | null;
  companyId: string | null;
  startsAt: number;
  endsAt: number | null;
  cancelledAt: number | null;
  createdAt: number;
}

export type IntegrationStatus = 'active' | 'revoking' | 'disconnected';

export interface IntegrationsTable {
  id: string;
  organisationId: string;
  kind: string;
  name: string;
  baseUrl: string;
  /** SecretBox-sealed JSON of the credentials. */
  credentialsEnc: string;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  pinLength: number | null;
  privacyMode: number;
  mobileCredentials: number;
  provisionAheadDays: number;
  /** Requests per minute Lockstep allows itself on this provider account; null: the provider's default; 0: no limit. */
  rateLimitPerMinute: number | null;
  status: IntegrationStatus;
  /** Set after a 429: no calls to this provider account before this instant. */
  pausedUntil: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  createdAt: number;
}

export interface MappingsTable {
  id: string;
  organisationId: string;
  spaceId: string;
  integrationId: string;
  targetRef: string;
  targetName: string | null;
  createdAt: number;
}

export interface PinsTable {
  id: string;
  integrationId: string;
  personId: string;
  pinEnc: string;
  /** Keyed hash of the PIN: uniqueness without storing it in the clear. */
  pinHash: string;
  createdAt: number;
  revokedAt: number | null;
  /** 1 once the PIN's proper prefixes are in pin_prefixes (migration 0013). */
  prefixesIndexed: ColumnType<number, number | undefined, number>;
}

/** Keyed hashes of each proper prefix of a PIN (prefix clashes across PIN lengths). */
export interface PinPrefixesTable {
  pinId: string;
  integrationId: string;
  prefixHash: string;
}

export type AppliedState = 'creating' | 'present' | 'updating' | 'deleting';
/**
 * A grant row's state. 'left-valid': the provider cannot withdraw it (offline algoPIN), so it stays
 * usable until it ends; the row is kept, out of planning, until then so admins and audit can see it.
 */
export type GrantState = AppliedState | 'left-valid';

export interface ProviderUsersTable {
  integrationId: string;
  personId: string;
  userKey: string;
  providerRef: string | null;
  state: AppliedState;
  /** The pins.id last confirmed on the provider. */
  pinId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ProviderGrantsTable {
  id: string;
  integrationId: string;
  personId: string;
  targetRef: string;
  providerRef: string | null;
  startsAt: number;
  endsAt: number | null;
  state: GrantState;
  pinId: string | null;
  /** JSON array of reasons (booking:…, subscription:…). */
  reasons: string;
  /** Provider-issued credential for this grant: kind, sealed secret, validity as issued, guest instructions. */
  credentialKind: 'pin' | 'url-key' | 'mobile-key' | null;
  credentialSealed: string | null;
  credentialValidFrom: number | null;
  credentialValidUntil: number | null;
  credentialInstructions: string | null;
  credentialFirstUseBefore: number | null;
  /** 1 when a host asked for a new credential; see engine/reconcile. */
  replaceRequested: ColumnType<number, number | undefined, number>;
  /** 1 for an offline code the provider cannot change or withdraw (see ProviderAdapter.createGrant). */
  fixed: ColumnType<number, number | undefined, number>;
  createdAt: number;
  updatedAt: number;
}

/** Keypad capacity per access target (migration 0012). Capacity used = setting ?? reported. */
export interface TargetCapacityTable {
  integrationId: string;
  targetRef: string;
  reported: number | null;
  setting: number | null;
  foreignCodes: ColumnType<number, number | undefined, number>;
  foreignReadAt: number | null;
  updatedAt: number;
}

/** A person whose code on a full target waits for a free slot; `startsAt`: the window's start. */
export interface SlotWaitsTable {
  integrationId: string;
  targetRef: string;
  personId: string;
  startsAt: number;
  since: number;
}

export interface SyncWorkTable {
  integrationId: string;
  personId: string;
  dueAt: number;
  /** Bumped by every enqueue, so a change made during a sync is not lost when it completes. */
  generation: number;
  attempts: number;
  /** Read the provider back before planning (drift check / crash recovery). */
  verify: number;
  lastError: string | null;
  claimedBy: string | null;
  claimUntil: number | null;
}

export interface ApiKeysTable {
  id: string;
  organisationId: string | null;
  personId: string | null;
  role: 'platform-admin' | 'team-admin' | 'host' | 'guest';
  name: string;
  keyHash: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  organisationId: string | null;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  reason: string | null;
  /** JSON, never containing secrets. */
  details: string;
}

export type NotificationStatus = 'queued' | 'sent' | 'outbox' | 'failed';

/** One e-mail, produced once per change (dedupeKey) and sent by the notifier's dispatcher. */
export interface NotificationsTable {
  id: string;
  organisationId: string | null;
  /** The recipient; null for admin alerts sent to a configured address. */
  personId: string | null;
  toAddress: string;
  kind: string;
  dedupeKey: string;
  bookingId: string | null;
  /** What the message described (e.g. the booking window), to tell a real move from a title edit. */
  fingerprint: string | null;
  subject: string;
  /** SecretBox-sealed JSON { text, html, secrets } (before: { text, html, redactedText, redactedHtml }): bodies carry PINs. */
  bodySealed: string;
  status: NotificationStatus;
  attempts: number;
  lastError: string | null;
  claimedBy: string | null;
  claimUntil: number | null;
  createdAt: number;
  sendAfter: number;
  sentAt: number | null;
}

export interface NotifierMarksTable {
  key: string;
  value: number;
}

export type BookingSourceKind = 'calcom' | 'webhook' | 'ical';

export interface BookingSourcesTable {
  id: string;
  organisationId: string;
  kind: BookingSourceKind;
  name: string;
  /** Signing secret (Cal.com / webhook), sealed; null for feeds. */
  secretSealed: string | null;
  /** JSON: kind-specific settings (space mapping, feed URL, poll interval, …). */
  settings: string;
  lastEventAt: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Highest version seen per source booking; see migration 0004. */
export interface SourceEventsTable {
  organisationId: string;
  source: string;
  externalId: string;
  version: number;
  cancelled: number;
  bookingId: string | null;
  updatedAt: number;
}

export type VisitStatus = 'expected' | 'checked-in' | 'checked-out';

/** A booking × person: the registration code (sealed, plus keyed hash for lookup) and check-in state. */
export interface VisitsTable {
  id: string;
  organisationId: string;
  bookingId: string;
  personId: string;
  codeSealed: string;
  codeHash: string;
  status: VisitStatus;
  checkedInAt: number | null;
  checkedOutAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Issue 5 triggers: a rule per integration ('integration') or per-space override ('space'). Null fields inherit. */
export interface TriggerRulesTable {
  scopeType: 'integration' | 'space';
  scopeId: string;
  organisationId: string;
  issueOn: 'on-confirmation' | 'on-payment' | 'before-start' | null;
  hoursBefore: number | null;
  /** Spaces only: how the PIN reaches the guest ('email' when null). */
  delivery: 'email' | 'sms' | 'dashboard' | null;
  updatedAt: number;
}

/** A booking marked paid (the 'on-payment' trigger); no row = unpaid. */
export interface BookingPaymentsTable {
  bookingId: string;
  paidAt: number;
}

/** An external system's call-back URL for one space (spaceId) or all of an organisation's (null); see migration 0006. */
export interface CallbackSubscriptionsTable {
  id: string;
  organisationId: string;
  spaceId: string | null;
  url: string;
  description: string | null;
  /** 1: organiser/attendee e-mails go in the payload (unless a privacy-mode integration serves the space). */
  includeEmails: number;
  /** SecretBox-sealed signing secret (shown once at creation). */
  secretSealed: string;
  /** Bookings updated before this instant have been scanned for this subscription. */
  scannedTo: number;
  createdBy: string;
  createdAt: number;
}

export type CallbackDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'superseded';

/** One booking change for one subscription: queued once (unique change key), sent with retries. */
export interface CallbackDeliveriesTable {
  id: string;
  subscriptionId: string;
  organisationId: string;
  bookingId: string;
  changeKey: string;
  /** Hash of what the payload describes; a new delivery is queued only when it differs from the last. */
  fingerprint: string;
  /** The booking's updatedAt when it was read: deliveries for one booking go out in this order. */
  bookingUpdatedAt: number;
  version: number;
  eventType: string;
  /** JSON of the event's data as it was queued. */
  payload: string;
  status: CallbackDeliveryStatus;
  attempts: number;
  lastError: string | null;
  responseCode: number | null;
  nextAttemptAt: number;
  lastAttemptAt: number | null;
  deliveredAt: number | null;
  claimedBy: string | null;
  claimUntil: number | null;
  createdAt: number;
}

/** E-mail (lower-case) → access card number, sealed; for site-side controllers (daily booking list). */
export interface AccessCardsTable {
  organisationId: string;
  email: string;
  cardSealed: string;
  /** Keyed hash of the card number: one card per e-mail within an organisation. */
  cardHash: string;
  label: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Poll state of an iCal feed source; see migration 0005. */
export interface IcalFeedsTable {
  sourceId: string;
  organisationId: string;
  /** Hash of the source settings the validators below belong to (a new URL or space refetches). */
  settingsHash: string | null;
  etag: string | null;
  lastModified: string | null;
  lastPolledAt: number | null;
  /** Last time the whole feed was downloaded (200), as opposed to 304. */
  lastFetchedAt: number | null;
  lastSuccessAt: number | null;
  nextPollAt: number;
  lastStatus: 'ok' | 'not-modified' | 'error' | null;
  lastHttpStatus: number | null;
  lastError: string | null;
  failures: number;
  leaseUntil: number | null;
  /** JSON: counts and skipped events of the last reconciled fetch. */
  report: string | null;
  updatedAt: number;
}

/** What was last applied for one occurrence of a feed; see migration 0005. */
export interface IcalFeedEventsTable {
  sourceId: string;
  externalId: string;
  uid: string;
  fingerprint: string;
  naturalVersion: number;
  startsAt: number;
  endsAt: number;
  cancelled: number;
  /** First successful poll that did not have this occurrence; null while it is in the feed. */
  missingSince: number | null;
  /** Successful polls in a row (304s included) that did not have it. */
  missingPolls: number;
  updatedAt: number;
}

/** A provider account's token bucket, shared by every worker; see migration 0009. */
export interface RateBucketsTable {
  key: string;
  tokens: number;
  updatedAt: number;
  /** A 429's Retry-After: nobody calls this account before then. */
  blockedUntil: number | null;
}

/** A fixed-window counter (brute-force limits); see migration 0009. */
export interface RateCountersTable {
  key: string;
  windowStart: number;
  count: number;
}

export interface Database {
  organisations: OrganisationsTable;
  locations: LocationsTable;
  spaces: SpacesTable;
  people: PeopleTable;
  companies: CompaniesTable;
  companyMembers: CompanyMembersTable;
  bookings: BookingsTable;
  bookingInvitees: BookingInviteesTable;
  plans: PlansTable;
  planSpaces: PlanSpacesTable;
  planTargets: PlanTargetsTable;
  subscriptions: SubscriptionsTable;
  integrations: IntegrationsTable;
  mappings: MappingsTable;
  pins: PinsTable;
  providerUsers: ProviderUsersTable;
  providerGrants: ProviderGrantsTable;
  bookingSources: BookingSourcesTable;
  sourceEvents: SourceEventsTable;
  icalFeeds: IcalFeedsTable;
  icalFeedEvents: IcalFeedEventsTable;
  syncWork: SyncWorkTable;
  targetCapacity: TargetCapacityTable;
  pinPrefixes: PinPrefixesTable;
  slotWaits: SlotWaitsTable;
  apiKeys: ApiKeysTable;
  auditLog: AuditLogTable;
  notifications: NotificationsTable;
  notifierMarks: NotifierMarksTable;
  callbackSubscriptions: CallbackSubscriptionsTable;
  callbackDeliveries: CallbackDeliveriesTable;
  accessCards: AccessCardsTable;
  triggerRules: TriggerRulesTable;
  bookingPayments: BookingPaymentsTable;
  visits: VisitsTable;
  rateBuckets: RateBucketsTable;
  rateCounters: RateCountersTable;
}

export type Row<T extends keyof Database> = Selectable<Database[T]>;
export type NewRow<T extends keyof Database> = Insertable<Database[T]>;
export type RowUpdate<T extends keyof Database> = Updateable<Database[T]>;
