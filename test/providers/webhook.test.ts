import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebhookAdapter } from '../../src/providers/webhook/adapter.js';
import { startWebhookEmulator, type WebhookEmulator } from '../../src/providers/webhook/emulator.js';
import { webhookProvider } from '../../src/providers/webhook/index.js';
import { computeSignature, parseSignatureHeader, signatureHeader, verifySignature } from '../../src/providers/webhook/signing.js';
import { providerModule } from '../../src/providers/registry.js';
import { ProviderError } from '../../src/providers/types.js';

const SECRET = 'test-signing-secret-4b1d9e2a';
const H = 3_600_000;

let emu: WebhookEmulator;
let adapter: WebhookAdapter;
const extraAdapters: WebhookAdapter[] = [];

function newAdapter(opts: { signingSecret?: string; timeoutMs?: number; now?: () => number; baseUrl?: string; pinLength?: number } = {}): WebhookAdapter {
  const a = new WebhookAdapter({ baseUrl: opts.baseUrl ?? emu.url, signingSecret: opts.signingSecret ?? SECRET, timeoutMs: opts.timeoutMs, now: opts.now, pinLength: opts.pinLength });
  extraAdapters.push(a);
  return a;
}

async function catchErr(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the call to fail');
}

let eventSeq = 0;
interface Delivery {
  id?: string;
  type?: string;
  data?: unknown;
  /** Override the raw body (sent as is, signed as is unless `signWith` says otherwise). */
  raw?: string;
  secret?: string;
  timestamp?: number;
  signature?: string | null;
  idHeader?: string | null;
}

/** Signs and POSTs one event the way a sender following notes.md would. */
async function deliver(d: Delivery): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const id = d.id ?? `evt_test_${++eventSeq}_${Date.now()}`;
  const raw = d.raw ?? JSON.stringify({ id, type: d.type ?? 'targets.list', data: d.data ?? {} });
  const t = d.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const sig = d.signature === undefined ? signatureHeader(d.secret ?? SECRET, t, raw) : d.signature;
  if (sig !== null) headers['lockstep-signature'] = sig;
  const idHeader = d.idHeader === undefined ? id : d.idHeader;
  if (idHeader !== null) headers['lockstep-event-id'] = idHeader;
  const res = await fetch(emu.url, { method: 'POST', headers, body: raw });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

const identity = (key: string) => ({ key, displayName: `Person ${key}`, email: `${key}@example.com` });

beforeAll(async () => {
  emu = await startWebhookEmulator({ port: 0, signingSecret: SECRET });
  adapter = new WebhookAdapter({ baseUrl: emu.url, signingSecret: SECRET });
});

afterEach(() => {
  emu.faults.clear();
});

afterAll(async () => {
  await Promise.all([adapter.close(), ...extraAdapters.map((a) => a.close())]);
  await emu.close();
});

