/**
 * "Open the door now" (a provider's remote pulse), shared by POST /v1/me/open (guest API key) and
 * POST /k/:token (URL key). Opens only doors where the person holds a grant that is on the provider
 * and valid at this moment, and audits each opening.
 */
import type { App } from '../app.js';
import { writeAudit } from '../store/audit.js';
import { providerIdentity } from '../engine/reconcile.js';

export interface OpenRequest {
  organisationId: string;
  personId: string;
  spaceId: string;
  /** Who asked (API key id, or `url-key:<booking id>`), for the audit log. */
  actor: string;
  /** Audit detail: the booking a URL key was issued for. */
  bookingId?: string;
}

/** Returns the targets opened; `mapped` false when the space has no active mapping at all. */
export async function openDoorsNow(app: App, r: OpenRequest): Promise<{ mapped: boolean; opened: string[] }> {
  const db = app.store.db;
  const mappings = await db
    .selectFrom('mappings')
    .innerJoin('integrations', 'integrations.id', 'mappings.integrationId')
    .selectAll('integrations')
    .select(['mappings.targetRef'])
    .where('mappings.spaceId', '=', r.spaceId)
    .where('mappings.organisationId', '=', r.organisationId)
    .where('integrations.status', '=', 'active')
    .execute();
  if (mappings.length === 0) return { mapped: false, opened: [] };
  const now = Date.now();
  const opened: string[] = [];
  for (const m of mappings) {
    const adapter = app.engine.adapterFor(m);
    if (!adapter.capabilities.pulseOpen || !adapter.pulseOpen) continue;
    const valid = await db
      .selectFrom('providerGrants')
      .select('id')
      .where('integrationId', '=', m.id)
      .where('personId', '=', r.personId)
      .where('targetRef', '=', m.targetRef)
      .where('state', '=', 'present')
      .where('startsAt', '<=', now)
      .where((eb) => eb.or([eb('endsAt', 'is', null), eb('endsAt', '>', now)]))
      .executeTakeFirst();
    if (!valid) continue;
    const user = await db.selectFrom('providerUsers').select('providerRef').where('integrationId', '=', m.id).where('personId', '=', r.personId).executeTakeFirst();
    const identity = await providerIdentity({ db, secrets: app.secrets, integration: m }, r.personId);
    await adapter.pulseOpen({ userRef: user?.providerRef ?? undefined, identity, targetRef: m.targetRef });
    await writeAudit(db, {
      organisationId: m.organisationId,
      actor: r.actor,
      action: 'door.opened',
      subjectType: 'person',
      subjectId: r.personId,
      details: { integrationId: m.id, targetRef: m.targetRef, ...(r.bookingId ? { bookingId: r.bookingId, via: 'url-key' } : {}) },
    });
    opened.push(m.targetRef);
  }
  return { mapped: true, opened };
}
