/**
 * Role checks for every endpoint (issue 6). The table below is the minimum role of each operation,
 * read from the handlers in src/api/routes/*.ts (their requireRole calls, or the guest-only checks of
 * the /v1/me routes). For every operation of the live OpenAPI document, with organisation A's own
 * objects and a schema-valid body:
 *  - every role below the minimum gets 403 (naming the role it needs) and changes nothing;
 *  - the minimum role gets through (2xx), and no role at or above it is refused for its role;
 *  - no valid key ever gets 401; no key at all always does.
 * An operation missing from the table (or a stale entry) fails the suite.
 * Roles: platform-admin > team-admin > host > guest (src/api/auth.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { hoursFromNow } from '../support/harness.js';
import { buildRequests, buildWorld, type BuiltRequest, type World } from './world.js';
import { callRaw, dumpStore, liveOperations, must, rank, roleOrder, storeDiff, type Operation, type Role } from './support.js';

type Rule =
  /** This role or higher. */
  | { min: Role; says?: RegExp }
  /** Guest keys only (a key tied to one person); every staff role is refused. */
  | { only: 'guest' }
  /** No API key: authenticated otherwise (an HMAC signature). */
  | { public: string };

const guest = { min: 'guest' } as const;
const host = { min: 'host' } as const;
const admin = { min: 'team-admin' } as const;
const platform = { min: 'platform-admin' } as const;
const guestOnly = { only: 'guest' } as const;
const hmac = { public: 'HMAC over the raw body with the source secret' } as const;

