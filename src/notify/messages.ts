/**
 * What each notification says. Pure functions from facts to content, so wording can be tested and
 * changed without touching when or how messages are sent.
 */
import { localTime, localWindow, type MessageContent, type MessageSection } from './render.js';

export type NotificationKind = 'booking.confirmed' | 'booking.moved' | 'booking.revoked' | 'credential.changed' | 'pin.changed' | 'integration.failing' | 'target.full';

export interface DoorAccess {
  targetName: string;
  from: number;
  until: number;
  /** A code the provider issued for this door (algoPIN, URL key, …), when it is not the personal PIN. */
  credential?: { kind: string; secret: string; instructions: string | null; validFrom: number | null; validUntil: number | null; firstUseBefore: number | null };
  /** After a cancellation: an offline code that cannot be withdrawn keeps working until then. */
  leftValidUntil?: number | null;
}

export interface BookingFacts {
  bookingId: string;
  title: string | null;
  spaceName: string;
  locationName: string;
  timeZone: string;
  startsAt: number;
  endsAt: number;
  personName: string;
  /** Personal PINs that open this booking's doors, one per integration. */
  pins: { integrationName: string; pin: string }[];
  doors: DoorAccess[];
  /** Access is not on the provider yet (sent after the grace period). */
  stillPending: boolean;
  /** The visitor registration code for check-in (formatted), and its QR code as a PNG data: URL. */
  visit?: { code: string; qrDataUrl: string };
}

const what = (f: BookingFacts) => (f.title ? `${f.title} (${f.spaceName})` : f.spaceName);

function bookingSection(f: BookingFacts): MessageSection {
  return {
    heading: 'Booking',
    rows: [
      ['Space', `${f.spaceName}, ${f.locationName}`],
      ['When', localWindow(f.startsAt, f.endsAt, f.timeZone)],
    ],
  };
}

function accessSections(f: BookingFacts): MessageSection[] {
  const sections: MessageSection[] = [];
  if (f.pins.length) {
    sections.push({
      heading: f.pins.length === 1 ? 'Your PIN' : 'Your PINs',
      rows: f.pins.map((p) => [f.pins.length === 1 ? 'PIN' : `PIN (${p.integrationName})`, p.pin]),
    });
  }
  if (f.doors.length) {
    sections.push({
      heading: 'Doors',
      rows: f.doors.map((d) => [d.targetName, `open to you ${localWindow(d.from, d.until, f.timeZone)}`]),
    });
  }
  const issued = f.doors.filter((d) => d.credential);
  if (issued.length) {
    sections.push({
      heading: 'Your codes',
      rows: issued.flatMap((d) => {
        const c = d.credential!;
        const rows: [string, string][] = [[`${d.targetName} (${credentialLabel(c.kind)})`, c.secret]];
        // The provider's own validity can differ from the booking window (e.g. rounded to whole hours).
        if (c.validFrom !== null) rows.push([`${d.targetName}, valid`, localWindow(c.validFrom, c.validUntil, f.timeZone)]);
        if (c.firstUseBefore !== null) rows.push([`${d.targetName}, first use before`, localTime(c.firstUseBefore, f.timeZone)]);
        if (c.instructions) rows.push([`${d.targetName}, how to use`, c.instructions]);
        return rows;
      }),
    });
  }
  if (f.visit) {
    sections.push({
      heading: 'Your check-in code',
      rows: [
        ['Registration code', f.visit.code],
        ['How to use', 'Show this code (or the QR code) at reception or the visitor kiosk to check in and out.'],
      ],
      image: { src: f.visit.qrDataUrl, alt: `QR code for registration code ${f.visit.code}`, width: 200 },
    });
  }
  return sections;
}

const credentialLabel = (kind: string) => ({ pin: 'code', 'url-key': 'link', 'mobile-key': 'mobile key' })[kind] ?? kind;

const secretsOf = (f: BookingFacts) => [
  ...f.pins.map((p) => p.pin),
  ...f.doors.flatMap((d) => (d.credential ? [d.credential.secret] : [])),
  ...(f.visit ? [f.visit.code, f.visit.code.replace('-', ''), f.visit.qrDataUrl] : []),
];

const PENDING_NOTE =
  'Your access is still being set up on the door system. The details below are what you will be given; if a door does not open at the start of your booking, please contact the venue.';

export function bookingConfirmed(f: BookingFacts): MessageContent {
  return {
    subject: `Booking confirmed: ${what(f)}, ${localTime(f.startsAt, f.timeZone)}`,
    greeting: `Hello ${f.personName},`,
    paragraphs: [`Your booking of ${what(f)} is confirmed. Here is how you get in.`],
    note: f.stillPending ? PENDING_NOTE : undefined,
    sections: [bookingSection(f), ...accessSections(f)],
    secrets: secretsOf(f),
  };
}

export function bookingMoved(f: BookingFacts): MessageContent {
  return {
    subject: `Booking moved: ${what(f)}, now ${localTime(f.startsAt, f.timeZone)}`,
    greeting: `Hello ${f.personName},`,
    paragraphs: [`Your booking of ${what(f)} has moved to ${localWindow(f.startsAt, f.endsAt, f.timeZone)}. Your access has moved with it; the old times no longer apply.`],
    note: f.stillPending ? PENDING_NOTE : undefined,
    sections: [bookingSection(f), ...accessSections(f)],
    secrets: secretsOf(f),
  };
}

