/**
 * Brute-force limits hold across API nodes: two API servers on one PostgreSQL share the counts, so
 * spreading guesses over nodes gains nothing. Covers unknown API keys (API and web log-in share one
 * budget per address), visitor-code scans per key, and forged URL keys per address.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { buildServer } from '../../src/api/server.js';
import type { Api } from '../../src/api/types.js';
import { startHarness, type Harness } from '../support/harness.js';

const SECRET = 'd'.repeat(64);
const limits = {
  failedAuth: { limit: 4, windowMs: 60_000 },
  scan: { limit: 3, windowMs: 60_000 },
  badUrlKeys: { limit: 3, windowMs: 60_000 },
};

describe('brute-force limits across two API nodes (PostgreSQL)', () => {
  let h: Harness;
  let second: { app: App; server: Api; url: string } | null = null;
  afterEach(async () => {
    await second?.server.close();
    await second?.app.close();
    second = null;
    await h?.close();
  });

  const start = async () => {
    h = await startHarness('postgres', { secretKey: SECRET, limits });
    const app = await createApp({ databaseUrl: h.database.url, secretKey: SECRET, limits });
    const server = await buildServer(app);
    second = { app, server, url: await server.listen({ port: 0, host: '127.0.0.1' }) };
    return [h.baseUrl, second.url];
  };
  const get = (base: string, path: string, key: string) => fetch(base + path, { headers: { authorization: `Bearer ${key}` } });

  it('unknown API keys: after the limit, every node answers 429 with Retry-After for that address', async () => {
    const nodes = await start();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(nodes[i % 2]!, '/v1/bookings', `lsk_guess_${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    const limited = await get(nodes[0]!, '/v1/spaces', 'lsk_guess_again');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: string }).error).toBe('rate_limited');
    // A real key is not locked out by someone else's guessing.
    expect((await get(nodes[1]!, '/v1/locations', h.keys.admin)).status).toBe(200);

    // The web log-in draws on the same budget.
    const page = await fetch(`${nodes[1]}/web/login`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const login = await fetch(`${nodes[1]}/web/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: nodes[1]! },
      body: new URLSearchParams({ _csrf: csrf, key: 'lsk_web_guess' }).toString(),
    });
    expect(login.status).toBe(429);
  });

  it('visitor scans are limited per key across nodes', async () => {
    const nodes = await start();
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${nodes[i % 2]}/v1/visits/scan`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.keys.host}`, 'content-type': 'application/json' },
        body: JSON.stringify({ code: `ABCDE-FGH${i}K`, action: 'lookup' }),
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // Another key has its own budget.
    const other = await fetch(`${nodes[0]}/v1/visits/scan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.keys.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'ABCDE-FGHJK', action: 'lookup' }),
    });
    expect(other.status).toBe(200);
  });

  it('forged URL keys are limited per address across nodes, and the store never holds a token', async () => {
    const nodes = await start();
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${nodes[i % 2]}/k/bk_forged${i}.p_x.abc.def`, { method: 'POST' })).status);
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    const counters = await h.app.store.db.selectFrom('rateCounters').select('key').execute();
    expect(counters.some((c) => c.key.startsWith('url-key-bad:'))).toBe(true);
    expect(JSON.stringify(counters)).not.toContain('bk_forged');
  });
});
