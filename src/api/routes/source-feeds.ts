/**
 * iCal feed sources: the poller's view of a feed (GET /v1/sources/:id/status) and "poll now"
 * (POST /v1/sources/:id/poll). Errors shown here never contain the feed URL's path or query, which
 * often is the feed's secret (Airbnb, Google Calendar private addresses).
 */
import type { RouteModule } from '../types.js';
import { bearer, idParams } from '../types.js';
import { findOwned, requireRole } from '../auth.js';
import { ApiError, conflict } from '../errors.js';
import { writeAudit } from '../../store/audit.js';
import { FeedBusyError } from '../../sources/ical/poller.js';

export const sourceFeedRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  const loadFeed = async (principal: Parameters<typeof findOwned>[2], id: string) => {
    const source = await findOwned(db, 'bookingSources', principal, id, 'source');
    if (source.kind !== 'ical') throw new ApiError(400, 'not_a_feed', `source ${id} is a ${source.kind} source; only ical sources are polled`);
    return source;
  };

  api.get(
    '/v1/sources/:id/status',
    { schema: { tags: ['sources'], security: bearer, params: idParams, summary: 'Feed poll status: last poll, HTTP status, error, next poll, what the last fetch changed or skipped' } },
    async (req) => {
      requireRole(req.principal, 'team-admin');
      const source = await loadFeed(req.principal, req.params.id);
      return app.sources.status(source.id);
    },
  );

  api.post(
    '/v1/sources/:id/poll',
    { schema: { tags: ['sources'], security: bearer, params: idParams, summary: 'Poll an iCal feed now (the whole feed is fetched and applied); answers with its status' } },
    async (req) => {
      requireRole(req.principal, 'team-admin');
      const source = await loadFeed(req.principal, req.params.id);
      try {
        const status = await app.sources.poll(source.id);
        await writeAudit(db, { organisationId: source.organisationId, actor: req.principal.keyId, action: 'source.polled', subjectType: 'source', subjectId: source.id, details: { state: status.state } });
        return status;
      } catch (err) {
        if (err instanceof FeedBusyError) throw conflict('this feed is being polled right now by another worker; try again in a moment');
        throw err;
      }
    },
  );
};
