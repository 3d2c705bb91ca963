/**
 * Two tenants on one Lockstep, for the security suite.
 *
 * Organisation A (the harness's) holds one of everything the API can address by id: locations,
 * spaces (mapped), people, a company with a member, a plan, a subscription, an integration, a
 * mapping, bookings with an invitee, guest keys, a visit code, an outbox message, an iCal source, a
 * webhook source, a call-back with a failed delivery, a card and trigger rules. Every name and
 * e-mail in A carries `tagA`, so a response that shows any of A's data is easy to spot.
 *
 * Organisation B is built the same way (its names carry `tagB`), on a demo provider of its own, so
 * requests can also mix B's own objects with A's (B's company, A's person).
 *
 * Background workers are quiet once the world is built (notifier and feed poller never started,
 * call-back dispatcher stopped, engine converged), so a before/after dump of the store shows only
 * what a request did.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import type { StoreKind } from '../support/stores.js';
import type { AppOptions } from '../../src/app.js';
import type { EngineOptions } from '../../src/engine/runner.js';
import { startDemoEmulator, type DemoEmulator } from '../../src/providers/demo/emulator.js';
import { dumpStore, eventually, fillPath, must, sample, type Operation, type Role } from './support.js';

/** One venue with one of everything the API can address by id. */
export interface Tenant {
  organisationId: string;
  tag: string;
  keys: Record<Role, string>;
  keyIds: Record<Role, string>;
  /** The object a path segment names, by the literal segment before the parameter (`spaces/{id}` → space). */
  byCollection: Record<string, string>;
  /** The id for a body/query property that names an object (`spaceId`, `organiserId`, …). */
  byProperty: Record<string, string>;
  integrationId: string;
  /** Day of the main booking, in the location's zone (YYYY-MM-DD). */
  bookingDate: string;
  bookingId: string;
  /** Organiser (guest key `keys.guest`), invitee (company member), subscriber. */
  ada: string;
  bob: string;
  cy: string;
  guestBob: string;
  cardNumber: string;
  visitCode: string;
  callbackSecret: string;
  webhookSource: { id: string; secret: string };
  calcomSource: { id: string; secret: string };
  /** Every id of this organisation's rows (and none of the other's), found in the store after setup. */
  ids: Set<string>;
}

export interface World {
  h: Harness;
  tagA: string;
  tagB: string;
  /** The harness's organisation; its platform key is `a.keys['platform-admin']`. */
  a: Tenant;
  /** A second tenant with the same kinds of objects (its own demo provider). Its platform key is A's: there is one install. */
  b: Tenant & { emulator: DemoEmulator };
  /** Secrets the setup issued (PINs aside), by what they are. */
  issued: Record<string, string>;
  close(): Promise<void>;
}

