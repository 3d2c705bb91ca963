/**
 * The client's answer models against the server's own view functions, at compile time: these
 * assertions are checked by `npm run typecheck` (vitest only runs the file). Views that are not
 * exported (plans, subscriptions, keys, PINs, audit…) are checked at run time instead, field by
 * field against live answers, in client.test.ts.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { bookingView } from '../../src/api/routes/bookings.js';
import type { personView } from '../../src/api/routes/people.js';
import type { AccessEntry as ServerAccessEntry, AccessState as ServerAccessState, BookingAccessStatus } from '../../src/engine/status.js';
import type { CallbackEventData, CallbackEventType as ServerCallbackEventType } from '../../src/callbacks/dispatcher.js';
import type { AccessEntry, AccessState, Booking, BookingSyncStatus, CallbackEvent, CallbackEventType, Person, Role } from '../../src/client/index.js';
import type { Role as ServerRole } from '../../src/api/auth.js';

type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/**
 * Same field names, and each field the same type once null is set aside: the server's iso() helper
 * is typed nullable even for columns that never are, so nullability is the one thing not compared.
 */
type SameFields<Model, Server> =
  SameKeys<Model, Server> extends true
    ? false extends { [K in keyof Model & keyof Server]: Mutual<NonNullable<Model[K]>, NonNullable<Server[K]>> }[keyof Model & keyof Server]
      ? false
      : true
    : false;

type ServerBooking = Awaited<ReturnType<typeof bookingView>>;
type ServerPerson = ReturnType<typeof personView>;

describe('client models match the server views (compile time)', () => {
  it('Booking is bookingView', () => {
    expectTypeOf<SameFields<Booking, ServerBooking>>().toEqualTypeOf<true>();
  });

  it('Person is personView', () => {
    expectTypeOf<SameFields<Person, ServerPerson>>().toEqualTypeOf<true>();
  });

  it('the sync status is the engine type, exactly', () => {
    expectTypeOf<AccessState>().toEqualTypeOf<ServerAccessState>();
    expectTypeOf<AccessEntry>().toEqualTypeOf<ServerAccessEntry>();
    expectTypeOf<Omit<BookingSyncStatus, 'bookingId'>>().toEqualTypeOf<BookingAccessStatus>();
    expectTypeOf<BookingSyncStatus['bookingId']>().toEqualTypeOf<string>();
  });

  it('the call-back body is what the dispatcher sends', () => {
    expectTypeOf<CallbackEventType>().toEqualTypeOf<ServerCallbackEventType>();
    expectTypeOf<SameFields<CallbackEvent['data'], CallbackEventData>>().toEqualTypeOf<true>();
  });

  it('roles are the API roles', () => {
    expectTypeOf<Role>().toEqualTypeOf<ServerRole>();
  });

  it('the comparison itself notices a missing, an extra and a retyped field', () => {
    expectTypeOf<SameFields<Booking, Omit<ServerBooking, 'paid'>>>().toEqualTypeOf<false>();
    expectTypeOf<SameFields<Booking, ServerBooking & { roomNumber: string }>>().toEqualTypeOf<false>();
    expectTypeOf<SameFields<Booking, Omit<ServerBooking, 'version'> & { version: string }>>().toEqualTypeOf<false>();
  });
});
