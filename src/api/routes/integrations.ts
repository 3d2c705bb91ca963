/**
 * Integrations (a venue's account on an access-control provider) and mappings (space → access
 * targets). Connecting and re-keying an integration is a platform-admin act; buffers, PIN length
 * and mappings are a team admin's. Every change here re-evaluates everyone in scope.
 */
import { z } from 'zod';
import type { Row } from '../../store/schema.js';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso, listQuery } from '../types.js';
import { type Principal, findOwned, organisationOf, requireRole } from '../auth.js';
import { ApiError, badRequest, conflict } from '../errors.js';
import { newId } from '../../store/ids.js';
import { writeAudit } from '../../store/audit.js';
import { listProviderModules, providerModule, providerKinds } from '../../providers/registry.js';
import { ProviderError, type ProviderAdapter } from '../../providers/types.js';
import { peopleInScope } from '../../store/facts.js';
import { pacePolicy } from '../../engine/pacer.js';

const bufferMinutes = z.number().int().min(0, 'must be 0 or more minutes').max(24 * 60, 'must be at most 1440 minutes (a day)');
const settingsShape = {
  bufferBeforeMinutes: bufferMinutes.optional().describe("Access starts this long before each booking (default: the provider's documented default, else 15)"),
  bufferAfterMinutes: bufferMinutes.optional().describe("Access ends this long after each booking (default: the provider's documented default, else 15)"),
  pinLength: z.number().int().min(4).max(12).nullable().optional().describe("PIN length; null = the provider's default"),
  privacyMode: z.boolean().optional().describe('The provider sees a pseudonymous id only, never name/e-mail/phone'),
  mobileCredentials: z.boolean().optional(),
  provisionAheadDays: z.number().int().min(1).max(366).optional().describe('Provision access at most this many days before it starts (default 30)'),
  rateLimitPerMinute: z
    .number()
    .int()
    .min(0, 'must be 0 (no limit) or more requests per minute')
    .max(100_000)
    .nullable()
    .optional()
    .describe("Requests per minute all Lockstep workers together make on this provider account; null = the provider's default, 0 = no limit (only 429s slow Lockstep down)"),
};

// Only http(s): any other scheme would pass z.url() and then fail inside the HTTP client as a 502.
const providerUrl = (message: string) => z.url({ protocol: /^https?$/, message });

const createBody = z
  .object({
    organisationId: z.string().optional(),
    kind: z.string().refine((k) => providerKinds.includes(k), { message: `must be one of: ${providerKinds.join(', ')}` }),
    name: z.string().trim().min(1).max(200),
    baseUrl: providerUrl('must be the provider API base URL, e.g. https://api.example.com'),
    credentials: z.record(z.string(), z.string()),
    skipConnectionTest: z.boolean().default(false),
    ...settingsShape,
  })
  .strict();

const updateBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    baseUrl: providerUrl('must be the provider API base URL, e.g. https://api.example.com').optional(),
    credentials: z.record(z.string(), z.string()).optional(),
    ...settingsShape,
  })
  .strict();

const mappingBody = z
  .object({ spaceId: z.string().min(1), integrationId: z.string().min(1), targetRef: z.string().min(1), skipTargetCheck: z.boolean().default(false) })
  .strict();

const settingKeys = ['bufferBeforeMinutes', 'bufferAfterMinutes', 'pinLength', 'privacyMode', 'mobileCredentials', 'provisionAheadDays', 'rateLimitPerMinute'] as const;