export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function buildWorld(
  kind: StoreKind,
  opts: {
    secretKey?: string;
    logger?: unknown;
    engine?: Partial<EngineOptions>;
    callbacks?: AppOptions['callbacks'];
    /** Runs once the harness is up, before anything else (to attach loggers, say). */
    onStart?: (h: Harness) => void;
  } = {},
): Promise<World> {
  const tagA = `alpha${randomBytes(4).toString('hex')}`;
  const tagB = `bravo${randomBytes(4).toString('hex')}`;
  const h = await startHarness(kind, {
    secretKey: opts.secretKey,
    logger: opts.logger,
    engine: opts.engine,
    notifier: { enabled: false },
    sources: { enabled: false },
    // One attempt, so a call-back to a closed port is a 'failed' (retryable) delivery at once.
    callbacks: { maxAttempts: 1, ...opts.callbacks },
  });
  let emulatorB: DemoEmulator | undefined;
  try {
    opts.onStart?.(h);
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const platform = h.keys.platform;

    // Organisation A: the harness's (admin and host keys, a location, a demo integration).
    const a = await populate(h, { organisationId: h.organisationId, admin: h.keys.admin, host: h.keys.host, platform, locationId: h.locationId, timeZone: 'Europe/London', integrationId: h.integrationId, tag: tagA, dead });

    // Organisation B: the same, on its own demo provider.
    emulatorB = await startDemoEmulator({ port: 0, apiKey: 'test-key-b' });
    const orgB = (await must(h, 'POST', '/v1/organisations', { name: 'B' })).id as string;
    const adminB = (await must(h, 'POST', '/v1/api-keys', { role: 'team-admin', name: `admin ${tagB}`, organisationId: orgB })).key as string;
    const hostB = (await must(h, 'POST', '/v1/api-keys', { role: 'host', name: `host ${tagB}` }, adminB)).key as string;
    const locB = (await must(h, 'POST', '/v1/locations', { name: `HQ ${tagB}`, timeZone: 'Europe/Paris' }, adminB)).id as string;
    const intB = (await must(h, 'POST', '/v1/integrations', { organisationId: orgB, kind: 'demo', name: `Doors ${tagB}`, baseUrl: emulatorB.url, credentials: { apiKey: 'test-key-b' } })).id as string;
    const b = await populate(h, { organisationId: orgB, admin: adminB, host: hostB, platform, locationId: locB, timeZone: 'Europe/Paris', integrationId: intB, tag: tagB, dead });

    await h.converge();
    // Visit codes (made on the guest's first read), e-mails into the local outbox (the notifier is
    // not started: passes by hand) and a failed call-back delivery each.
    for (const t of [a, b]) t.visitCode = (await must(h, 'GET', '/v1/me/visits?qr=none', undefined, t.keys.guest)).results[0].code;
    await h.app.notifier.runOnce();
    await h.app.notifier.runOnce();
    for (const t of [a, b]) {
      t.byCollection.outbox = (await eventually('an outbox message', async () => (await must(h, 'GET', '/v1/outbox', undefined, t.keys['team-admin'])).results[0])).id;
      t.byCollection.deliveries = (
        await eventually(
          'a failed call-back delivery',
          async () => {
            await h.app.callbacks.runOnce();
            return (await must(h, 'GET', `/v1/callbacks/${t.byCollection.callbacks}/deliveries?status=failed`, undefined, t.keys['team-admin'])).results[0];
          },
          15_000,
        )
      ).id;
    }
    await h.app.callbacks.stop();
    await h.converge();

    // Which ids are whose: every id-shaped value in a row of the organisation (directly, or linked
    // through one of its ids), minus any that also occur in the other's rows (the platform key).
    a.ids = await organisationIds(h, a.organisationId, b.organisationId);
    b.ids = await organisationIds(h, b.organisationId, a.organisationId);

    const issued: Record<string, string> = { demoCredential: 'test-key', demoCredentialB: 'test-key-b' };
    for (const [name, t] of [['A', a], ['B', b]] as const) {
      Object.assign(issued, {
        [`callbackSecret${name}`]: t.callbackSecret,
        [`webhookSourceSecret${name}`]: t.webhookSource.secret,
        [`calcomSourceSecret${name}`]: t.calcomSource.secret,
        [`cardNumber${name}`]: t.cardNumber,
        [`visitCode${name}`]: t.visitCode,
        [`adminKey${name}`]: t.keys['team-admin'],
        [`hostKey${name}`]: t.keys.host,
        [`guestKey${name}`]: t.keys.guest,
        [`guestKeyBob${name}`]: t.guestBob,
      });
    }
    issued.platformKey = platform;
    const emu = emulatorB;
    return {
      h,
      tagA,
      tagB,
      a,
      b: { ...b, emulator: emu },
      issued,
      async close() {
        await h.close();
        await emu.close();
      },
    };
  } catch (err) {
    await h.close();
    await emulatorB?.close();
    throw err;
  }
}

