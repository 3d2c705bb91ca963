/**
 * Issue 6, bad input, for the two inbound webhooks: Cal.com (POST /v1/sources/{id}/calcom, signed
 * with X-Cal-Signature-256 over the raw body) and the generic booking webhook (POST
 * /v1/sources/{id}/bookings, Lockstep-Signature: t=…,v1=… over "t.body").
 *
 * Signed properties: the body is a real Cal.com / contract payload, the same with one field mutated
 * (see schema.ts `nearValid`), any JSON or not JSON at all — signed correctly over exactly the bytes
 * sent. Then the answer is 200 (an outcome) or a 400 `{ error, message, issues }` naming the field,
 * never a 5xx; a 400 changes nothing but the source's documented `lastError` (README: "one that is
 * signed but malformed is refused with a 400 naming the field and shown on the source as
 * lastError"); a 200 leaves the store consistent.
 *
 * Unsigned properties: a missing, malformed, wrong-secret, tampered or stale signature, odd content
 * types and garbage headers: a 4xx (401 whenever the body would otherwise be read) that writes
 * nothing at all — not even lastError.
 *
 * SQLite by default 300 runs per signed property (150 unsigned), PostgreSQL a quarter; FUZZ_RUNS / FUZZ_SEED in config.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { signatureHeader } from '../../src/providers/webhook/signing.js';
import { calSign, created } from '../sources/calcom-payloads.js';
import { assertProperty, numRuns } from './config.js';
import { webhookExamples } from './known-bugs.js';
import { exercise, liveOpenApiDocument, tally, type Verdict } from './api-property.js';
import { describeDiff, type TableDiff } from './store-state.js';
import { email, garbageText, hostile, instantIso, nearValid, requiredAt, valid, windowArb, writeOperations, type Json, type Mutation, type Operation } from './schema.js';
import { namesIn, type HttpRequest, type HttpResponse } from './http.js';
import { startWorld, type World } from './world.js';

const RUNS = 300;
const operations = writeOperations(await liveOpenApiDocument());
const calcomOp = operations.find((o) => o.id === 'POST /v1/sources/{id}/calcom')!;
const bookingsOp = operations.find((o) => o.id === 'POST /v1/sources/{id}/bookings')!;

type Hook = 'calcom' | 'bookings';
type Body = { kind: 'near'; value: Json; mutation: Mutation } | { kind: 'valid'; value: Json } | { kind: 'json'; value: Json } | { kind: 'text'; text: string };

/** Text as a store gives it back: lone surrogates become U+FFFD (SQLite may give one per byte). */
const wellFormed = (s: unknown) => (String(s) as unknown as { toWellFormed(): string }).toWellFormed().replace(/\uFFFD+/g, '\uFFFD');
const OUTCOMES = ['created', 'updated', 'cancelled', 'unchanged', 'duplicate', 'stale', 'ignored', 'ping'];
const CAL_TRIGGERS = ['BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_REQUESTED', 'BOOKING_PAYMENT_INITIATED', 'BOOKING_PAID', 'BOOKING_CANCELLED', 'BOOKING_REJECTED', 'PING', 'MEETING_ENDED', 'RECORDING_READY'];
const person = fc.record({ name: fc.stringMatching(/^[A-Z][a-z]{1,8} [A-Z][a-z]{1,10}$/), email });
const externalId = fc.oneof(fc.constantFrom('R-1', 'R-2', 'R-3', 'bFJeNb2uX8ANpT3JL5EfXw'), fc.stringMatching(/^[A-Za-z0-9_-]{6,22}$/));

