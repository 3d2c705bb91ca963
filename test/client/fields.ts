/**
 * The field names of each client model, as values, so live answers can be checked against the
 * models at run time. `FieldSpec<T>` makes the compiler hold each list to its interface: a field
 * added to or removed from a model, or made optional, fails `npm run typecheck` until the list follows.
 */
import { expect } from 'vitest';
import type {
  AccessEntry,
  AuditEntry,
  Booking,
  BookingSyncStatus,
  CallbackSubscription,
  CreatedApiKey,
  CreatedCallbackSubscription,
  IntegrationStatus,
  Me,
  MyPin,
  Person,
  Plan,
  Subscription,
} from '../../src/client/index.js';

type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];
export type FieldSpec<T> = { [K in keyof T]-?: K extends OptionalKeys<T> ? 'optional' : 'always' };

export const bookingFields: FieldSpec<Booking> = {
  id: 'always', organisationId: 'always', spaceId: 'always', spaceName: 'always', title: 'always', status: 'always',
  start: 'always', end: 'always', startLocal: 'always', endLocal: 'always', timeZone: 'always',
  bumpInMinutes: 'always', bumpOutMinutes: 'always', organiserId: 'always', inviteeIds: 'always', source: 'always',
  externalId: 'always', version: 'always', paid: 'always', createdAt: 'always', updatedAt: 'always',
};
export const syncFields: FieldSpec<BookingSyncStatus> = { bookingId: 'always', state: 'always', entries: 'always' };
export const accessEntryFields: FieldSpec<AccessEntry> = {
  integrationId: 'always', personId: 'always', targetRef: 'always', state: 'always', from: 'always', until: 'always',
  error: 'optional', attempts: 'optional', nextAttemptAt: 'optional', trigger: 'optional', validUntil: 'optional',
};
export const personFields: FieldSpec<Person> = {
  id: 'always', organisationId: 'always', name: 'always', email: 'always', phone: 'always', externalIds: 'always', createdAt: 'always',
};
export const planFields: FieldSpec<Plan> = { id: 'always', organisationId: 'always', name: 'always', spaceIds: 'always', targets: 'always', createdAt: 'always' };
export const subscriptionFields: FieldSpec<Subscription> = {
  id: 'always', organisationId: 'always', planId: 'always', personId: 'always', companyId: 'always',
  start: 'always', end: 'always', cancelledAt: 'always', createdAt: 'always',
};
export const createdApiKeyFields: FieldSpec<CreatedApiKey> = { id: 'always', key: 'always', role: 'always', organisationId: 'optional', personId: 'optional' };
export const myPinFields: FieldSpec<MyPin> = { integrationId: 'always', integrationName: 'always', pin: 'always', issuedAt: 'always' };
export const integrationStatusFields: FieldSpec<IntegrationStatus> = {
  status: 'always', pausedUntil: 'always', lastError: 'always', lastErrorAt: 'always', providerUsers: 'always',
  grants: 'always', due: 'always', scheduled: 'always', failing: 'always',
};
export const auditEntryFields: FieldSpec<AuditEntry> = {
  id: 'always', at: 'always', organisationId: 'always', actor: 'always', action: 'always', subjectType: 'always',
  subjectId: 'always', reason: 'always', details: 'always',
};
export const meFields: FieldSpec<Me> = { keyId: 'always', role: 'always', organisationId: 'always', person: 'always' };
const callbackSubscriptionFields: FieldSpec<CallbackSubscription> = {
  id: 'always', organisationId: 'always', url: 'always', spaceId: 'always', includeEmails: 'always', description: 'always', createdAt: 'always',
};
export const createdCallbackFields: FieldSpec<CreatedCallbackSubscription> = { ...callbackSubscriptionFields, signingSecret: 'always' };

/** The answer has every field the model always has, and none the model does not declare. */
export function expectFields(what: string, body: unknown, spec: Record<string, 'always' | 'optional'>): void {
  expect(body, what).toBeTypeOf('object');
  const got = Object.keys(body as object);
  const undeclared = got.filter((k) => !(k in spec));
  const missing = Object.keys(spec).filter((k) => spec[k] === 'always' && !got.includes(k));
  expect({ undeclared, missing }, `${what}: the answer and the client model (src/client/models.ts) disagree`).toEqual({ undeclared: [], missing: [] });
}
