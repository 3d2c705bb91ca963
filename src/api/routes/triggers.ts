/**
 * Trigger rules (domain/triggers.ts): when a booking's credential is issued and sent — on confirmation
 * (default), on payment, or N hours before start — per integration, with a per-space override that
 * also picks how the PIN reaches the guest (e-mail, SMS, dashboard only). Cancellation always revokes.
 * A change is applied at once (no preview) and re-syncs everyone it may affect.
 */
import { z } from 'zod';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso } from '../types.js';
import { findOwned, requireRole } from '../auth.js';
import { badRequest } from '../errors.js';
import { writeAudit } from '../../store/audit.js';
import { deliveryModes, effectiveDelivery, effectiveTrigger, issueModes, type PinDelivery } from '../../domain/triggers.js';
import { loadRule, loadRules, partialRule, saveRule } from '../../store/triggers.js';
import type { Row } from '../../store/schema.js';

const MAX_HOURS = 24 * 366;
const hours = z.number().min(0).max(MAX_HOURS).describe("'before-start' only: hours before the booking's start (fractions allowed)");

const integrationBody = z
  .object({
    issueOn: z.enum(issueModes).describe('When access (and its credential) is issued: on-confirmation (default), on-payment, before-start'),
    hoursBefore: hours.optional(),
  })
  .strict();

const spaceBody = z
  .object({
    issueOn: z.enum(issueModes).nullable().optional().describe("Override of the integration's rule for this space; null = inherit"),
    hoursBefore: hours.nullable().optional(),
    delivery: z.enum(deliveryModes).nullable().optional().describe('How the PIN reaches the guest: email (default), sms (LOCKSTEP_SMS_GATEWAY_URL), dashboard (no message carries it)'),
  })
  .strict();

const CANCELLATION = 'cancelling a booking revokes its access (withdrawn on the provider where it can be)';

function checkHours(issueOn: string | null | undefined, hoursBefore: number | null | undefined): void {
  if (issueOn === 'before-start' && (hoursBefore === undefined || hoursBefore === null)) throw badRequest('hoursBefore', "required with issueOn 'before-start': how many hours before the start access is issued, e.g. 24");
  if (issueOn && issueOn !== 'before-start' && hoursBefore !== undefined && hoursBefore !== null) throw badRequest('hoursBefore', `only used with issueOn 'before-start', not '${issueOn}'; leave it out`);
}

export const triggerRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  const integrationView = (integrationId: string, row: Row<'triggerRules'> | undefined) => {
    const rule = effectiveTrigger(partialRule(row));
    return { integrationId, issueOn: rule.issueOn, hoursBefore: rule.hoursBefore, cancellation: CANCELLATION, updatedAt: row ? iso(row.updatedAt) : null };
  };

  api.get('/v1/integrations/:id/trigger', { schema: { tags: ['triggers'], security: bearer, params: idParams, summary: "When this integration's credentials are issued" } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const integration = await findOwned(db, 'integrations', req.principal, req.params.id, 'integration');
    return integrationView(integration.id, await loadRule(db, 'integration', integration.id));
  });

  api.put('/v1/integrations/:id/trigger', {
    schema: { tags: ['triggers'], security: bearer, params: idParams, body: integrationBody, summary: "Set when this integration's credentials are issued; everyone affected is re-synced" },
  }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const integration = await findOwned(db, 'integrations', req.principal, req.params.id, 'integration');
    checkHours(req.body.issueOn, req.body.hoursBefore);
    const hoursBefore = req.body.issueOn === 'before-start' ? req.body.hoursBefore! : null;
    await db.transaction().execute(async (trx) => {
      await saveRule(trx, { scopeType: 'integration', scopeId: integration.id, organisationId: integration.organisationId, issueOn: req.body.issueOn, hoursBefore, delivery: null });
      await writeAudit(trx, { organisationId: integration.organisationId, actor: req.principal.keyId, action: 'trigger.updated', subjectType: 'integration', subjectId: integration.id, details: { issueOn: req.body.issueOn, hoursBefore } });
    });
    await app.changes.integration(integration.id);
    return integrationView(integration.id, await loadRule(db, 'integration', integration.id));
  });

  const spaceView = async (space: Row<'spaces'>) => {
    const row = await loadRule(db, 'space', space.id);
    const mapped = await db.selectFrom('mappings').select('integrationId').where('spaceId', '=', space.id).execute();
    const integrationIds = [...new Set(mapped.map((m) => m.integrationId))].sort();
    const integrationRules = await loadRules(db, 'integration', integrationIds);
    return {
      spaceId: space.id,
      override: { issueOn: row?.issueOn ?? null, hoursBefore: row?.hoursBefore ?? null, delivery: row?.delivery ?? null },
      delivery: effectiveDelivery(row ? { delivery: row.delivery } : null),
      effective: integrationIds.map((integrationId) => ({ integrationId, ...effectiveTrigger(partialRule(integrationRules.get(integrationId)), partialRule(row)) })),
      cancellation: CANCELLATION,
      updatedAt: row ? iso(row.updatedAt) : null,
    };
  };

  api.get('/v1/spaces/:id/trigger', { schema: { tags: ['triggers'], security: bearer, params: idParams, summary: "This space's trigger override, PIN delivery and the rule in effect per integration" } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const space = await findOwned(db, 'spaces', req.principal, req.params.id, 'space');
    return spaceView(space);
  });

  api.put('/v1/spaces/:id/trigger', {
    schema: { tags: ['triggers'], security: bearer, params: idParams, body: spaceBody, summary: "Override the integration's trigger for this space and pick how the PIN reaches guests; re-syncs" },
  }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const space = await findOwned(db, 'spaces', req.principal, req.params.id, 'space');
    const before = await loadRule(db, 'space', space.id);
    // Fields left out keep their value; null clears (inherit / e-mail).
    const issueOn = req.body.issueOn === undefined ? (before?.issueOn ?? null) : req.body.issueOn;
    let hoursBefore = req.body.hoursBefore === undefined ? (before?.hoursBefore ?? null) : req.body.hoursBefore;
    if (req.body.issueOn !== undefined && issueOn !== 'before-start' && req.body.hoursBefore === undefined) hoursBefore = null;
    const delivery: PinDelivery | null = req.body.delivery === undefined ? (before?.delivery ?? null) : req.body.delivery;
    checkHours(issueOn, hoursBefore);
    if (issueOn === null && hoursBefore !== null) throw badRequest('hoursBefore', "set issueOn 'before-start' with it (a space cannot override only the hours)");
    await db.transaction().execute(async (trx) => {
      await saveRule(trx, { scopeType: 'space', scopeId: space.id, organisationId: space.organisationId, issueOn, hoursBefore, delivery });
      await writeAudit(trx, { organisationId: space.organisationId, actor: req.principal.keyId, action: 'trigger.updated', subjectType: 'space', subjectId: space.id, details: { issueOn, hoursBefore, delivery } });
    });
    await app.changes.organisation(space.organisationId);
    app.notifier.wake();
    return spaceView(space);
  });
};