describe.each(storeKinds)('inbound webhooks under fuzzed input (%s)', (kind) => {
  let w: World;
  let calcom: { id: string; secret: string };
  let hook: { id: string; secret: string };

  beforeAll(async () => {
    w = await startWorld(kind);
    const res = await w.h.call(
      'POST',
      '/v1/sources',
      { kind: 'calcom', name: 'Cal.com', settings: { spaceByEventType: { '7': w.spaces[0], '60min': w.spaces[0] }, spaceByLocation: { 'Room 2, HQ': w.spaces[1] } } },
      w.keys.admin,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    calcom = { id: res.body.id, secret: res.body.secret };
    hook = w.webhookSource;
  }, 60_000);
  afterAll(async () => {
    const lines = [calcomOp, bookingsOp].map((op) => `${op.id.padEnd(34)} ${[...(tally.get(op.id) ?? new Map<string, number>())].sort().map(([st, n]) => `${st}×${n}`).join(' ')}`);
    console.log(`webhook answers on ${kind} (status×count):\n${lines.join('\n')}`);
    tally.clear();
    await w?.close();
  });

  /** A Cal.com delivery as Cal.com sends it; `good` ones are accepted (mapped event type, known trigger). */
  const calcomEnvelope = (good: boolean) =>
    fc
      .record({
        trigger: good ? fc.constantFrom(...CAL_TRIGGERS) : fc.constantFrom(...CAL_TRIGGERS, 'BOOKING_EXPLODED', '', 'toString', 'constructor', '__proto__'),
        uid: externalId,
        win: windowArb,
        firedAgoSeconds: fc.integer({ min: 0, max: 30 * 86_400 }),
        guests: fc.array(person, { maxLength: 3 }),
        withICalUID: fc.boolean(),
        place: good ? fc.constantFrom<Record<string, unknown>>({ eventTypeId: 7 }, { eventTypeId: 99, type: '60min' }, { location: 'Room 2, HQ', eventTypeId: 42, type: 'other' }) : fc.constantFrom<Record<string, unknown>>({ eventTypeId: 8, type: 'unmapped' }, { eventTypeId: null, type: '' }, { eventTypeId: 7 }, { type: 'constructor' }, { eventTypeId: 'toString' }, { location: '__proto__' }, { type: 'hasOwnProperty' }),
        status: fc.constantFrom(undefined, 'ACCEPTED', 'PENDING'),
        rescheduleUid: fc.option(externalId, { nil: undefined }),
      })
      .map((c): Json => {
        const e = created({ uid: c.uid, guests: c.guests, withICalUID: c.withICalUID, at: Date.now() - c.firedAgoSeconds * 1000 });
        const start = Date.now() + c.win.startInHours * 3_600_000;
        const p = e.payload as Record<string, unknown>;
        p.startTime = instantIso(start, c.win.offset);
        p.endTime = instantIso(start + c.win.minutes * 60_000, c.win.offset);
        delete p.eventTypeId;
        delete p.type;
        delete p.location;
        Object.assign(p, c.place);
        if (c.status) p.status = c.status;
        if (c.rescheduleUid && c.trigger === 'BOOKING_RESCHEDULED') p.rescheduleUid = c.rescheduleUid;
        return { ...e, triggerEvent: c.trigger } as unknown as Json;
      });

  /** The generic contract; `good` ones name a mapped resource or space and a valid window. */
  const contract = (good: boolean) =>
    fc
      .record({
        event: good ? fc.constantFrom('booking.upserted', 'booking.upserted', 'booking.cancelled') : fc.constantFrom('booking.upserted', 'booking.cancelled', 'booking.deleted'),
        id: externalId,
        version: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0, 2_147_483_646, 2_147_483_647), fc.integer({ min: 0, max: 2_147_483_647 })),
        where: good
          ? fc.constantFrom<Record<string, unknown>>({ resource: 'room-1' }, { spaceId: 'mapped' }, {})
          : fc.constantFrom<Record<string, unknown>>({ resource: 'room-99' }, { spaceId: 'foreign' }, { resource: 'room-1', spaceId: 'mapped' }, { spaceId: 'sp_missing' }, { resource: 'constructor' }, { resource: 'toString' }, { resource: '__proto__' }),
        status: fc.option(fc.constantFrom('confirmed', 'pending'), { nil: undefined }),
        win: windowArb,
        title: fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }), { nil: undefined }),
        organiser: person,
        attendees: fc.option(fc.array(person, { maxLength: 3 }), { nil: undefined }),
      })
      .map((c): Json => {
        const where = { ...c.where };
        if (where.spaceId === 'mapped') where.spaceId = w.spaces[0];
        if (where.spaceId === 'foreign') where.spaceId = w.foreignSpace;
        if (c.event === 'booking.cancelled') return { event: c.event, id: c.id, version: c.version, ...where } as Json;
        const start = Date.now() + c.win.startInHours * 3_600_000;
        return {
          event: c.event,
          id: c.id,
          version: c.version,
          ...where,
          ...(c.status ? { status: c.status } : {}),
          start: instantIso(start, c.win.offset),
          end: instantIso(start + c.win.minutes * 60_000, c.win.offset),
          ...(c.title !== undefined ? { title: c.title } : {}),
          organiser: c.organiser,
          ...(c.attendees ? { attendees: c.attendees } : {}),
        } as Json;
      });

  const bodyArb = (which: Hook): fc.Arbitrary<Body> => {
    const op = which === 'calcom' ? calcomOp : bookingsOp;
    const good = which === 'calcom' ? calcomEnvelope(true) : contract(true);
    const any = which === 'calcom' ? calcomEnvelope(false) : contract(false);
    return fc.oneof(
      { weight: 6, arbitrary: nearValid(good, (p) => requiredAt(op.body, p)).map((n): Body => ({ kind: 'near', value: n.body, mutation: n.mutation })) },
      { weight: 2, arbitrary: good.map((value): Body => ({ kind: 'valid', value })) },
      { weight: 1, arbitrary: any.map((value): Body => ({ kind: 'valid', value })) },
      // Straight from the published request schema, so what the document promises is fuzzed too.
      { weight: 1, arbitrary: valid(op.body!, w.hints).map((value): Body => ({ kind: 'valid', value: value as Json })) },
      { weight: 1, arbitrary: (hostile.json as fc.Arbitrary<Json>).map((value): Body => ({ kind: 'json', value })) },
      { weight: 1, arbitrary: garbageText.map((text): Body => ({ kind: 'text', text })) },
    );
  };

  const rawBody = (b: Body) => (b.kind === 'text' ? b.text : (JSON.stringify(b.value) ?? 'null'));

  /** A signed 400 may record exactly one thing: the refusal, as its source's lastError. */
  const onlyLastError = (sourceId: string) => (d: TableDiff[], res: HttpResponse): string[] => {
    if (d.length === 0) return [];
    const message = String((res.json as { message?: unknown } | undefined)?.message ?? '');
    const ok =
      d.length === 1 &&
      d[0].table === 'booking_sources' &&
      d[0].added.length === 1 &&
      d[0].removed.length === 1 &&
      (() => {
        const a = JSON.parse(d[0].added[0]) as Record<string, unknown>;
        const r = JSON.parse(d[0].removed[0]) as Record<string, unknown>;
        // Stored as UTF-8: a lone surrogate in the message (V8 quotes half a pair) comes back as U+FFFD.
        return a.id === sourceId && wellFormed(a.lastError) === wellFormed(message.slice(0, 1000)) && JSON.stringify({ ...a, lastError: null }) === JSON.stringify({ ...r, lastError: null });
      })();
    return ok ? [] : [`only the source's lastError (= the message) may change on a signed 400:\n${describeDiff(d)}`];
  };

  /** After a 200: a known outcome, and the booking it names exists and came from this source. */
  const accepted = async (which: Hook, sourceId: string, v: Verdict): Promise<void> => {
    if (v.res.status !== 200) return;
    const answer = v.res.json as { outcome?: string; bookingId?: string | null };
    expect(OUTCOMES, v.res.text).toContain(answer.outcome);
    if (answer.bookingId) {
      const b = await w.h.app.store.db.selectFrom('bookings').select(['source']).where('id', '=', answer.bookingId).executeTakeFirst();
      expect(b?.source, v.res.text).toBe(`${which === 'calcom' ? 'calcom' : 'webhook'}:${sourceId}`);
    }
    const s = await w.h.app.store.db.selectFrom('bookingSources').select(['lastError']).where('id', '=', sourceId).executeTakeFirstOrThrow();
    expect(s.lastError, 'a delivery that went through clears lastError').toBeNull();
  };

  const request = (which: Hook, body: string, headers: Record<string, string>, contentType = 'application/json'): HttpRequest => ({
    method: 'POST',
    url: `/v1/sources/${which === 'calcom' ? calcom.id : hook.id}/${which}`,
    headers: { 'content-type': contentType, accept: 'application/json', ...headers },
    body,
  });

  const names = (b: Body) => {
    const n = namesIn(b.kind === 'text' ? undefined : b.value);
    for (const k of ['payload', 'triggerEvent', 'createdAt', 'event', 'id', 'version', 'start', 'end', 'resource', 'spaceId', 'organiser', 'attendees']) n.add(k);
    return n;
  };

  for (const which of ['calcom', 'bookings'] as Hook[]) {
    const op: Operation = which === 'calcom' ? calcomOp : bookingsOp;
    const name = `POST /v1/sources/{id}/${which}`;

    it(`${name}, signed: 200 or a 400 naming the field; a 400 writes only lastError; never a 5xx`, async () => {
      const sig = fc.constantFrom('lower', 'lower', 'lower', 'upper', 'prefixed', 'doubled');
      const skew = fc.constantFrom(0, 0, 0, -30, 30, -250, 250);
      await assertProperty(
        `${name} signed`,
        kind,
        fc.asyncProperty(bodyArb(which), sig, skew, fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8'), async (body, how, skewSeconds, contentType) => {
          const raw = rawBody(body);
          const secret = which === 'calcom' ? calcom.secret : hook.secret;
          let header: Record<string, string>;
          if (which === 'calcom') {
            const hex = calSign(secret, raw);
            // Cal.com sends lower-case hex; upper case and a sha256= prefix are read the same.
            header = { 'x-cal-signature-256': how === 'upper' ? hex.toUpperCase() : how === 'prefixed' ? `sha256=${hex}` : hex };
          } else {
            const t = Math.floor(Date.now() / 1000) + skewSeconds;
            const h = signatureHeader(secret, t, raw);
            // Several v1 entries are allowed (secret rotation): one valid among them is enough.
            header = { 'lockstep-signature': how === 'doubled' ? `${h},v1=${'0'.repeat(64)}` : how === 'upper' ? h.replace(/v1=([0-9a-f]+)/, (_m, x: string) => `v1=${x.toUpperCase()}`) : h };
          }
          if (which === 'calcom' && how === 'doubled') header['x-cal-signature-256'] = calSign(secret, raw);
          const sourceId = which === 'calcom' ? calcom.id : hook.id;
          const v = await exercise(
            w,
            op,
            { req: request(which, raw, header, contentType), names: names(body), mutated: body.kind === 'near' ? body.mutation.path.filter((k): k is string => typeof k === 'string') : undefined, requireMutatedNamed: body.kind === 'near' },
            {
              allowedOn4xx: onlyLastError(sourceId),
              expectStatus: (s) => (s === 200 || s === 400 ? null : `a correctly signed delivery must be answered 200 or 400, not ${s}`),
            },
          );
          await accepted(which, sourceId, v);
        }),
        numRuns(kind, RUNS),
        webhookExamples(which, kind, 7).map((value) => [{ kind: 'valid', value } as Body, 'lower', 0, 'application/json'] as [Body, string, number, string]),
      );
    }, 600_000);

    it(`${name}, unsigned or badly signed, odd headers: a 4xx that writes nothing, not even lastError`, async () => {
      const badSig =
        which === 'calcom'
          ? fc.oneof(
              fc.constantFrom<Record<string, string>>({}, { 'x-cal-signature-256': '' }, { 'x-cal-signature-256': 'no-secret-provided' }, { 'x-cal-signature-256': 'sha256=' }, { 'x-cal-signature-256': 'z'.repeat(64) }),
              fc.constantFrom('wrong-secret', 'tampered', 'truncated', 'doubled').map((k) => ({ [k]: '' })),
              fc.stringMatching(/^[\x20-\x7e]{0,100}$/).map((v) => ({ 'x-cal-signature-256': v })),
            )
          : fc.oneof(
              fc.constantFrom<Record<string, string>>({}, { 'lockstep-signature': '' }, { 'lockstep-signature': 'v1=abc' }, { 'lockstep-signature': 't=,v1=' }, { 'lockstep-signature': `t=${'9'.repeat(13)},v1=${'a'.repeat(64)}` }, { 'lockstep-signature': 'x'.repeat(3000) }),
              fc.constantFrom('wrong-secret', 'tampered', 'stale', 'future', 'no-v1', 't-in-ms').map((k) => ({ [k]: '' })),
              fc.stringMatching(/^[\x20-\x7e]{0,100}$/).map((v) => ({ 'lockstep-signature': v })),
            );
      const extraHeaders = fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,12}$/), fc.stringMatching(/^[\x21-\x7e]{0,40}$/), { maxKeys: 3 });
      const contentType = fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/json; charset=utf-8');
      await assertProperty(
        `${name} unsigned`,
        kind,
        fc.asyncProperty(bodyArb(which), badSig, extraHeaders, contentType, fc.boolean(), async (body, bad, extra, ct, signBodyCorrectlyButWrongContentType) => {
          const raw = rawBody(body);
          const secret = which === 'calcom' ? calcom.secret : hook.secret;
          const now = Math.floor(Date.now() / 1000);
          let header: Record<string, string> = bad;
          const mode = Object.keys(bad)[0];
          const lockstep = (s: string, t: number, b: string) => ({ 'lockstep-signature': signatureHeader(s, t, b) });
          if (which === 'calcom') {
            if (mode === 'wrong-secret') header = { 'x-cal-signature-256': calSign('another-secret-entirely', raw) };
            if (mode === 'tampered') header = { 'x-cal-signature-256': calSign(secret, `${raw} `) };
            if (mode === 'truncated') header = { 'x-cal-signature-256': calSign(secret, raw).slice(0, 63) };
            if (mode === 'doubled') header = { 'x-cal-signature-256': `${calSign(secret, raw)}, ${calSign(secret, raw)}` };
          } else {
            if (mode === 'wrong-secret') header = lockstep('another-secret-entirely', now, raw);
            if (mode === 'tampered') header = lockstep(secret, now, `${raw} `);
            if (mode === 'stale') header = lockstep(secret, now - 301 - 60, raw);
            if (mode === 'future') header = lockstep(secret, now + 301 + 60, raw);
            if (mode === 'no-v1') header = { 'lockstep-signature': `t=${now}` };
            if (mode === 't-in-ms') header = lockstep(secret, now * 1000, raw);
          }
          const json = /^application\/json/.test(ct);
          // A correct signature on a body the parser refuses (wrong content type) is still refused.
          if (!json && signBodyCorrectlyButWrongContentType) header = which === 'calcom' ? { 'x-cal-signature-256': calSign(secret, raw) } : lockstep(secret, now, raw);
          await exercise(
            w,
            op,
            { req: request(which, raw, { ...extra, ...header }, ct), names: names(body) },
            { expectStatus: (s) => (json ? (s === 401 ? null : `a bad signature must be a 401, not ${s}`) : s >= 400 && s < 500 ? null : `a body of type ${ct} must be refused with a 4xx, not ${s}`) },
          );
        }),
        numRuns(kind, RUNS, 0.5),
      );
    }, 600_000);
  }

  it('an unknown source or one of the other kind is a 404 that writes nothing, signed or not', async () => {
    await assertProperty(
      'webhook wrong source',
      kind,
      fc.asyncProperty(fc.constantFrom<Hook>('calcom', 'bookings'), fc.constantFrom('missing', 'other-kind', 'ical', 'nul'), bodyArb('bookings'), async (which, target, body) => {
        const raw = rawBody(body);
        const op = which === 'calcom' ? calcomOp : bookingsOp;
        let id = 'src_doesnotexist';
        if (target === 'other-kind') id = which === 'calcom' ? hook.id : calcom.id;
        if (target === 'ical') id = await w.victim('source', 2, { method: 'POST', template: '/v1/sources/{id}/poll', resolved: {} });
        // A NUL in the source id (a 500 on PostgreSQL until 07644f9).
        if (target === 'nul') id = `${hook.id}\u0000`;
        const secret = which === 'calcom' ? hook.secret : calcom.secret;
        const headers: Record<string, string> = which === 'calcom' ? { 'x-cal-signature-256': calSign(secret, raw) } : { 'lockstep-signature': signatureHeader(secret, Math.floor(Date.now() / 1000), raw) };
        await exercise(
          w,
          op,
          { req: { method: 'POST', url: `/v1/sources/${encodeURIComponent(id)}/${which}`, headers: { 'content-type': 'application/json', ...headers }, body: raw }, names: names(body) },
          // A NUL in the id may also be refused as such (400 naming params.id).
          { expectStatus: (s) => (s === 404 || (target === 'nul' && s === 400) ? null : `delivery to a ${target} source must be a 404, not ${s}`) },
        );
      }),
      numRuns(kind, RUNS, 0.25),
    );
  }, 600_000);
});
