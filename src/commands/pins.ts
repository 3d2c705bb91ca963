/**
 * Regenerating a guest's code, whoever asks (the REST API; the console goes through it). Where
 * Lockstep keeps the PIN, a new one is issued and the engine writes it everywhere the old one was;
 * where the provider issues codes, each current grant is marked for replacement and the engine asks
 * for a fresh one.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { ProviderAdapter } from '../providers/types.js';
import type { PinService } from '../engine/pins.js';
import type { ChangeFeed } from '../engine/changes.js';
import { pinRulesFor } from '../engine/pin-rules.js';
import { writeAudit } from '../store/audit.js';
import { ApiError } from '../domain/errors.js';

export interface RegenerateDeps {
  db: Kysely<Database>;
  pins: PinService;
  changes: Pick<ChangeFeed, 'people'>;
}

export type RegenerateOutcome =
  | { kind: 'pin'; pinId: string; issuedAt: number; note: string }
  | { kind: 'provider-issued'; grants: number; note: string };

export async function regenerateCode(
  deps: RegenerateDeps,
  person: Pick<Row<'people'>, 'id' | 'organisationId'>,
  integration: Row<'integrations'>,
  adapter: ProviderAdapter,
  actor: string,
): Promise<RegenerateOutcome> {
  const { db } = deps;
  if (adapter.capabilities.issuesCredentials) {
    // The provider issues the code: ask the engine for a fresh grant in place of each current one.
    const res = await db
      .updateTable('providerGrants')
      .set({ replaceRequested: 1, updatedAt: Date.now() })
      .where('integrationId', '=', integration.id)
      .where('personId', '=', person.id)
      .where('state', '!=', 'left-valid')
      .executeTakeFirst();
    const grants = Number(res.numUpdatedRows);
    await writeAudit(db, {
      organisationId: person.organisationId,
      actor,
      action: 'credential.replace-requested',
      subjectType: 'person',
      subjectId: person.id,
      details: { integrationId: integration.id, grants },
    });
    await deps.changes.people(person.organisationId, [person.id]);
    const withdrawn = adapter.capabilities.revocable
      ? 'the old one is withdrawn once the new one is issued'
      : `${integration.kind} cannot withdraw an issued offline code, so the old one keeps working until it expires`;
    return { kind: 'provider-issued', grants, note: `the provider issues a new credential, shown to the guest only; ${withdrawn}` };
  }
  if (!adapter.capabilities.pinOnUser && !adapter.capabilities.pinOnLock) {
    throw new ApiError(400, 'validation', `integrationId: ${integration.kind} does not use personal PINs`, [{ path: 'integrationId', message: `${integration.kind} does not use personal PINs` }]);
  }
  const pin = await deps.pins.regenerate(integration.id, person.id, pinRulesFor(adapter, integration), person.organisationId, actor);
  await deps.changes.people(person.organisationId, [person.id]);
  return { kind: 'pin', pinId: pin.id, issuedAt: pin.createdAt, note: 'the new PIN is shown to the guest only; the provider is updated by the sync engine' };
}
