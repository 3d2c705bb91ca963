/**
 * Triggers: WHEN a booking's access (and with it the credential and the message carrying it) is
 * issued, and how the PIN reaches the guest. Pure functions; the store loads the rules.
 *
 *   on-confirmation (default)  as soon as the booking is confirmed (Lockstep's behaviour before triggers)
 *   on-payment                 once the booking is marked paid (PATCH /v1/bookings/:id {"paid": true})
 *   before-start               `hoursBefore` hours before the booking starts
 *
 * The cancellation trigger is fixed: cancelling a booking revokes its access (and withdraws the
 * credential where the provider can), whatever the issue rule.
 *
 * A rule is set per integration; a space may override it (a space's fields that are null inherit).
 */
export const issueModes = ['on-confirmation', 'on-payment', 'before-start'] as const;
export type IssueOn = (typeof issueModes)[number];

export const deliveryModes = ['email', 'sms', 'dashboard'] as const;
export type PinDelivery = (typeof deliveryModes)[number];

export interface TriggerRule {
  issueOn: IssueOn;
  /** For 'before-start': how many hours before the booking's start access is issued. */
  hoursBefore: number | null;
}

export const DEFAULT_TRIGGER: TriggerRule = { issueOn: 'on-confirmation', hoursBefore: null };

/** A stored rule, fields possibly null (= inherit). */
export interface PartialTriggerRule {
  issueOn: IssueOn | null;
  hoursBefore: number | null;
}

/** The rule that applies to a booking in a space on an integration: the space's override, else the integration's, else on-confirmation. */
export function effectiveTrigger(integration?: PartialTriggerRule | null, space?: PartialTriggerRule | null): TriggerRule {
  if (space?.issueOn) return { issueOn: space.issueOn, hoursBefore: space.issueOn === 'before-start' ? (space.hoursBefore ?? integration?.hoursBefore ?? 0) : null };
  if (integration?.issueOn) return { issueOn: integration.issueOn, hoursBefore: integration.issueOn === 'before-start' ? (integration.hoursBefore ?? 0) : null };
  return DEFAULT_TRIGGER;
}

const HOUR_MS = 3_600_000;

/**
 * The instant from which a confirmed booking's access may be issued: -Infinity (now, whatever the
 * clock), a time (before-start), or null when it waits for an event that has not happened (payment).
 */
export function issueAt(rule: TriggerRule, booking: { startsAt: number; paid?: boolean }): number | null {
  switch (rule.issueOn) {
    case 'on-confirmation':
      return -Infinity;
    case 'on-payment':
      return booking.paid ? -Infinity : null;
    case 'before-start':
      return booking.startsAt - (rule.hoursBefore ?? 0) * HOUR_MS;
  }
}

/** Whether the trigger has fired at `now`; when not, `at` is when it will (null: on an event). */
export function triggerState(rule: TriggerRule, booking: { startsAt: number; paid?: boolean }, now: number): { fired: true } | { fired: false; at: number | null } {
  const at = issueAt(rule, booking);
  if (at !== null && at <= now) return { fired: true };
  return { fired: false, at };
}

/** How the PIN reaches a guest of this space: the space's choice, else e-mail. */
export function effectiveDelivery(space?: { delivery: PinDelivery | null } | null): PinDelivery {
  return space?.delivery ?? 'email';
}
