/**
 * Tenant isolation (issue 6): an API key of organisation B — team-admin, host or guest — can read or
 * change nothing of organisation A.
 *
 * The operations come from the live OpenAPI document, so an endpoint added later is covered (or
 * fails the coverage check) without editing this file:
 *  - every /v1 operation with a path parameter is called with A's ids by each of B's keys: the
 *    answer is 403 or 404, carries none of A's data, and the whole store is unchanged;
 *  - every GET collection is called by B's keys plain and with ?organisationId=A (and every id
 *    filter set to an A object): none of A's rows come back;
 *  - every other write is sent with a body naming A's objects (organisationId, spaceId, …): refused,
 *    nothing changed.
 * A few operations are organisation-free by design; they are listed below, each with its reason,
 * and an enumerated operation that is neither covered nor listed fails the suite.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { hoursFromNow } from '../support/harness.js';
import { signatureHeader } from '../../src/providers/webhook/signing.js';
import { signUrlKey } from '../../src/api/url-keys.js';
import { calSign, created as calcomCreated } from '../sources/calcom-payloads.js';
import { buildRequests, buildWorld, type BuiltRequest, type World } from './world.js';
import { callRaw, contains, dumpStore, idProperties, liveOperations, storeDiff, withoutOrganisation, type Operation } from './support.js';

/**
 * /v1 operations that are not organisation-scoped, and why. They are still called by B's keys in
 * the collection sweep (GET) and scanned for A's data there; only the "must be 403/404" rule does
 * not apply to them.
 */
const organisationFree: Record<string, string> = {
  'GET /v1/providers': 'the catalogue of provider kinds this install supports: the same for every key',
  'GET /v1/me': "who the calling key is: the caller's own key, role and person",
  'GET /v1/me/pins': "the calling guest's own PINs",
  'GET /v1/me/credentials': "the calling guest's own provider-issued codes",
  'GET /v1/me/visits': "the calling guest's own visits (creates the caller's own codes on first read)",
  'GET /v1/organisations': "lists the caller's own organisation only (all of them for a platform admin)",
  'POST /v1/organisations': 'creates a new tenant (platform-admin only; the roles suite checks that); it names no existing object',
  // No API key at all: the sender proves itself with the source's HMAC. Checked below: B's secret
  // cannot deliver to A's source, and B's source cannot book A's space.
  'POST /v1/sources/{id}/calcom': "authenticated by the Cal.com signature (X-Cal-Signature-256) with the source's own secret",
  'POST /v1/sources/{id}/bookings': "authenticated by Lockstep-Signature with the source's own secret",
};

/** Paths outside /v1, and why they are not part of this suite. */
const nonApi: { pattern: RegExp; why: string }[] = [
  { pattern: /^\/k\/\{token\}$/, why: 'URL keys: the signed token is the credential (no API key); re-pointing a token at A is checked below' },
  { pattern: /^\/$/, why: 'redirects to /web' },
  { pattern: /^\/web(\/|$)/, why: 'the web console: cookie sessions with CSRF, every page calls the API in-process with the session key (test/web covers it)' },
];

/**
 * Writes by B's team admin that succeed by design, acting in B's own organisation: A's rows must
 * still be unchanged and nothing of A may come back.
 */
const ownOrganisationWrites: Record<string, string> = {
  // The card store is keyed by (organisation, e-mail): B may keep, read and remove its own card for
  // the same address. A's card must stay as it is and its number must never come back.
  'GET /v1/cards/{email}': "B's own card for the same e-mail address (404 until B stores one)",
  'PUT /v1/cards/{email}': "B's own card for the same e-mail address",
  'DELETE /v1/cards/{email}': "B's own card for the same e-mail address",
};

const bRoles = ['team-admin', 'host', 'guest'] as const;