/** The door system issued new codes for a booking (a host asked for them, or they arrived late). */
export function credentialChanged(f: BookingFacts): MessageContent {
  return {
    subject: `New access code: ${what(f)}, ${localTime(f.startsAt, f.timeZone)}`,
    greeting: `Hello ${f.personName},`,
    paragraphs: [`Here are your current codes for your booking of ${what(f)}. Use these; do not use any earlier code you were sent for this booking.`],
    sections: [bookingSection(f), ...accessSections(f)],
    secrets: secretsOf(f),
  };
}

export function bookingRevoked(f: BookingFacts): MessageContent {
  const leftValid = f.doors.filter((d) => d.leftValidUntil);
  const paragraphs = [
    leftValid.length
      ? `Your booking of ${what(f)} on ${localWindow(f.startsAt, f.endsAt, f.timeZone)} has been cancelled. The access it gave you has been withdrawn wherever the door system allows it.`
      : `Your booking of ${what(f)} on ${localWindow(f.startsAt, f.endsAt, f.timeZone)} has been cancelled, and the access it gave you has been withdrawn.`,
  ];
  for (const d of leftValid) {
    paragraphs.push(
      `The code for ${d.targetName} works offline and cannot be withdrawn remotely: technically it keeps working until ${localTime(d.leftValidUntil!, f.timeZone)}, but you must not use it.`,
    );
  }
  return {
    subject: `Booking cancelled: ${what(f)}, ${localTime(f.startsAt, f.timeZone)}`,
    greeting: `Hello ${f.personName},`,
    paragraphs,
    note: f.stillPending ? 'Your access is still being removed from the door system; this happens automatically.' : undefined,
    sections: [bookingSection(f)],
    secrets: [],
  };
}

export interface PinChangedFacts {
  personName: string;
  integrationName: string;
  pin: string;
  /** Upcoming bookings the new PIN opens, in their location's zone. */
  upcoming: { what: string; window: string }[];
  stillPending: boolean;
}

export function pinChanged(f: PinChangedFacts): MessageContent {
  return {
    subject: `Your PIN has changed (${f.integrationName})`,
    greeting: `Hello ${f.personName},`,
    paragraphs: [`Your PIN for ${f.integrationName} has been replaced. Your old PIN no longer works; use the new one below for all your bookings.`],
    note: f.stillPending ? 'The new PIN is still being set up on the door system; if it does not work yet, try again in a few minutes.' : undefined,
    sections: [
      { heading: 'Your new PIN', rows: [['PIN', f.pin]] },
      ...(f.upcoming.length ? [{ heading: 'Your upcoming bookings', rows: f.upcoming.map((u): [string, string] => [u.what, u.window]) }] : []),
    ],
    secrets: [f.pin],
  };
}

export interface IntegrationFailingFacts {
  organisationName: string;
  integrationName: string;
  integrationKind: string;
  failingSince: number;
  lastError: string;
  peopleWaiting: number;
  maxAttempts: number;
}

export function integrationFailing(f: IntegrationFailingFacts): MessageContent {
  return {
    subject: `Integration failing: ${f.integrationName} (${f.organisationName})`,
    greeting: 'Hello,',
    paragraphs: [
      `Lockstep cannot get changes through to ${f.integrationName} (${f.integrationKind}). It keeps retrying with back-off; guests whose access is waiting are not on the doors yet.`,
      'Check the provider\'s status and the credentials in the integration settings. You will not get another alert for this failure; a new one is sent if it fails again after recovering.',
    ],
    sections: [
      {
        rows: [
          ['Failing since', new Date(f.failingSince).toISOString()],
          ['Last error', f.lastError],
          ['People waiting for a sync', String(f.peopleWaiting)],
          ['Attempts so far (worst case)', String(f.maxAttempts)],
        ],
      },
    ],
    secrets: [],
  };
}

export interface TargetFullFacts {
  organisationName: string;
  integrationName: string;
  targetName: string;
  capacity: number;
  lockstepCodes: number;
  foreignCodes: number;
  waiting: number;
  fullSince: number;
}

export function targetFull(f: TargetFullFacts): MessageContent {
  return {
    subject: `Keypad full: ${f.targetName} on ${f.integrationName} (${f.organisationName})`,
    greeting: 'Hello,',
    paragraphs: [
      `${f.targetName} holds ${f.capacity} codes and all are in use, so ${f.waiting === 1 ? 'one guest is' : `${f.waiting} guests are`} waiting for a free slot. Codes whose booking has started are never removed; the nearest booking gets the next free slot.`,
      'Free slots by removing codes you no longer need from the lock (Lockstep counts codes it did not create, and never touches them), by programming codes fewer days ahead (the integration\'s provisioning horizon), or by setting the true capacity if the lock holds more. You will not get another alert until the keypad has had room again.',
    ],
    sections: [
      {
        rows: [
          ['Full since', new Date(f.fullSince).toISOString()],
          ['Codes by Lockstep', String(f.lockstepCodes)],
          ['Codes by others', String(f.foreignCodes)],
          ['Guests waiting', String(f.waiting)],
        ],
      },
    ],
    secrets: [],
  };
}
