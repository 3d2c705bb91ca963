/**
 * API keys and roles. A key is shown once at creation; only its keyed hash is stored.
 *
 * platform-admin: the operator of this Lockstep install; connects integrations, sees every organisation.
 * team-admin:     a venue's admin; spaces, mappings, buffers, bookings, plans.
 * host:           front desk; reads bookings and their access, regenerates guests' PINs.
 * guest:          one person; their own PINs and bookings only.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database, Row } from '../store/schema.js';
import type { SecretBox } from '../security/crypto.js';
import { ApiError, badRequest, forbidden, notFound } from './errors.js';
import { newId } from '../store/ids.js';

export const roles = ['platform-admin', 'team-admin', 'host', 'guest'] as const;
export type Role = (typeof roles)[number];

export interface Principal {
  keyId: string;
  role: Role;
  organisationId: string | null;
  personId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

const rank: Record<Role, number> = { guest: 0, host: 1, 'team-admin': 2, 'platform-admin': 3 };

export function hashApiKey(secrets: SecretBox, key: string): string {
  return secrets.keyedHash(key, 'api-key');
}

export async function createApiKey(
  db: Kysely<Database>,
  secrets: SecretBox,
  input: { role: Role; name: string; organisationId: string | null; personId: string | null },
): Promise<{ id: string; key: string }> {
  const id = newId('key');
  const key = `lsk_${randomBytes(24).toString('base64url')}`;
  await db
    .insertInto('apiKeys')
    .values({ id, ...input, keyHash: hashApiKey(secrets, key), createdAt: Date.now(), revokedAt: null })
    .execute();
  return { id, key };
}

/**
 * Looks API keys up, and remembers a known key's principal for a few seconds: every request is
 * authenticated, and on PostgreSQL that lookup was a round trip of its own on each one.
 *
 * A revoke forgets the key here at once and, on PostgreSQL, announces it on `KEYS_CHANNEL`; every
 * process serving the API listens there and forgets all it remembers (also when its listening
 * connection comes back after a drop, as it may have missed one). So a revoked key stops working
 * everywhere at once; `rememberMs` only bounds the time a process whose listener is down may
 * still let it in. Unknown keys are never remembered: each guess still reaches the store and the
 * brute-force count.
 */
export class ApiKeys {
  private readonly known = new Map<string, { principal: Principal; until: number }>();
  /** Moves on with every "forget"; a lookup that started before one must not be remembered. */
  private generation = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
    private readonly opts: { rememberMs?: number; maxRemembered?: number; announceRevoke?: () => Promise<void> } = {},
  ) {}

  /** The principal an API key speaks for, or null when it is unknown or revoked (API and web log-in share this). */
  async principalFor(key: string, now = Date.now()): Promise<Principal | null> {
    const keyHash = hashApiKey(this.secrets, key);
    const hit = this.known.get(keyHash);
    if (hit && hit.until > now) return hit.principal;
    const generation = this.generation;
    const row = await this.db
      .selectFrom('apiKeys')
      .select(['id', 'role', 'organisationId', 'personId'])
      .where('keyHash', '=', keyHash)
      .where('revokedAt', 'is', null)
      .executeTakeFirst();
    if (!row) {
      this.known.delete(keyHash);
      return null;
    }
    const principal: Principal = { keyId: row.id, role: row.role, organisationId: row.organisationId, personId: row.personId };
    if (generation === this.generation) this.remember(keyHash, principal, now);
    return principal;
  }

  /** Revokes a key: in the store, here, and (PostgreSQL) in every other process. */
  async revoke(keyId: string, now = Date.now()): Promise<void> {
    await this.db.updateTable('apiKeys').set({ revokedAt: now }).where('id', '=', keyId).execute();
    this.forgetAll();
    await this.opts.announceRevoke?.();
  }

  /** Drops every remembered principal (a key was revoked somewhere). */
  forgetAll(): void {
    this.generation++;
    this.known.clear();
  }

  private remember(keyHash: string, principal: Principal, now: number): void {
    const max = this.opts.maxRemembered ?? 10_000;
    if (this.known.size >= max) this.known.delete(this.known.keys().next().value!);
    this.known.set(keyHash, { principal, until: now + (this.opts.rememberMs ?? 10_000) });
  }
}

/** Processes serving the API hear of revoked keys on this channel (PostgreSQL); see `ApiKeys`. */
export const KEYS_CHANNEL = 'lockstep_api_keys';

/**
 * The API-key hook. `onUnknownKey` counts a failed attempt (brute-force limit) and may throw a 429
 * instead of the 401.
 */
export function authenticate(keys: ApiKeys, onUnknownKey?: (request: FastifyRequest) => Promise<void>) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new ApiError(401, 'unauthorized', 'send an API key as "Authorization: Bearer <key>" (create one with `lockstep api-key create`)');
    }
    const principal = await keys.principalFor(match[1]!);
    if (!principal) {
      await onUnknownKey?.(request);
      throw new ApiError(401, 'unauthorized', 'this API key is unknown or revoked');
    }
    request.principal = principal;
  };
}

export function requireRole(principal: Principal, minimum: Role): void {
  if (rank[principal.role] < rank[minimum]) {
    throw forbidden(`this needs the ${minimum} role or higher; your key has the ${principal.role} role`);
  }
}

export function atLeast(principal: Principal, role: Role): boolean {
  return rank[principal.role] >= rank[role];
}

/**
 * The organisation a request acts in: the key's own, or for a platform admin the one it names.
 */
export function organisationOf(principal: Principal, requested?: string | null): string {
  if (principal.role === 'platform-admin') {
    if (!requested) throw new ApiError(400, 'validation', 'organisationId: required for platform-admin keys (they are not tied to one organisation)', [{ path: 'organisationId', message: 'required for platform-admin keys' }]);
    return requested;
  }
  if (requested && requested !== principal.organisationId) throw forbidden('this key belongs to another organisation');
  return principal.organisationId!;
}

/**
 * `organisationOf` for creates: a platform admin names the organisation, so check it exists (a
 * foreign-key failure on insert would otherwise surface as a 500).
 */
export async function organisationForWrite(db: Kysely<Database>, principal: Principal, requested?: string | null): Promise<string> {
  const organisationId = organisationOf(principal, requested);
  const org = await db.selectFrom('organisations').select('id').where('id', '=', organisationId).executeTakeFirst();
  if (!org) throw badRequest('organisationId', `organisation ${organisationId} does not exist; list organisations with GET /v1/organisations`);
  return organisationId;
}

type OwnedTable = 'locations' | 'spaces' | 'people' | 'companies' | 'plans' | 'subscriptions' | 'integrations' | 'mappings' | 'bookingSources';

/** Loads an organisation-owned row by id; 404 when missing or another organisation's. */
export async function findOwned<T extends OwnedTable>(db: Kysely<Database>, table: T, principal: Principal, id: string, what: string): Promise<Row<T>> {
  // Every owned table has `id` and `organisationId`; Kysely cannot see that through a union of tables.
  const loose = db as unknown as Kysely<{ owned: { id: string; organisationId: string } }>;
  const row = await loose.selectFrom(table as 'owned').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(what, id);
  assertSameOrganisation(principal, row.organisationId, what, id);
  return row as unknown as Row<T>;
}

/** Throws 404 (not 403) for another organisation's object, so ids do not leak across tenants. */
export function assertSameOrganisation(principal: Principal, organisationId: string, what: string, id: string): void {
  if (principal.role !== 'platform-admin' && principal.organisationId !== organisationId) {
    throw new ApiError(404, 'not_found', `${what} ${id} does not exist (or belongs to another organisation)`);
  }
}
