/** 0002–0008: provider-issued credentials, notifications, booking sources, call-backs, iCal feeds, visits, triggers (issues 3–5). */
import { Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<any>;

const ts = 'bigint';

/**
 * Credentials the provider issues per grant (algoPIN, access code, URL key), sealed like our own PINs,
 * and the 'left-valid' grant state: an offline credential that could not be withdrawn and is kept on
 * record until it expires so the admin can see it.
 */
export const issuedCredentials: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('provider_grants').addColumn('credential_kind', 'text').execute();
    await db.schema.alterTable('provider_grants').addColumn('credential_sealed', 'text').execute();
    await db.schema.alterTable('provider_grants').addColumn('credential_valid_from', ts).execute();
    await db.schema.alterTable('provider_grants').addColumn('credential_valid_until', ts).execute();
    await db.schema.alterTable('provider_grants').addColumn('credential_instructions', 'text').execute();
    await db.schema.alterTable('provider_grants').addColumn('credential_first_use_before', ts).execute();
    // A host asked for a new credential: the engine issues a fresh grant and withdraws this one.
    await db.schema.alterTable('provider_grants').addColumn('replace_requested', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    // An offline code on one target of an otherwise online provider: never changed, never "withdrawn".
    await db.schema.alterTable('provider_grants').addColumn('fixed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};

/**
 * The notification outbox. `dedupe_key` is unique so "one message per change" holds across retries,
 * restarts and several workers (insert … on conflict do nothing). Bodies are sealed: they carry PINs.
 * `notifier_marks` remembers small facts the notifier derives, e.g. when an integration began failing,
 * so one alert covers one failure episode.
 */
export const notifications: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('notifications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organisation_id', 'text', (c) => c.references('organisations.id').onDelete('cascade'))
      .addColumn('person_id', 'text')
      .addColumn('to_address', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
      .addColumn('booking_id', 'text')
      .addColumn('fingerprint', 'text')
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('body_sealed', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('claimed_by', 'text')
      .addColumn('claim_until', ts)
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('send_after', ts, (c) => c.notNull())
      .addColumn('sent_at', ts)
      .execute();
    await db.schema.createIndex('notifications_due').on('notifications').columns(['status', 'send_after']).execute();
    await db.schema.createIndex('notifications_booking').on('notifications').columns(['booking_id', 'person_id']).execute();
    await db.schema.createIndex('notifications_org_created').on('notifications').columns(['organisation_id', 'created_at']).execute();

    await db.schema
      .createTable('notifier_marks')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', ts, (c) => c.notNull())
      .execute();
  },
};

/**
 * Booking sources (Cal.com, signed webhook, iCal feeds) and the ledger that makes their deliveries
 * idempotent: per (organisation, source, external id) the highest version seen and whether it was a
 * cancellation, so a duplicate or older delivery never regresses or resurrects a booking.
 */
export const bookingSources: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('booking_sources')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('secret_sealed', 'text')
      .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('last_event_at', ts)
      .addColumn('last_error', 'text')
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('source_events')
      .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('cancelled', 'integer', (c) => c.notNull())
      .addColumn('booking_id', 'text')
      .addColumn('updated_at', ts, (c) => c.notNull())
      .addPrimaryKeyConstraint('source_events_pk', ['organisation_id', 'source', 'external_id'])
      .execute();
  },
};

/**
 * Visitor check-in/out: one visit per booking and person (organiser or invitee), with a registration
 * code sealed for display and a keyed hash for the scanner's lookup, and the visit's status.
 */
export const visits: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('visits')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('booking_id', 'text', (c) => c.notNull().references('bookings.id').onDelete('cascade'))
      .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
      .addColumn('code_sealed', 'text', (c) => c.notNull())
      .addColumn('code_hash', 'text', (c) => c.notNull().unique())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('checked_in_at', ts)
      .addColumn('checked_out_at', ts)
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      .addUniqueConstraint('visits_booking_person', ['booking_id', 'person_id'])
      .execute();
    await db.schema.createIndex('visits_person').on('visits').column('person_id').execute();
  },
};

