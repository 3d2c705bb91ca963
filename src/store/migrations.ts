/**
 * Schema migrations, written once with Kysely's schema builder so SQLite and PostgreSQL get the same
 * tables. Dialect-specific bits (the audit log's append-only triggers) branch on `dialect`.
 * Never edit a released migration; add a new one.
 */
import { Kysely, Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { StoreDialect } from './dialect.js';

type AnyDb = Kysely<any>;

const ts = 'bigint';

function initial(dialect: StoreDialect): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('organisations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('locations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('spaces')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('location_id', 'text', (c) => c.notNull().references('locations.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('buffer_before_minutes', 'integer')
        .addColumn('buffer_after_minutes', 'integer')
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('people')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('phone', 'text')
        .addColumn('external_ids', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('people_org_email').on('people').columns(['organisation_id', 'email']).execute();

      await db.schema
        .createTable('companies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('company_members')
        .addColumn('company_id', 'text', (c) => c.notNull().references('companies.id').onDelete('cascade'))
        .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('company_members_pk', ['company_id', 'person_id'])
        .execute();
      await db.schema.createIndex('company_members_person').on('company_members').column('person_id').execute();

      await db.schema
        .createTable('bookings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('space_id', 'text', (c) => c.notNull().references('spaces.id'))
        .addColumn('organiser_id', 'text', (c) => c.notNull().references('people.id'))
        .addColumn('title', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('starts_at', ts, (c) => c.notNull())
        .addColumn('ends_at', ts, (c) => c.notNull())
        .addColumn('bump_in_minutes', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('bump_out_minutes', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('source', 'text', (c) => c.notNull().defaultTo('api'))
        .addColumn('external_id', 'text')
        .addColumn('source_version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('bookings_source_external')
        .on('bookings')
        .columns(['organisation_id', 'source', 'external_id'])
        .unique()
        .execute();
      await db.schema.createIndex('bookings_organiser').on('bookings').columns(['organiser_id', 'ends_at']).execute();
      await db.schema.createIndex('bookings_space').on('bookings').columns(['space_id', 'ends_at']).execute();

      await db.schema
        .createTable('booking_invitees')
        .addColumn('booking_id', 'text', (c) => c.notNull().references('bookings.id').onDelete('cascade'))
        .addColumn('person_id', 'text', (c) => c.notNull().references('people.id'))
        .addPrimaryKeyConstraint('booking_invitees_pk', ['booking_id', 'person_id'])
        .execute();
      await db.schema.createIndex('booking_invitees_person').on('booking_invitees').column('person_id').execute();

      await db.schema
        .createTable('plans')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('integrations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('base_url', 'text', (c) => c.notNull())
        .addColumn('credentials_enc', 'text', (c) => c.notNull())
        .addColumn('buffer_before_minutes', 'integer', (c) => c.notNull())
        .addColumn('buffer_after_minutes', 'integer', (c) => c.notNull())
        .addColumn('pin_length', 'integer')
        .addColumn('privacy_mode', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('mobile_credentials', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('provision_ahead_days', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('paused_until', ts)
        .addColumn('last_error', 'text')
        .addColumn('last_error_at', ts)
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('plan_spaces')
        .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id').onDelete('cascade'))
        .addColumn('space_id', 'text', (c) => c.notNull().references('spaces.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('plan_spaces_pk', ['plan_id', 'space_id'])
        .execute();

      await db.schema
        .createTable('plan_targets')
        .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id').onDelete('cascade'))
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('target_ref', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('plan_targets_pk', ['plan_id', 'integration_id', 'target_ref'])
        .execute();

      await db.schema
        .createTable('subscriptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id'))
        .addColumn('person_id', 'text', (c) => c.references('people.id'))
        .addColumn('company_id', 'text', (c) => c.references('companies.id'))
        .addColumn('starts_at', ts, (c) => c.notNull())
        .addColumn('ends_at', ts)
        .addColumn('cancelled_at', ts)
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('subscriptions_person').on('subscriptions').column('person_id').execute();
      await db.schema.createIndex('subscriptions_company').on('subscriptions').column('company_id').execute();

      await db.schema
        .createTable('mappings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('space_id', 'text', (c) => c.notNull().references('spaces.id').onDelete('cascade'))
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('target_ref', 'text', (c) => c.notNull())
        .addColumn('target_name', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addUniqueConstraint('mappings_unique', ['space_id', 'integration_id', 'target_ref'])
        .execute();

      await db.schema
        .createTable('pins')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
        .addColumn('pin_enc', 'text', (c) => c.notNull())
        .addColumn('pin_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('revoked_at', ts)
        .execute();
      // One live PIN per person per integration, and no two live PINs alike within an integration.
      await db.schema
        .createIndex('pins_live_person')
        .on('pins')
        .columns(['integration_id', 'person_id'])
        .unique()
        .where(sql.ref('revoked_at'), 'is', null)
        .execute();
      await db.schema
        .createIndex('pins_live_hash')
        .on('pins')
        .columns(['integration_id', 'pin_hash'])
        .unique()
        .where(sql.ref('revoked_at'), 'is', null)
        .execute();

      await db.schema
        .createTable('provider_users')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('person_id', 'text', (c) => c.notNull())
        .addColumn('user_key', 'text', (c) => c.notNull())
        .addColumn('provider_ref', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('pin_id', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('provider_users_pk', ['integration_id', 'person_id'])
        .execute();

      await db.schema
        .createTable('provider_grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('person_id', 'text', (c) => c.notNull())
        .addColumn('target_ref', 'text', (c) => c.notNull())
        .addColumn('provider_ref', 'text')
        .addColumn('starts_at', ts, (c) => c.notNull())
        .addColumn('ends_at', ts)
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('pin_id', 'text')
        .addColumn('reasons', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('provider_grants_person')
        .on('provider_grants')
        .columns(['integration_id', 'person_id'])
        .execute();

      await db.schema
        .createTable('sync_work')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('person_id', 'text', (c) => c.notNull())
        .addColumn('due_at', ts, (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('verify', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('claimed_by', 'text')
        .addColumn('claim_until', ts)
        .addPrimaryKeyConstraint('sync_work_pk', ['integration_id', 'person_id'])
        .execute();
      await db.schema.createIndex('sync_work_due').on('sync_work').column('due_at').execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.references('organisations.id').onDelete('cascade'))
        .addColumn('person_id', 'text', (c) => c.references('people.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('revoked_at', ts)
        .execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('at', ts, (c) => c.notNull())
        .addColumn('organisation_id', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('subject_type', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema.createIndex('audit_log_org_at').on('audit_log').columns(['organisation_id', 'id']).execute();
      await db.schema.createIndex('audit_log_subject').on('audit_log').columns(['subject_type', 'subject_id']).execute();

      // Append-only: the database itself refuses to change or remove history.
      if (dialect === 'sqlite') {
        await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
          BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
        await sql`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
          BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
      } else {
        await sql`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`.execute(db);
        await sql`CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
          FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db);
        // TRUNCATE bypasses row triggers; refuse it with a statement trigger.
        await sql`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
          FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`.execute(db);
      }
    },
  };
}

/**
 * Credentials the provider issues per grant (algoPIN, access code, URL key), sealed like our own PINs,
 * and the 'left-valid' grant state: an offline credential that could not be withdrawn and is kept on
 * record until it expires so the admin can see it.
 */
const issuedCredentials: Migration = {
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
const notifications: Migration = {
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
const bookingSources: Migration = {
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
const visits: Migration = {
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
const triggers: Migration = {
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
const integrationApi: Migration = {
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
const icalFeeds: Migration = {
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

/**
 * Scale-out (issue 6): limits that must hold across every Lockstep process sharing the store.
 * - `rate_buckets`: a token bucket per provider account (keyed hash of kind, address and
 *   credentials), so N workers together stay under the account's request rate; `blocked_until` is
 *   set from a 429's Retry-After and holds every worker back for that account only.
 * - `rate_counters`: fixed-window counters for brute-force limits (API-key guessing, visitor-code
 *   scans, URL-key openings), so a guesser gains nothing by spreading over API nodes.
 * - `integrations.rate_limit_per_minute`: the admin's override of the provider's default pace.
 */
const scaleOut = (dialect: StoreDialect): Migration => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('rate_buckets')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('tokens', 'double precision', (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      .addColumn('blocked_until', ts)
      .execute();
    await db.schema
      .createTable('rate_counters')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('window_start', ts, (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rate_counters_window').on('rate_counters').column('window_start').execute();
    await db.schema.alterTable('integrations').addColumn('rate_limit_per_minute', 'integer').execute();
    // A source may deliver version 2147483647; an API edit after it stores version + 1. SQLite's
    // integer is 64-bit already; PostgreSQL's is 32-bit.
    if (dialect === 'postgres') await sql`alter table bookings alter column source_version type bigint`.execute(db);
  },
});

/**
 * The claim query asks for one integration's due items in due order. With only the primary key
 * (integration_id, person_id) and due_at alone to choose from, SQLite took the primary key and
 * sorted every row of the integration on each claim: 8 ms at 20,000 people, and a claim follows
 * every finished sync. This index answers it as a range, already in order.
 */
const syncWorkClaimIndex: Migration = {
  async up(db) {
    await db.schema.createIndex('sync_work_integration_due').on('sync_work').columns(['integration_id', 'due_at']).execute();
  },
};

/**
 * Two questions the notifier asks per person had no index and read a whole table each time:
 * - a person's present codes across integrations (what the guest was told): provider_grants was
 *   indexed only by (integration_id, person_id); 1.2 ms per booking notice at 20,000 grants;
 * - whether a person was told a PIN before (PIN-changed notices): notifications had no person
 *   index; 5 ms per fresh PIN at 9,000 messages, and a pass asks it for every fresh PIN.
 */
const personIndexes: Migration = {
  async up(db) {
    await db.schema.createIndex('provider_grants_person_state').on('provider_grants').columns(['person_id', 'state']).execute();
    await db.schema.createIndex('notifications_person_created').on('notifications').columns(['person_id', 'created_at']).execute();
  },
};

/**
 * Keypads that fill up (issue 13). Per access target: the capacity the provider reports and the
 * admin's own setting (which wins), and how many codes on it Lockstep did not create (read from the
 * provider; counted, never touched). `slot_waits` holds the people whose code waits for a free slot,
 * with the start of the window they wait for: the nearest is served first.
 */
const targetCapacity: Migration = {
  async up(db) {
    await db.schema
      .createTable('target_capacity')
      .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
      .addColumn('target_ref', 'text', (c) => c.notNull())
      .addColumn('reported', 'integer')
      .addColumn('setting', 'integer')
      .addColumn('foreign_codes', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('foreign_read_at', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('target_capacity_pk', ['integration_id', 'target_ref'])
      .execute();
    await db.schema
      .createTable('slot_waits')
      .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
      .addColumn('target_ref', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull())
      .addColumn('starts_at', 'bigint', (c) => c.notNull())
      .addColumn('since', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('slot_waits_pk', ['integration_id', 'target_ref', 'person_id'])
      .execute();
  },
};

/**
 * PIN prefix clashes across PIN lengths (issue 13): a keypad that opens as soon as the digits typed
 * match a code opens for a 4-digit PIN while someone types a 6-digit one that starts with it. Each
 * live PIN's proper prefixes are kept as keyed hashes (the same keyed hash as `pins.pin_hash`), so a
 * new PIN is checked both ways without decrypting anyone's. `prefixes_indexed` marks PINs done (older
 * PINs are indexed on the next start).
 */
const pinPrefixes: Migration = {
  async up(db) {
    await db.schema
      .createTable('pin_prefixes')
      .addColumn('pin_id', 'text', (c) => c.notNull().references('pins.id').onDelete('cascade'))
      .addColumn('integration_id', 'text', (c) => c.notNull())
      .addColumn('prefix_hash', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('pin_prefixes_pk', ['pin_id', 'prefix_hash'])
      .execute();
    await db.schema.createIndex('pin_prefixes_lookup').on('pin_prefixes').columns(['integration_id', 'prefix_hash']).execute();
    await db.schema.alterTable('pins').addColumn('prefixes_indexed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};

class StaticMigrations implements MigrationProvider {
  constructor(private readonly dialect: StoreDialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '0001_initial': initial(this.dialect),
      '0002_issued_credentials': issuedCredentials,
      '0003_notifications': notifications,
      '0004_booking_sources': bookingSources,
      '0005_ical_feeds': icalFeeds,
      '0006_integration_api': integrationApi,
      '0007_visits': visits,
      '0008_triggers': triggers,
      '0009_scale_out': scaleOut(this.dialect),
      '0010_sync_work_claim_index': syncWorkClaimIndex,
      '0011_person_indexes': personIndexes,
      '0012_target_capacity': targetCapacity,
      '0013_pin_prefixes': pinPrefixes,
    };
  }
}

export interface MigrationOutcome {
  applied: string[];
}

export async function migrateToLatest(db: Kysely<any>, dialect: StoreDialect): Promise<MigrationOutcome> {
  const migrator = new Migrator({ db, provider: new StaticMigrations(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${(error as Error).message ?? error}`);
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
