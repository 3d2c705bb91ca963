/**
 * The plain facts desired-state computation works from. The store loads them; the pure functions in
 * `desired.ts` turn them into "who must have access to which target, when". Instants are epoch ms (UTC).
 */

import type { PartialTriggerRule } from './triggers.js';

export type BookingStatus = 'pending' | 'confirmed' | 'cancelled';

export interface BookingFact {
  id: string;
  spaceId: string;
  status: BookingStatus;
  startsAt: number;
  endsAt: number;
  /** Set-up time before the booking (minutes). */
  bumpInMinutes: number;
  /** Tear-down time after the booking (minutes). */
  bumpOutMinutes: number;
  organiserId: string;
  inviteeIds: string[];
  /** Marked paid (the 'on-payment' trigger); absent = unpaid. */
  paid?: boolean;
}

export interface SubscriptionFact {
  id: string;
  planId: string;
  /** Exactly one of personId / companyId is set. */
  personId: string | null;
  companyId: string | null;
  startsAt: number;
  /** Null: runs until cancelled. */
  endsAt: number | null;
  /** A cancellation ends access at this instant (may be earlier than endsAt). */
  cancelledAt: number | null;
}

export interface PlanFact {
  id: string;
  /** Spaces whose mapped targets the plan opens. */
  spaceIds: string[];
  /** Targets the plan opens directly. */
  targets: { integrationId: string; targetRef: string }[];
}

export interface MappingFact {
  spaceId: string;
  integrationId: string;
  targetRef: string;
}

export interface IntegrationFact {
  id: string;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  /** Access is provisioned only this far ahead of its start (keypads hold few codes). */
  provisionAheadDays: number;
  /** Disconnected/revoking integrations want nothing. */
  active: boolean;
  /** When a booking's access is issued (see domain/triggers.ts); absent = on confirmation. */
  trigger?: PartialTriggerRule | null;
}

export interface SpaceFact {
  id: string;
  /** Per-space override of the integration buffers; null = use the integration's. */
  bufferBeforeMinutes: number | null;
  bufferAfterMinutes: number | null;
  /** Per-space override of the integration's trigger rule; null/absent = inherit. */
  trigger?: PartialTriggerRule | null;
}

export interface CompanyMemberFact {
  companyId: string;
  personId: string;
}

export interface Facts {
  bookings: BookingFact[];
  subscriptions: SubscriptionFact[];
  plans: PlanFact[];
  mappings: MappingFact[];
  integrations: IntegrationFact[];
  spaces: SpaceFact[];
  companyMembers: CompanyMemberFact[];
}

/** Why a window exists; kept for the audit log and the "why can this guest get in?" explainer. */
export type Reason = `booking:${string}` | `subscription:${string}`;

export interface DesiredWindow {
  startsAt: number;
  /** Null = open-ended. */
  endsAt: number | null;
  reasons: Reason[];
}

export interface DesiredAccess {
  integrationId: string;
  personId: string;
  targetRef: string;
  /** Sorted, non-overlapping, non-adjacent. */
  windows: DesiredWindow[];
}
