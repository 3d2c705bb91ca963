/**
 * PIN service on both stores: unique within an integration (enforced by the database through the
 * keyed hash), stable per person, regenerated on request, sealed at rest.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { newId } from '../src/store/ids.js';
import { createTestDatabase, storeKinds, type TestDatabase } from './support/stores.js';
import { secretKey } from './support/harness.js';
import type { PinRules } from '../src/providers/types.js';

describe.each(storeKinds)('PINs on %s', (kind) => {
  let db: TestDatabase;
  let app: App;
  let org: string;
  let integration: string;
  beforeEach(async () => {
    db = await createTestDatabase(kind);
    app = await createApp({ databaseUrl: db.url, secretKey: secretKey() });
    org = newId('org');
    integration = newId('int');
    const now = Date.now();
    await app.store.db.insertInto('organisations').values({ id: org, name: 'o', createdAt: now }).execute();
    await app.store.db
      .insertInto('integrations')
      .values({ id: integration, organisationId: org, kind: 'demo', name: 'd', baseUrl: 'http://127.0.0.1:9', credentialsEnc: app.secrets.seal('{}'), bufferBeforeMinutes: 15, bufferAfterMinutes: 15, pinLength: null, privacyMode: 0, mobileCredentials: 0, provisionAheadDays: 30, status: 'active', pausedUntil: null, lastError: null, lastErrorAt: null, createdAt: now })
      .execute();
  });
  afterEach(async () => {
    await app.close();
    await db.drop();
  });

  const person = async () => {
    const id = newId('per');
    await app.store.db.insertInto('people').values({ id, organisationId: org, name: 'p', email: null, phone: null, externalIds: '{}', createdAt: Date.now() }).execute();
    return id;
  };
  const rules: PinRules = { length: 6, minLength: 4, maxLength: 8, allowedDigits: '0123456789', bannedPrefixes: ['00'] };

  it('gives each person one stable PIN, unique within the integration, sealed at rest', async () => {
    const people = await Promise.all(Array.from({ length: 40 }, person));
    const pins = await Promise.all(people.map((p) => app.pins.ensure(integration, p, rules, org)));
    expect(new Set(pins.map((p) => p.pin)).size).toBe(40);
    const again = await app.pins.ensure(integration, people[0], rules, org);
    expect(again).toEqual(pins[0]);
    const rows = await app.store.db.selectFrom('pins').selectAll().execute();
    expect(rows).toHaveLength(40);
    for (const r of rows) {
      expect(r.pinEnc).not.toContain(pins.find((p) => p.id === r.id)!.pin);
      expect(r.pinHash).not.toContain(pins.find((p) => p.id === r.id)!.pin);
    }
  });

  it('fills a tiny PIN space without a duplicate, then says to raise the length', async () => {
    // Digits 1–2, length 4: 16 codes, of which the non-trivial ones are few.
    const tiny: PinRules = { length: 4, minLength: 4, maxLength: 4, allowedDigits: '12', bannedPrefixes: [] };
    const issued: string[] = [];
    let error: Error | null = null;
    for (let i = 0; i < 20 && !error; i++) {
      try {
        issued.push((await app.pins.ensure(integration, await person(), tiny, org)).pin);
      } catch (err) {
        error = err as Error;
      }
    }
    expect(new Set(issued).size).toBe(issued.length);
    expect(issued.length).toBeGreaterThan(3);
    expect(error?.message).toMatch(/PIN length/);
  });

  it('no live PIN is a prefix of another when the PIN length changes (a keypad opens at the shorter)', async () => {
    // A venue had 4-digit PINs, then switched to 5 digits: the old PINs stay live until regenerated.
    const four: PinRules = { length: 4, minLength: 4, maxLength: 5, allowedDigits: '12', bannedPrefixes: [] };
    const five: PinRules = { ...four, length: 5 };
    // Six live 4-digit PINs of the twelve or so that '1' and '2' allow: a random 5-digit PIN would
    // start with one of them about every third time, so eight new ones catch a missing check. Filling
    // the 4-digit space instead left so few free 5-digit PINs that issuing one failed now and then.
    const short: string[] = [];
    for (let i = 0; i < 6; i++) short.push((await app.pins.ensure(integration, await person(), four, org)).pin);
    expect(new Set(short).size).toBe(6);
    const long: string[] = [];
    for (let i = 0; i < 8; i++) {
      try {
        long.push((await app.pins.ensure(integration, await person(), five, org)).pin);
      } catch {
        break;
      }
    }
    expect(long.length).toBeGreaterThan(0);
    for (const l of long) for (const s of short) expect(l.startsWith(s), `${l} starts with the live PIN ${s}`).toBe(false);
    // Both ways: a shorter PIN that a live longer one starts with clashes too; a revoked one no longer does.
    const longest = long[0]!;
    expect(await app.pins.clashes(integration, longest.slice(0, 4))).toBe(true);
    expect(await app.pins.clashes(integration, `${short[0]}2`)).toBe(true);
    const holder = (await app.store.db.selectFrom('pins').select('personId').where('pinHash', '=', app.secrets.keyedHash(longest, `pin:${integration}`)).executeTakeFirstOrThrow()).personId;
    await app.pins.regenerate(integration, holder, { ...five, allowedDigits: '123456789', length: 5 }, org, 'test');
    // The replaced PIN is free again (its holder's new one is from other digits).
    expect(await app.pins.clashes(integration, longest)).toBe(false);
  });

  it('indexes the prefixes of PINs issued before the check existed, once', async () => {
    const a = await person();
    const pin = await app.pins.ensure(integration, a, rules, org);
    // As a PIN from before migration 0013: no prefixes, not marked.
    await app.store.db.deleteFrom('pinPrefixes').execute();
    await app.store.db.updateTable('pins').set({ prefixesIndexed: 0 }).execute();
    expect(await app.pins.clashes(integration, pin.pin.slice(0, 4))).toBe(false);
    expect(await app.pins.indexOlderPins()).toBe(1);
    expect(await app.pins.clashes(integration, pin.pin.slice(0, 4))).toBe(true);
    expect(await app.pins.indexOlderPins()).toBe(0);
  });

  it('the database refuses two live PINs with the same hash in one integration', async () => {
    const [a, b] = [await person(), await person()];
    const pin = await app.pins.ensure(integration, a, rules, org);
    const row = await app.store.db.selectFrom('pins').selectAll().where('id', '=', pin.id).executeTakeFirstOrThrow();
    await expect(
      app.store.db.insertInto('pins').values({ ...row, id: newId('pin'), personId: b }).execute(),
    ).rejects.toThrow(/unique|UNIQUE/);
  });

  it('regenerating revokes the old PIN and audits it without the PIN', async () => {
    const p = await person();
    const first = await app.pins.ensure(integration, p, rules, org);
    const second = await app.pins.regenerate(integration, p, rules, org, 'key_host');
    expect(second.pin).not.toBe(first.pin);
    expect((await app.pins.find(integration, p))?.id).toBe(second.id);
    const revoked = await app.store.db.selectFrom('pins').select('revokedAt').where('id', '=', first.id).executeTakeFirstOrThrow();
    expect(revoked.revokedAt).not.toBeNull();
    const audit = await app.store.db.selectFrom('auditLog').selectAll().where('action', '=', 'pin.regenerated').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0].actor).toBe('key_host');
    expect(JSON.stringify(audit)).not.toContain(first.pin);
    expect(JSON.stringify(audit)).not.toContain(second.pin);
  });
});
