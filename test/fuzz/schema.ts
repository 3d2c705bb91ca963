/**
 * The write endpoints, read from the live OpenAPI document, and fast-check arbitraries built from
 * their request schemas: valid bodies (with real ids where a field names one), near-valid bodies
 * (one field mutated) and hostile values.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
  $ref?: string;
  default?: unknown;
}

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Schema;
}

export interface Operation {
  /** "POST /v1/bookings/{id}/cancel" */
  id: string;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  template: string;
  params: Param[];
  body: Schema | null;
}

const WRITE_METHODS = ['post', 'put', 'patch', 'delete'] as const;

/**
 * Every write operation of the document. The server-rendered /web form routes are left out: they take
 * url-encoded forms behind a session cookie and a CSRF token (test/web covers them), not the JSON API.
 */
export function writeOperations(doc: { paths: Record<string, Record<string, any>> }): Operation[] {
  const resolve = (s: any): any => {
    let cur = s;
    for (let i = 0; i < 10 && cur && typeof cur.$ref === 'string'; i++) {
      cur = cur.$ref
        .slice(2)
        .split('/')
        .reduce((o: any, k: string) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    }
    return cur;
  };
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    if (template === '/web' || template.startsWith('/web/')) continue;
    for (const m of WRITE_METHODS) {
      const op = item[m];
      if (!op) continue;
      const params: Param[] = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(resolve).map((p: any) => ({ name: p.name, in: p.in, required: !!p.required, schema: resolve(p.schema ?? {}) }));
      const content = resolve(op.requestBody ?? {})?.content ?? {};
      const type = Object.keys(content).find((t) => /json/.test(t));
      ops.push({ id: `${m.toUpperCase()} ${template}`, method: m.toUpperCase() as Operation['method'], template, params, body: type ? resolveDeep(content[type].schema, resolve) : null });
    }
  }
  return ops;
}

function resolveDeep(s: any, resolve: (s: any) => any, depth = 0): Schema {
  const r = resolve(s);
  if (!r || typeof r !== 'object' || depth > 20) return r ?? {};
  const out: any = Array.isArray(r) ? [] : {};
  for (const [k, v] of Object.entries(r)) out[k] = v && typeof v === 'object' ? resolveDeep(v, resolve, depth + 1) : v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Valid values

/**
 * A hint: a value arbitrary for a field, by its name (and where it sits), or undefined to use the
 * schema. Its optional `fixup` relates the fields of one generated object where the schema cannot
 * (exactly one of organiserId/organiser, settings that fit the source kind, …); `coin` is random.
 */
export type Hints = ((key: string | undefined, path: (string | number)[], schema: Schema) => fc.Arbitrary<unknown> | undefined) & {
  fixup?: (obj: Record<string, unknown>, schema: Schema, path: (string | number)[], coin: number) => Record<string, unknown>;
};

const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,14}[A-Za-z0-9]$/);
const types = (s: Schema) => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []);

