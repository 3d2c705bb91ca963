import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../app.js';

export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** Route modules get the app (store, engine, change feed) and register their routes on the server. */
export type RouteModule = (api: Api, app: App) => void;

export const idParams = z.object({ id: z.string().min(1) });

export const listQuery = z.object({
  organisationId: z.string().optional().describe('Platform-admin keys: which organisation to list'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const bearer = [{ bearerAuth: [] as string[] }];
