/**
 * Schema migrations, written once with Kysely's schema builder so SQLite and PostgreSQL get the same
 * tables. Dialect-specific bits (the audit log's append-only triggers) branch on `dialect`.
 * Never edit a released migration; add a new one.
 */
import { Kysely, Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import { initial } from './0001-initial.js';
import { bookingSources, icalFeeds, integrationApi, issuedCredentials, notifications, triggers, visits } from './0002-0008-features.js';
import { personIndexes, pinPrefixes, scaleOut, syncWorkClaimIndex, targetCapacity } from './0009-0013-scale-and-keypads.js';

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

