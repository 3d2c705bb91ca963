/**
 * Keypad capacity per access target (src/engine/capacity.ts): what each lock holds, who waits for a
 * free slot, and the admin's own figure where the provider reports none.
 */
import { z } from 'zod';
import type { RouteModule } from '../types.js';
import { bearer, iso } from '../types.js';
import { findOwned, requireRole } from '../auth.js';
import { writeAudit } from '../../store/audit.js';
import { capacityReport, peopleOnTarget, setTargetCapacity, type TargetCapacityReport } from '../../engine/capacity.js';

const view = (r: TargetCapacityReport, names: Map<string, string>) => ({
  targetRef: r.targetRef,
  targetName: names.get(r.targetRef) ?? null,
  capacity: r.capacity,
  setting: r.setting,
  reported: r.reported,
  foreignCodes: r.foreignCodes,
  lockstepCodes: r.lockstepCodes,
  free: r.free,
  waiting: r.waiting.map((w) => ({ personId: w.personId, windowStart: iso(w.startsAt)!, waitingSince: iso(w.since)! })),
});

const targetView = z.object({
  targetRef: z.string(),
  targetName: z.string().nullable(),
  capacity: z.number().nullable().describe('In force: the setting, else what the provider reports; null = not limited'),
  setting: z.number().nullable(),
  reported: z.number().nullable(),
  foreignCodes: z.number().describe('Codes on the lock Lockstep did not create: counted, never touched'),
  lockstepCodes: z.number(),
  free: z.number().nullable(),
  waiting: z.array(z.object({ personId: z.string(), windowStart: z.string(), waitingSince: z.string() })).describe('Waiting for a free slot, nearest window first'),
});

export const capacityRoutes: RouteModule = (api, app) => {
  const db = app.store.db;
  const targetNames = async (integrationId: string) =>
    new Map((await db.selectFrom('mappings').select(['targetRef', 'targetName']).where('integrationId', '=', integrationId).execute()).map((m) => [m.targetRef, m.targetName ?? m.targetRef]));

  api.get('/v1/integrations/:id/capacity', {
    schema: {
      tags: ['integrations'],
      security: bearer,
      params: z.object({ id: z.string().min(1) }),
      summary: 'Keypad capacity per target: codes held (Lockstep and others), free slots, who waits for one',
      response: { 200: z.object({ results: z.array(targetView) }) },
    },
  }, async (req) => {
    requireRole(req.principal, 'host');
    const i = await findOwned(db, 'integrations', req.principal, req.params.id, 'integration');
    const names = await targetNames(i.id);
    return { results: (await capacityReport(db, i.id)).map((r) => view(r, names)) };
  });

  api.put('/v1/integrations/:id/targets/:targetRef/capacity', {
    schema: {
      tags: ['integrations'],
      security: bearer,
      params: z.object({ id: z.string().min(1), targetRef: z.string().min(1) }),
      body: z.object({ capacity: z.number().int().min(1).max(100_000).nullable().describe('Codes the lock holds; null: use the provider\'s figure (or no limit)') }).strict(),
      summary: "Set how many codes a lock holds, where the provider does not say (e.g. a Nuki keypad: 99)",
      response: { 200: targetView },
    },
  }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const i = await findOwned(db, 'integrations', req.principal, req.params.id, 'integration');
    const ref = req.params.targetRef;
    await setTargetCapacity(db, i.id, ref, req.body.capacity, Date.now());
    await writeAudit(db, { organisationId: i.organisationId, actor: req.principal.keyId, action: 'target.capacity-set', subjectType: 'integration', subjectId: i.id, details: { targetRef: ref, capacity: req.body.capacity } });
    // More room lets waiters in; less makes later codes give their slots up: everyone there looks again.
    await app.queue.enqueue(i.id, await peopleOnTarget(db, i.id, ref));
    app.engine.wake();
    const [report] = await capacityReport(db, i.id, ref);
    return view(report!, await targetNames(i.id));
  });
};