async function populate(
  h: Harness,
  t: { organisationId: string; admin: string; host: string; platform: string; locationId: string; timeZone: string; integrationId: string; tag: string; dead: string },
): Promise<Tenant> {
  const call = (method: string, path: string, body?: unknown, key = t.admin) => must(h, method, path, body, key);
  const tag = t.tag;
  await call('PATCH', `/v1/organisations/${t.organisationId}`, { name: `Venue ${tag}` });
  // Long PINs, so a PIN cannot turn up by chance inside a hash or ciphertext in the scans.
  await call('PATCH', `/v1/integrations/${t.integrationId}`, { pinLength: 10 });
  // Before the bookings: a call-back sees the changes made after it was created.
  const callback = await call('POST', '/v1/callbacks', { url: `${t.dead}/hook-${tag}`, description: `Hook ${tag}` });
  const space = (await call('POST', '/v1/spaces', { locationId: t.locationId, name: `Room ${tag}`, kind: 'room' })).id as string;
  for (const targetRef of ['ag-front-door', 'ag-meeting-1']) await call('POST', '/v1/mappings', { spaceId: space, integrationId: t.integrationId, targetRef });
  await call('POST', '/v1/locations', { name: `Annex ${tag}`, timeZone: 'Europe/London' });
  const booking = await call('POST', '/v1/bookings', {
    spaceId: space,
    title: `Meeting ${tag}`,
    organiser: { name: `Ada ${tag}`, email: `ada.${tag}@example.com` },
    invitees: [{ name: `Bob ${tag}`, email: `bob.${tag}@example.com` }],
    start: hoursFromNow(1),
    end: hoursFromNow(2),
  });
  const ada = booking.organiserId as string;
  const bob = booking.inviteeIds[0] as string;
  const cy = (await call('POST', '/v1/people', { name: `Cy ${tag}`, email: `cy.${tag}@example.com`, phone: '+447700900123' })).id as string;
  const company = (await call('POST', '/v1/companies', { name: `Company ${tag}` })).id as string;
  await call('PUT', `/v1/companies/${company}/members/${bob}`);
  const plan = (await call('POST', '/v1/plans', { name: `Plan ${tag}`, spaceIds: [space] })).id as string;
  const subscription = (await call('POST', '/v1/subscriptions', { planId: plan, personId: cy, start: hoursFromNow(0), end: hoursFromNow(3) })).id as string;
  const mapping = (await call('GET', `/v1/mappings?spaceId=${space}`)).results[0].id as string;
  const ical = (await call('POST', '/v1/sources', { kind: 'ical', name: `Feed ${tag}`, settings: { url: `${t.dead}/feed-${tag}.ics`, spaceId: space } })).id as string;
  const webhook = await call('POST', '/v1/sources', { kind: 'webhook', name: `Hooks ${tag}`, settings: { defaultSpaceId: space } });
  const calcom = await call('POST', '/v1/sources', { kind: 'calcom', name: `Cal ${tag}`, settings: { defaultSpaceId: space } });
  const cardNumber = `CARD-${tag}-${randomBytes(6).toString('hex')}`;
  await call('PUT', `/v1/cards/ada.${tag}@example.com`, { cardNumber, label: `Badge ${tag}` });
  await call('PUT', `/v1/integrations/${t.integrationId}/trigger`, { issueOn: 'on-confirmation' });
  await call('PUT', `/v1/spaces/${space}/trigger`, { delivery: 'email' });
  const guestAda = await call('POST', '/v1/api-keys', { role: 'guest', name: `guest ${tag}`, personId: ada });
  const guestBob = await call('POST', '/v1/api-keys', { role: 'guest', name: `guest bob ${tag}`, personId: bob });
  const keyId = async (key: string) => (await must(h, 'GET', '/v1/me', undefined, key)).keyId as string;
  const keys = { 'platform-admin': t.platform, 'team-admin': t.admin, host: t.host, guest: guestAda.key as string };
  const keyIds = { 'platform-admin': await keyId(t.platform), 'team-admin': await keyId(t.admin), host: await keyId(t.host), guest: guestAda.id as string };
  return {
    organisationId: t.organisationId,
    tag,
    keys,
    keyIds,
    integrationId: t.integrationId,
    bookingDate: DateTime.fromISO(booking.start, { zone: t.timeZone }).toISODate()!,
    bookingId: booking.id,
    ada,
    bob,
    cy,
    guestBob: guestBob.key,
    cardNumber,
    visitCode: '', // set once both venues exist
    callbackSecret: callback.signingSecret,
    webhookSource: { id: webhook.id, secret: webhook.secret },
    calcomSource: { id: calcom.id, secret: calcom.secret },
    ids: new Set(),
    byCollection: {
      organisations: t.organisationId,
      locations: t.locationId,
      spaces: space,
      people: ada,
      companies: company,
      members: bob,
      bookings: booking.id,
      plans: plan,
      subscriptions: subscription,
      integrations: t.integrationId,
      mappings: mapping,
      'api-keys': keyIds.host,
      sources: ical,
      callbacks: callback.id,
      cards: `ada.${tag}@example.com`,
      // an access target (the path segment after /targets/): the door the venue's space is mapped to
      targets: 'ag-front-door',
      // outbox, deliveries: set once both venues exist
    },
    byProperty: {
      organisationId: t.organisationId,
      locationId: t.locationId,
      spaceId: space,
      spaceIds: space,
      personId: ada,
      organiserId: ada,
      inviteeIds: ada,
      companyId: company,
      planId: plan,
      integrationId: t.integrationId,
      bookingId: booking.id,
      subjectId: booking.id,
      subscriptionId: subscription,
      mappingId: mapping,
      sourceId: ical,
    },
  };
}

