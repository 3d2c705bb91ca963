/**
 * The world a fuzz property writes into: one Lockstep (test/support/harness.ts) with a venue set up
 * through the API, its background loops stopped so the store changes only when a request changes it,
 * and "victims": a fresh object created for each request that names an existing one by id, so
 * DELETEs and PATCHes never eat the fixtures the next request relies on.
 */
import fc from 'fast-check';
import { startHarness, hoursFromNow, tamperUrlKey, type Harness } from '../support/harness.js';
import type { StoreKind } from '../support/stores.js';
import { signatureHeader } from '../../src/providers/webhook/signing.js';
import { signUrlKey } from '../../src/api/url-keys.js';
import { newId } from '../../src/store/ids.js';
import { listProviderModules } from '../../src/providers/registry.js';
import { email, hostile, instantIso, localIso, windowArb, type Hints, type Schema } from './schema.js';

export type KeyName = 'admin' | 'platform' | 'host' | 'guest' | 'foreign-admin' | 'revoked' | 'garbage' | 'none';

export interface World {
  kind: StoreKind;
  h: Harness;
  baseUrl: string;
  org: string;
  foreignOrg: string;
  location: string;
  zone: string;
  /** [mapped, unmapped] */
  spaces: string[];
  foreignSpace: string;
  people: string[];
  foreignPerson: string;
  company: string;
  plan: string;
  integration: string;
  targets: string[];
  booking: string;
  visitCodes: string[];
  keys: Record<Exclude<KeyName, 'none'>, string>;
  webhookSource: { id: string; secret: string };
  hints: Hints;
  /** A fresh object for a path parameter, by kind; `variant` picks how it is set up. */
  victim(kind: VictimKind, variant: number, ctx: { method: string; template: string; resolved: Record<string, string> }): Promise<string>;
  /**
   * Housekeeping between requests, outside what a property compares: the integrations a request
   * created or was given as a victim are never named again, so they are parked as disconnected
   * (otherwise every organisation-wide change re-evaluates hundreds of them and long runs crawl).
   */
  tidy(): Promise<void>;
  close(): Promise<void>;
}

export type VictimKind =
  | 'organisation'
  | 'location'
  | 'space'
  | 'person'
  | 'company'
  | 'booking'
  | 'plan'
  | 'subscription'
  | 'integration'
  | 'mapping'
  | 'api-key'
  | 'source'
  | 'callback'
  | 'delivery'
  | 'card'
  | 'url-token';

/** Which victim a path parameter names: by the collection before it (…/spaces/{id}) or its own name. */
export function victimKindFor(template: string, param: string): VictimKind | null {
  if (param === 'personId') return 'person';
  if (param === 'deliveryId') return 'delivery';
  if (param === 'email') return 'card';
  if (param === 'token') return 'url-token';
  const segs = template.split('/');
  const collection = segs[segs.indexOf(`{${param}}`) - 1];
  const byCollection: Record<string, VictimKind> = {
    organisations: 'organisation',
    locations: 'location',
    spaces: 'space',
    people: 'person',
    companies: 'company',
    bookings: 'booking',
    plans: 'plan',
    subscriptions: 'subscription',
    integrations: 'integration',
    mappings: 'mapping',
    'api-keys': 'api-key',
    sources: 'source',
    callbacks: 'callback',
    cards: 'card',
  };
  return byCollection[collection] ?? null;
}

const ZONES = ['Europe/London', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'UTC', 'Etc/GMT+12'];