describe('signing scheme', () => {
  it('matches an independently computed HMAC-SHA256 (openssl) over "<t>.<raw body>"', () => {
    const raw = '{"id":"evt_test0001","type":"targets.list","data":{}}';
    const expected = 'd9eaf73501275a94d4072fb8774bf0f946d781a6057d1bb45e7a5c9b04239582';
    expect(computeSignature('whsec-test-vector-secret', 1700000000, raw)).toBe(expected);
    expect(signatureHeader('whsec-test-vector-secret', 1700000000, raw)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('parses headers and verifies in order: signature, then age', () => {
    expect(parseSignatureHeader('t=12,v1=ab,v0=zz,v1=CD')).toEqual({ timestamp: 12, signatures: ['ab', 'cd'] });
    expect(parseSignatureHeader('v1=ab')).toBeNull();
    expect(parseSignatureHeader('t=soon,v1=ab')).toBeNull();
    expect(parseSignatureHeader(undefined)).toBeNull();
    const raw = '{"a":1}';
    const header = signatureHeader('k'.repeat(20), 1000, raw);
    const base = { secret: 'k'.repeat(20), header, rawBody: raw };
    expect(verifySignature({ ...base, nowSeconds: 1000 })).toEqual({ ok: true, timestamp: 1000 });
    expect(verifySignature({ ...base, nowSeconds: 1300 })).toEqual({ ok: true, timestamp: 1000 });
    expect(verifySignature({ ...base, nowSeconds: 1301 })).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature({ ...base, nowSeconds: 699 })).toEqual({ ok: false, reason: 'future' });
    expect(verifySignature({ ...base, rawBody: '{"a":2}', nowSeconds: 1000 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature({ ...base, secret: 'x'.repeat(20), nowSeconds: 1301 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature({ ...base, header: undefined, nowSeconds: 1000 })).toEqual({ ok: false, reason: 'missing' });
    expect(verifySignature({ ...base, header: 't=1000,v1=nothex', nowSeconds: 1000 })).toEqual({ ok: false, reason: 'mismatch' });
    // Rotation: any matching v1 is enough.
    const rotated = `t=1000,v1=${'0'.repeat(64)},${header.split(',')[1]}`;
    expect(verifySignature({ ...base, header: rotated, nowSeconds: 1000 }).ok).toBe(true);
  });
});

describe('webhook provider module', () => {
  it('describes itself, is registered and builds an adapter', () => {
    expect(providerModule('webhook')).toBe(webhookProvider);
    expect(webhookProvider.credentialFields).toEqual([
      { name: 'signingSecret', label: expect.any(String), secret: true, required: true },
      { name: 'pinLength', label: expect.any(String), secret: false, required: false },
    ]);
    const a = webhookProvider.create({ baseUrl: emu.url, credentials: { signingSecret: SECRET, pinLength: '8' } });
    extraAdapters.push(a as WebhookAdapter);
    expect(a).toBeInstanceOf(WebhookAdapter);
    expect(a.kind).toBe('webhook');
    expect(a.capabilities).toEqual({
      accessGroups: true,
      providerUsers: true,
      membershipWindows: true,
      pinOnUser: true,
      pinOnLock: false,
      offlineAlgorithmicPin: false,
      mobileCredential: false,
      urlKey: false,
      pulseOpen: false,
      revocable: true,
      updatableGrants: true,
      issuesCredentials: false,
    });
    expect(a.deletingUserRemovesGrants).toBe(true);
    expect(a.pinRules).toEqual({ length: 8, minLength: 4, maxLength: 8, allowedDigits: '0123456789', bannedPrefixes: [] });
    expect(adapter.pinRules.length).toBe(6);
  });

  it('refuses missing, blank or short secrets and bad PIN lengths without echoing them', () => {
    const fail = (credentials: Record<string, string>) => {
      try {
        webhookProvider.create({ baseUrl: emu.url, credentials });
      } catch (err) {
        expect(err).toBeInstanceOf(ProviderError);
        return err as ProviderError;
      }
      throw new Error('expected create to throw');
    };
    let err = fail({});
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/signing secret is missing.*credentials/);
    expect(fail({ signingSecret: '   ' }).kind).toBe('auth');
    err = fail({ signingSecret: 'short-s3cret' });
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/too short/);
    expect(err.message).not.toContain('short-s3cret');
    for (const pinLength of ['3', '9', 'six', '6.5']) expect(fail({ signingSecret: SECRET, pinLength }).kind).toBe('rejected');
  });
});

describe('webhook adapter ↔ reference receiver', () => {
  it('tests the connection and lists targets with descriptions and kinds', async () => {
    await adapter.testConnection();
    const targets = await adapter.listTargets();
    expect(targets).toHaveLength(4);
    expect(targets).toContainEqual({ ref: 'main-entrance', name: 'Main entrance', description: expect.stringContaining('Street door'), kind: 'door' });
    expect(targets.find((t) => t.ref === 'roof-terrace')?.kind).toBe('zone');
    for (const t of targets) expect(t.description).toBeTruthy();
  });

  it('round-trips user, PIN and grants with windows', async () => {
    const id = identity('person-roundtrip');
    expect(await adapter.findUser(id.key)).toBeNull();

    const { ref: userRef } = await adapter.createUser(id);
    expect(await adapter.findUser(id.key)).toEqual({ ref: userRef, key: id.key, hasPin: false });
    expect(emu.state.user(userRef)).toMatchObject({ key: id.key, displayName: id.displayName, email: id.email, phone: null });

    await adapter.setUserPin(userRef, '482913');
    expect(emu.state.pinMatches(userRef, '482913')).toBe(true);
    expect((await adapter.findUser(id.key))?.hasPin).toBe(true);

    const start = Date.UTC(2030, 0, 1, 9);
    const { ref: grantRef } = await adapter.createGrant({ userRef, identity: id, targetRef: 'studio-a', window: { startsAt: start, endsAt: start + 2 * H } });
    const { ref: openRef } = await adapter.createGrant({ userRef, identity: id, targetRef: 'main-entrance', window: { startsAt: start, endsAt: null } });
    expect(grantRef).not.toBe(openRef);

    let obs = await adapter.observe({ userRef, key: id.key, grantRefs: [] });
    expect(obs.user).toEqual({ ref: userRef, key: id.key, hasPin: true });
    expect(obs.grants).toHaveLength(2);
    expect(obs.grants).toContainEqual({ ref: grantRef, targetRef: 'studio-a', window: { startsAt: start, endsAt: start + 2 * H } });
    expect(obs.grants).toContainEqual({ ref: openRef, targetRef: 'main-entrance', window: { startsAt: start, endsAt: null } });

    // The receiver enforces the window.
    expect(emu.state.canEnter({ pin: '482913', targetId: 'studio-a', at: start + H })).toBe(true);
    expect(emu.state.canEnter({ pin: '482913', targetId: 'studio-a', at: start + 3 * H })).toBe(false);
    expect(emu.state.canEnter({ pin: '482913', targetId: 'studio-b', at: start + H })).toBe(false);
    expect(emu.state.canEnter({ pin: '111111', targetId: 'studio-a', at: start + H })).toBe(false);

    await adapter.updateGrant({ userRef, identity: id, grantRef, targetRef: 'studio-a', window: { startsAt: start - H, endsAt: null } });
    await adapter.updateGrant({ userRef, identity: id, grantRef: openRef, targetRef: 'main-entrance', window: { startsAt: start, endsAt: start + H } });
    obs = await adapter.observe({ userRef, key: id.key, grantRefs: [] });
    expect(obs.grants).toContainEqual({ ref: grantRef, targetRef: 'studio-a', window: { startsAt: start - H, endsAt: null } });
    expect(obs.grants).toContainEqual({ ref: openRef, targetRef: 'main-entrance', window: { startsAt: start, endsAt: start + H } });
    // Dates travel as UTC ISO-8601 with Z.
    expect(emu.state.grants(userRef).find((g) => g.id === openRef)).toEqual({
      id: openRef,
      targetId: 'main-entrance',
      startsAt: '2030-01-01T09:00:00.000Z',
      endsAt: '2030-01-01T10:00:00.000Z',
    });

    await adapter.deleteGrant({ userRef, grantRef, targetRef: 'studio-a' });
    await adapter.deleteGrant({ userRef, grantRef, targetRef: 'studio-a' }); // 404 = already gone
    obs = await adapter.observe({ key: id.key, grantRefs: [] }); // by key when the ref is unknown
    expect(obs.user?.ref).toBe(userRef);
    expect(obs.grants.map((g) => g.ref)).toEqual([openRef]);

    await adapter.deleteUser(userRef);
    await adapter.deleteUser(userRef); // 404 = already gone
    expect(await adapter.observe({ userRef, key: id.key, grantRefs: [] })).toEqual({ user: null, grants: [] });
    expect(await adapter.observe({ key: id.key, grantRefs: [] })).toEqual({ user: null, grants: [] });
    expect(emu.state.user(userRef)).toBeNull();
    expect(emu.state.snapshot().grants.filter((g) => g.userId === userRef)).toEqual([]);
    expect(emu.state.canEnter({ pin: '482913', targetId: 'main-entrance', at: start + 1 })).toBe(false);
  });

  it('user.upsert is keyed by key: a second create adopts the same user', async () => {
    const id = identity('person-adopt');
    const first = await adapter.createUser(id);
    const second = await adapter.createUser({ ...id, displayName: 'Renamed' });
    expect(second.ref).toBe(first.ref);
    expect(emu.state.users().filter((u) => u.key === id.key)).toHaveLength(1);
    expect(emu.state.user(first.ref)?.displayName).toBe('Renamed');
  });

  it('creates a grant from the identity key when userRef is missing', async () => {
    const id = identity('person-nouserref');
    const { ref } = await adapter.createUser(id);
    const { ref: grantRef } = await adapter.createGrant({ identity: id, targetRef: 'studio-b', window: { startsAt: Date.now(), endsAt: null } });
    expect(emu.state.grants(ref).map((g) => g.id)).toEqual([grantRef]);
    const err = await catchErr(adapter.createGrant({ identity: identity('nobody'), targetRef: 'studio-b', window: { startsAt: Date.now(), endsAt: null } }));
    expect(err.kind).toBe('not-found');
  });

  it('enforces PIN rules and keeps conflicting PINs out of messages', async () => {
    const a = await adapter.createUser(identity('pin-a'));
    const b = await adapter.createUser(identity('pin-b'));
    for (const bad of ['123', '123456789', '12a456']) {
      const err = await catchErr(adapter.setUserPin(a.ref, bad));
      expect(err.kind).toBe('rejected');
      expect(err.details.status).toBe(422);
      expect(err.message).toContain('pin');
      expect(err.message).not.toContain(bad);
    }
    await adapter.setUserPin(a.ref, '735194');
    await adapter.setUserPin(a.ref, '735194'); // same user, same PIN
    const err = await catchErr(adapter.setUserPin(b.ref, '735194'));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBe(409);
    expect(err.message).toContain('pin.set');
    expect(err.message).not.toContain('735194');
    await adapter.setUserPin(a.ref, '735195'); // frees the old one
    await adapter.setUserPin(b.ref, '735194');
    expect(emu.state.pinMatches(b.ref, '735194')).toBe(true);
    expect(emu.state.pinMatches(a.ref, '735194')).toBe(false);
  });

  it('turns receiver validation (422) into rejected, naming the field and the event', async () => {
    const id = identity('person-422');
    const { ref: userRef } = await adapter.createUser(id);
    let err = await catchErr(adapter.createGrant({ userRef, identity: id, targetRef: 'nowhere', window: { startsAt: 0, endsAt: 1000 } }));
    expect(err.kind).toBe('rejected');
    expect(err.details.status).toBe(422);
    expect(err.message).toContain('targetId');
    expect(err.message).toContain('grant.create');
    err = await catchErr(adapter.createGrant({ userRef, identity: id, targetRef: 'studio-a', window: { startsAt: 5000, endsAt: 5000 } }));
    expect(err.message).toContain('endsAt');
    err = await catchErr(adapter.updateGrant({ userRef, identity: id, grantRef: 'grt_999999', targetRef: 'studio-a', window: { startsAt: 0, endsAt: null } }));
    expect(err.kind).toBe('not-found');
    err = await catchErr(adapter.setUserPin('usr_999999', '123456'));
    expect(err.kind).toBe('not-found');
  });
});

describe('reference receiver rejects what the contract rejects', () => {
  it('missing fields, bad formats and unknown ids', async () => {
    const { json: created } = await deliver({ type: 'user.upsert', data: { key: 'raw-user', displayName: 'Raw' } });
    const userId = created.id as string;
    expect(userId).toMatch(/^usr_/);

    const cases: [string, unknown, number, RegExp][] = [
      ['user.upsert', { displayName: 'No key' }, 422, /^key: /],
      ['user.upsert', { key: 'k', displayName: 'x', email: 'not-an-email' }, 422, /^email: /],
      ['user.upsert', { key: 42, displayName: 'x' }, 422, /^key: /],
      ['pin.set', { userId }, 422, /^pin: /],
      ['pin.set', { userId, pin: 123456 }, 422, /^pin: /],
      ['grant.create', { userId, targetId: 'studio-a', startsAt: '2030-01-01T09:00:00', endsAt: null }, 422, /^startsAt: /],
      ['grant.create', { userId, targetId: 'studio-a', startsAt: '2030-02-30T09:00:00Z', endsAt: null }, 422, /^startsAt: /],
      ['grant.create', { userId, targetId: 'studio-a', startsAt: '2030-01-01T09:00:00Z' }, 422, /^endsAt: /],
      ['grant.create', { userId, startsAt: '2030-01-01T09:00:00Z', endsAt: null }, 422, /^targetId: /],
      ['grant.create', { userId: 'usr_0', targetId: 'studio-a', startsAt: '2030-01-01T09:00:00Z', endsAt: null }, 404, /^userId: /],
      ['grant.delete', { userId, grantId: 'grt_0' }, 404, /^grantId: /],
      ['user.delete', { userId: 'usr_0' }, 404, /^userId: /],
      ['observe', {}, 422, /userId or key/],
    ];
    for (const [type, data, status, message] of cases) {
      const r = await deliver({ type, data });
      expect(r.status, `${type} ${JSON.stringify(data)}`).toBe(status);
      expect(r.json.message).toMatch(message);
    }

    // Offsets are accepted and stored as UTC.
    const ok = await deliver({ type: 'grant.create', data: { userId, targetId: 'studio-a', startsAt: '2030-01-01T10:00:00+01:00', endsAt: '2030-01-01T09:30:00Z' } });
    expect(ok.status).toBe(201);
    expect(emu.state.grants(userId).find((g) => g.id === ok.json.id)).toMatchObject({ startsAt: '2030-01-01T09:00:00.000Z', endsAt: '2030-01-01T09:30:00.000Z' });
    const moved = await deliver({ type: 'grant.update', data: { userId, grantId: ok.json.id, targetId: 'studio-b', startsAt: '2030-01-01T09:00:00Z', endsAt: null } });
    expect(moved.status).toBe(422);
    expect(moved.json.message).toMatch(/^targetId: cannot be changed/);
  });

  it('malformed envelopes, ids, types and routes', async () => {
    expect((await deliver({ type: 'door.explode' })).json.message).toMatch(/^type: /);
    expect((await deliver({ raw: JSON.stringify({ id: 'evt_x_12345', type: 'observe', data: [] }), id: 'evt_x_12345' })).status).toBe(400);
    expect((await deliver({ raw: JSON.stringify([1, 2]) })).status).toBe(400);
    expect((await deliver({ id: 'short' })).status).toBe(400);
    // The unsigned header must match the signed id.
    const mismatch = await deliver({ idHeader: 'evt_somebody_else' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json.message).toMatch(/Lockstep-Event-Id/);
    expect((await deliver({ idHeader: null })).status).toBe(400);
    expect((await deliver({ raw: '{"id":' })).status).toBe(400);
    expect((await fetch(`${emu.origin}/somewhere-else`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(emu.url, { method: 'GET' })).status).toBe(404);
  });
});

describe('signatures, timestamps and replays', () => {
  it('rejects a wrong secret, a tampered body and a missing or malformed header (401), applying nothing', async () => {
    const before = emu.state.users().length;
    const data = { key: 'forged-user', displayName: 'Forged' };
    let r = await deliver({ type: 'user.upsert', data, secret: 'not-the-receivers-secret' });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'invalid_signature', message: expect.any(String) });

    const id = 'evt_tampered_0001';
    const t = Math.floor(Date.now() / 1000);
    const signedFor = JSON.stringify({ id, type: 'user.upsert', data });
    const tampered = JSON.stringify({ id, type: 'user.upsert', data: { ...data, displayName: 'Mallory' } });
    r = await deliver({ id, raw: tampered, signature: signatureHeader(SECRET, t, signedFor) });
    expect(r.status).toBe(401);
    // Signing the body without the timestamp (GitHub style) is not accepted either.
    const bodyOnly = createHmac('sha256', SECRET).update(signedFor).digest('hex');
    r = await deliver({ id, raw: signedFor, signature: `t=${t},v1=${bodyOnly}` });
    expect(r.status).toBe(401);
    r = await deliver({ type: 'user.upsert', data, signature: null });
    expect(r.status).toBe(401);
    r = await deliver({ type: 'user.upsert', data, signature: 'sha256=deadbeef' });
    expect(r.status).toBe(401);

    expect(emu.state.users().length).toBe(before);
    expect(emu.state.userByKey('forged-user')).toBeNull();
    expect(emu.state.deliveries().filter((d) => d.outcome === 'bad-signature').length).toBeGreaterThanOrEqual(5);
  });

  it('rejects timestamps older than 5 minutes (and too far ahead), even when correctly signed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const data = { key: 'stale-user', displayName: 'Stale' };
    let r = await deliver({ type: 'user.upsert', data, timestamp: now - 310 });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('stale_timestamp');
    r = await deliver({ type: 'user.upsert', data, timestamp: now + 310 });
    expect(r.status).toBe(401);
    expect(emu.state.userByKey('stale-user')).toBeNull();
    r = await deliver({ type: 'user.upsert', data, timestamp: now - 240 }); // inside the tolerance
    expect(r.status).toBe(201);
  });

  it('a sender whose clock is 6 minutes slow gets an auth error that says so, without the secret', async () => {
    const slow = newAdapter({ now: () => Date.now() - 6 * 60_000 });
    const err = await catchErr(slow.createUser(identity('slow-clock')));
    expect(err.kind).toBe('auth');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/user\.upsert/);
    expect(err.message).toMatch(/clock/);
    expect(err.message).not.toContain(SECRET);
    expect(emu.state.userByKey('slow-clock')).toBeNull();
  });

  it('a replayed event answers the original response and is not applied twice', async () => {
    const { json: user } = await deliver({ type: 'user.upsert', data: { key: 'replay-user', displayName: 'Replay' } });
    const id = 'evt_replay_grant_0001';
    const raw = JSON.stringify({ id, type: 'grant.create', data: { userId: user.id, targetId: 'studio-b', startsAt: '2030-05-01T09:00:00Z', endsAt: '2030-05-01T10:00:00Z' } });
    const t = Math.floor(Date.now() / 1000);
    const signature = signatureHeader(SECRET, t, raw);

    const first = await deliver({ id, raw, signature });
    expect(first.status).toBe(201);
    expect(first.headers.get('lockstep-replayed')).toBeNull();
    // The same bytes again (an attacker, a proxy or a retrying queue), and again re-signed later.
    const second = await deliver({ id, raw, signature });
    const third = await deliver({ id, raw, timestamp: t + 5 });
    for (const again of [second, third]) {
      expect(again.status).toBe(201);
      expect(again.json).toEqual(first.json);
      expect(again.headers.get('lockstep-replayed')).toBe('true');
    }
    expect(emu.state.grants(user.id)).toHaveLength(1);
    expect(emu.state.timesApplied(id)).toBe(1);
    expect(emu.state.deliveries().filter((d) => d.eventId === id).map((d) => d.outcome)).toEqual(['applied', 'replayed', 'replayed']);

    // A refused event replays its refusal.
    const badId = 'evt_replay_refused_01';
    const refused = await deliver({ id: badId, type: 'pin.set', data: { userId: user.id, pin: '12' } });
    expect(refused.status).toBe(422);
    expect((await deliver({ id: badId, type: 'pin.set', data: { userId: user.id, pin: '12' } })).status).toBe(422);
    expect(emu.state.timesApplied(badId)).toBe(0);

    // Reusing an id for a different event is refused, not applied.
    const reused = await deliver({ id, type: 'grant.delete', data: { userId: user.id, grantId: first.json.id } });
    expect(reused.status).toBe(409);
    expect(emu.state.grants(user.id)).toHaveLength(1);
  });

  it('a replayed delete does not delete something created since', async () => {
    const { json: user } = await deliver({ type: 'user.upsert', data: { key: 'replay-delete', displayName: 'RD' } });
    const id = 'evt_replay_delete_0001';
    const del = await deliver({ id, type: 'user.delete', data: { userId: user.id } });
    expect(del.status).toBe(204);
    const { json: again } = await deliver({ type: 'user.upsert', data: { key: 'replay-delete', displayName: 'RD' } });
    expect((await deliver({ id, type: 'user.delete', data: { userId: user.id } })).status).toBe(204);
    expect(emu.state.user(again.id)).not.toBeNull();
    expect(emu.state.timesApplied(id)).toBe(1);
  });
});

describe('wire format as a receiver sees it', () => {
  it('POSTs the envelope to the exact URL with a signature over the raw bytes and a fresh event id each time', async () => {
    const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; raw: string }[] = [];
    const capture = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, raw });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'usr_captured', targets: [] }));
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
    const a = newAdapter({ baseUrl: `${origin}/hooks/lockstep?venue=v42` });
    try {
      const before = Math.floor(Date.now() / 1000);
      await a.createUser({ key: 'lockstep-p1', displayName: 'Ada Lovelace', email: 'ada@example.com' });
      await a.setUserPin('usr_captured', '550123');
      expect(seen).toHaveLength(2);
      for (const s of seen) {
        expect(s.method).toBe('POST');
        expect(s.url).toBe('/hooks/lockstep?venue=v42');
        expect(s.headers['content-type']).toBe('application/json');
        const sig = parseSignatureHeader(s.headers['lockstep-signature'])!;
        expect(sig.timestamp).toBeGreaterThanOrEqual(before);
        expect(verifySignature({ secret: SECRET, header: s.headers['lockstep-signature'], rawBody: s.raw, nowSeconds: sig.timestamp }).ok).toBe(true);
        const env = JSON.parse(s.raw);
        expect(s.headers['lockstep-event-id']).toBe(env.id);
        expect(s.headers['lockstep-event-type']).toBe(env.type);
        expect(env.id).toMatch(/^evt_[0-9a-f-]{36}$/);
        expect(JSON.stringify(s.headers)).not.toContain(SECRET);
      }
      expect(seen[0].headers['lockstep-event-id']).not.toBe(seen[1].headers['lockstep-event-id']);
      expect(JSON.parse(seen[0].raw)).toEqual({
        id: expect.any(String),
        type: 'user.upsert',
        data: { key: 'lockstep-p1', displayName: 'Ada Lovelace', email: 'ada@example.com', phone: null },
      });
      expect(JSON.parse(seen[1].raw).data).toEqual({ userId: 'usr_captured', pin: '550123' });
    } finally {
      capture.closeAllConnections();
      await new Promise<void>((resolve) => capture.close(() => resolve()));
    }
  });

  it('signs each of many concurrent events correctly', async () => {
    const n = 100;
    const refs = await Promise.all(Array.from({ length: n }, (_, i) => adapter.createUser(identity(`burst-${i}`))));
    expect(new Set(refs.map((r) => r.ref)).size).toBe(n);
    await Promise.all(refs.map((r, i) => adapter.createGrant({ userRef: r.ref, identity: identity(`burst-${i}`), targetRef: 'roof-terrace', window: { startsAt: 0, endsAt: null } })));
    expect(emu.state.snapshot().grants.filter((g) => g.targetId === 'roof-terrace').length).toBeGreaterThanOrEqual(n);
  });

  it('reports an answer it cannot read as transient', async () => {
    const odd = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    const a = newAdapter({ baseUrl: `http://127.0.0.1:${(odd.address() as AddressInfo).port}/x` });
    try {
      expect((await catchErr(a.createUser(identity('odd')))).kind).toBe('transient');
      expect((await catchErr(a.listTargets())).message).toMatch(/targets/);
    } finally {
      odd.closeAllConnections();
      await new Promise<void>((resolve) => odd.close(() => resolve()));
    }
  });
});

