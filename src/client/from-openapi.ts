/**
 * Types read off the generated OpenAPI types (openapi.ts): what the client sends, and what a route
 * answers where the route declares its response. A route's body or query changing changes these
 * types too; a route or method that disappears turns its type into `never`, and the client method
 * that uses it stops compiling.
 */
import type { paths } from './openapi.js';

type Operation<P extends keyof paths, M extends keyof paths[P]> = paths[P][M];

/** The JSON request body of an operation. */
export type JsonBody<P extends keyof paths, M extends keyof paths[P]> =
  Operation<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** The JSON body of an operation's 200 answer (only routes with a response schema have one). */
export type JsonAnswer<P extends keyof paths, M extends keyof paths[P]> =
  Operation<P, M> extends { responses: { 200: { content: { 'application/json': infer A } } } } ? A : never;

/** The query string of an operation. */
export type QueryOf<P extends keyof paths, M extends keyof paths[P]> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type CreateBookingInput = JsonBody<'/v1/bookings', 'post'>;
export type UpdateBookingInput = JsonBody<'/v1/bookings/{id}', 'patch'>;
export type ListBookingsQuery = QueryOf<'/v1/bookings', 'get'>;

export type CreatePersonInput = JsonBody<'/v1/people', 'post'>;
export type UpdatePersonInput = JsonBody<'/v1/people/{id}', 'patch'>;
export type ListPeopleQuery = QueryOf<'/v1/people', 'get'>;

export type CreatePlanInput = JsonBody<'/v1/plans', 'post'>;
export type ListPlansQuery = QueryOf<'/v1/plans', 'get'>;
export type CreateSubscriptionInput = JsonBody<'/v1/subscriptions', 'post'>;
export type ListSubscriptionsQuery = QueryOf<'/v1/subscriptions', 'get'>;
/** `end: null` makes the subscription open-ended. */
export type UpdateSubscriptionInput = JsonBody<'/v1/subscriptions/{id}', 'patch'>;
export type CancelSubscriptionInput = NonNullable<JsonBody<'/v1/subscriptions/{id}/cancel', 'post'>>;

export type RegeneratePinInput = JsonBody<'/v1/people/{id}/pins/regenerate', 'post'>;
export type CreateCallbackInput = JsonBody<'/v1/callbacks', 'post'>;
export type CreateApiKeyInput = JsonBody<'/v1/api-keys', 'post'>;
export type AuditQuery = QueryOf<'/v1/audit', 'get'>;

/** Who, where (`spaceId`, or one access target: `targetRef`, with `integrationId` if two integrations have it) and when (`at`, default now). */
export type ExplainAccessQuery = QueryOf<'/v1/access/explain', 'get'>;
/** Why a person can or cannot get in: the verdict, and per access target the chain of links with the one that breaks. */
export type AccessExplanation = JsonAnswer<'/v1/access/explain', 'get'>;
