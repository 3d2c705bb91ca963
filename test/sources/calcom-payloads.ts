/**
 * Cal.com webhook bodies, as Cal.com sends them.
 *
 * BASE is the example payload published in Cal.com's webhook documentation, verbatim
 * (calcom/cal.com docs/developing/guides/automation/webhooks.mdx, "An example webhook payload";
 * also https://cal.com/docs/developing/guides/automation/webhooks). Only the instants are moved to the
 * future (a past booking grants no access) by the builders below.
 *
 * The other triggers add exactly the fields Cal.com's payload builder adds for them
 * (packages/features/webhooks/lib/factory/versioned/v2021-10-20/BookingPayloadBuilder.ts):
 * BOOKING_RESCHEDULED → rescheduleId, rescheduleUid, rescheduleStartTime, rescheduleEndTime,
 * rescheduledBy, status ACCEPTED; BOOKING_CANCELLED → cancelledBy, cancellationReason,
 * requestReschedule, status CANCELLED; BOOKING_REQUESTED → status PENDING; BOOKING_REJECTED → status
 * REJECTED. Current Cal.com spreads the CalendarEvent into the payload, which carries `iCalUID`
 * (`<first uid>@Cal.com`, kept across reschedules: handleNewBooking `getICalUID({ event:
 * originalRescheduledBooking })`) and `iCalSequence` (+1 per change; handleCancelBooking). PING is the
 * body of Cal.com's "Ping test" (packages/trpc/server/routers/viewer/webhook/testTrigger.handler.ts)
 * after JSON.stringify drops the `translate` function.
 */
import { createHmac } from 'node:crypto';

export const BASE = {
  triggerEvent: 'BOOKING_CREATED',
  createdAt: '2023-05-24T09:30:00.538Z',
  payload: {
    type: '60min',
    title: '60min between Pro Example and John Doe',
    description: '',
    additionalNotes: '',
    customInputs: {},
    startTime: '2023-05-25T09:30:00Z',
    endTime: '2023-05-25T10:30:00Z',
    organizer: {
      id: 5,
      name: 'Pro Example',
      email: 'pro@example.com',
      username: 'pro',
      timeZone: 'Asia/Kolkata',
      language: { locale: 'en' },
      timeFormat: 'h:mma',
    },
    responses: {
      name: { label: 'your_name', value: 'John Doe' },
      email: { label: 'email_address', value: 'john.doe@example.com' },
      location: { label: 'location', value: { optionValue: '', value: 'inPerson' } },
      notes: { label: 'additional_notes' },
      guests: { label: 'additional_guests' },
      rescheduleReason: { label: 'reschedule_reason' },
    },
    userFieldsResponses: {},
    attendees: [{ email: 'john.doe@example.com', name: 'John Doe', timeZone: 'Asia/Kolkata', language: { locale: 'en' } }],
    location: 'Calcom HQ',
    destinationCalendar: {
      id: 10,
      integration: 'apple_calendar',
      externalId: 'https://caldav.icloud.com/1234567/calendars/XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX/',
      userId: 5,
      eventTypeId: null,
      credentialId: 1,
    },
    hideCalendarNotes: false,
    requiresConfirmation: null,
    eventTypeId: 7,
    seatsShowAttendees: true,
    seatsPerTimeSlot: null,
    uid: 'bFJeNb2uX8ANpT3JL5EfXw',
    appsStatus: [{ appName: 'Apple Calendar', type: 'apple_calendar', success: 1, failures: 0, errors: [], warnings: [] }],
    eventTitle: '60min',
    eventDescription: '',
    price: 0,
    currency: 'usd',
    length: 60,
    bookingId: 91,
    metadata: {},
    status: 'ACCEPTED',
  },
};

type Payload = Record<string, unknown>;
const iso = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString().replace('.000Z', 'Z');
const hours = (h: number) => Date.now() + h * 3_600_000;

export interface Envelope {
  triggerEvent: string;
  createdAt: string;
  payload: Payload;
}