describe('error mapping', () => {
  it('a wrong signing secret is an auth error with an admin-readable message that does not contain the secret', async () => {
    const wrong = 'wrong-signing-secret-99887766';
    const bad = newAdapter({ signingSecret: wrong });
    const err = await catchErr(bad.testConnection());
    expect(err.kind).toBe('auth');
    expect(err.details.status).toBe(401);
    expect(err.message).toMatch(/signing secret.*credentials/);
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(SECRET);
  });

  it('a URL without a receiver is not-found with a hint about the base URL', async () => {
    const lost = newAdapter({ baseUrl: `${emu.origin}/not-the-receiver` });
    const err = await catchErr(lost.testConnection());
    expect(err.kind).toBe('not-found');
    expect(err.message).toMatch(/base URL/);
  });

  it('429 → rate-limited with retryAfterMs; 503 and drops → transient', async () => {
    emu.faults.add({ times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 7 } });
    let err = await catchErr(adapter.listTargets());
    expect(err.kind).toBe('rate-limited');
    expect(err.details).toEqual({ status: 429, retryAfterMs: 7000 });
    emu.faults.add({ times: 1, fault: { kind: 'status', status: 503 } });
    err = await catchErr(adapter.createUser(identity('person-503')));
    expect(err.kind).toBe('transient');
    expect(err.message).toContain('user.upsert');
    expect(emu.state.userByKey('person-503')).toBeNull();
    emu.faults.add({ times: 1, fault: { kind: 'drop' } });
    expect((await catchErr(adapter.findUser('whoever'))).kind).toBe('transient');
    const quick = newAdapter({ timeoutMs: 150 });
    emu.faults.add({ times: 1, fault: { kind: 'hang' } });
    expect((await catchErr(quick.listTargets())).message).toMatch(/timed out/);
    expect(await adapter.findUser('whoever')).toBeNull();
  });
});