describe.each(storeKinds)('tenant isolation on %s', (kind) => {
  let w: World;
  let ops: Operation[];
  /** A's guests' PINs, as they read them. */
  let pinsA: string[];

  beforeAll(async () => {
    w = await buildWorld(kind);
    ops = await liveOperations(w.h);
    pinsA = [];
    for (const key of [w.a.keys.guest, w.a.guestBob]) pinsA.push(...(await callRaw(w.h, 'GET', '/v1/me/pins', { key })).body.results.map((p: { pin: string }) => p.pin));
    expect(pinsA).toHaveLength(2);
  });
  afterAll(async () => {
    await w?.close();
  });

  /** A's names, ids and secrets in `text`, other than those the request itself carried. */
  const leaksOfA = (text: string, sent: string): string[] => {
    const found: string[] = [];
    // Names and e-mails of A all carry tagA; strip the request's own words (an e-mail in the path, say).
    let rest = text.toLowerCase();
    for (const word of sent.toLowerCase().match(new RegExp(`[^\\s"'/?&=,:{}\\[\\]]*${w.tagA}[^\\s"'/?&=,:{}\\[\\]]*`, 'g')) ?? []) rest = rest.split(word).join('');
    if (rest.includes(w.tagA)) found.push(`a name or e-mail of A (${w.tagA})`);
    for (const id of w.a.ids) if (text.includes(id) && !sent.includes(id)) found.push(`A's id ${id}`);
    const secrets = [...pinsA, w.a.cardNumber, w.a.visitCode, w.a.visitCode.replace('-', ''), w.a.callbackSecret, w.a.webhookSource.secret, w.a.calcomSource.secret];
    for (const s of secrets) if (contains(text, s) && !sent.includes(s)) found.push(`A's secret ${s.slice(0, 6)}…`);
    return found;
  };

  const requestsFor = (op: Operation, withOrganisation: boolean) =>
    buildRequests(w, op, {
      param: (segment) => w.a.byCollection[segment],
      ref: (name) => (name === 'organisationId' ? (withOrganisation ? w.a.organisationId : undefined) : w.a.byProperty[name]),
      query: withOrganisation && op.query.some((q) => q.name === 'organisationId') ? { organisationId: w.a.organisationId } : undefined,
    });
  const namesOrganisation = (op: Operation) => op.query.some((q) => q.name === 'organisationId') || !!op.bodySchema?.properties?.organisationId;
  const category = (op: Operation) => {
    if (!op.path.startsWith('/v1/')) return 'non-api';
    if (organisationFree[op.key]) return 'organisation-free';
    if (op.pathParams.length) return 'by-id';
    if (op.method === 'GET') return 'collection';
    return 'write';
  };

  /**
   * The store as the last probe left it: a sweep of probes reuses one probe's "after" as the next
   * one's "before" (nothing else runs in between). Anything else that writes resets it.
   */
  let lastDump: Awaited<ReturnType<typeof dumpStore>> | null = null;
  beforeEach(() => {
    lastDump = null;
  });

  /** Sends `req` with B's key; returns what is wrong with the outcome (empty: isolated). */
  const probe = async (req: BuiltRequest, role: (typeof bRoles)[number], expect: { statuses: number[]; ownOrganisation?: boolean }) => {
    const problems: string[] = [];
    const label = `B ${role}: ${req.method} ${req.path}${req.body === undefined ? '' : ` ${JSON.stringify(req.body)}`}`;
    const before = lastDump ?? (await dumpStore(w.h));
    const res = await callRaw(w.h, req.method, req.path, { key: w.b.keys[role], body: req.body });
    const after = await dumpStore(w.h);
    lastDump = after;
    if (res.status === 401 || res.status >= 500 || !expect.statuses.includes(res.status)) problems.push(`${label} → ${res.status} (expected ${expect.statuses.join('/')}): ${res.text.slice(0, 300)}`);
    const diff = expect.ownOrganisation ? storeDiff(withoutOrganisation(before, w.b.organisationId), withoutOrganisation(after, w.b.organisationId)) : storeDiff(before, after);
    if (diff.length) problems.push(`${label} changed the store: ${diff.join(' | ')}`);
    const leaks = leaksOfA(res.text, req.sent);
    if (leaks.length) problems.push(`${label} answered with ${leaks.join(', ')}: ${res.text.slice(0, 300)}`);
    return problems;
  };

  it('covers every enumerated operation, or lists it as organisation-free with a reason', async () => {
    const uncovered: string[] = [];
    for (const op of ops) {
      const c = category(op);
      if (c === 'non-api') {
        if (!nonApi.some((n) => n.pattern.test(op.path))) uncovered.push(`${op.key}: outside /v1 and not in nonApi`);
      } else if (c === 'by-id') {
        const built = requestsFor(op, false);
        if ('unresolved' in built) uncovered.push(`${op.key}: no object of A for ${built.unresolved}; add it to the world's byCollection or to organisationFree`);
      } else if (c === 'write') {
        // Covered when the body can name something of A.
        const built = requestsFor(op, true);
        if ('unresolved' in built || !built.some((r) => leaksOfA(r.sent, '').length > 0)) {
          uncovered.push(`${op.key}: its body names no object of A (id properties: ${idProperties(op.bodySchema).join(', ') || 'none'}); add bodyExtras or list it in organisationFree`);
        }
      }
    }
    expect(uncovered).toEqual([]);
    // The allow-list holds only operations that exist (no stale entries hiding a rename).
    const keys = new Set(ops.map((o) => o.key));
    expect(Object.keys(organisationFree).filter((k) => !keys.has(k))).toEqual([]);
    expect(Object.keys(ownOrganisationWrites).filter((k) => !keys.has(k))).toEqual([]);
    // And it is a real sweep: dozens of id operations and collections.
    expect(ops.filter((o) => category(o) === 'by-id').length).toBeGreaterThan(50);
    expect(ops.filter((o) => category(o) === 'collection').length).toBeGreaterThan(10);
  });

  it("A's own keys do reach every one of those objects (so B's refusals are about tenancy, not bad ids)", async () => {
    const misses: string[] = [];
    let shown = 0;
    for (const op of ops.filter((o) => category(o) === 'by-id' && o.method === 'GET')) {
      const [req] = requestsFor(op, false) as BuiltRequest[];
      let ok = false;
      for (const key of [w.a.keys['team-admin'], w.a.keys.guest]) {
        const res = await callRaw(w.h, 'GET', req.path, { key });
        if (res.status === 200) {
          ok = true;
          if (leaksOfA(res.text, req.sent).length) shown++;
          break;
        }
      }
      if (!ok) misses.push(req.path);
    }
    expect(misses).toEqual([]);
    // The leak detector sees A's data when it is there.
    expect(shown).toBeGreaterThan(10);
  });

  // Runs before the sweeps below: those leave B's own rows that mention A's ids B itself sent (its
  // card for A's e-mail address, a source naming A's space), which B may of course read back.
  it("B's collections (plain, with ?organisationId=A and with A's ids as filters) never list A's rows", async () => {
    await w.h.converge();
    const problems: string[] = [];
    for (const op of ops.filter((o) => o.method === 'GET' && o.path.startsWith('/v1/') && o.pathParams.length === 0)) {
      const variants = [
        // Plain: the caller's own organisation.
        buildRequests(w, op, { param: () => undefined, ref: () => undefined }),
        // Every id filter pointed at A (organisationId included).
        buildRequests(w, op, { param: () => undefined, ref: (name) => w.a.byProperty[name] }),
      ];
      for (const built of variants) {
        if ('unresolved' in built) continue;
        for (const role of bRoles) {
          for (const req of built) problems.push(...(await probe(req, role, { statuses: [200, 400, 403, 404], ownOrganisation: true })));
        }
      }
    }
    expect(problems).toEqual([]);
    // The same lists do show A's rows to A (the probe can see them).
    const mine = await callRaw(w.h, 'GET', '/v1/bookings', { key: w.a.keys['team-admin'] });
    expect(leaksOfA(mine.text, '').length).toBeGreaterThan(0);
    // And B's lists are B's: B sees its own booking.
    const theirs = await callRaw(w.h, 'GET', '/v1/bookings', { key: w.b.keys['team-admin'] });
    expect(theirs.body.results.map((b: { id: string }) => b.id)).toEqual([w.b.bookingId]);
  });

  it("B's keys get 403/404 for every operation on an id of A, see nothing of A and change nothing", async () => {
    await w.h.converge();
    const problems: string[] = [];
    let probes = 0;
    for (const op of ops.filter((o) => category(o) === 'by-id')) {
      for (const withOrganisation of namesOrganisation(op) ? [false, true] : [false]) {
        const built = requestsFor(op, withOrganisation);
        if ('unresolved' in built) continue; // reported by the coverage test
        for (const role of bRoles) {
          const own = !!ownOrganisationWrites[op.key] && role === 'team-admin' && !withOrganisation;
          for (const req of built) {
            probes++;
            problems.push(...(await probe(req, role, own ? { statuses: [200, 201, 204, 404], ownOrganisation: true } : { statuses: [403, 404] })));
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(probes).toBeGreaterThan(150);
    // B's own card for A's address left A's card alone.
    const card = await callRaw(w.h, 'GET', `/v1/cards/${w.a.byCollection.cards}`, { key: w.a.keys['team-admin'] });
    expect(card.body.cardNumber).toBe(w.a.cardNumber);
  });

  it("B's own objects in the path cannot be tied to A's: a mixed path (B's company, A's person) or a body naming A's objects is refused", async () => {
    await w.h.converge();
    const problems: string[] = [];
    let probes = 0;
    for (const op of ops.filter((o) => category(o) === 'by-id')) {
      const variants: ReturnType<typeof buildRequests>[] = [];
      // One path parameter B's own, the others A's.
      if (op.pathParams.length > 1) {
        for (const mine of op.pathParams) {
          const built = buildRequests(w, op, { param: (segment, name) => (name === mine ? w.b.byCollection : w.a.byCollection)[segment], ref: (name) => (name === 'organisationId' ? undefined : w.a.byProperty[name]) });
          variants.push(built);
        }
      }
      // B's own object in the path, A's objects in the body.
      if (idProperties(op.bodySchema).length) {
        for (const withOrganisation of op.bodySchema?.properties?.organisationId ? [true, false] : [false]) {
          variants.push(buildRequests(w, op, { param: (segment) => w.b.byCollection[segment], ref: (name) => (name === 'organisationId' && !withOrganisation ? undefined : w.a.byProperty[name]) }));
        }
      }
      for (const built of variants) {
        if ('unresolved' in built) {
          problems.push(`${op.key}: B has no ${built.unresolved}`);
          continue;
        }
        for (const req of built) {
          if (!leaksOfA(req.sent, '').length) continue; // names nothing of A: a plain write in B
          for (const role of bRoles) {
            probes++;
            problems.push(...(await probe(req, role, { statuses: [400, 403, 404] })));
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(probes).toBeGreaterThan(20);
  });

  it("writes whose body names A's objects (organisation, space, person, plan, integration, visit code…) are refused and change nothing", async () => {
    await w.h.converge();
    const problems: string[] = [];
    for (const op of ops.filter((o) => category(o) === 'write')) {
      for (const withOrganisation of namesOrganisation(op) ? [true, false] : [false]) {
        const built = requestsFor(op, withOrganisation);
        if ('unresolved' in built) continue;
        for (const req of built) {
          // Without organisationId, a body that names nothing else of A is just a write in B's own organisation.
          if (!leaksOfA(req.sent, '').length) continue;
          for (const role of bRoles) {
            if (op.key === 'POST /v1/visits/scan' && role !== 'guest') {
              // A code of another organisation is answered like an unknown one (200, not allowed, no visit).
              const before = await dumpStore(w.h);
              const res = await callRaw(w.h, req.method, req.path, { key: w.b.keys[role], body: req.body });
              expect(res.status, res.text).toBe(200);
              expect(res.body).toMatchObject({ allowed: false, reason: 'unknown-code', visit: null });
              expect(storeDiff(before, await dumpStore(w.h))).toEqual([]);
              lastDump = null;
              continue;
            }
            const own = !!ownOrganisationWrites[op.key] && role === 'team-admin' && !withOrganisation;
            problems.push(...(await probe(req, role, own ? { statuses: [200, 201], ownOrganisation: true } : { statuses: [400, 403, 404] })));
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("signed deliveries: B's source secret cannot deliver to A's sources, and B's source cannot book A's space", async () => {
    await w.h.converge();
    const now = () => Math.floor(Date.now() / 1000);
    const post = (path: string, body: string, headers: Record<string, string>) =>
      fetch(w.h.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const event = (over: Record<string, unknown> = {}) =>
      JSON.stringify({ event: 'booking.upserted', id: `ext-${Date.now()}`, version: 1, start: hoursFromNow(7), end: hoursFromNow(8), organiser: { name: 'Mallory', email: 'mallory@example.com' }, ...over });

    const checks: [string, string, Record<string, string>][] = [];
    // B's generic-webhook secret on A's webhook source.
    const webhookBody = event();
    checks.push([`/v1/sources/${w.a.webhookSource.id}/bookings`, webhookBody, { 'lockstep-signature': signatureHeader(w.b.webhookSource.secret, now(), webhookBody) }]);
    // B's Cal.com secret on A's Cal.com source.
    const calBody = JSON.stringify(calcomCreated({ uid: `uid-${Date.now()}` }));
    checks.push([`/v1/sources/${w.a.calcomSource.id}/calcom`, calBody, { 'x-cal-signature-256': calSign(w.b.calcomSource.secret, calBody) }]);
    for (const [path, body, headers] of checks) {
      const before = await dumpStore(w.h);
      const res = await post(path, body, headers);
      expect(res.status, `${path}: ${res.text}`).toBe(401);
      expect(storeDiff(before, await dumpStore(w.h))).toEqual([]);
      expect(leaksOfA(res.text, path)).toEqual([]);
    }

    // B's own source, correctly signed, naming A's space directly or through its settings.
    const spaceA = w.a.byProperty.spaceId;
    const direct = event({ spaceId: spaceA });
    // Settings naming A's space are refused when saved…
    const beforePatch = await dumpStore(w.h);
    const patched = await callRaw(w.h, 'PATCH', `/v1/sources/${w.b.webhookSource.id}`, { key: w.b.keys['team-admin'], body: { settings: { defaultSpaceId: spaceA } } });
    expect(patched.status, patched.text).toBe(400);
    expect(patched.body.issues[0].path).toBe('settings.defaultSpaceId');
    expect(storeDiff(beforePatch, await dumpStore(w.h))).toEqual([]);
    // …and were they in the store anyway (written there directly), ingest would still refuse them.
    await w.h.app.store.db.updateTable('bookingSources').set({ settings: JSON.stringify({ spaceByResource: {}, defaultSpaceId: spaceA }) }).where('id', '=', w.b.webhookSource.id).execute();
    for (const body of [direct, event()]) {
      const before = withoutOrganisation(await dumpStore(w.h), w.b.organisationId);
      const res = await post(`/v1/sources/${w.b.webhookSource.id}/bookings`, body, { 'lockstep-signature': signatureHeader(w.b.webhookSource.secret, now(), body) });
      expect(res.status, res.text).toBe(400);
      expect(storeDiff(before, withoutOrganisation(await dumpStore(w.h), w.b.organisationId))).toEqual([]);
      expect(leaksOfA(res.text, body + spaceA)).toEqual([]); // B's own settings may be echoed
    }
    const restored = await callRaw(w.h, 'PATCH', `/v1/sources/${w.b.webhookSource.id}`, { key: w.b.keys['team-admin'], body: { settings: { defaultSpaceId: w.b.byCollection.spaces } } });
    expect(restored.status, restored.text).toBe(200);

    // Control: the same delivery signed with A's own secret is accepted (so the 401s were the secret).
    const own = event();
    const accepted = await post(`/v1/sources/${w.a.webhookSource.id}/bookings`, own, { 'lockstep-signature': signatureHeader(w.a.webhookSource.secret, now(), own) });
    expect(accepted.status, accepted.text).toBe(200);
    expect(JSON.parse(accepted.text).outcome).toBe('created');
  });

  it("URL keys: B's link cannot be re-pointed at A's booking, and a link for A's booking does not open for B's person", async () => {
    await w.h.converge();
    const link = await callRaw(w.h, 'GET', `/v1/me/bookings/${w.b.bookingId}/url-key`, { key: w.b.keys.guest });
    expect(link.status, link.text).toBe(200);
    const [, person, expiry, mac] = (link.body.token as string).split('.');
    const bookingA = w.a.byCollection.bookings;
    const candidates = [
      // B's signature on A's booking id.
      `${bookingA}.${person}.${expiry}.${mac}`,
      // Validly signed (the server's own key), but B's person is not on A's booking.
      signUrlKey(w.h.app.secrets, { bookingId: bookingA, personId: w.b.ada, expiresAt: Date.now() + 3_600_000 }),
    ];
    for (const token of candidates) {
      for (const method of ['GET', 'POST']) {
        const before = await dumpStore(w.h);
        const res = await callRaw(w.h, method, `/k/${token}`, { headers: { accept: 'application/json' } });
        expect(res.status, res.text).toBe(404);
        expect(storeDiff(before, await dumpStore(w.h))).toEqual([]);
        expect(leaksOfA(res.text, token)).toEqual([]);
      }
    }
    // Control: B's own link shows B's booking page.
    const page = await callRaw(w.h, 'GET', `/k/${link.body.token}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(403); // a future booking: "too early", no button
    expect(page.text).toContain(`Room ${w.tagB}`);
  });
  it("background work stays within its tenant: call-backs, e-mails and provider accounts of B carry nothing of A", async () => {
    await w.h.converge();
    // Another pass of each worker over everything both tenants did in this file.
    await w.h.app.notifier.runOnce();
    await w.h.app.callbacks.runOnce();
    await w.h.converge();
    const db = w.h.app.store.db;
    const peopleOf = async (org: string) => new Set((await db.selectFrom('people').select('id').where('organisationId', '=', org).execute()).map((p) => p.id));
    const [peopleA, peopleB] = [await peopleOf(w.a.organisationId), await peopleOf(w.b.organisationId)];
    const bookingsB = new Set((await db.selectFrom('bookings').select('id').where('organisationId', '=', w.b.organisationId).execute()).map((b) => b.id));

    // Call-backs: B's subscription is told about B's bookings only.
    const deliveries = await db.selectFrom('callbackDeliveries').selectAll().where('subscriptionId', '=', w.b.byCollection.callbacks).execute();
    expect(deliveries.length).toBeGreaterThan(0);
    for (const d of deliveries) {
      expect(bookingsB.has(d.bookingId), d.bookingId).toBe(true);
      expect(leaksOfA(JSON.stringify(d), '')).toEqual([]);
    }
    // E-mails: B's messages go to B's people, and say nothing of A.
    const mails = await db.selectFrom('notifications').selectAll().where('organisationId', '=', w.b.organisationId).execute();
    expect(mails.length).toBeGreaterThan(0);
    for (const m of mails) {
      if (m.personId) expect(peopleB.has(m.personId), m.personId).toBe(true);
      const opened = w.h.app.notifier.outbox.open(m);
      expect(leaksOfA(JSON.stringify({ ...m, opened }), '')).toEqual([]);
    }
    // Provider accounts: B's door system holds B's people only, A's holds A's only.
    const personIds = (users: { externalId: string }[]) => users.map((u) => u.externalId.replace(/^lockstep-/, ''));
    const onB = personIds(w.b.emulator.state.users());
    const onA = personIds(w.h.emulator.state.users());
    expect(onB.length).toBeGreaterThan(0);
    expect(onA.length).toBeGreaterThan(0);
    for (const id of onB) expect(peopleB.has(id), `B's provider holds ${id}`).toBe(true);
    for (const id of onA) expect(peopleA.has(id), `A's provider holds ${id}`).toBe(true);
  });
});