export const integrationRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  const mask = (credentialsEnc: string, kind: string) => {
    const creds = JSON.parse(app.secrets.open(credentialsEnc)) as Record<string, string>;
    const fields = providerModule(kind)?.credentialFields ?? [];
    return Object.fromEntries(
      Object.entries(creds).map(([k, v]) => [k, fields.find((f) => f.name === k)?.secret === false ? v : `••••${v.length > 8 ? v.slice(-2) : ''}`]),
    );
  };
  const view = (i: Row<'integrations'>) => ({
    id: i.id,
    organisationId: i.organisationId,
    kind: i.kind,
    name: i.name,
    baseUrl: i.baseUrl,
    credentials: mask(i.credentialsEnc, i.kind),
    bufferBeforeMinutes: i.bufferBeforeMinutes,
    bufferAfterMinutes: i.bufferAfterMinutes,
    pinLength: i.pinLength,
    privacyMode: i.privacyMode === 1,
    mobileCredentials: i.mobileCredentials === 1,
    provisionAheadDays: i.provisionAheadDays,
    rateLimitPerMinute: i.rateLimitPerMinute,
    /** The pace in effect (the setting, else the provider's default); null: unpaced. */
    effectiveRateLimitPerMinute: pacePolicy(i.rateLimitPerMinute, providerModule(i.kind)?.defaultRateLimit)?.perMinute ?? null,
    status: i.status,
    pausedUntil: iso(i.pausedUntil),
    lastError: i.lastError,
    lastErrorAt: iso(i.lastErrorAt),
    createdAt: iso(i.createdAt),
  });
  const load = (principal: Principal, id: string) => findOwned(db, 'integrations', principal, id, 'integration');
  const checkCredentials = (kind: string, credentials: Record<string, string>) => {
    const mod = providerModule(kind)!;
    for (const f of mod.credentialFields) {
      if (f.required && !credentials[f.name]?.trim()) throw badRequest(`credentials.${f.name}`, `required for ${mod.label} (${f.label})`);
    }
    for (const k of Object.keys(credentials)) {
      if (!mod.credentialFields.some((f) => f.name === k)) throw badRequest(`credentials.${k}`, `not a ${kind} credential; expected ${mod.credentialFields.map((f) => f.name).join(', ')}`);
    }
  };
  const testConnection = async (kind: string, baseUrl: string, credentials: Record<string, string>) => {
    let adapter: ProviderAdapter | undefined;
    try {
      // Inside the try: a module may refuse the settings while building its client.
      adapter = providerModule(kind)!.create({ baseUrl, credentials, timeoutMs: 10_000 });
      await adapter.testConnection();
    } catch (err) {
      if (err instanceof ProviderError) throw new ApiError(422, 'connection_failed', `could not connect to the provider (${err.kind}): ${err.message}. Check baseUrl and credentials, or set skipConnectionTest to save anyway.`);
      throw err;
    } finally {
      await adapter?.close?.();
    }
  };

  api.get('/v1/providers', { schema: { tags: ['integrations'], security: bearer, summary: 'Provider kinds this Lockstep can connect to' } }, async () => ({
    results: listProviderModules().map((m) => ({ kind: m.kind, label: m.label, credentialFields: m.credentialFields })),
  }));

  api.get('/v1/integrations', { schema: { tags: ['integrations'], security: bearer, querystring: listQuery } }, async (req) => {
    requireRole(req.principal, 'host');
    const rows = await db.selectFrom('integrations').selectAll().where('organisationId', '=', organisationOf(req.principal, req.query.organisationId)).orderBy('createdAt').execute();
    return { results: rows.map(view) };
  });
  api.get('/v1/integrations/:id', { schema: { tags: ['integrations'], security: bearer, params: idParams } }, async (req) => {
    requireRole(req.principal, 'host');
    return view(await load(req.principal, req.params.id));
  });

  api.post('/v1/integrations', { schema: { tags: ['integrations'], security: bearer, body: createBody, summary: 'Connect a provider account (platform admin)' } }, async (req, reply) => {
    requireRole(req.principal, 'platform-admin');
    const b = req.body;
    const organisationId = organisationOf(req.principal, b.organisationId);
    const org = await db.selectFrom('organisations').select('id').where('id', '=', organisationId).executeTakeFirst();
    if (!org) throw badRequest('organisationId', `organisation ${organisationId} does not exist`);
    checkCredentials(b.kind, b.credentials);
    if (!b.skipConnectionTest) await testConnection(b.kind, b.baseUrl, b.credentials);
    const mod = providerModule(b.kind)!;
    const row: Row<'integrations'> = {
      id: newId('int'),
      organisationId,
      kind: b.kind,
      name: b.name,
      baseUrl: b.baseUrl,
      credentialsEnc: app.secrets.seal(JSON.stringify(b.credentials)),
      bufferBeforeMinutes: b.bufferBeforeMinutes ?? mod.defaultBufferMinutes?.before ?? 15,
      bufferAfterMinutes: b.bufferAfterMinutes ?? mod.defaultBufferMinutes?.after ?? 15,
      pinLength: b.pinLength ?? null,
      privacyMode: b.privacyMode ? 1 : 0,
      mobileCredentials: b.mobileCredentials ? 1 : 0,
      provisionAheadDays: b.provisionAheadDays ?? 30,
      rateLimitPerMinute: b.rateLimitPerMinute ?? null,
      status: 'active',
      pausedUntil: null,
      lastError: null,
      lastErrorAt: null,
      createdAt: Date.now(),
    };
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('integrations').values(row).execute();
      await writeAudit(trx, { organisationId, actor: req.principal.keyId, action: 'integration.connected', subjectType: 'integration', subjectId: row.id, details: { kind: row.kind, name: row.name, baseUrl: row.baseUrl } });
    });
    return reply.status(201).send(view(row));
  });

  api.patch('/v1/integrations/:id', { schema: { tags: ['integrations'], security: bearer, params: idParams, body: updateBody } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const current = await load(req.principal, req.params.id);
    const b = req.body;
    const patch: Partial<Row<'integrations'>> = {};
    if (b.baseUrl !== undefined || b.credentials !== undefined || b.name !== undefined) {
      requireRole(req.principal, 'platform-admin');
      if (b.name) patch.name = b.name;
      if (b.baseUrl) patch.baseUrl = b.baseUrl;
      if (b.credentials) {
        checkCredentials(current.kind, b.credentials);
        patch.credentialsEnc = app.secrets.seal(JSON.stringify(b.credentials));
      }
    }
    for (const key of settingKeys) {
      const v = b[key];
      if (v === undefined) continue;
      (patch as Record<string, unknown>)[key] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }
    if (Object.keys(patch).length === 0) throw badRequest('body', `nothing to change; send any of name, baseUrl, credentials, ${settingKeys.join(', ')}`);
    const next = { ...current, ...patch };
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('integrations').set({ ...patch, lastError: null, pausedUntil: null }).where('id', '=', current.id).execute();
      const audited: Record<string, unknown> = Object.fromEntries(settingKeys.filter((k) => b[k] !== undefined).map((k) => [k, b[k]]));
      if (b.credentials) audited.credentials = 'changed';
      if (b.baseUrl) audited.baseUrl = b.baseUrl;
      await writeAudit(trx, { organisationId: current.organisationId, actor: req.principal.keyId, action: 'integration.settings-changed', subjectType: 'integration', subjectId: current.id, details: audited });
      await app.changes.integration(current.id, trx);
    });
    app.engine.wake();
    return view(next);
  });

  api.post('/v1/integrations/:id/test', { schema: { tags: ['integrations'], security: bearer, params: idParams, summary: 'Check the stored credentials against the provider' } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const i = await load(req.principal, req.params.id);
    await testConnection(i.kind, i.baseUrl, JSON.parse(app.secrets.open(i.credentialsEnc)));
    return { ok: true };
  });

  api.get('/v1/integrations/:id/targets', { schema: { tags: ['integrations'], security: bearer, params: idParams, summary: 'Access targets (groups, zones, locks) pulled live from the provider' } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const i = await load(req.principal, req.params.id);
    return { results: await app.engine.adapterFor(i).listTargets() };
  });

  api.get('/v1/integrations/:id/status', { schema: { tags: ['integrations'], security: bearer, params: idParams, summary: 'What the integration holds, what is pending and what is failing' } }, async (req) => {
    requireRole(req.principal, 'host');
    const i = await load(req.principal, req.params.id);
    const [users, grants, work] = await Promise.all([
      db.selectFrom('providerUsers').select((eb) => eb.fn.countAll<number>().as('n')).where('integrationId', '=', i.id).executeTakeFirst(),
      db.selectFrom('providerGrants').select((eb) => eb.fn.countAll<number>().as('n')).where('integrationId', '=', i.id).executeTakeFirst(),
      db.selectFrom('syncWork').selectAll().where('integrationId', '=', i.id).execute(),
    ]);
    const now = Date.now();
    return {
      status: i.status,
      pausedUntil: iso(i.pausedUntil),
      lastError: i.lastError,
      lastErrorAt: iso(i.lastErrorAt),
      providerUsers: Number(users?.n ?? 0),
      grants: Number(grants?.n ?? 0),
      due: work.filter((w) => w.dueAt <= now).length,
      scheduled: work.filter((w) => w.dueAt > now && !w.lastError).length,
      failing: work
        .filter((w) => w.lastError)
        .map((w) => ({ personId: w.personId, attempts: w.attempts, error: w.lastError, nextAttemptAt: iso(w.dueAt) })),
    };
  });

  api.post('/v1/integrations/:id/disconnect', {
    schema: {
      tags: ['integrations'],
      security: bearer,
      params: idParams,
      body: z.object({ mode: z.enum(['revoke', 'keep']).default('revoke').describe('revoke (default): remove everything Lockstep granted; keep: leave it on the provider') }).strict().optional(),
      summary: 'Disconnect a provider account',
    },
  }, async (req) => {
    requireRole(req.principal, 'platform-admin');
    const i = await load(req.principal, req.params.id);
    if (i.status !== 'active') throw conflict(`integration ${i.id} is already ${i.status}`);
    const mode = req.body?.mode ?? 'revoke';
    await db.transaction().execute(async (trx) => {
      if (mode === 'revoke') {
        await trx.updateTable('integrations').set({ status: 'revoking' }).where('id', '=', i.id).execute();
        await app.queue.enqueue(i.id, await peopleInScope(trx, i.id, Date.now()), { db: trx });
      } else {
        const left = await trx.selectFrom('providerGrants').select((eb) => eb.fn.countAll<number>().as('n')).where('integrationId', '=', i.id).executeTakeFirst();
        await trx.updateTable('integrations').set({ status: 'disconnected' }).where('id', '=', i.id).execute();
        await trx.deleteFrom('syncWork').where('integrationId', '=', i.id).execute();
        await trx.deleteFrom('providerGrants').where('integrationId', '=', i.id).execute();
        await trx.deleteFrom('providerUsers').where('integrationId', '=', i.id).execute();
        await writeAudit(trx, { organisationId: i.organisationId, actor: req.principal.keyId, action: 'integration.disconnected', subjectType: 'integration', subjectId: i.id, details: { mode: 'keep', grantsLeftOnProvider: Number(left?.n ?? 0) } });
      }
      if (mode === 'revoke') await writeAudit(trx, { organisationId: i.organisationId, actor: req.principal.keyId, action: 'integration.revoking', subjectType: 'integration', subjectId: i.id });
    });
    app.engine.wake();
    return view({ ...i, status: mode === 'revoke' ? 'revoking' : 'disconnected' });
  });

  // Mappings ------------------------------------------------------------------------------------
  const mappingView = (m: Row<'mappings'>) => ({ id: m.id, organisationId: m.organisationId, spaceId: m.spaceId, integrationId: m.integrationId, targetRef: m.targetRef, targetName: m.targetName, createdAt: iso(m.createdAt) });

  api.get('/v1/mappings', { schema: { tags: ['mappings'], security: bearer, querystring: listQuery.extend({ spaceId: z.string().optional(), integrationId: z.string().optional() }) } }, async (req) => {
    requireRole(req.principal, 'host');
    let q = db.selectFrom('mappings').selectAll().where('organisationId', '=', organisationOf(req.principal, req.query.organisationId));
    if (req.query.spaceId) q = q.where('spaceId', '=', req.query.spaceId);
    if (req.query.integrationId) q = q.where('integrationId', '=', req.query.integrationId);
    return { results: (await q.orderBy('createdAt').limit(req.query.limit).offset(req.query.offset).execute()).map(mappingView) };
  });

  api.post('/v1/mappings', { schema: { tags: ['mappings'], security: bearer, body: mappingBody, summary: 'Map a space to an access target; current and future bookings follow' } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const b = req.body;
    const space = await db.selectFrom('spaces').select(['id', 'organisationId']).where('id', '=', b.spaceId).executeTakeFirst();
    if (!space || (req.principal.role !== 'platform-admin' && space.organisationId !== req.principal.organisationId)) {
      throw badRequest('spaceId', `space ${b.spaceId} does not exist in this organisation`);
    }
    const integration = await db.selectFrom('integrations').selectAll().where('id', '=', b.integrationId).where('organisationId', '=', space.organisationId).executeTakeFirst();
    if (!integration) throw badRequest('integrationId', `integration ${b.integrationId} does not exist in this organisation`);
    if (integration.status !== 'active') throw badRequest('integrationId', `integration ${integration.id} is ${integration.status}`);
    let targetName: string | null = null;
    if (!b.skipTargetCheck) {
      const targets = await app.engine.adapterFor(integration).listTargets();
      const target = targets.find((t) => t.ref === b.targetRef);
      if (!target) {
        throw badRequest('targetRef', `"${b.targetRef}" is not an access target of integration ${integration.id}; GET /v1/integrations/${integration.id}/targets lists them (e.g. ${targets.slice(0, 3).map((t) => t.ref).join(', ')})`);
      }
      targetName = target.name;
    }
    const exists = await db.selectFrom('mappings').select('id').where('spaceId', '=', space.id).where('integrationId', '=', integration.id).where('targetRef', '=', b.targetRef).executeTakeFirst();
    if (exists) throw conflict(`space ${space.id} is already mapped to ${b.targetRef} (${exists.id})`);
    const row: Row<'mappings'> = { id: newId('map'), organisationId: space.organisationId, spaceId: space.id, integrationId: integration.id, targetRef: b.targetRef, targetName, createdAt: Date.now() };
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('mappings').values(row).execute();
      await writeAudit(trx, { organisationId: row.organisationId, actor: req.principal.keyId, action: 'mapping.created', subjectType: 'mapping', subjectId: row.id, details: { spaceId: row.spaceId, integrationId: row.integrationId, targetRef: row.targetRef } });
      await app.changes.integration(integration.id, trx);
    });
    app.engine.wake();
    return reply.status(201).send(mappingView(row));
  });

  api.delete('/v1/mappings/:id', { schema: { tags: ['mappings'], security: bearer, params: idParams, summary: 'Unmap; access granted through this mapping is revoked' } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const m = await findOwned(db, 'mappings', req.principal, req.params.id, 'mapping');
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('mappings').where('id', '=', m.id).execute();
      await writeAudit(trx, { organisationId: m.organisationId, actor: req.principal.keyId, action: 'mapping.deleted', subjectType: 'mapping', subjectId: m.id, details: { spaceId: m.spaceId, integrationId: m.integrationId, targetRef: m.targetRef } });
      await app.changes.integration(m.integrationId, trx);
    });
    app.engine.wake();
    return reply.status(204).send();
  });
};