/** An arbitrary of values the schema accepts (hints first: they know which ids exist). */
export function valid(schema: Schema, hints: Hints, key?: string, path: (string | number)[] = []): fc.Arbitrary<unknown> {
  const inner = (): fc.Arbitrary<unknown> => {
    const hinted = hints(key, path, schema);
    if (hinted) return hinted;
    if (schema.oneOf?.length || schema.anyOf?.length) return fc.oneof(...(schema.oneOf ?? schema.anyOf)!.map((b) => valid(b, hints, key, path)));
    if (schema.allOf?.length) return valid(Object.assign({}, ...schema.allOf), hints, key, path);
    if (schema.enum?.length) return fc.constantFrom(...schema.enum);
    const t = types(schema).filter((x) => x !== 'null')[0] ?? (schema.properties ? 'object' : undefined);
    switch (t) {
      case 'string': {
        if (schema.format === 'email') return email;
        if (schema.format === 'uri') return fc.constant('https://example.com/lockstep');
        if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern), { maxLength: schema.maxLength ?? 40 }).filter((v) => v.length >= (schema.minLength ?? 0) && v.length <= (schema.maxLength ?? Infinity));
        const min = Math.max(schema.minLength ?? 0, 1);
        return fc.string({ minLength: min, maxLength: Math.max(min, Math.min(schema.maxLength ?? 24, 24)) }).filter((v) => v.trim().length >= (schema.minLength ?? 0));
      }
      case 'integer':
        return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000 });
      case 'number':
        return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000, noNaN: true, noDefaultInfinity: true }).map((n) => Math.round(n * 100) / 100);
      case 'boolean':
        return fc.boolean();
      case 'array':
        return fc.array(valid(schema.items ?? {}, hints, undefined, [...path, 0]), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
      case 'object': {
        const props = schema.properties ?? {};
        if (Object.keys(props).length === 0) {
          if (schema.additionalProperties && typeof schema.additionalProperties === 'object' && Object.keys(schema.additionalProperties).length) {
            return fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,10}$/), valid(schema.additionalProperties, hints, undefined, [...path, '*']), { maxKeys: 3 });
          }
          return fc.constant({});
        }
        const shape: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, s] of Object.entries(props)) shape[k] = valid(s, hints, k, [...path, k]);
        const record = fc.record(shape, { requiredKeys: schema.required ?? [] });
        const fixup = hints.fixup;
        return fixup ? fc.tuple(record, fc.nat()).map(([o, coin]) => fixup(o as Record<string, unknown>, schema, path, coin)) : record;
      }
      default:
        return fc.constant('x');
    }
  };
  const arb = inner();
  return schema.nullable || types(schema).includes('null') ? fc.option(arb, { nil: null, freq: 6 }) : arb;
}

export const email = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/), fc.stringMatching(/^[a-z]{2,8}$/), fc.constantFrom('example.com', 'example.org', 'Venue.Example'), fc.boolean())
  .map(([local, tag, domain, upper]) => {
    const e = `${local}.${tag}@${domain}`;
    return upper ? e.toUpperCase() : e;
  });

/** A booking window: instants with an offset, or wall-clock times in `zone`. */
export const windowArb = fc.record({
  startInHours: fc.integer({ min: -48, max: 24 * 60 }),
  minutes: fc.integer({ min: 15, max: 24 * 60 }),
  offset: fc.constantFrom('Z', '+00:00', '+01:00', '-05:00', '+05:30', '+14:00'),
});

export function instantIso(ms: number, offset: string): string {
  if (offset === 'Z') return new Date(ms).toISOString();
  const sign = offset[0] === '-' ? -1 : 1;
  const [h, m] = offset.slice(1).split(':').map(Number);
  return DateTime.fromMillis(ms, { zone: `UTC${sign < 0 ? '-' : '+'}${h}${m ? `:${String(m).padStart(2, '0')}` : ''}` }).toISO({ suppressMilliseconds: true })!;
}

export function localIso(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toFormat("yyyy-MM-dd'T'HH:mm");
}

// ---------------------------------------------------------------------------------------------
// Hostile values and near-valid bodies

const deep = (depth: number, kind: 'object' | 'array'): Json => {
  let v: Json = 'bottom';
  for (let i = 0; i < depth; i++) v = kind === 'object' ? { a: v } : [v];
  return v;
};

/** A polluting payload: if it ever reaches a plain object merge, Object.prototype gets `polluted`. */
export const POLLUTION = { polluted: 'yes', isAdmin: true };
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