/** BOOKING_CREATED for `uid`, `startH`..`endH` hours from now, fired at `at` (ms). */
export function created(opts: { uid?: string; startH?: number; endH?: number; at?: number; guests?: { name: string; email: string }[]; withICalUID?: boolean; eventTypeId?: number; type?: string } = {}): Envelope {
  const uid = opts.uid ?? BASE.payload.uid;
  const payload: Payload = {
    ...structuredClone(BASE.payload),
    uid,
    startTime: iso(hours(opts.startH ?? 1)),
    endTime: iso(hours(opts.endH ?? 2)),
    ...(opts.withICalUID === false ? {} : { iCalUID: `${uid}@Cal.com`, iCalSequence: 0 }),
  };
  if (opts.eventTypeId !== undefined) payload.eventTypeId = opts.eventTypeId;
  if (opts.type !== undefined) payload.type = opts.type;
  if (opts.guests) {
    payload.attendees = [
      ...(payload.attendees as unknown[]),
      ...opts.guests.map((g) => ({ email: g.email, name: g.name, timeZone: 'Europe/London', language: { locale: 'en' } })),
    ];
  }
  return { triggerEvent: 'BOOKING_CREATED', createdAt: new Date(opts.at ?? Date.now()).toISOString(), payload };
}

/** BOOKING_RESCHEDULED: Cal.com's new booking row (new uid) replacing `from`. */
export function rescheduled(from: Envelope, opts: { newUid: string; startH: number; endH: number; at: number; keepICalUID?: boolean }): Envelope {
  const old = from.payload;
  const payload: Payload = {
    ...structuredClone(old),
    uid: opts.newUid,
    bookingId: (old.bookingId as number) + 1,
    startTime: iso(hours(opts.startH)),
    endTime: iso(hours(opts.endH)),
    status: 'ACCEPTED',
    rescheduleId: old.bookingId,
    rescheduleUid: old.uid,
    rescheduleStartTime: old.startTime,
    rescheduleEndTime: old.endTime,
    rescheduledBy: 'john.doe@example.com',
  };
  if (opts.keepICalUID === false) {
    delete payload.iCalUID;
    delete payload.iCalSequence;
  } else if (old.iCalUID) {
    payload.iCalSequence = ((old.iCalSequence as number) ?? 0) + 1;
  }
  return { triggerEvent: 'BOOKING_RESCHEDULED', createdAt: new Date(opts.at).toISOString(), payload };
}

/** BOOKING_CANCELLED (or BOOKING_REJECTED) of the booking `of` describes. */
export function cancelled(of: Envelope, at: number, trigger: 'BOOKING_CANCELLED' | 'BOOKING_REJECTED' = 'BOOKING_CANCELLED'): Envelope {
  const payload: Payload = {
    ...structuredClone(of.payload),
    status: trigger === 'BOOKING_CANCELLED' ? 'CANCELLED' : 'REJECTED',
    ...(trigger === 'BOOKING_CANCELLED' ? { cancelledBy: 'john.doe@example.com', cancellationReason: 'Plans changed', requestReschedule: false } : { rejectionReason: 'Room closed' }),
  };
  if (payload.iCalSequence !== undefined) payload.iCalSequence = (payload.iCalSequence as number) + 1;
  return { triggerEvent: trigger, createdAt: new Date(at).toISOString(), payload };
}

export function withTrigger(e: Envelope, triggerEvent: string, at: number, status?: string): Envelope {
  return { triggerEvent, createdAt: new Date(at).toISOString(), payload: { ...structuredClone(e.payload), ...(status ? { status } : {}) } };
}

export function ping(): Envelope {
  const now = new Date().toISOString();
  return {
    triggerEvent: 'PING',
    createdAt: now,
    payload: {
      type: 'Test',
      title: 'Test trigger event',
      description: '',
      startTime: now,
      endTime: now,
      attendees: [{ email: 'jdoe@example.com', name: 'John Doe', timeZone: 'Europe/London', language: { locale: 'en' }, utcOffset: 0 }],
      organizer: { name: 'Cal', email: 'no-reply@cal.com', timeZone: 'Europe/London', language: { locale: 'en' }, utcOffset: 0 },
    },
  };
}

/** X-Cal-Signature-256 as Cal.com computes it (sendPayload.ts createWebhookSignature). */
export const calSign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');