const ID = /^[a-z]+_[0-9a-hjkmnp-tv-z]{16}$/;

async function organisationIds(h: Harness, mine: string, other: string): Promise<Set<string>> {
  const dump = await dumpStore(h);
  const idsOf = (row: Record<string, unknown>) => Object.values(row).filter((v): v is string => typeof v === 'string' && ID.test(v));
  const collect = (org: string) => {
    const found = new Set<string>([org]);
    // Two passes: rows without an organisation column belong to A when they point at an A row.
    for (let pass = 0; pass < 2; pass++) {
      for (const rows of Object.values(dump)) {
        for (const row of rows) {
          const owned = 'organisationId' in row ? row.organisationId === org : idsOf(row).some((v) => found.has(v));
          if (owned) for (const v of idsOf(row)) found.add(v);
        }
      }
    }
    return found;
  };
  const a = collect(mine);
  const b = collect(other);
  for (const v of b) a.delete(v);
  return a;
}

// Requests ------------------------------------------------------------------------------------

/**
 * What each known operation needs on top of the sampled body to pass validation and do something
 * real (a refusal must then come from the handler's own checks). `undefined` removes a sampled
 * property; a list gives several bodies (each is tried). Operations not listed here (added later)
 * get the sampled body alone.
 */
export function bodyExtras(w: World): Record<string, Record<string, unknown> | Record<string, unknown>[]> {
  return {
    'POST /v1/organisations': { name: `Venue ${w.tagB} 2` },
    'PATCH /v1/organisations/{id}': { name: 'Hijacked' },
    'POST /v1/locations': { timeZone: 'Europe/London' },
    'PATCH /v1/locations/{id}': { name: 'Hijacked' },
    'PATCH /v1/spaces/{id}': { bufferBeforeMinutes: 0 },
    'PATCH /v1/people/{id}': { name: 'Hijacked' },
    'PATCH /v1/companies/{id}': { name: 'Hijacked' },
    'POST /v1/bookings': { start: hoursFromNow(5), end: hoursFromNow(6), title: 'Hijack', inviteeIds: undefined },
    'PATCH /v1/bookings/{id}': { title: 'Hijacked', inviteeIds: undefined },
    'PATCH /v1/plans/{id}': { name: 'Hijacked' },
    // Exactly one of personId / companyId.
    'POST /v1/subscriptions': { companyId: undefined, start: hoursFromNow(0), end: hoursFromNow(4) },
    'PATCH /v1/subscriptions/{id}': { end: hoursFromNow(1) },
    'POST /v1/integrations': { kind: 'demo', baseUrl: w.h.emulator.url, credentials: { apiKey: 'test-key' }, skipConnectionTest: true },
    'PATCH /v1/integrations/{id}': { bufferBeforeMinutes: 0 },
    'POST /v1/integrations/{id}/disconnect': { mode: 'keep' },
    'POST /v1/mappings': { targetRef: 'ag-parking', skipTargetCheck: true },
    'POST /v1/api-keys': { role: 'guest' },
    // Exactly one of integrationId / spaceId.
    'POST /v1/preview/buffers': [
      { spaceId: undefined, bufferBeforeMinutes: 0 },
      { integrationId: undefined, bufferBeforeMinutes: 0 },
    ],
    'POST /v1/preview/mapping': { targetRefs: ['ag-parking'] },
    'POST /v1/sources': { kind: 'webhook', settings: { defaultSpaceId: w.a.byProperty.spaceId } },
    'PATCH /v1/sources/{id}': { name: 'Hijacked' },
    'POST /v1/visits/scan': { code: w.a.visitCode, action: 'check-in' },
    'POST /v1/callbacks': { url: 'https://example.com/stolen' },
    'PUT /v1/cards/{email}': { cardNumber: `STOLEN-${w.tagB}` },
    'PUT /v1/spaces/{id}/trigger': { delivery: 'dashboard' },
  };
}