export async function startWorld(kind: StoreKind): Promise<World> {
  const h = await startHarness(kind, { notifier: { enabled: false }, sources: { enabled: false } });
  const must = async (method: string, path: string, body?: unknown, key = h.keys.platform) => {
    const res = await h.call(method, path, body, key);
    if (res.status >= 300) throw new Error(`fuzz setup: ${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const admin = h.keys.admin;
  const org = h.organisationId;
  const mapped = await h.space(['ag-front-door', 'ag-meeting-1']);
  const unmapped = await h.space([]);
  const p1 = (await must('POST', '/v1/people', { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+447700900123' }, admin)).id;
  const p2 = (await must('POST', '/v1/people', { name: 'Grace Hopper', email: 'grace@example.com' }, admin)).id;
  const p3 = (await must('POST', '/v1/people', { name: 'No Mail' }, admin)).id;
  const company = (await must('POST', '/v1/companies', { name: 'Acme' }, admin)).id;
  await must('PUT', `/v1/companies/${company}/members/${p1}`, undefined, admin);
  const plan = (await must('POST', '/v1/plans', { name: 'Resident', spaceIds: [mapped] }, admin)).id;
  await must('POST', '/v1/subscriptions', { planId: plan, personId: p3, start: hoursFromNow(-1) }, admin);
  // A booking on now, so codes scan, doors open and URL keys work.
  const booking = (await must('POST', '/v1/bookings', { spaceId: mapped, organiserId: p1, inviteeIds: [p2], start: hoursFromNow(-0.5), end: hoursFromNow(2) }, admin)).id;
  const guest = (await must('POST', '/v1/api-keys', { role: 'guest', name: 'ada', personId: p1 }, admin)).key;
  const guest2 = (await must('POST', '/v1/api-keys', { role: 'guest', name: 'grace', personId: p2 }, admin)).key;
  const revokedKey = await must('POST', '/v1/api-keys', { role: 'team-admin', name: 'old' }, admin);
  await must('DELETE', `/v1/api-keys/${revokedKey.id}`, undefined, admin);
  const visitCodes: string[] = [];
  for (const k of [guest, guest2]) for (const v of (await must('GET', '/v1/me/visits?qr=none', undefined, k)).results) visitCodes.push(v.code);
  const webhook = await must('POST', '/v1/sources', { kind: 'webhook', name: 'Front desk', settings: { spaceByResource: { 'room-1': mapped }, defaultSpaceId: unmapped } }, admin);

  const foreignOrg = (await must('POST', '/v1/organisations', { name: 'Other venue' })).id;
  const foreignAdmin = (await must('POST', '/v1/api-keys', { role: 'team-admin', name: 'other', organisationId: foreignOrg })).key;
  const foreignLocation = (await must('POST', '/v1/locations', { name: 'Elsewhere', timeZone: 'America/New_York' }, foreignAdmin)).id;
  const foreignSpace = (await must('POST', '/v1/spaces', { locationId: foreignLocation, name: 'Their room', kind: 'room' }, foreignAdmin)).id;
  const foreignPerson = (await must('POST', '/v1/people', { name: 'Their guest', email: 'ada@example.com' }, foreignAdmin)).id;

  await h.converge();
  // From here on only requests write: no sync engine, call-back dispatcher, notifier or feed poller.
  await h.app.engine.stop();
  await h.app.callbacks.stop();

  const spaces = [mapped, unmapped];
  const people = [p1, p2, p3];
  const targets = ['ag-front-door', 'ag-meeting-1', 'ag-meeting-2', 'ag-hot-desks', 'ag-parking'];
  const zone = 'Europe/London';
  let serial = 0;
  const unique = () => `${Date.now().toString(36)}${(serial++).toString(36)}`;

  /** Settings a source of `kind` accepts. */
  const sourceSettingsArb = (k: string): fc.Arbitrary<Record<string, unknown>> =>
    k === 'calcom'
      ? fc.record({ spaceByEventType: fc.constant({ '7': mapped, '60min': mapped }), defaultSpaceId: fc.constantFrom(mapped, unmapped), hostAccess: fc.boolean() }, { requiredKeys: [] })
      : k === 'webhook'
        ? fc.record({ spaceByResource: fc.constant({ 'room-1': mapped }), defaultSpaceId: fc.constantFrom(mapped, unmapped) }, { requiredKeys: [] })
        : fc.record({ url: fc.constant(`${h.emulator.url}/feeds/calendar.ics`), spaceId: fc.constant(mapped), pollMinutes: fc.integer({ min: 1, max: 1440 }), guestEmail: email }, { requiredKeys: ['url', 'spaceId'] });

  /** Settings for every source kind; the fixup keeps the one that fits the body's `kind`. */
  class SettingsByKind {
    constructor(readonly byKind: Record<string, Record<string, unknown>>) {}
  }
  /** Credentials for every provider kind; the fixup keeps the ones of the body's `kind`. */
  class CredentialsByKind {
    constructor(readonly byKind: Record<string, Record<string, string>>) {}
  }
  const providers = listProviderModules().map((m) => ({ kind: m.kind, fields: m.credentialFields }));
  const credentialValue = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/),
    fc.constantFrom('test-key', 'https://cc.example.com:8904/api/divisions/2', 'http://127.0.0.1:9/token', 'admin@example.com', 'yes', 'no', 'maybe', 'access-code', 'mobile-key', 'url-key', 'sms', 'email', 'none', '4', '8', '99', '-1', '', ' '),
  );
  const credentialsArb = fc.record(
    Object.fromEntries(
      providers.map((p) => [
        p.kind,
        p.kind === 'demo'
          ? fc.constant({ apiKey: 'test-key' })
          : fc.record(Object.fromEntries(p.fields.map((f) => [f.name, credentialValue])), { requiredKeys: p.fields.filter((f) => f.required).map((f) => f.name) }),
      ]),
    ),
  ) as fc.Arbitrary<Record<string, Record<string, string>>>;
  const exclusive: [string, string][] = [
    ['organiserId', 'organiser'],
    ['personId', 'companyId'],
    ['integrationId', 'spaceId'],
    ['resource', 'spaceId'],
  ];

  const hints: Hints = (key, path, schema: Schema) => {
    const top = path.length === 1;
    switch (key) {
      case 'organisationId':
        return fc.constantFrom(org, org, org, foreignOrg);
      case 'locationId':
        return fc.constant(h.locationId);
      case 'spaceId':
        return fc.constantFrom(mapped, mapped, unmapped);
      case 'spaceIds':
        return fc.subarray(spaces);
      case 'organiserId':
      case 'personId':
        return fc.constantFrom(...people);
      case 'inviteeIds':
        return fc.subarray(people);
      case 'companyId':
        return fc.constant(company);
      case 'planId':
        return fc.constant(plan);
      case 'integrationId':
        return fc.constant(h.integrationId);
      case 'targetRef':
        return fc.constantFrom(...targets);
      case 'targetRefs':
        return fc.subarray(targets, { minLength: 1 });
      case 'email':
        return email;
      case 'phone':
        return fc.stringMatching(/^\+44\d{10}$/);
      case 'name':
      case 'title':
      case 'label':
      case 'description':
        return fc.oneof(fc.stringMatching(/^[A-Z][a-z]{2,10}( [A-Z][a-z]{2,10})?$/), fc.constantFrom('Zoë Ångström', '山田 太郎', 'O’Brien & Sons', 'Müller-Lüdenscheidt'));
      case 'timeZone':
        return fc.constantFrom(...ZONES);
      case 'kind':
        // Integrations: mostly the demo provider (its emulator answers), sometimes every other kind.
        return schema.enum ? undefined : fc.oneof({ weight: 3, arbitrary: fc.constant('demo') }, { weight: 1, arbitrary: fc.constantFrom(...providers.map((p) => p.kind)) });
      case 'baseUrl':
        return fc.oneof({ weight: 4, arbitrary: fc.constant(h.emulator.url) }, { weight: 1, arbitrary: fc.constantFrom(`${h.emulator.url}/`, `${h.emulator.url}/api/v1`, 'http://127.0.0.1:9', 'http://[::1]:9/x') });
      case 'credentials':
        return credentialsArb.map((byKind) => new CredentialsByKind(byKind));
      case 'url':
        return fc.nat({ max: 999 }).map((n) => `https://controller.example.com/lockstep/${n}?token=t`);
      case 'cardNumber':
        return fc.stringMatching(/^[0-9A-Za-z]{6,16}$/);
      case 'code':
        return fc.oneof(fc.constantFrom(...visitCodes), fc.constantFrom(...visitCodes).map((c) => c.replace('-', '').toLowerCase()), fc.stringMatching(/^[2-9A-HJ-NP-TW-Z]{5}-[2-9A-HJ-NP-TW-Z]{5}$/));
      case 'secret':
        return fc.stringMatching(/^[A-Za-z0-9_-]{16,40}$/);
      case 'externalId':
        return fc.nat().map((n) => `ext-${n}-${unique()}`);
      case 'source':
        return top ? fc.constantFrom('api', 'api', 'legacy-system') : undefined;
      case 'settings':
        return fc.record({ calcom: sourceSettingsArb('calcom'), webhook: sourceSettingsArb('webhook'), ical: sourceSettingsArb('ical') }).map((byKind) => new SettingsByKind(byKind));
      case 'targets':
        return fc.subarray(targets, { maxLength: 2 }).map((t) => t.map((targetRef) => ({ integrationId: h.integrationId, targetRef })));
      case 'at':
      case 'end':
        if (path.length === 1 && !schema.properties && (schema.type === 'string' || (Array.isArray(schema.type) && schema.type.includes('string')))) {
          return windowArb.map((w) => instantIso(Date.now() + (w.startInHours + 1) * 3_600_000, w.offset));
        }
        return undefined;
      default:
        return undefined;
    }
  };

  hints.fixup = (obj, schema, _path, coin) => {
    const optional = (k: string) => k in (schema.properties ?? {}) && !(schema.required ?? []).includes(k);
    for (const [a, b] of exclusive) {
      // "Give exactly one of": most bodies keep one (either), some keep both or neither (refused).
      if (a in obj && b in obj && optional(a) && optional(b) && coin % 8 !== 0) delete obj[(coin >> 3) % 2 ? a : b];
      else if (!(a in obj) && !(b in obj) && optional(a) && optional(b) && a === 'organiserId' && coin % 8 !== 1) obj.organiserId = people[coin % people.length];
      coin = Math.floor(coin / 16);
    }
    if (obj.credentials instanceof CredentialsByKind) {
      const kinds = Object.keys(obj.credentials.byKind);
      // PATCH names no kind: mostly the demo kind of the victim integration.
      const k = typeof obj.kind === 'string' && kinds.includes(obj.kind) ? obj.kind : coin % 4 === 0 ? kinds[coin % kinds.length] : 'demo';
      obj.credentials = obj.credentials.byKind[k];
    }
    if (obj.settings instanceof SettingsByKind) {
      const kinds = Object.keys(obj.settings.byKind);
      obj.settings = obj.settings.byKind[typeof obj.kind === 'string' && kinds.includes(obj.kind) ? obj.kind : kinds[coin % kinds.length]];
    }
    // hoursBefore goes with issueOn 'before-start' only.
    if ('hoursBefore' in obj && 'issueOn' in obj && obj.issueOn !== 'before-start' && coin % 4 !== 0) delete obj.hoursBefore;
    return obj;
  };

  const victim: World['victim'] = async (vk, variant, ctx) => {
    const v = Math.abs(variant);
    switch (vk) {
      case 'organisation':
        return v % 5 === 0 ? foreignOrg : org;
      case 'location':
        // Every tenth: another organisation's (a fresh one too, so a DELETE cannot eat a fixture).
        return (await must('POST', '/v1/locations', { name: `Loc ${unique()}`, timeZone: ZONES[v % ZONES.length] }, v % 10 === 0 ? foreignAdmin : admin)).id;
      case 'space': {
        if (v % 12 === 0) return (await must('POST', '/v1/spaces', { locationId: foreignLocation, name: `Their space ${unique()}`, kind: 'desk' }, foreignAdmin)).id;
        const id = (await must('POST', '/v1/spaces', { locationId: h.locationId, name: `Space ${unique()}`, kind: 'room', bufferBeforeMinutes: v % 3 === 0 ? 5 : null }, admin)).id;
        if (v % 4 === 1) await must('POST', '/v1/mappings', { spaceId: id, integrationId: h.integrationId, targetRef: targets[v % targets.length] }, admin);
        if (v % 4 === 2) await must('POST', '/v1/bookings', { spaceId: id, organiserId: p1, start: hoursFromNow(24), end: hoursFromNow(25) }, admin);
        if (v % 5 === 3) await must('PUT', `/v1/spaces/${id}/trigger`, { delivery: 'dashboard', issueOn: 'before-start', hoursBefore: 2 }, admin);
        if (v % 6 === 4) await must('POST', '/v1/callbacks', { url: 'http://127.0.0.1:9/cb', spaceId: id }, admin);
        return id;
      }
      case 'person': {
        if (v % 12 === 0) return (await must('POST', '/v1/people', { name: `Their person ${unique()}`, email: `p${unique()}@example.com` }, foreignAdmin)).id;
        const id = (await must('POST', '/v1/people', { name: `Person ${unique()}`, ...(v % 3 ? { email: `p${unique()}@example.com` } : {}) }, admin)).id;
        if (v % 5 === 1) await must('PUT', `/v1/companies/${company}/members/${id}`, undefined, admin);
        if (v % 5 === 2) await must('POST', '/v1/bookings', { spaceId: mapped, organiserId: id, start: hoursFromNow(30), end: hoursFromNow(31) }, admin);
        if (v % 5 === 3) await must('POST', '/v1/subscriptions', { planId: plan, personId: id, start: hoursFromNow(-2) }, admin);
        if (v % 7 === 4) await must('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId: id }, admin);
        return id;
      }
      case 'company': {
        const id = (await must('POST', '/v1/companies', { name: `Co ${unique()}` }, admin)).id;
        if (v % 3 >= 1) await must('PUT', `/v1/companies/${id}/members/${p2}`, undefined, admin);
        if (v % 3 === 2) await must('POST', '/v1/subscriptions', { planId: plan, companyId: id, start: hoursFromNow(-1) }, admin);
        return id;
      }
      case 'booking': {
        const mode = v % 6;
        if (mode === 5) {
          // Delivered by the signed booking webhook, with a version near (or at) the documented maximum.
          const versions = [1, 1_000_000, 2_147_483_646, 2_147_483_647];
          const body = JSON.stringify({
            event: 'booking.upserted',
            id: `wh-${unique()}`,
            version: versions[Math.floor(v / 6) % versions.length],
            resource: 'room-1',
            start: hoursFromNow(40),
            end: hoursFromNow(41),
            organiser: { name: 'Hook Booker', email: `hook.${unique()}@example.com` },
          });
          const res = await fetch(`${h.baseUrl}/v1/sources/${webhook.id}/bookings`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'lockstep-signature': signatureHeader(webhook.secret, Math.floor(Date.now() / 1000), body) },
            body,
          });
          const answer = (await res.json()) as { bookingId?: string };
          if (res.status !== 200 || !answer.bookingId) throw new Error(`fuzz setup: webhook booking → ${res.status} ${JSON.stringify(answer)}`);
          return answer.bookingId;
        }
        const start = hoursFromNow(mode === 4 ? -1 : 48 + v);
        const b = await must('POST', '/v1/bookings', {
          spaceId: mode === 3 ? unmapped : mapped,
          organiserId: p1,
          inviteeIds: mode === 1 ? [p2, p3] : [],
          start,
          end: new Date(Date.parse(start) + 3_600_000).toISOString(),
          status: mode === 2 ? 'cancelled' : mode === 3 ? 'pending' : 'confirmed',
          ...(v % 4 === 0 ? { externalId: `ext-${unique()}` } : {}),
        }, admin);
        return b.id;
      }
      case 'plan': {
        const id = (await must('POST', '/v1/plans', { name: `Plan ${unique()}`, spaceIds: v % 2 ? [mapped] : [], targets: v % 3 === 0 ? [{ integrationId: h.integrationId, targetRef: 'ag-hot-desks' }] : [] }, admin)).id;
        if (v % 4 === 1) await must('POST', '/v1/subscriptions', { planId: id, personId: p2, start: hoursFromNow(-3) }, admin);
        return id;
      }
      case 'subscription': {
        const id = (await must('POST', '/v1/subscriptions', v % 3 === 0 ? { planId: plan, companyId: company, start: hoursFromNow(1) } : { planId: plan, personId: people[v % 3], start: hoursFromNow(-5), ...(v % 2 ? { end: hoursFromNow(500) } : {}) }, admin)).id;
        if (v % 5 === 1) await must('POST', `/v1/subscriptions/${id}/cancel`, {}, admin);
        return id;
      }
      case 'integration': {
        const id = (await must('POST', '/v1/integrations', { organisationId: org, kind: 'demo', name: `Doors ${unique()}`, baseUrl: h.emulator.url, credentials: { apiKey: 'test-key' }, skipConnectionTest: v % 2 === 0 })).id;
        if (v % 4 === 1) await must('POST', '/v1/mappings', { spaceId: mapped, integrationId: id, targetRef: 'ag-meeting-2' }, admin);
        if (v % 4 === 2) await must('PUT', `/v1/integrations/${id}/trigger`, { issueOn: 'on-payment' }, admin);
        if (v % 5 === 3) await must('POST', `/v1/integrations/${id}/disconnect`, { mode: 'keep' });
        return id;
      }
      case 'mapping': {
        const space = (await must('POST', '/v1/spaces', { locationId: h.locationId, name: `Mapped ${unique()}`, kind: 'desk' }, admin)).id;
        return (await must('POST', '/v1/mappings', { spaceId: space, integrationId: h.integrationId, targetRef: targets[v % targets.length] }, admin)).id;
      }
      case 'api-key': {
        const roles = ['host', 'team-admin', 'guest', 'platform-admin'] as const;
        const role = roles[v % roles.length];
        const body = role === 'guest' ? { role, name: 'victim', personId: p2, organisationId: org } : { role, name: 'victim', ...(role === 'platform-admin' ? {} : { organisationId: v % 7 === 0 ? foreignOrg : org }) };
        return (await must('POST', '/v1/api-keys', body)).id;
      }
      case 'source': {
        const wantFeed = ctx.template.endsWith('/poll') ? v % 4 !== 0 : v % 3 === 2;
        const k = wantFeed ? 'ical' : v % 2 ? 'calcom' : 'webhook';
        const settings = k === 'ical' ? { url: `${h.emulator.url}/feeds/${unique()}.ics`, spaceId: mapped } : k === 'calcom' ? { spaceByEventType: { '7': mapped } } : { defaultSpaceId: mapped };
        return (await must('POST', '/v1/sources', { kind: k, name: `Source ${unique()}`, settings }, admin)).id;
      }
      case 'callback':
        return (await must('POST', '/v1/callbacks', { url: `http://127.0.0.1:9/cb/${unique()}`, ...(v % 2 ? { spaceId: mapped } : {}), includeEmails: v % 3 === 0 }, admin)).id;
      case 'delivery': {
        const subscriptionId = ctx.resolved.id;
        // The {id} before it may be garbage (a NUL is not even a valid PostgreSQL text): look up ids only.
        const owned = /^cb_[0-9a-z]+$/.test(subscriptionId)
          ? await h.app.store.db.selectFrom('callbackSubscriptions').select('organisationId').where('id', '=', subscriptionId).executeTakeFirst()
          : undefined;
        if (!owned) return `cbd_${unique()}`;
        const id = newId('cbd');
        const now = Date.now();
        const status = (['failed', 'failed', 'delivered', 'pending', 'superseded'] as const)[v % 5];
        await h.app.store.db
          .insertInto('callbackDeliveries')
          .values({ id, subscriptionId, organisationId: owned.organisationId, bookingId: booking, changeKey: `fuzz:${id}`, fingerprint: id, bookingUpdatedAt: now, version: 0, eventType: 'booking.updated', payload: '{}', status, attempts: 12, lastError: 'connection refused', responseCode: null, nextAttemptAt: now, lastAttemptAt: now, deliveredAt: null, claimedBy: null, claimUntil: null, createdAt: now })
          .execute();
        return id;
      }
      case 'card': {
        const mail = `card.${unique()}@example.com`;
        if (v % 3 !== 0) await must('PUT', `/v1/cards/${mail}`, { cardNumber: `C${unique()}`, label: 'fob' }, admin);
        return v % 4 === 1 ? mail.toUpperCase() : mail;
      }
      case 'url-token': {
        const mode = v % 4;
        const expiresAt = mode === 1 ? Date.now() - 60_000 : Date.parse(hoursFromNow(3));
        const token = signUrlKey(h.app.secrets, { bookingId: booking, personId: mode === 2 ? p3 : p1, expiresAt });
        return mode === 3 ? tamperUrlKey(token) : token;
      }
    }
  };

  return {
    kind,
    h,
    baseUrl: h.baseUrl,
    org,
    foreignOrg,
    location: h.locationId,
    zone,
    spaces,
    foreignSpace,
    people,
    foreignPerson,
    company,
    plan,
    integration: h.integrationId,
    targets,
    booking,
    visitCodes,
    keys: { admin, platform: h.keys.platform, host: h.keys.host, guest, 'foreign-admin': foreignAdmin, revoked: revokedKey.key, garbage: 'lsk_not-a-real-key' },
    webhookSource: { id: webhook.id, secret: webhook.secret },
    hints,
    victim,
    async tidy() {
      await h.app.store.db.updateTable('integrations').set({ status: 'disconnected' }).where('id', '!=', h.integrationId).where('status', '!=', 'disconnected').execute();
    },
    close: () => h.close(),
  };
}