describe('secrets', () => {
  it('never puts the signing secret or a PIN in errors, the state dump or the delivery log', async () => {
    const pin = '918273';
    const { ref } = await adapter.createUser(identity('person-secret'));
    await adapter.setUserPin(ref, pin);

    const state = await fetch(`${emu.origin}/_emulator/state`);
    const text = await state.text();
    expect(state.status).toBe(200);
    expect(text).not.toContain(pin);
    expect(text).not.toContain(SECRET);
    expect(JSON.stringify(emu.state.snapshot())).not.toContain(pin);
    expect(JSON.stringify(emu.state.deliveries())).not.toContain(pin);
    expect((await adapter.observe({ userRef: ref, key: 'person-secret', grantRefs: [] })).user).toEqual({ ref, key: 'person-secret', hasPin: true });

    const messages: string[] = [];
    const collect = async (p: Promise<unknown>) => messages.push((await catchErr(p)).message);
    const other = await adapter.createUser(identity('person-secret-2'));
    await collect(adapter.setUserPin(other.ref, pin)); // 409
    await collect(adapter.setUserPin(other.ref, '1234567890')); // 422
    for (const status of [400, 401, 403, 404, 409, 422, 429, 500, 503]) {
      emu.faults.add({ times: 1, fault: { kind: 'status', status } });
      await collect(adapter.setUserPin(ref, pin));
    }
    emu.faults.add({ times: 1, fault: { kind: 'drop' } });
    await collect(adapter.setUserPin(ref, pin));
    await collect(newAdapter({ signingSecret: 'another-wrong-secret-123456' }).setUserPin(ref, pin));
    await collect(newAdapter({ now: () => 0 }).setUserPin(ref, pin));

    expect(messages).toHaveLength(14);
    for (const m of messages) {
      expect(m).not.toContain(pin);
      expect(m).not.toContain('1234567890');
      expect(m).not.toContain(SECRET);
      expect(m).not.toContain('another-wrong-secret-123456');
    }
  });
});

describe('emulator lifecycle', () => {
  it('resets state, remembered event ids, faults and stats; ids are not reused', async () => {
    const other = await startWebhookEmulator({ signingSecret: SECRET, path: '/custom/path', targets: [{ id: 'g1', name: 'Gate', description: 'The only gate', kind: 'lock' }] });
    const a = new WebhookAdapter({ baseUrl: other.url, signingSecret: SECRET });
    try {
      expect(other.url).toMatch(/\/custom\/path$/);
      expect(await a.listTargets()).toEqual([{ ref: 'g1', name: 'Gate', description: 'The only gate', kind: 'lock' }]);
      const { ref } = await a.createUser(identity('reset-me'));
      other.faults.add({ match: { path: '/nowhere' }, fault: { kind: 'drop' } });
      expect((await fetch(`${other.origin}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
      expect(other.state.snapshot()).toMatchObject({ users: [], grants: [] });
      expect(other.state.deliveries()).toEqual([]);
      expect(other.faults.list()).toEqual([]);
      expect(other.stats().requests).toBe(0);
      const { ref: again } = await a.createUser(identity('reset-me'));
      expect(again).not.toBe(ref);
    } finally {
      await a.close();
      await other.close();
    }
  });
});