const table: Record<string, Rule> = {
  // venues.ts
  'GET /v1/organisations': guest, // any key; non-platform keys see their own organisation only
  'POST /v1/organisations': platform,
  'PATCH /v1/organisations/{id}': admin,
  'GET /v1/locations': host,
  'POST /v1/locations': admin,
  'GET /v1/locations/{id}': host,
  'PATCH /v1/locations/{id}': admin,
  'DELETE /v1/locations/{id}': admin,
  'GET /v1/spaces': { min: 'host', says: /guests cannot list spaces/ },
  'POST /v1/spaces': admin,
  'GET /v1/spaces/{id}': host,
  'PATCH /v1/spaces/{id}': admin,
  'DELETE /v1/spaces/{id}': admin,
  // people.ts
  'GET /v1/people': host,
  'POST /v1/people': admin,
  'GET /v1/people/{id}': host,
  'PATCH /v1/people/{id}': admin,
  'DELETE /v1/people/{id}': admin,
  'GET /v1/companies': host,
  'POST /v1/companies': admin,
  'GET /v1/companies/{id}': host,
  'PATCH /v1/companies/{id}': admin,
  'DELETE /v1/companies/{id}': admin,
  'PUT /v1/companies/{id}/members/{personId}': admin,
  'DELETE /v1/companies/{id}/members/{personId}': admin,
  // bookings.ts: guests read the bookings they are on
  'GET /v1/bookings': guest,
  'POST /v1/bookings': admin,
  'GET /v1/bookings/{id}': guest,
  'PATCH /v1/bookings/{id}': admin,
  'DELETE /v1/bookings/{id}': admin,
  'GET /v1/bookings/{id}/sync': guest,
  'POST /v1/bookings/{id}/cancel': admin,
  // memberships.ts
  'GET /v1/plans': host,
  'POST /v1/plans': admin,
  'GET /v1/plans/{id}': host,
  'PATCH /v1/plans/{id}': admin,
  'DELETE /v1/plans/{id}': admin,
  'GET /v1/subscriptions': host,
  'POST /v1/subscriptions': admin,
  'GET /v1/subscriptions/{id}': host,
  'PATCH /v1/subscriptions/{id}': admin,
  'DELETE /v1/subscriptions/{id}': admin,
  'POST /v1/subscriptions/{id}/cancel': admin,
  // integrations.ts (name, base URL and credentials need platform-admin: see the field-level test)
  'GET /v1/providers': guest,
  'GET /v1/integrations': host,
  'POST /v1/integrations': platform,
  'GET /v1/integrations/{id}': host,
  'PATCH /v1/integrations/{id}': admin,
  'POST /v1/integrations/{id}/test': admin,
  'GET /v1/integrations/{id}/targets': admin,
  'GET /v1/integrations/{id}/status': host,
  'POST /v1/integrations/{id}/disconnect': platform,
  'GET /v1/mappings': host,
  'POST /v1/mappings': admin,
  'DELETE /v1/mappings/{id}': admin,
  // access.ts
  'POST /v1/people/{id}/pins/regenerate': host,
  'GET /v1/me': guest,
  'GET /v1/me/pins': guestOnly,
  'GET /v1/me/credentials': guestOnly,
  'POST /v1/me/open': guestOnly,
  // explain.ts: staff ask about anyone in their organisation, a guest about itself only
  'GET /v1/access/explain': guest,
  // capacity.ts
  'GET /v1/integrations/{id}/capacity': host,
  'PUT /v1/integrations/{id}/targets/{targetRef}/capacity': admin,
  // admin.ts (platform-admin keys need platform-admin: see the field-level test)
  'POST /v1/api-keys': admin,
  'DELETE /v1/api-keys/{id}': admin,
  'GET /v1/audit': host,
  // preview.ts
  'POST /v1/preview/mapping': admin,
  'POST /v1/preview/buffers': admin,
  // outbox.ts
  'GET /v1/outbox': admin,
  'GET /v1/outbox/{id}': admin,
  // sources.ts, source-feeds.ts, source-deliveries.ts
  'GET /v1/sources': admin,
  'POST /v1/sources': admin,
  'GET /v1/sources/{id}': admin,
  'PATCH /v1/sources/{id}': admin,
  'DELETE /v1/sources/{id}': admin,
  'GET /v1/sources/{id}/status': admin,
  'POST /v1/sources/{id}/poll': admin,
  'POST /v1/sources/{id}/calcom': hmac,
  'POST /v1/sources/{id}/bookings': hmac,
  // visits.ts
  'POST /v1/visits/scan': host,
  'GET /v1/me/visits': guestOnly,
  'GET /v1/bookings/{id}/visits': host,
  // callbacks.ts
  'POST /v1/callbacks': admin,
  'GET /v1/callbacks': admin,
  'GET /v1/callbacks/{id}': admin,
  'DELETE /v1/callbacks/{id}': admin,
  'GET /v1/callbacks/{id}/deliveries': admin,
  'POST /v1/callbacks/{id}/deliveries/{deliveryId}/retry': admin,
  // controller.ts
  'GET /v1/spaces/{id}/bookings': host,
  'GET /v1/cards': admin,
  'GET /v1/cards/{email}': admin,
  'PUT /v1/cards/{email}': admin,
  'DELETE /v1/cards/{email}': admin,
  // triggers.ts
  'GET /v1/integrations/{id}/trigger': admin,
  'PUT /v1/integrations/{id}/trigger': admin,
  'GET /v1/spaces/{id}/trigger': admin,
  'PUT /v1/spaces/{id}/trigger': admin,
  // url-keys.ts
  'GET /v1/me/bookings/{id}/url-key': guestOnly,
};

/** Paths outside /v1 (not API-key routes), and why this table does not list them. */
const nonApi: { pattern: RegExp; why: string }[] = [
  { pattern: /^\/k\/\{token\}$/, why: 'URL keys: the signed token is the credential' },
  { pattern: /^\/$/, why: 'redirects to /web' },
  { pattern: /^\/web(\/|$)/, why: 'the web console: cookie sessions, CSRF, its own role check per page (test/web)' },
];

/**
 * Where the minimum role's well-formed request is refused by a rule other than the role, and
 * what it gets instead (never 401, never a role refusal).
 */
const minRoleOutcome: Record<string, { status: number; why: string }> = {
  // The demo provider cannot open doors remotely: a business refusal, not a role one.
  'POST /v1/me/open': { status: 403, why: 'no door of the space can be opened remotely (demo provider)' },
};

/** The refusal of a role check (requireRole, the guest-only checks, "guests cannot list spaces"). */
const ROLE_REFUSAL = /needs the [a-z-]+ role or higher|only a guest key|guests cannot/;

/** Operations that destroy their object: they get a fresh one of their own per run. */
const destructive = (op: Operation) => op.method === 'DELETE' || /\/(cancel|disconnect)$/.test(op.path);