/** Values that break parsers, validators and stores: one family per mutation kind of the brief. */
export const hostile = {
  wrongType: fc.constantFrom<Json>(0, -1, 1.5, true, false, null, [], {}, [1, 'two'], { nested: { value: 1 } }, 'a string', '1', 'true'),
  hugeString: fc.constantFrom('x'.repeat(100_000), '€'.repeat(30_000), 'a'.repeat(201), 'a'.repeat(4097), ' '.repeat(10_000), 'ab'.repeat(600)),
  unicode: fc.oneof(
    fc.constantFrom('\u0000', 'a\u0000b', '\u202Eevil\u202C', 'e\u0301\u0301', '😀🏳️‍🌈👨‍👩‍👧', '\uFEFFbom', '\ud800', 'x\udfffy', '\u2028\u2029', '\t\n\r', ' ', '', 'Ω≈ç√∫˜µ≤', 'ﷺ', 'Zalgò̶̡͔̭̰͂̄', '<script>alert(1)</script>', "'; DROP TABLE bookings; --", '%00%2e%2e/'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
  ),
  number: fc.oneof(
    fc.constantFrom<Json>(-1, -0, 0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 5e-324, 0.5, 1.5, 0.1 + 0.2, 1e21, -2147483649, 1441, 366, 8785),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  ),
  time: fc.oneof(
    fc.constantFrom(
      '2026-12-01T09:00:00', // no UTC offset
      '2026-12-01T09:00',
      '2026-12-01',
      '2026-12-01 09:00:00Z',
      '2026-03-29T01:30', // does not exist in Europe/London (spring forward)
      '2026-03-29T01:30:00',
      '2026-03-08T02:30', // does not exist in America/New_York
      '2026-10-25T01:30', // happens twice in Europe/London
      '2026-13-01T09:00:00Z',
      '2026-02-30T09:00:00Z',
      '2026-12-01T24:00:00Z',
      '2026-12-01T09:60:00Z',
      '0000-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '+275760-09-13T00:00:00Z',
      '-000001-01-01T00:00:00Z',
      '2026-12-01T09:00:00+14:00',
      '2026-12-01T09:00:00+25:00',
      '2026-12-01T09:00:00-2400',
      '2026-12-01T09:00:00.123456789Z',
      '2026-12-01T09:00:00.1234567891Z',
      '1970-01-01T00:00:00Z',
      '1969-12-31T23:59:59Z',
      '2088-02-01T00:00:00Z',
      'now',
      'tomorrow',
      '1764579600',
    ),
    fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  ),
  nanLike: fc.constantFrom('NaN', 'Infinity', '-Infinity', 'undefined', 'null', 'true', '1e999', '-1e999', '0x1F', '  42 ', '-0', '', 'None', '[]', '{}', '1,5', '٣'),
  protoValue: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'),
  deep: fc.constantFrom<Json>(deep(64, 'object'), deep(64, 'array'), deep(300, 'object'), deep(300, 'array')),
  json: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
};

export type MutationKind = 'wrong-type' | 'huge-string' | 'unicode' | 'number' | 'time' | 'nan-like' | 'proto-value' | 'deep' | 'json' | 'missing' | 'extra-field' | 'proto-key';
export interface Mutation {
  kind: MutationKind;
  /** Where the mutation happened (object keys and array indexes from the body root). */
  path: (string | number)[];
}
export interface NearValid {
  body: Json;
  mutation: Mutation;
}

const valueMutations: [MutationKind, fc.Arbitrary<Json>][] = [
  ['wrong-type', hostile.wrongType],
  ['huge-string', hostile.hugeString],
  ['unicode', hostile.unicode],
  ['number', hostile.number],
  ['time', hostile.time],
  ['nan-like', hostile.nanLike],
  ['proto-value', hostile.protoValue],
  ['deep', hostile.deep],
  ['json', hostile.json],
];

type Container = { [k: string]: Json } | Json[];
const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

/** Every path in a JSON value; `[]` is the root. */
export function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (isContainer(value)) for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

const at = (root: Json, path: (string | number)[]): Json => path.reduce<Json>((v, k) => (v as any)[k], root);

/** Sets an own, enumerable property even for `__proto__` (so JSON.stringify sends it). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * One field of a valid body mutated: its value replaced by a hostile one, a key removed (a required
 * one when there is one), an unknown key added, or a prototype-pollution key added.
 */
export function nearValid(base: fc.Arbitrary<unknown>, required: (path: (string | number)[]) => string[]): fc.Arbitrary<NearValid> {
  const valueKind = fc.integer({ min: 0, max: valueMutations.length - 1 }).chain((i) => valueMutations[i][1].map((v) => [valueMutations[i][0], v] as const));
  return fc
    .record({
      base,
      op: fc.constantFrom('replace', 'replace', 'replace', 'replace', 'missing', 'extra-field', 'proto-key'),
      pick: fc.nat(),
      value: valueKind,
      extraKey: fc.oneof(fc.constantFrom('extra', 'colour', 'startTime', 'organisationID', 'id', 'createdAt', ' name', 'name ', 'NAME'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 })),
      protoKey: fc.constantFrom(...PROTO_KEYS),
    })
    .map(({ base, op, pick, value, extraKey, protoKey }) => {
      const body = structuredClone(base ?? {}) as Json;
      const all = paths(body);
      if (op === 'replace') {
        const candidates = all.filter((p) => p.length > 0);
        if (candidates.length === 0) return { body: value[1], mutation: { kind: value[0], path: [] } };
        const p = candidates[pick % candidates.length];
        (at(body, p.slice(0, -1)) as any)[p[p.length - 1]] = value[1];
        return { body, mutation: { kind: value[0], path: p } };
      }
      if (op === 'missing') {
        const keyed = all.filter((p) => p.length > 0 && typeof p[p.length - 1] === 'string');
        const requiredPaths = keyed.filter((p) => required(p.slice(0, -1)).includes(p[p.length - 1] as string));
        const pool = requiredPaths.length && pick % 3 !== 0 ? requiredPaths : keyed;
        // Nothing to remove: a required key of the root that the base did not have is already missing.
        if (pool.length === 0) return { body, mutation: { kind: 'missing', path: [] } };
        const p = pool[pick % pool.length];
        delete (at(body, p.slice(0, -1)) as any)[p[p.length - 1]];
        return { body, mutation: { kind: 'missing', path: p } };
      }
      const objects = all.filter((p) => {
        const v = at(body, p);
        return isContainer(v) && !Array.isArray(v);
      });
      if (objects.length === 0) return { body, mutation: { kind: value[0], path: [] } };
      const p = objects[pick % objects.length];
      const target = at(body, p) as Record<string, unknown>;
      if (op === 'extra-field') {
        setOwn(target, extraKey, value[1]);
        return { body, mutation: { kind: 'extra-field', path: [...p, extraKey] } };
      }
      setOwn(target, protoKey, protoKey === 'constructor' ? { prototype: { ...POLLUTION } } : { ...POLLUTION });
      return { body, mutation: { kind: 'proto-key', path: [...p, protoKey] } };
    });
}

