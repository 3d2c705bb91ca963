/**
 * The kinds of booking source and the settings each takes. Settings are validated here, once, so the
 * API refuses a bad source before it is saved and the source code can trust what it reads.
 */
import { z } from 'zod';

const spaceId = z.string().min(1).max(100);

export const sourceSettings = {
  /** Cal.com webhooks: which Lockstep space an event type (by id or slug) books. */
  calcom: z
    .object({
      spaceByEventType: z.record(z.string().min(1).max(200), spaceId).default({}).describe('Cal.com event type id or slug → Lockstep space id'),
      defaultSpaceId: spaceId.optional().describe('Space for event types not in spaceByEventType; without it such bookings are refused'),
      spaceByLocation: z.record(z.string().min(1).max(500), spaceId).default({}).describe('Cal.com booking location (exact text, e.g. "Room 2, HQ") → Lockstep space id; checked after spaceByEventType'),
      hostAccess: z.boolean().default(false).describe('Also give the Cal.com organizer (the host whose calendar was booked) access as an invitee; by default only the booker and their guests get access'),
    })
    .strict(),
  /** The generic signed booking webhook: the payload names the space, or a resource mapped here. */
  webhook: z
    .object({
      spaceByResource: z.record(z.string().min(1).max(200), spaceId).default({}).describe("Your system's resource id → Lockstep space id"),
      defaultSpaceId: spaceId.optional(),
    })
    .strict(),
  /** An iCalendar feed polled on a schedule; every event books one space. */
  ical: z
    .object({
      url: z.url({ protocol: /^https?$/ }).describe('The feed URL (http or https), e.g. an Airbnb or Google Calendar export'),
      spaceId,
      pollMinutes: z.number().int().min(1).max(1440).default(15),
      horizonDays: z.number().int().min(1).max(730).default(180).describe('Recurring events are expanded this far ahead'),
      guestName: z.string().min(1).max(200).optional().describe('Who holds the booking when an event names no attendee'),
      guestEmail: z.email().max(320).optional(),
      // Feeds sometimes come back empty or partial: an event that vanishes is cancelled only once
      // it has been missing from this many successful polls in a row and for this long.
      removeAfterPolls: z.number().int().min(1).max(50).default(2).describe('Successful polls in a row an event must be missing from before its booking is cancelled'),
      removeAfterMinutes: z.number().int().min(0).max(10_080).default(30).describe('How long an event must be missing before its booking is cancelled'),
    })
    .strict(),
} as const;

export type SourceKind = keyof typeof sourceSettings;
export const sourceKinds = Object.keys(sourceSettings) as SourceKind[];
export type SourceSettings<K extends SourceKind> = z.infer<(typeof sourceSettings)[K]>;

/** Sources that verify a shared signing secret on every delivery. */
export const signedKinds: readonly SourceKind[] = ['calcom', 'webhook'];
