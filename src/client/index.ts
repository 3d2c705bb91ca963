/**
 * `lockstep/client`: a typed client for Lockstep's API, and the check for the change call-backs
 * Lockstep sends. Runs on Node 20+ (or anywhere with fetch); pulls in none of the server.
 *
 *   import { LockstepClient, verifyWebhookSignature } from 'lockstep/client';
 */
export { LockstepClient, type LockstepClientOptions, type WaitForSyncOptions } from './client.js';
export { LockstepApiError, type ApiErrorBody, type FieldIssue } from './errors.js';
export {
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TOLERANCE_SECONDS,
  type HeadersLike,
  type VerifyWebhookInput,
  type WebhookVerifyFailure,
  type WebhookVerifyResult,
} from './webhooks.js';
export type * from './models.js';
export type * from './from-openapi.js';
export type { paths } from './openapi.js';
