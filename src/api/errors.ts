/**
 * One error shape for every API failure: `{ error, message, issues? }`, where `message` says what is
 * wrong and how to fix it, and `issues` names each offending field.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { TimeInputError } from '../domain/time.js';
import { ProviderError } from '../providers/types.js';

export { ApiError, type FieldIssue } from '../domain/errors.js';
import { ApiError } from '../domain/errors.js';

export const badRequest = (path: string, message: string) =>
  new ApiError(400, 'validation', `${path}: ${message}`, [{ path, message }]);
export const notFound = (what: string, id: string) =>
  new ApiError(404, 'not_found', `${what} ${id} does not exist (or belongs to another organisation)`);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = (err as FastifyError).validationContext ?? 'body';
      const issues = err.validation.map((v) => ({
        path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'),
        message: v.message ?? 'is invalid',
      }));
      return reply.status(400).send({
        error: 'validation',
        message: issues.map((i) => `${i.path}: ${i.message}`).join('; '),
        issues,
      });
    }
    if (err instanceof ApiError) {
      for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
      return reply.status(err.statusCode).send({ error: err.code, message: err.message, ...(err.issues.length ? { issues: err.issues } : {}) });
    }
    if (err instanceof TimeInputError) {
      return reply.status(400).send({ error: 'validation', message: err.message });
    }
    if (err instanceof ProviderError) {
      const status = err.kind === 'auth' ? 502 : err.kind === 'rate-limited' ? 503 : 502;
      return reply.status(status).send({ error: `provider_${err.kind.replace('-', '_')}`, message: `the provider answered: ${err.message}` });
    }
    const fe = err as FastifyError;
    if (fe.statusCode && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ error: fe.code ?? 'bad_request', message: fe.message });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'something went wrong on our side; the request changed nothing. Check the server log.' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}; see /openapi.json` }),
  );
}
