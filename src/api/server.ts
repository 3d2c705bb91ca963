/**
 * The HTTP API: Fastify with zod validation, OpenAPI at /openapi.json, Bearer API keys.
 */
import Fastify, { type FastifyReply, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { App } from '../app.js';
import { authenticate, KEYS_CHANNEL } from './auth.js';
import { registerErrorHandler } from './errors.js';
import type { Api } from './types.js';
import { venueRoutes } from './routes/venues.js';
import { peopleRoutes } from './routes/people.js';
import { bookingRoutes } from './routes/bookings.js';
import { membershipRoutes } from './routes/memberships.js';
import { integrationRoutes } from './routes/integrations.js';
import { accessRoutes } from './routes/access.js';
import { explainRoutes } from './routes/explain.js';
import { capacityRoutes } from './routes/capacity.js';
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
import { parseJsonRequest, refuseNul } from '../domain/text-input.js';

/** Counts a request with an unknown API key against its address; past the limit it gets a 429, not a 401. */
export async function refuseGuesser(app: App, ip: string): Promise<void> {
  const wait = await overLimit(app, `auth-fail:${ip}`, app.limits.failedAuth);
  if (wait !== null) throw tooMany(wait, `too many requests with unknown API keys from this address (at most ${app.limits.failedAuth.limit} a minute)`);
}

/** Longest path segment routed (ids are far shorter; URL-key tokens are about 80 characters). */
const MAX_PATH_PARAM = 500;

const routeModules = [venueRoutes, peopleRoutes, bookingRoutes, membershipRoutes, integrationRoutes, accessRoutes, explainRoutes, capacityRoutes, adminRoutes, previewRoutes, outboxRoutes, sourceRoutes, sourceFeedRoutes, visitRoutes, callbackRoutes, controllerRoutes, triggerRoutes, urlKeyRoutes];

export async function buildServer(app: App, opts: { logger?: FastifyServerOptions['logger']; trustProxy?: FastifyServerOptions['trustProxy'] } = {}): Promise<Api> {
  const server = Fastify({
    // Request bodies may carry credentials and are never logged; auth headers are redacted by the CLI's logger config.
    logger: opts.logger ?? false,
    // Behind a load balancer, client addresses (brute-force limits) come from X-Forwarded-For.
    trustProxy: opts.trustProxy ?? false,
    routerOptions: { maxParamLength: MAX_PATH_PARAM },
    // Errors the router answers before any route runs get the API's error shape too (and never echo
    // the URL: a /k/ link is a credential).
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void reply
        .status(tooLong ? 414 : 400)
        .send({ error: tooLong ? 'uri_too_long' : 'bad_request', message: tooLong ? `a path segment is longer than ${MAX_PATH_PARAM} characters; no id is that long` : 'the URL is not valid (a malformed %-escape?)' });
    },
  }).withTypeProvider<ZodTypeProvider>();
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonRequest(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
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

  // Another process revoked a key (PostgreSQL): forget every remembered principal (see ApiKeys).
  if (app.store.listen) {
    const stopListening = await app.store.listen(KEYS_CHANNEL, () => app.apiKeys.forgetAll());
    server.addHook('onClose', async () => stopListening());
  }

  await server.register(async (scoped) => {
    scoped.addHook('onRequest', authenticate(app.apiKeys, (req) => refuseGuesser(app, req.ip)));
    // Before validation: a NUL anywhere in the request is a 400 naming the field (see text-input.ts).
    scoped.addHook('preValidation', async (req) => refuseNul({ params: req.params, query: req.query, body: req.body }));
    for (const mod of routeModules) mod(scoped as unknown as Api, app);
  });
  // URL keys (/k/:token): the signed token is the credential, so no API key.
  await server.register(async (open) => {
    open.addHook('preValidation', async (req) => refuseNul({ params: req.params }));
    await urlKeyPublicRoutes(open as unknown as Api, app);
  });
  // Booking sources (Cal.com, signed webhook) push here: authenticated by their HMAC, with a raw-body
  // parser of their own (bodies are checked for NUL once parsed, in src/sources/delivery.ts).
  await server.register(async (signed) => {
    signed.addHook('preValidation', async (req) => refuseNul({ params: req.params }));
    await sourceDeliveryRoutes(signed as unknown as Api, app);
  });
  // The admin console and guest portal: server-rendered pages that call the API above in-process.
  await server.register(async (web) => registerWeb(web as unknown as Api, server as unknown as Api, app));
  return server;
}