describe.each(storeKinds)('roles on %s', (kind) => {
  let w: World;
  let ops: Operation[];
  let n = 0;

  beforeAll(async () => {
    w = await buildWorld(kind);
    ops = await liveOperations(w.h);
  });
  afterAll(async () => {
    await w?.close();
  });

  /** A fresh object of A for a destructive operation's path parameter. */
  const victim = async (segment: string): Promise<string> => {
    const h = w.h;
    const adm = w.a.keys['team-admin'];
    const i = ++n;
    switch (segment) {
      case 'locations':
        return (await must(h, 'POST', '/v1/locations', { name: `Victim ${i}`, timeZone: 'Europe/London' }, adm)).id;
      case 'spaces':
        return (await must(h, 'POST', '/v1/spaces', { locationId: h.locationId, name: `Victim ${i}`, kind: 'desk' }, adm)).id;
      case 'people':
      case 'members':
        return (await must(h, 'POST', '/v1/people', { name: `Victim ${i}` }, adm)).id;
      case 'companies':
        return (await must(h, 'POST', '/v1/companies', { name: `Victim ${i}` }, adm)).id;
      case 'bookings':
        return (await must(h, 'POST', '/v1/bookings', { spaceId: w.a.byCollection.spaces, organiserId: w.a.cy, start: hoursFromNow(20), end: hoursFromNow(21) }, adm)).id;
      case 'plans':
        return (await must(h, 'POST', '/v1/plans', { name: `Victim ${i}` }, adm)).id;
      case 'subscriptions':
        return (await must(h, 'POST', '/v1/subscriptions', { planId: w.a.byCollection.plans, personId: w.a.cy, start: hoursFromNow(20) }, adm)).id;
      case 'integrations':
        return (await must(h, 'POST', '/v1/integrations', { organisationId: w.a.organisationId, kind: 'demo', name: `Victim ${i}`, baseUrl: h.emulator.url, credentials: { apiKey: 'test-key' }, skipConnectionTest: true })).id;
      case 'mappings': {
        const space = (await must(h, 'POST', '/v1/spaces', { locationId: h.locationId, name: `Victim ${i}`, kind: 'desk' }, adm)).id;
        return (await must(h, 'POST', '/v1/mappings', { spaceId: space, integrationId: h.integrationId, targetRef: 'ag-hot-desks' }, adm)).id;
      }
      case 'api-keys':
        return (await must(h, 'POST', '/v1/api-keys', { role: 'host', name: `Victim ${i}` }, adm)).id;
      case 'sources':
        return (await must(h, 'POST', '/v1/sources', { kind: 'webhook', name: `Victim ${i}` }, adm)).id;
      case 'callbacks':
        return (await must(h, 'POST', '/v1/callbacks', { url: `https://example.com/victim-${i}` }, adm)).id;
      case 'cards': {
        const email = `victim${i}@example.com`;
        await must(h, 'PUT', `/v1/cards/${email}`, { cardNumber: `VICTIM-${i}-${Date.now()}` }, adm);
        return email;
      }
      default:
        throw new Error(`no fresh ${segment} for a destructive operation: add it to victim()`);
    }
  };

  const requestsFor = async (op: Operation) => {
    const fresh: Record<string, string> = {};
    if (destructive(op)) {
      for (const name of op.pathParams) {
        const segment = op.path.split('/')[op.path.split('/').indexOf(`{${name}}`) - 1];
        fresh[segment] = await victim(segment);
      }
    }
    const built = buildRequests(w, op, { param: (segment) => fresh[segment] ?? w.a.byCollection[segment], ref: (name) => w.a.byProperty[name] });
    if ('unresolved' in built) throw new Error(`${op.key}: ${built.unresolved}`);
    // A fresh booking or subscription is provisioned by the engine: let it finish first.
    await w.h.converge();
    return built;
  };

  it('lists every operation of the OpenAPI document (and nothing else)', () => {
    const missing = ops.filter((op) => (op.path.startsWith('/v1/') ? !table[op.key] : !nonApi.some((x) => x.pattern.test(op.path)))).map((op) => op.key);
    expect(missing, 'operations with no minimum role in the table').toEqual([]);
    const keys = new Set(ops.map((o) => o.key));
    expect(Object.keys(table).filter((k) => !keys.has(k)), 'stale table entries').toEqual([]);
    // Only the signed deliveries are documented without bearer auth, and the table agrees.
    for (const op of ops.filter((o) => o.path.startsWith('/v1/'))) expect(!op.secured, op.key).toBe('public' in table[op.key]);
  });

  it('every role below the minimum gets 403 and changes nothing; the minimum role and above are never refused for their role', async () => {
    const problems: string[] = [];
    let refusals = 0;
    for (const op of ops.filter((o) => o.path.startsWith('/v1/') && table[o.key] && !('public' in table[o.key]))) {
      const rule = table[op.key] as Exclude<Rule, { public: string }>;
      const allowed = (r: Role) => ('only' in rule ? r === 'guest' : rank(r) >= rank(rule.min));
      const lowest = 'only' in rule ? 'guest' : rule.min;
      for (const req of await requestsFor(op)) {
        const label = (role: Role) => `${role}: ${req.method} ${req.path}${req.body === undefined ? '' : ` ${JSON.stringify(req.body)}`}`;
        // The refused roles first, as one group between two dumps of the store: none may change anything.
        const refused = roleOrder.filter((r) => !allowed(r));
        const before = await dumpStore(w.h);
        for (const role of refused) {
          refusals++;
          const res = await callRaw(w.h, req.method, req.path, { key: w.a.keys[role], body: req.body });
          const says = 'says' in rule && rule.says ? rule.says : 'only' in rule ? /only a guest key/ : new RegExp(`needs the ${rule.min} role or higher; your key has the ${role} role`);
          if (res.status !== 403 || res.body?.error !== 'forbidden' || !says.test(String(res.body?.message ?? ''))) problems.push(`${label(role)} → ${res.status} (expected 403 ${says}): ${res.text.slice(0, 300)}`);
        }
        const diff = storeDiff(before, await dumpStore(w.h));
        if (diff.length) problems.push(`${refused.join(', ')} refused on ${req.method} ${req.path} but the store changed: ${diff.join(' | ')}`);
        // Then the allowed ones, lowest first: the lowest must get through.
        for (const role of roleOrder.filter(allowed)) {
          const res = await callRaw(w.h, req.method, req.path, { key: w.a.keys[role], body: req.body });
          if (res.status === 401) problems.push(`${label(role)} → 401 for a valid key: ${res.text}`);
          if (res.status === 403 && ROLE_REFUSAL.test(String(res.body?.message ?? ''))) problems.push(`${label(role)} → refused for its role: ${res.text}`);
          if (res.status >= 500) problems.push(`${label(role)} → ${res.status}: ${res.text.slice(0, 300)}`);
          if (role === lowest) {
            const expected = minRoleOutcome[op.key]?.status;
            const ok = expected === undefined ? res.status >= 200 && res.status < 300 : res.status === expected;
            if (!ok) problems.push(`${label(role)} → ${res.status}; the minimum role should get through: ${res.text.slice(0, 300)}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(refusals).toBeGreaterThan(150);
  });

  it('field-level: provider name, base URL and credentials, platform-admin keys and their revocation need a platform admin', async () => {
    const adm = w.a.keys['team-admin'];
    const integration = `/v1/integrations/${w.h.integrationId}`;
    for (const body of [{ name: 'Renamed' }, { baseUrl: 'https://evil.example.com' }, { credentials: { apiKey: 'stolen-credential' } }, { bufferAfterMinutes: 1, credentials: { apiKey: 'stolen-credential' } }]) {
      const before = await dumpStore(w.h);
      const res = await callRaw(w.h, 'PATCH', integration, { key: adm, body });
      expect(res.status, res.text).toBe(403);
      expect(res.body.message).toMatch(/needs the platform-admin role or higher; your key has the team-admin role/);
      expect(res.text).not.toContain('stolen-credential');
      expect(storeDiff(before, await dumpStore(w.h))).toEqual([]);
    }
    expect((await callRaw(w.h, 'PATCH', integration, { key: w.a.keys['platform-admin'], body: { name: 'Renamed by platform' } })).status).toBe(200);
    await w.h.converge(); // the rename re-queues everyone on the integration; let the engine settle before comparing dumps

    for (const role of ['host', 'team-admin'] as const) {
      const before = await dumpStore(w.h);
      const res = await callRaw(w.h, 'POST', '/v1/api-keys', { key: w.a.keys[role], body: { role: 'platform-admin', name: 'root' } });
      expect(res.status, res.text).toBe(403);
      expect(storeDiff(before, await dumpStore(w.h))).toEqual([]);
    }
    // A host cannot mint staff keys either, nor a team admin keys above its own role.
    for (const [role, wanted] of [['host', 'host'], ['host', 'guest'], ['guest', 'guest']] as const) {
      const res = await callRaw(w.h, 'POST', '/v1/api-keys', { key: w.a.keys[role], body: { role: wanted, name: 'x', personId: wanted === 'guest' ? w.a.ada : undefined } });
      expect(res.status, `${role} minting ${wanted}: ${res.text}`).toBe(403);
    }
    const root = await callRaw(w.h, 'POST', '/v1/api-keys', { key: w.a.keys['platform-admin'], body: { role: 'platform-admin', name: 'root 2' } });
    expect(root.status).toBe(201);

    // A team admin cannot revoke a platform key (not even the one that made its organisation).
    for (const id of [root.body.id, w.a.keyIds['platform-admin']!]) {
      const res = await callRaw(w.h, 'DELETE', `/v1/api-keys/${id}`, { key: adm });
      expect([403, 404], res.text).toContain(res.status);
    }
    expect((await callRaw(w.h, 'GET', '/v1/me', { key: root.body.key })).status).toBe(200);
    expect((await callRaw(w.h, 'GET', '/v1/me', { key: w.a.keys['platform-admin'] })).status).toBe(200);
  });

  it('no key (or a malformed header) is 401 on every API-key operation and changes nothing; a revoked key is 401 too', async () => {
    await w.h.converge();
    const problems: string[] = [];
    let probed = 0;
    // No request without a key can have an effect: one dump before and one after the whole sweep.
    const before = await dumpStore(w.h);
    for (const op of ops.filter((o) => o.path.startsWith('/v1/') && o.secured)) {
      for (const req of buildRequests(w, op, { param: (segment) => w.a.byCollection[segment], ref: (name) => w.a.byProperty[name] }) as BuiltRequest[]) {
        for (const headers of [{}, { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }, { authorization: 'Bearer' }] as Record<string, string>[]) {
          probed++;
          const res = await callRaw(w.h, req.method, req.path, { body: req.body, headers });
          if (res.status !== 401 || res.body?.error !== 'unauthorized') problems.push(`${req.method} ${req.path} with ${JSON.stringify(headers)} → ${res.status}: ${res.text.slice(0, 200)}`);
        }
      }
    }
    const diff = storeDiff(before, await dumpStore(w.h));
    if (diff.length) problems.push(`requests without a key changed the store: ${diff.join(' | ')}`);
    expect(problems).toEqual([]);
    expect(probed).toBeGreaterThan(250);

    // A revoked key (a few calls only: unknown keys count towards the per-address brute-force limit).
    const temp = await must(w.h, 'POST', '/v1/api-keys', { role: 'team-admin', name: 'temp' }, w.a.keys['team-admin']);
    expect((await callRaw(w.h, 'GET', '/v1/bookings', { key: temp.key })).status).toBe(200);
    expect((await callRaw(w.h, 'DELETE', `/v1/api-keys/${temp.id}`, { key: w.a.keys['team-admin'] })).status).toBe(204);
    for (const [method, path, body] of [
      ['GET', '/v1/bookings', undefined],
      ['POST', '/v1/locations', { name: 'After revocation', timeZone: 'Europe/London' }],
      ['PATCH', `/v1/spaces/${w.a.byCollection.spaces}`, { bufferBeforeMinutes: 1 }],
    ] as const) {
      const before = await dumpStore(w.h);
      const res = await callRaw(w.h, method, path, { key: temp.key, body });
      expect(res.status, res.text).toBe(401);
      expect(storeDiff(before, await dumpStore(w.h))).toEqual([]);
    }
  });

  it('the signed source deliveries take no API key: any key without a valid signature is 401', async () => {
    for (const op of ops.filter((o) => o.path.startsWith('/v1/') && !o.secured)) {
      const id = op.path.endsWith('/calcom') ? w.a.calcomSource.id : w.a.webhookSource.id;
      for (const role of roleOrder) {
        const before = await dumpStore(w.h);
        const res = await callRaw(w.h, op.method, op.path.replace('{id}', id), { key: w.a.keys[role], body: { event: 'booking.upserted', triggerEvent: 'BOOKING_CREATED' } });
        expect(res.status, `${role} ${op.key}: ${res.text}`).toBe(401);
        expect(storeDiff(before, await dumpStore(w.h))).toEqual([]);
      }
    }
  });
});
