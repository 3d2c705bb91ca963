/**
 * The OpenAPI document, the audit log (append-only in the database itself; every entry says who and
 * why) and secret hygiene: PINs, API keys and provider credentials never reach the logs, and
 * credentials are masked when read back. The same checks run against SQLite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import { storeKinds } from '../support/stores.js';
import { startDemoEmulator, type DemoEmulator } from '../../src/providers/demo/emulator.js';
import { writeAudit } from '../../src/store/audit.js';
import { rawCall } from './helpers.js';

/** Everything the HTTP server (pino) and the sync engine log, as text. */
function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const flatten = (obj: object) =>
    JSON.stringify(obj, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack, ...(v as unknown as Record<string, unknown>) } : v));
  const engine = {
    info: (obj: object, msg?: string) => void lines.push(`engine info ${msg ?? ''} ${flatten(obj)}\n`),
    warn: (obj: object, msg?: string) => void lines.push(`engine warn ${msg ?? ''} ${flatten(obj)}\n`),
    error: (obj: object, msg?: string) => void lines.push(`engine error ${msg ?? ''} ${flatten(obj)}\n`),
  };
  return { stream, engine, text: () => lines.join('') };
}

/**
 * Whether `text` contains `secret`. An all-digit secret (a PIN) counts only as a whole number, so a
 * 6-digit PIN is not "found" inside a 13-digit timestamp by coincidence.
 */
function leaks(text: string, secret: string): boolean {
  if (/^\d+$/.test(secret)) return new RegExp(`(?<![0-9])${secret}(?![0-9])`).test(text);
  return text.includes(secret);
}

