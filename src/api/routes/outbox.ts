/**
 * The e-mail outbox: every notification Lockstep produced, sent or not. With no SMTP configured this
 * is where messages are kept (the embedded default). Lists show bodies with PINs and codes masked;
 * only a platform admin reading one message sees it whole (and that read is audited).
 */
import { z } from 'zod';
import type { RouteModule } from '../types.js';
import { bearer, idParams, iso, listQuery } from '../types.js';
import { assertSameOrganisation, requireRole } from '../auth.js';
import { notFound } from '../errors.js';
import type { Row } from '../../store/schema.js';
import { writeAudit } from '../../store/audit.js';

const outboxQuery = listQuery.extend({
  status: z.enum(['queued', 'sent', 'outbox', 'failed']).optional(),
  kind: z.string().max(60).optional(),
  personId: z.string().optional(),
  bookingId: z.string().optional(),
});

export const outboxRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  const view = (r: Row<'notifications'>) => ({
    id: r.id,
    organisationId: r.organisationId,
    personId: r.personId,
    to: r.toAddress,
    kind: r.kind,
    bookingId: r.bookingId,
    subject: r.subject,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    createdAt: iso(r.createdAt),
    sendAfter: iso(r.sendAfter),
    sentAt: iso(r.sentAt),
  });

  api.get('/v1/outbox', {
    schema: { tags: ['outbox'], security: bearer, querystring: outboxQuery, summary: 'E-mail notifications, newest first (PINs masked in the text body)' },
  }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const p = req.principal;
    let q = db.selectFrom('notifications').selectAll();
    // Team admins see their organisation; a platform admin sees all, or one organisation on request.
    if (p.role !== 'platform-admin') q = q.where('organisationId', '=', p.organisationId!);
    else if (req.query.organisationId) q = q.where('organisationId', '=', req.query.organisationId);
    if (req.query.status) q = q.where('status', '=', req.query.status);
    if (req.query.kind) q = q.where('kind', '=', req.query.kind);
    if (req.query.personId) q = q.where('personId', '=', req.query.personId);
    if (req.query.bookingId) q = q.where('bookingId', '=', req.query.bookingId);
    const rows = await q.orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(req.query.limit).offset(req.query.offset).execute();
    return {
      delivery: app.notifier.delivering ? 'smtp' : 'local-outbox',
      results: rows.map((r) => ({ ...view(r), text: app.notifier.outbox.open(r).redactedText })),
    };
  });

  api.get('/v1/outbox/:id', {
    schema: { tags: ['outbox'], security: bearer, params: idParams, summary: 'One notification with its text and HTML parts (whole for platform admins, PINs masked otherwise)' },
  }, async (req) => {
    requireRole(req.principal, 'team-admin');
    const row = await db.selectFrom('notifications').selectAll().where('id', '=', req.params.id).executeTakeFirst();
    if (!row) throw notFound('notification', req.params.id);
    if (req.principal.role !== 'platform-admin') {
      if (row.organisationId === null) throw notFound('notification', req.params.id);
      assertSameOrganisation(req.principal, row.organisationId, 'notification', row.id);
    }
    const body = app.notifier.outbox.open(row);
    const whole = req.principal.role === 'platform-admin';
    if (whole) {
      await writeAudit(db, { organisationId: row.organisationId, actor: req.principal.keyId, action: 'outbox.read', subjectType: 'notification', subjectId: row.id, details: { kind: row.kind } });
    }
    return { ...view(row), redacted: !whole, text: whole ? body.text : body.redactedText, html: whole ? body.html : body.redactedHtml };
  });
};