/** Gives objects with start/end (or startLocal/endLocal) fields a window that makes sense. */
export function coherentTimes(body: unknown, w: { startInHours: number; minutes: number; offset: string }, family: 'instant' | 'local', zone: string, allowed: string[]): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const o = body as Record<string, unknown>;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(o, k);
  // Only objects that take a start and an end (bookings, subscriptions): a lone `end` (PATCH) stays.
  if (!allowed.includes('start') || !allowed.includes('end')) return body;
  const timeKeys = ['start', 'end', 'startLocal', 'endLocal'].filter(has);
  if (timeKeys.length === 0) return body;
  const start = Date.now() + w.startInHours * 3_600_000;
  const end = start + w.minutes * 60_000;
  for (const k of timeKeys) delete o[k];
  const local = family === 'local' && allowed.includes('startLocal') && allowed.includes('endLocal');
  const wantsStart = timeKeys.includes('start') || timeKeys.includes('startLocal');
  const wantsEnd = timeKeys.includes('end') || timeKeys.includes('endLocal');
  if (local) {
    if (wantsStart) o.startLocal = localIso(start, zone);
    if (wantsEnd) o.endLocal = localIso(end, zone);
  } else {
    if (wantsStart) o.start = instantIso(start, w.offset);
    if (wantsEnd) o.end = instantIso(end, w.offset);
  }
  return o;
}

export const garbageId = fc.oneof(
  fc.constantFrom('nope', 'sp_nope', 'bk_0000000000000000', '0', '-1', '%', '..', ' ', 'null', 'undefined', '__proto__', 'constructor', 'toString', "' OR 1=1 --", 'a'.repeat(101), 'a'.repeat(501), 'a'.repeat(1000), 'ada@example.com', 'ADA@EXAMPLE.COM', '\u0000', 'src_x\u0000', 'x\u0000y'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }),
  hostile.unicode.filter((s) => s.length > 0 && s.length < 200),
);