describe.each(storeKinds)('OpenAPI, audit log and secret hygiene on %s', (kind) => {
  let h: Harness;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    logs = captureLogs();
    h = await startHarness(kind, { logger: { level: 'trace', stream: logs.stream }, engine: { logger: logs.engine } });
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('GET /openapi.json', () => {
    it('is an OpenAPI 3 document, served without a key, listing the main paths with bearer auth', async () => {
      const res = await rawCall(h, 'GET', '/openapi.json');
      expect(res.status).toBe(200);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.info.title).toBe('Lockstep API');
      expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/v1/bookings',
          '/v1/bookings/{id}',
          '/v1/bookings/{id}/sync',
          '/v1/bookings/{id}/cancel',
          '/v1/integrations',
          '/v1/integrations/{id}/targets',
          '/v1/integrations/{id}/status',
          '/v1/mappings',
          '/v1/people/{id}/pins/regenerate',
          '/v1/me/pins',
          '/v1/subscriptions',
          '/v1/api-keys',
          '/v1/audit',
          // Booking sources and the integration API (issue 5).
          '/v1/sources',
          '/v1/sources/{id}',
          '/v1/sources/{id}/status',
          '/v1/sources/{id}/poll',
          '/v1/sources/{id}/calcom',
          '/v1/sources/{id}/bookings',
          '/v1/callbacks',
          '/v1/callbacks/{id}',
          '/v1/callbacks/{id}/deliveries',
          '/v1/callbacks/{id}/deliveries/{deliveryId}/retry',
          '/v1/spaces/{id}/bookings',
          '/v1/cards',
          '/v1/cards/{email}',
          '/v1/visits/scan',
          '/v1/me/visits',
          '/v1/bookings/{id}/visits',
          '/v1/integrations/{id}/trigger',
          '/v1/spaces/{id}/trigger',
          '/v1/me/bookings/{id}/url-key',
          '/k/{token}',
        ]),
      );
      // Infrastructure routes are hidden.
      expect(doc.paths['/openapi.json']).toBeUndefined();
      expect(doc.paths['/healthz']).toBeUndefined();

      const createBooking = doc.paths['/v1/bookings'].post;
      expect(createBooking.security).toEqual([{ bearerAuth: [] }]);
      expect(doc.paths['/v1/integrations/{id}/targets'].get.security).toEqual([{ bearerAuth: [] }]);
      const schema = createBooking.requestBody.content['application/json'].schema;
      expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['spaceId', 'start', 'end', 'startLocal', 'endLocal', 'organiserId', 'invitees']));
      expect(schema.required).toContain('spaceId');
      expect(schema.additionalProperties).toBe(false);
      expect(schema.properties.startLocal.description).toMatch(/time zone/);
      expect(doc.paths['/v1/bookings/{id}/sync'].get.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path' })]));
    });
  });

  describe('audit log', () => {
    it('is append-only at the database level: UPDATE and DELETE fail, INSERT works', async () => {
      const db = h.app.store.db;
      const rows = () => db.selectFrom('auditLog').selectAll().orderBy('id').execute();
      const before = await rows();
      expect(before.length).toBeGreaterThan(0);
      const first = before[0].id;

      await expect(db.updateTable('auditLog').set({ actor: 'forged' }).where('id', '=', first).execute()).rejects.toThrow(/append-only/);
      await expect(db.updateTable('auditLog').set({ details: '{}' }).execute()).rejects.toThrow(/append-only/);
      await expect(db.deleteFrom('auditLog').where('id', '=', first).execute()).rejects.toThrow(/append-only/);
      await expect(db.deleteFrom('auditLog').execute()).rejects.toThrow(/append-only/);
      await expect(sql`DELETE FROM audit_log WHERE action = 'organisation.created'`.execute(db)).rejects.toThrow(/append-only/);
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.deleteFrom('auditLog').where('id', '=', first).execute();
        }),
      ).rejects.toThrow(/append-only/);
      // TRUNCATE skips row triggers in PostgreSQL; a statement trigger refuses it too. (SQLite has no TRUNCATE.)
      if (h.app.store.dialect === 'postgres') await expect(sql`TRUNCATE audit_log`.execute(db)).rejects.toThrow(/append-only/);
      expect(await rows()).toEqual(before);

      await writeAudit(db, { organisationId: h.organisationId, actor: 'test', action: 'test.appended', subjectType: 'test', subjectId: 'x', reason: 'append is allowed' });
      const after = await rows();
      expect(after).toHaveLength(before.length + 1);
      expect(after.slice(0, before.length)).toEqual(before);
    });

    it('entries carry the actor (key id or engine) and, for access changes, the reason', async () => {
      const whoAmI = async (key: string) => (await h.call('GET', '/v1/me', undefined, key)).body.keyId as string;
      const [platformId, adminId, hostId] = [await whoAmI(h.keys.platform), await whoAmI(h.keys.admin), await whoAmI(h.keys.host)];
      const space = await h.space(['ag-meeting-2']);
      const booking = (await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Audrey', email: 'audrey@example.com' }, start: hoursFromNow(1), end: hoursFromNow(2) }, h.keys.admin)).body;
      await h.converge();
      const regen = await h.call('POST', `/v1/people/${booking.organiserId}/pins/regenerate`, { integrationId: h.integrationId }, h.keys.host);
      expect(regen.status).toBe(200);
      await h.converge();

      const audit = async (q: string) => (await h.call('GET', `/v1/audit?${q}`, undefined, h.keys.admin)).body.results as any[];
      expect((await audit(`subjectId=${booking.id}`)).find((e) => e.action === 'booking.created')).toMatchObject({ actor: adminId, subjectType: 'booking', organisationId: h.organisationId });
      const person = await audit(`subjectId=${booking.organiserId}`);
      expect(person.find((e) => e.action === 'pin.regenerated')).toMatchObject({ actor: hostId });
      expect(person.find((e) => e.action === 'pin.issued')).toMatchObject({ actor: 'engine' });
      const granted = person.filter((e) => e.action === 'access.granted');
      expect(granted.length).toBeGreaterThan(0);
      for (const g of granted) expect(g).toMatchObject({ actor: 'engine', reason: `booking:${booking.id}` });
      expect((await audit(`subjectId=${h.integrationId}&action=integration.connected`))[0]).toMatchObject({ actor: platformId, details: { kind: 'demo' } });

      const all = await audit('limit=1000');
      expect(all.length).toBeGreaterThan(5);
      for (const e of all) {
        expect(typeof e.actor, JSON.stringify(e)).toBe('string');
        expect(e.actor.length, JSON.stringify(e)).toBeGreaterThan(0);
        expect(e.at, JSON.stringify(e)).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      }
      // Newest first, and a host may read it too.
      expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((a, b) => b - a));
      expect((await h.call('GET', '/v1/audit', undefined, h.keys.host)).status).toBe(200);
    });
  });

  describe('secrets', () => {
    let second: DemoEmulator;
    afterAll(async () => {
      second?.faults.clear();
      await second?.close();
    });

    it('never appear in the logs (PINs, API keys, provider credentials), and credentials are masked on read', async () => {
      const credential = `sk_live_${randomBytes(12).toString('hex')}`;
      const wrongCredential = `sk_wrong_${randomBytes(12).toString('hex')}`;
      second = await startDemoEmulator({ port: 0, apiKey: credential });

      // Connect a provider with a distinctive credential (and try a wrong one first).
      const refused = await h.call('POST', '/v1/integrations', { organisationId: h.organisationId, kind: 'demo', name: 'Side door', baseUrl: second.url, credentials: { apiKey: wrongCredential } });
      expect(refused.status).toBe(422);
      const connected = await h.call('POST', '/v1/integrations', { organisationId: h.organisationId, kind: 'demo', name: 'Side door', baseUrl: second.url, credentials: { apiKey: credential } });
      expect(connected.status, JSON.stringify(connected.body)).toBe(201);
      const sideDoor = connected.body.id as string;
      // Re-keying goes through a request body too.
      expect((await h.call('PATCH', `/v1/integrations/${sideDoor}`, { credentials: { apiKey: credential } })).status).toBe(200);

      // Masked on every read: only a bullet prefix and the last two characters.
      const masked = `••••${credential.slice(-2)}`;
      expect(connected.body.credentials).toEqual({ apiKey: masked });
      expect((await h.call('GET', `/v1/integrations/${sideDoor}`, undefined, h.keys.admin)).body.credentials).toEqual({ apiKey: masked });
      expect((await h.call('GET', `/v1/integrations/${h.integrationId}`, undefined, h.keys.host)).body.credentials).toEqual({ apiKey: '••••' });
      const list = JSON.stringify((await h.call('GET', '/v1/integrations', undefined, h.keys.admin)).body);
      expect(list).not.toContain(credential);
      expect(list).not.toContain('test-key');

      // A booking on a space behind both providers, with one failed PIN push to exercise the engine's error logging.
      const space = await h.space(['ag-meeting-1']);
      expect((await h.call('POST', '/v1/mappings', { spaceId: space, integrationId: sideDoor, targetRef: 'ag-meeting-1' }, h.keys.admin)).status).toBe(201);
      h.emulator.faults.add({ match: { method: 'PUT' }, times: 1, fault: { kind: 'status', status: 500 } });
      const booking = (await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Lou', email: 'lou@example.com' }, start: hoursFromNow(1), end: hoursFromNow(3) }, h.keys.admin)).body;
      await h.converge();

      const guest = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'Lou', personId: booking.organiserId }, h.keys.admin)).body.key as string;
      const pinsBefore = (await h.call('GET', '/v1/me/pins', undefined, guest)).body.results as { integrationId: string; pin: string }[];
      expect(pinsBefore.map((p) => p.integrationId).sort()).toEqual([h.integrationId, sideDoor].sort());

      const regen = await h.call('POST', `/v1/people/${booking.organiserId}/pins/regenerate`, { integrationId: sideDoor }, h.keys.host);
      expect(regen.status).toBe(200);
      await h.converge();
      const pinsAfter = (await h.call('GET', '/v1/me/pins', undefined, guest)).body.results as { integrationId: string; pin: string }[];
      const newSidePin = pinsAfter.find((p) => p.integrationId === sideDoor)!.pin;
      expect(newSidePin).not.toBe(pinsBefore.find((p) => p.integrationId === sideDoor)!.pin);
      const sideUser = second.state.userByExternalId(`lockstep-${booking.organiserId}`)!;
      expect(second.state.pinMatches(sideUser.id, newSidePin)).toBe(true);

      const text = logs.text();
      // The capture really saw the traffic and the engine's failure...
      expect(text).toContain('incoming request');
      expect(text).toContain('/v1/me/pins');
      expect(text).toContain('/pins/regenerate');
      expect(text).toContain('sync failed; will retry');
      // ...and none of the secrets.
      const pins = [...pinsBefore, ...pinsAfter].map((p) => p.pin);
      expect(new Set(pins).size).toBe(3);
      const secrets = [...pins, h.keys.platform, h.keys.admin, h.keys.host, guest, credential, wrongCredential, 'test-key'];
      for (const secret of secrets) expect(leaks(text, secret), `log contains ${secret.slice(0, 6)}…`).toBe(false);
      expect(text).not.toMatch(/lsk_[A-Za-z0-9_-]{20,}/);

      // Nor in the audit log, nor in what hosts and admins can read about the booking.
      const auditRows = JSON.stringify(await h.app.store.db.selectFrom('auditLog').selectAll().execute());
      const staffViews = JSON.stringify([
        (await h.call('GET', `/v1/bookings/${booking.id}/sync`, undefined, h.keys.host)).body,
        (await h.call('GET', `/v1/integrations/${sideDoor}/status`, undefined, h.keys.admin)).body,
        (await h.call('GET', `/v1/people/${booking.organiserId}`, undefined, h.keys.admin)).body,
        regen.body,
      ]);
      for (const secret of [...pins, credential, wrongCredential, 'test-key']) {
        expect(leaks(auditRows, secret), `audit contains ${secret.slice(0, 6)}…`).toBe(false);
        expect(leaks(staffViews, secret), `staff view contains ${secret.slice(0, 6)}…`).toBe(false);
      }
      // Stored credentials are sealed, not plain.
      const stored = await h.app.store.db.selectFrom('integrations').select('credentialsEnc').where('id', '=', sideDoor).executeTakeFirstOrThrow();
      expect(stored.credentialsEnc).not.toContain(credential);
    });
  });
});