/** The `required` list of the object schema at `path` of a body. */
export function requiredAt(schema: Schema | null, path: (string | number)[]): string[] {
  let s: Schema | undefined = schema ?? undefined;
  for (const k of path) {
    if (!s) return [];
    if (s.oneOf || s.anyOf) s = (s.oneOf ?? s.anyOf)!.find((b) => b.properties && typeof k === 'string' && k in b.properties) ?? (s.oneOf ?? s.anyOf)![0];
    s = typeof k === 'number' ? s?.items : s?.properties?.[k];
  }
  if (s?.oneOf || s?.anyOf) return [...new Set((s.oneOf ?? s.anyOf)!.flatMap((b) => b.required ?? []))];
  return s?.required ?? [];
}

/** Raw bodies that are not JSON, or JSON that is only barely JSON. */
export const garbageText = fc.oneof(
  fc.constantFrom(
    '{',
    '{"a":',
    '[',
    '"unterminated',
    'null',
    'true',
    '0',
    '-',
    '1e99999',
    'NaN',
    '{"a":1,}',
    "{'a':1}",
    '{"a":1}{"b":2}',
    '\uFEFF{}',
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
    `{"a":${'['.repeat(20_000)}${']'.repeat(20_000)},"__proto__":{"polluted":"yes"}}`,
    `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
    '<xml/>',
    'a=1&b=2',
    '',
  ),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.json({ maxDepth: 4 }),
);
