/**
 * The HTTP API: Fastify with zod validation, OpenAPI at /openapi.json, Bearer API keys.
 */
import Fastify, { type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { App } from '../app.js';
import { authenticate } from './auth.js';
import { registerErrorHandler } from './errors.js';
import type { Api } from './types.js';
import { venueRoutes } from './routes/venues.js';
import { peopleRoutes } from './routes/people.js';
import { bookingRoutes } from './routes/bookings.js';
import { membershipRoutes } from './routes/memberships.js';
import { integrationRoutes } from './routes/integrations.js';
import { accessRoutes } from './routes/access.js';
import { adminRoutes } from './routes/admin.js';
import { outboxRoutes } from './routes/outbox.js';
import { previewRoutes } from './routes/preview.js';
import { callbackRoutes } from './routes/callbacks.js';
import { controllerRoutes } from './routes/controller.js';
import { visitRoutes } from './routes/visits.js';
import { sourceRoutes } from './routes/sources.js';
import { sourceFeedRoutes } from './routes/source-feeds.js';
import { triggerRoutes } from './routes/triggers.js';
import { urlKeyRoutes, urlKeyPublicRoutes } from './routes/url-keys.js';
import { sourceDeliveryRoutes } from './routes/source-deliveries.js';
import { registerWeb } from '../web/index.js';
import { overLimit, tooMany } from './limits.js';

/** Counts a request with an unknown API key against its address; past the limit it gets a 429, not a 401. */
export async function refuseGuesser(app: App, ip: string): Promise<void> {
  const wait = await overLimit(app, `auth-fail:${ip}`, app.limits.failedAuth);
  if (wait !== null) throw tooMany(wait, `too many requests with unknown API keys from this address (at most ${app.limits.failedAuth.limit} a minute)`);
}

const routeModules = [venueRoutes, peopleRoutes, bookingRoutes, membershipRoutes, integrationRoutes, accessRoutes, adminRoutes, previewRoutes, outboxRoutes, sourceRoutes, sourceFeedRoutes, visitRoutes, callbackRoutes, controllerRoutes, triggerRoutes, urlKeyRoutes];

export async function buildServer(app: App, opts: { logger?: FastifyServerOptions['logger']; trustProxy?: FastifyServerOptions['trustProxy'] } = {}): Promise<Api> {
  const server = Fastify({
    // Request bodies may carry credentials and are never logged; auth headers are redacted by the CLI's logger config.
    logger: opts.logger ?? false,
    // Behind a load balancer, client addresses (brute-force limits) come from X-Forwarded-For.
    trustProxy: opts.trustProxy ?? false,
  }).withTypeProvider<ZodTypeProvider>();
  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(server);

  await server.register(swagger, {
    openapi: {
      info: { title: 'Lockstep API', version: '0.1.0', description: 'Bookings in, reconciled physical access out.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });

  server.get('/openapi.json', { schema: { hide: true } }, async () => server.swagger());
  server.get('/healthz', { schema: { hide: true } }, async () => {
    await app.store.db.selectFrom('organisations').select('id').limit(1).execute();
    return { ok: true };
  });

  await server.register(async (scoped) => {
    scoped.addHook('onRequest', authenticate(app.store.db, app.secrets, (req) => refuseGuesser(app, req.ip)));
    for (const mod of routeModules) mod(scoped as unknown as Api, app);
  });
  // URL keys (/k/:token): the signed token is the credential, so no API key.
  await server.register(async (open) => urlKeyPublicRoutes(open as unknown as Api, app));
  // Booking sources (Cal.com, signed webhook) push here: authenticated by their HMAC, with a raw-body parser of their own.
  await server.register(async (signed) => sourceDeliveryRoutes(signed as unknown as Api, app));
  // The admin console and guest portal: server-rendered pages that call the API above in-process.
  await server.register(async (web) => registerWeb(web as unknown as Api, server as unknown as Api, app));
  return server;
}