/** Issue 5, triggers: when a booking's access is issued (per integration, per-space override), how the PIN reaches the guest, and a booking's payment flag. */
export const triggers: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('trigger_rules')
      .addColumn('scope_type', 'text', (c) => c.notNull())
      .addColumn('scope_id', 'text', (c) => c.notNull())
      .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('issue_on', 'text')
      .addColumn('hours_before', 'double precision')
      .addColumn('delivery', 'text')
      .addColumn('updated_at', ts, (c) => c.notNull())
      .addPrimaryKeyConstraint('trigger_rules_pk', ['scope_type', 'scope_id'])
      .execute();
    await db.schema
      .createTable('booking_payments')
      .addColumn('booking_id', 'text', (c) => c.primaryKey().references('bookings.id').onDelete('cascade'))
      .addColumn('paid_at', ts, (c) => c.notNull())
      .execute();
  },
};

/**
 * Integration API (out): call-back subscriptions and their delivery log, and the e-mail → card-number
 * store. A delivery is unique per (subscription, booking, change key), so several dispatchers and
 * re-scans after a restart never queue a change twice. Signing secrets and card numbers are sealed;
 * a card's keyed hash keeps one card on one e-mail per organisation.
 */
export const integrationApi: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('callback_subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('space_id', 'text', (c) => c.references('spaces.id').onDelete('cascade'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('include_emails', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('scanned_to', ts, (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('callback_subscriptions_org').on('callback_subscriptions').column('organisation_id').execute();

    await db.schema
      .createTable('callback_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) => c.notNull().references('callback_subscriptions.id').onDelete('cascade'))
      .addColumn('organisation_id', 'text', (c) => c.notNull())
      .addColumn('booking_id', 'text', (c) => c.notNull())
      .addColumn('change_key', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('booking_updated_at', ts, (c) => c.notNull())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('response_code', 'integer')
      .addColumn('next_attempt_at', ts, (c) => c.notNull())
      .addColumn('last_attempt_at', ts)
      .addColumn('delivered_at', ts)
      .addColumn('claimed_by', 'text')
      .addColumn('claim_until', ts)
      .addColumn('created_at', ts, (c) => c.notNull())
      .addUniqueConstraint('callback_deliveries_change', ['subscription_id', 'booking_id', 'change_key'])
      .execute();
    await db.schema.createIndex('callback_deliveries_due').on('callback_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('callback_deliveries_booking').on('callback_deliveries').columns(['booking_id', 'subscription_id']).execute();
    await db.schema.createIndex('callback_deliveries_log').on('callback_deliveries').columns(['subscription_id', 'created_at']).execute();

    await db.schema
      .createTable('access_cards')
      .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('card_sealed', 'text', (c) => c.notNull())
      .addColumn('card_hash', 'text', (c) => c.notNull())
      .addColumn('label', 'text')
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      .addPrimaryKeyConstraint('access_cards_pk', ['organisation_id', 'email'])
      .addUniqueConstraint('access_cards_card', ['organisation_id', 'card_hash'])
      .execute();
  },
};

/**
 * Issue 5, iCal feeds: per feed its poll state (conditional-GET validators, schedule, back-off, last
 * outcome, a lease so one worker polls a feed at a time) and per feed occurrence what was last applied
 * (content fingerprint and revision), so an unchanged feed costs no writes, and since when and for how
 * many polls an event has been missing, so it is cancelled only once its absence is confirmed.
 */
export const icalFeeds: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('ical_feeds')
      .addColumn('source_id', 'text', (c) => c.primaryKey().references('booking_sources.id').onDelete('cascade'))
      .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('settings_hash', 'text')
      .addColumn('etag', 'text')
      .addColumn('last_modified', 'text')
      .addColumn('last_polled_at', ts)
      .addColumn('last_fetched_at', ts)
      .addColumn('last_success_at', ts)
      .addColumn('next_poll_at', ts, (c) => c.notNull())
      .addColumn('last_status', 'text')
      .addColumn('last_http_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_until', ts)
      .addColumn('report', 'text')
      .addColumn('updated_at', ts, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ical_feeds_due').on('ical_feeds').column('next_poll_at').execute();
    await db.schema
      .createTable('ical_feed_events')
      .addColumn('source_id', 'text', (c) => c.notNull().references('booking_sources.id').onDelete('cascade'))
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('uid', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('natural_version', 'bigint', (c) => c.notNull())
      .addColumn('starts_at', ts, (c) => c.notNull())
      .addColumn('ends_at', ts, (c) => c.notNull())
      .addColumn('cancelled', 'integer', (c) => c.notNull())
      .addColumn('missing_since', ts)
      .addColumn('missing_polls', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', ts, (c) => c.notNull())
      .addPrimaryKeyConstraint('ical_feed_events_pk', ['source_id', 'external_id'])
      .execute();
  },
};

