/**
 * Bugs in src/ these properties found that are not fixed yet, each with a minimal reproduction.
 * Until one is fixed, the generators leave out the inputs that trigger it (`avoid`), so the committed
 * properties pass and keep guarding everything else. FUZZ_KNOWN_BUGS=1 puts those inputs back AND
 * runs each bug's reproduction first (`apiExamples`, as fast-check examples): the property then fails
 * until the bug is fixed. After a fix: run with FUZZ_KNOWN_BUGS=1, then delete the entry, its example
 * and its `avoid(...)` call.
 *
 * Found and already fixed, now guarded by the ordinary generators:
 * - 70bc6c0: a NUL character was a 500 on PostgreSQL (any text field or API path parameter); a path
 *   segment over 100 characters got Fastify's own 414 body ({error:"Bad Request", code, statusCode},
 *   echoing the URL); a webhook resource or Cal.com event type/slug/location named like an inherited
 *   property ("constructor", "toString", "__proto__") was a 500; DELETE /v1/spaces/{id} left the
 *   space's trigger rule behind; a booking delivered with version 2147483647 could not be edited or
 *   cancelled through the API on PostgreSQL (500: version + 1 overflowed the integer column).
 * - 07644f9: PATCH /v1/bookings/{id} {"organiserId": <an invitee>} left them their own invitee; a NUL
 *   in the source id of a webhook URL was still a 500 on PostgreSQL (outside the API-key scope).
 * - later: a signed Cal.com delivery whose triggerEvent named an inherited property ("toString") was
 *   a 500 (`trigger in bookingTriggers`); a body with a "__proto__" key got a misleading "not valid
 *   JSON". Both are pinned in test/api/edge-input.test.ts.
 */
import { KNOWN_BUGS } from './config.js';
import type { StoreKind } from '../support/stores.js';
import type { RequestSpec } from './api-property.js';
import type { Json } from './schema.js';

// None open. An entry looks like:
//   'some-bug': { stores: ['sqlite', 'postgres'] as StoreKind[] },   with a reproduction in its comment
export const knownBugs: Record<string, { stores: StoreKind[] }> = {};

export type KnownBug = string;

/** Whether the generators should avoid the inputs of `bug` on this store. */
export function avoid(bug: KnownBug, kind: StoreKind): boolean {
  return !KNOWN_BUGS && knownBugs[bug].stores.includes(kind);
}

/**
 * Each open API bug's reproduction, as a request the endpoint's property runs before its random ones
 * (FUZZ_KNOWN_BUGS=1; victim variants as in world.ts, `people` the world's fixture people). None is
 * open today; an entry looks like
 *   { bug: 'some-bug', opId: 'PATCH /v1/bookings/{id}', spec: (people) => ({ key: 'admin', params: { id: { real: true, variant: 1, garbage: 'x' } }, query: {}, accept: 'application/json', body: { kind: 'valid', value: { organiserId: people[1] } } }) }
 */
const apiReproductions: { bug: KnownBug; opId: string; spec: (people: string[]) => RequestSpec }[] = [];

export function apiExamples(opId: string, kind: StoreKind, people: string[]): RequestSpec[] {
  if (!KNOWN_BUGS) return [];
  return apiReproductions.filter((r) => r.opId === opId && knownBugs[r.bug].stores.includes(kind)).map((r) => r.spec(people));
}

/**
 * With FUZZ_KNOWN_BUGS=1: signed webhook bodies that reproduce an open bug, run before the random
 * ones. None is open today (the last one, a Cal.com triggerEvent named like an inherited property,
 * was fixed with `Object.hasOwn` in src/sources/calcom.ts and is pinned in test/api/edge-input.test.ts).
 */
export function webhookExamples(_which: 'calcom' | 'bookings', _kind: StoreKind, _mappedEventTypeId: number): Json[] {
  return [];
}