export interface BuiltRequest {
  method: string;
  path: string;
  body: unknown;
  /** Every string the request itself carries (echoes of these are not leaks). */
  sent: string;
}

/**
 * Requests for one operation: path parameters from `param` (by the literal segment before each),
 * required query parameters sampled (or named like an id: from `ref`), bodies sampled from the
 * document's schema with `ref` for id-named properties, then `bodyExtras`.
 */
export function buildRequests(
  w: World,
  op: Operation,
  opts: { param: (segment: string, name: string) => string | undefined; ref: (name: string) => string | undefined; query?: Record<string, string> },
): BuiltRequest[] | { unresolved: string } {
  const values: Record<string, string> = {};
  for (const name of op.pathParams) {
    const segment = op.path.split('/')[op.path.split('/').indexOf(`{${name}}`) - 1];
    const v = opts.param(segment, name);
    if (v === undefined) return { unresolved: `{${name}} after /${segment}/` };
    values[name] = v;
  }
  const q = new URLSearchParams();
  for (const p of op.query) {
    const given = opts.query?.[p.name];
    if (given !== undefined) q.set(p.name, given);
    else if (isIdNameQuery(p.name) && opts.ref(p.name) !== undefined) q.set(p.name, opts.ref(p.name)!);
    else if (p.required) q.set(p.name, p.name === 'date' ? w.a.bookingDate : String(sample(p.schema, p.name, { ref: opts.ref })));
  }
  const path = fillPath(op.path, values) + (q.size ? `?${q}` : '');
  let bodies: unknown[] = [undefined];
  if (op.bodySchema) {
    const base = sample(op.bodySchema, 'body', { ref: opts.ref }) as Record<string, unknown>;
    const extra = bodyExtras(w)[op.key] ?? {};
    bodies = (Array.isArray(extra) ? extra : [extra]).map((e) => {
      const b: Record<string, unknown> = { ...base, ...e };
      for (const [k, v] of Object.entries(e)) if (v === undefined) delete b[k];
      return b;
    });
  }
  return bodies.map((body) => ({ method: op.method, path, body, sent: decodeURIComponent(path) + (body === undefined ? '' : JSON.stringify(body)) }));
}

const isIdNameQuery = (name: string) => /Id$/.test(name);
