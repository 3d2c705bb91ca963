/**
 * Secrets never reach the logs (issue 6). The whole two-tenant world and the story of story.ts —
 * bookings, PINs and their regeneration, a provider-issued code (Inlet), e-mails into the local
 * outbox, visits and scans, URL keys opened, signed source deliveries, an iCal feed at a secret URL,
 * call-backs to a receiver that is down, provider failures — run with every logger capturing to
 * memory at its most verbose: the Fastify (pino) logger at 'trace', the sync engine's logger, and
 * the notifier, call-back dispatcher and feed poller writing through the server's logger (as the CLI
 * wires them), plus anything written to the console. Then the captured text is searched for every
 * PIN the guests read through /v1/me/pins, every provider-issued code, API key, provider
 * credential, URL-key token, call-back and source secret, card number and visit code — plainly or
 * hex/base64-encoded — and for the secret parts of the feed and call-back URLs.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { buildWorld, type World } from './world.js';
import { runStory, type Story } from './story.js';
import { contains, encodings } from './support.js';

/** Everything logged, as text; errors with their message, stack and own properties. */
function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const flatten = (value: unknown) =>
    JSON.stringify(value, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack, cause: v.cause, ...(v as unknown as Record<string, unknown>) } : typeof v === 'bigint' ? String(v) : v));
  const engine = Object.fromEntries(
    (['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const).map((level) => [level, (obj: object, msg?: string) => void lines.push(`engine ${level} ${msg ?? ''} ${flatten(obj)}\n`)]),
  ) as unknown as { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  const consoleLine = (level: string) => (...args: unknown[]) => void lines.push(`console ${level} ${args.map((a) => (typeof a === 'string' ? a : flatten(a))).join(' ')}\n`);
  return { stream, engine, consoleLine, text: () => lines.join('') };
}

describe.each(storeKinds)('secrets in logs on %s', (kind) => {
  let logs: ReturnType<typeof captureLogs>;
  let w: World;
  let story: Story;
  const spies: { mockRestore(): void }[] = [];

  beforeAll(async () => {
    logs = captureLogs();
    for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) spies.push(vi.spyOn(console, level).mockImplementation(logs.consoleLine(level)));
    w = await buildWorld(kind, {
      logger: { level: 'trace', stream: logs.stream },
      engine: { logger: logs.engine },
      onStart: (h) => {
        // As the CLI does (src/cli/main.ts): the background workers log through the server's logger.
        h.app.notifier.useLogger(h.server.log);
        h.app.callbacks.useLogger(h.server.log);
        h.app.sources.useLogger(h.server.log);
      },
    });
    story = await runStory(w);
  }, 90_000);
  afterAll(async () => {
    for (const s of spies) s.mockRestore();
    await story?.close();
    await w?.close();
  });

  it('the capture saw the run: requests, the engine, the notifier, call-backs, the feed poller and the failures', () => {
    const text = logs.text();
    expect(w.h.server.log.level).toBe('trace');
    expect(text).toContain('incoming request');
    expect(text).toContain('request completed');
    for (const path of ['/v1/me/pins', '/pins/regenerate', '/v1/me/credentials', '/v1/me/visits', '/v1/visits/scan', '/v1/outbox/', '/v1/sources/', '/url-key', '/v1/api-keys', '/v1/integrations']) {
      expect(text, path).toContain(path);
    }
    expect(text).toContain('sync failed; will retry'); // the demo door's 500
    expect(text).toContain('notifications queued');
    expect(text).toMatch(/call-back (failed; giving up|not delivered; will retry)/);
    expect(text).toContain('call-back delivered');
    expect(text).toContain('iCal feed applied');
    expect(text).toMatch(/iCal feed poll failed/);
    expect(text.length).toBeGreaterThan(20_000);
  });

  it('holds no PIN, provider-issued code, API key, credential, URL key, card number, visit code or signing secret', () => {
    const text = logs.text();
    const all = [...story.secrets, ...story.logOnlySecrets];
    // It searches for what it should: every PIN and code the guests were shown.
    expect(story.pins.length).toBeGreaterThanOrEqual(9);
    expect(story.issuedCodes.length).toBeGreaterThanOrEqual(3);
    for (const p of story.pins) expect(all.map((s) => s.value)).toContain(p);
    const found = all.filter((s) => encodings(s.value).some((form) => contains(text, form))).map((s) => {
      const at = text.indexOf(s.value);
      return `${s.what}${at >= 0 ? `: …${text.slice(Math.max(0, at - 160), at + s.value.length + 40)}…` : ' (encoded)'}`;
    });
    expect(found).toEqual([]);
    // Nothing shaped like a key or secret either (a value this run did not know about).
    expect(text).not.toMatch(/lsk_[A-Za-z0-9_-]{20,}/);
    expect(text).not.toMatch(/whsec_[A-Za-z0-9_-]{20,}/);
    expect(text).not.toMatch(/lss_[A-Za-z0-9_-]{20,}/);
  });
});
