/**
 * Secrets at rest (issue 6): after a run that issues PINs, provider-issued codes, provider
 * credentials, call-back secrets, source secrets, card numbers, visit codes, URL keys and API keys
 * (story.ts), no table of the store holds any of them in the clear — nor hex/base64 of them, nor a
 * bare (unkeyed) digest that could be brute-forced offline: they are sealed or keyed-hashed. Every
 * column of every table is read, on SQLite and PostgreSQL; for SQLite the database file and its
 * write-ahead log are scanned byte for byte as well, so a value written once and overwritten later
 * is caught too.
 */
import fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { buildWorld, type World } from './world.js';
import { runStory, type Story } from './story.js';
import { contains, dumpStore, encodings, tableNames } from './support.js';

const digests = (secret: string) => ['sha256', 'sha1', 'md5'].map((alg) => createHash(alg).update(secret).digest('hex'));

describe.each(storeKinds)('secrets at rest on %s', (kind) => {
  const secretKey = randomBytes(32).toString('hex');
  let w: World;
  let story: Story;

  beforeAll(async () => {
    w = await buildWorld(kind, { secretKey });
    story = await runStory(w, { secretKey });
  }, 90_000);
  afterAll(async () => {
    await story?.close();
    await w?.close();
  });

  it('no table holds a secret in the clear, encoded, or as a bare digest', async () => {
    const dump = await dumpStore(w.h, { includeVolatile: true });
    const tables = await tableNames(w.h);
    // The dump is the whole store: every table, with the rows the story made.
    expect(Object.keys(dump).sort()).toEqual(tables);
    for (const t of ['pins', 'api_keys', 'integrations', 'callback_subscriptions', 'booking_sources', 'access_cards', 'visits', 'provider_grants', 'notifications', 'audit_log']) {
      expect(dump[t]?.length, t).toBeGreaterThan(0);
    }
    const text = JSON.stringify(dump);
    // Control: the scan sees plain configuration that is stored as given (an iCal feed URL is
    // configuration, and so is a card's label).
    for (const s of story.logOnlySecrets.filter((x) => x.what.includes('iCal'))) expect(text).toContain(s.value);
    expect(text).toContain(`Badge ${w.tagA}`);

    const found: string[] = [];
    for (const s of story.secrets) {
      for (const form of [...encodings(s.value), ...digests(s.value)]) {
        if (contains(text, form)) {
          const where = Object.entries(dump).filter(([, rows]) => contains(JSON.stringify(rows), form)).map(([t]) => t);
          found.push(`${s.what} (${form === s.value ? 'plain' : 'encoded/digest'}) in ${where.join(', ')}`);
        }
      }
    }
    expect(found).toEqual([]);
    // It checked what it should: every PIN and provider-issued code the guests were shown.
    expect(story.secrets.filter((s) => s.what.startsWith('PIN')).length).toBe(story.pins.length);
    expect(story.issuedCodes.length).toBeGreaterThanOrEqual(3);
  });

  it('the sealed and hashed columns hold sealed/hashed values, not the secret under another name', async () => {
    const dump = await dumpStore(w.h, { includeVolatile: true });
    const sealed: [string, string][] = [
      ['pins', 'pinEnc'],
      ['integrations', 'credentialsEnc'],
      ['callback_subscriptions', 'secretSealed'],
      ['access_cards', 'cardSealed'],
      ['visits', 'codeSealed'],
      ['notifications', 'bodySealed'],
    ];
    for (const [table, column] of sealed) {
      for (const row of dump[table]) expect(String(row[column]), `${table}.${column}`).toMatch(/^v1\.[A-Za-z0-9_-]{20,}$/);
    }
    for (const row of dump.booking_sources) if (row.secretSealed !== null) expect(String(row.secretSealed)).toMatch(/^v1\./);
    for (const row of dump.provider_grants) if (row.credentialSealed !== null) expect(String(row.credentialSealed)).toMatch(/^v1\./);
    for (const [table, column] of [['pins', 'pinHash'], ['api_keys', 'keyHash'], ['access_cards', 'cardHash'], ['visits', 'codeHash']] as const) {
      for (const row of dump[table]) expect(String(row[column]), `${table}.${column}`).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  if (kind === 'sqlite') it('the SQLite file and its write-ahead log never held a secret', async () => {
    const files = [w.h.database.url, `${w.h.database.url}-wal`].filter((f) => fs.existsSync(f));
    expect(files[0]).toBe(w.h.database.url);
    const bytes = files.map((f) => fs.readFileSync(f).toString('latin1')).join('\n');
    expect(bytes.length).toBeGreaterThan(10_000);
    // Control: plain configuration is visible to this scan.
    expect(bytes).toContain(`Badge ${w.tagA}`);
    const found = story.secrets.filter((s) => encodings(s.value).some((form) => contains(bytes, form))).map((s) => s.what);
    expect(found).toEqual([]);
  });
});
