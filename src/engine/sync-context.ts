/**
 * What one sync of one person on one integration works with, shared by the reconciler and its step
 * runners: the context, the audit note and provider-call hooks, how a person is named to the
 * provider, and the small conversions between grant rows, plans and audit details.
 */
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { DesiredWindow } from '../domain/facts.js';
import type { IssuedCredential, ProviderAdapter, ProviderIdentity } from '../providers/types.js';
import type { AppliedGrant } from './plan.js';
import type { PinService } from './pins.js';
import type { SecretBox } from '../security/crypto.js';

export interface ReconcileContext {
  db: Kysely<Database>;
  pins: PinService;
  secrets: SecretBox;
  adapter: ProviderAdapter;
  integration: Row<'integrations'>;
  now: number;
  /** Queue these people for a sync now (a keypad slot freed up for them). */
  wake?: (personIds: string[]) => Promise<void>;
  /** Set per run: slots for Lockstep's codes on capacity-limited targets (src/engine/capacity.ts). */
  slots?: { limits: Map<string, number>; retryAt: number | null };
}

export interface ReconcileOutcome {
  /** When time alone will next change this person's access; null = nothing scheduled. */
  nextDueAt: number | null;
  calls: number;
}

export const ACTOR = 'engine';

/** Sealed columns for a provider-issued credential; the secret itself never reaches the audit log. */
export function credentialColumns(ctx: ReconcileContext, credential: IssuedCredential | undefined) {
  if (!credential) return {};
  return {
    credentialKind: credential.kind,
    credentialSealed: ctx.secrets.seal(credential.secret),
    credentialValidFrom: credential.validFrom,
    credentialValidUntil: credential.validUntil,
    credentialInstructions: credential.instructions ?? null,
    credentialFirstUseBefore: credential.firstUseBefore ?? null,
  };
}

export const credentialDetails = (c: IssuedCredential) => ({
  credential: c.kind,
  validFrom: new Date(c.validFrom).toISOString(),
  validUntil: c.validUntil === null ? null : new Date(c.validUntil).toISOString(),
});

export function toApplied(g: Row<'providerGrants'>): AppliedGrant {
  return {
    id: g.id,
    targetRef: g.targetRef,
    startsAt: g.startsAt,
    endsAt: g.endsAt,
    pinId: g.pinId,
    reasons: JSON.parse(g.reasons),
    ...(g.replaceRequested ? { replace: true } : {}),
    ...(g.fixed ? { fixed: true } : {}),
  };
}

/** Who a person is on this integration's provider (a pseudonym in privacy mode). */
export function providerIdentity(ctx: Pick<ReconcileContext, 'db' | 'secrets' | 'integration'>, personId: string): Promise<ProviderIdentity> {
  return identityFor(ctx, personId);
}

/** The stable key Lockstep stores on the provider for a person (a pseudonym in privacy mode). */
export function userKey(ctx: Pick<ReconcileContext, 'secrets' | 'integration'>, personId: string): string {
  // In privacy mode the provider sees a pseudonym that cannot be turned back into our person id.
  if (ctx.integration.privacyMode) return `ls-${ctx.secrets.keyedHash(personId, `pseudonym:${ctx.integration.id}`).slice(0, 24)}`;
  return `lockstep-${personId}`;
}

/** `read`: the person's row if the caller has it already (null: the person is gone). */
export async function identityFor(
  ctx: Pick<ReconcileContext, 'db' | 'secrets' | 'integration'>,
  personId: string,
  read?: { name: string; email: string | null; phone: string | null } | null,
): Promise<ProviderIdentity> {
  const key = userKey(ctx, personId);
  if (ctx.integration.privacyMode) return { key, displayName: `Guest ${key.slice(3, 11)}` };
  const person = read !== undefined ? read : await ctx.db.selectFrom('people').select(['name', 'email', 'phone']).where('id', '=', personId).executeTakeFirst();
  return { key, displayName: person?.name ?? key, email: person?.email ?? undefined, phone: person?.phone ?? undefined };
}

export type Call = <T>(fn: () => Promise<T>) => Promise<T>;
export type Note = (action: string, details: Record<string, unknown>, reason?: string | null) => void;

export const reasonText = (w: DesiredWindow | AppliedGrant) => (w.reasons.length ? w.reasons.join(',') : null);
export const windowDetails = (w: { startsAt: number; endsAt: number | null }) => ({
  from: new Date(w.startsAt).toISOString(),
  until: w.endsAt === null ? null : new Date(w.endsAt).toISOString(),
});

