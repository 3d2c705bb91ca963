/** 0001: the core tables (issue 2): venues, people, bookings, subscriptions, integrations, PINs, applied state, work queue, API keys, audit log. */
import { Kysely, sql, type Migration } from 'kysely';
import type { StoreDialect } from '../dialect.js';

type AnyDb = Kysely<any>;

const ts = 'bigint';

export function initial(dialect: StoreDialect): Migration {
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

