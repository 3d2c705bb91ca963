/**
 * Booking sources: systems whose bookings Lockstep takes in (Cal.com webhooks, the generic signed
 * booking webhook, iCalendar feeds). This module manages their configuration; the delivery endpoints
 * and the feed poller live with each source in src/sources/.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Row } from '../../store/schema.js';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso, listQuery } from '../types.js';
import { findOwned, organisationForWrite, organisationOf, requireRole } from '../auth.js';
import { ApiError } from '../errors.js';
import { newId } from '../../store/ids.js';
import { writeAudit } from '../../store/audit.js';
import { signedKinds, sourceKinds, sourceSettings, type SourceKind } from '../../sources/kinds.js';

const secretInput = z.string().min(16, 'must be at least 16 characters').max(200).describe('Signing secret shared with the source; generated when omitted');

const createBody = z
  .object({
    organisationId: z.string().optional(),
    kind: z.enum(sourceKinds as [SourceKind, ...SourceKind[]]),
    name: z.string().trim().min(1).max(200),
    settings: z.record(z.string(), z.unknown()).default({}),
    secret: secretInput.optional(),
  })
  .strict();

const updateBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    rotateSecret: z.boolean().optional().describe('Issue a new signing secret (shown once); the old one stops working'),
  })
  .strict();

/** Settings checked against the kind's schema; errors name the field, as everywhere in the API. */
function parseSettings(kind: SourceKind, settings: unknown): Record<string, unknown> {
  const parsed = sourceSettings[kind].safeParse(settings);
  if (parsed.success) return parsed.data as Record<string, unknown>;
  const issues = parsed.error.issues.map((i) => ({ path: ['settings', ...i.path].join('.'), message: i.message }));
  throw new ApiError(400, 'validation', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

/** Every space id a source's settings name, with where (for the error message). */
function namedSpaces(settings: Record<string, unknown>): { path: string; id: string }[] {
  const out: { path: string; id: string }[] = [];
  for (const [key, value] of Object.entries(settings)) {
    if ((key === 'spaceId' || key === 'defaultSpaceId') && typeof value === 'string') out.push({ path: `settings.${key}`, id: value });
    if (key.startsWith('spaceBy') && value && typeof value === 'object') {
      for (const [k, id] of Object.entries(value as Record<string, unknown>)) if (typeof id === 'string') out.push({ path: `settings.${key}.${k}`, id });
    }
  }
  return out;
}

const newSecret = () => `lss_${randomBytes(24).toString('base64url')}`;

export const sourceView = (s: Row<'bookingSources'>, extra: { secret?: string } = {}) => ({
  id: s.id,
  organisationId: s.organisationId,
  kind: s.kind,
  name: s.name,
  settings: JSON.parse(s.settings),
  signed: s.secretSealed !== null,
  lastEventAt: iso(s.lastEventAt),
  lastError: s.lastError,
  createdAt: iso(s.createdAt),
  updatedAt: iso(s.updatedAt),
  ...extra,
});

export const sourceRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  /** A source may only book the organisation's own spaces: refuse any other id before saving. */
  const checkSpaces = async (organisationId: string, settings: Record<string, unknown>) => {
    const named = namedSpaces(settings);
    if (named.length === 0) return;
    const ids = [...new Set(named.map((n) => n.id))];
    const found = new Set((await db.selectFrom('spaces').select('id').where('organisationId', '=', organisationId).where('id', 'in', ids).execute()).map((r) => r.id));
    const missing = named.filter((n) => !found.has(n.id));
    if (missing.length) {
      const issues = missing.map((m) => ({ path: m.path, message: `space ${m.id} does not exist in this organisation (GET /v1/spaces lists yours)` }));
      throw new ApiError(400, 'validation', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
    }
  };

  api.get('/v1/sources', { schema: { tags: ['sources'], security: bearer, querystring: listQuery, summary: 'Booking sources of the organisation' } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const rows = await db
      .selectFrom('bookingSources')
      .selectAll()
      .where('organisationId', '=', organisationOf(req.principal, req.query.organisationId))
      .orderBy('createdAt')
      .limit(req.query.limit)
      .offset(req.query.offset)
      .execute();
    return { results: rows.map((r) => sourceView(r)) };
  });

  api.get('/v1/sources/:id', { schema: { tags: ['sources'], security: bearer, params: idParams } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    return sourceView(await findOwned(db, 'bookingSources', req.principal, req.params.id, 'source'));
  });

  api.post('/v1/sources', { schema: { tags: ['sources'], security: bearer, body: createBody, summary: 'Connect a booking source; a signed source answers with its secret once' } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const b = req.body;
    const organisationId = await organisationForWrite(db, req.principal, b.organisationId);
    const settings = parseSettings(b.kind, b.settings);
    await checkSpaces(organisationId, settings);
    const signed = signedKinds.includes(b.kind);
    const secret = signed ? (b.secret ?? newSecret()) : undefined;
    const now = Date.now();
    const row: Row<'bookingSources'> = {
      id: newId('src'),
      organisationId,
      kind: b.kind,
      name: b.name,
      secretSealed: secret ? app.secrets.seal(secret) : null,
      settings: JSON.stringify(settings),
      lastEventAt: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
    };
    await db.insertInto('bookingSources').values(row).execute();
    await writeAudit(db, { organisationId, actor: req.principal.keyId, action: 'source.created', subjectType: 'source', subjectId: row.id, details: { kind: row.kind, name: row.name } });
    app.sources?.wake();
    // The secret is shown once, and only if Lockstep generated it (a given one is already known).
    return reply.status(201).send(sourceView(row, secret && !b.secret ? { secret } : {}));
  });

  api.patch('/v1/sources/:id', { schema: { tags: ['sources'], security: bearer, params: idParams, body: updateBody } }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const before = await findOwned(db, 'bookingSources', req.principal, req.params.id, 'source');
    const b = req.body;
    const settings = b.settings === undefined ? JSON.parse(before.settings) : parseSettings(before.kind, b.settings);
    if (b.settings !== undefined) await checkSpaces(before.organisationId, settings);
    const secret = b.rotateSecret && before.secretSealed !== null ? newSecret() : undefined;
    const row: Row<'bookingSources'> = {
      ...before,
      name: b.name ?? before.name,
      settings: JSON.stringify(settings),
      secretSealed: secret ? app.secrets.seal(secret) : before.secretSealed,
      updatedAt: Date.now(),
    };
    await db.updateTable('bookingSources').set(row).where('id', '=', before.id).execute();
    await writeAudit(db, { organisationId: row.organisationId, actor: req.principal.keyId, action: 'source.updated', subjectType: 'source', subjectId: row.id, details: { changed: Object.keys(b) } });
    app.sources?.wake();
    return sourceView(row, secret ? { secret } : {});
  });

  api.delete('/v1/sources/:id', { schema: { tags: ['sources'], security: bearer, params: idParams, summary: 'Disconnect a source; bookings it delivered stay' } }, async (req, reply) => {
    requireRole(req.principal, 'team-admin');
    const s = await findOwned(db, 'bookingSources', req.principal, req.params.id, 'source');
    await db.deleteFrom('bookingSources').where('id', '=', s.id).execute();
    await writeAudit(db, { organisationId: s.organisationId, actor: req.principal.keyId, action: 'source.deleted', subjectType: 'source', subjectId: s.id });
    return reply.status(204).send();
  });
};
