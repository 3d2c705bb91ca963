/**
 * Checks recorded HTTP requests against a provider's published OpenAPI 3 / Swagger 2 document.
 *
 * - finds the operation for a request (path templates → regex, literal segments win over templates,
 *   `servers[0].url` path / Swagger `basePath` honoured);
 * - validates the JSON body against the operation's request schema with ajv, `$ref`s resolved inside
 *   the document; OpenAPI `nullable` (and Swagger `x-nullable`) become a `null` type; `date-time`,
 *   `int32` and `int64` are checked strictly (ajv-formats), every other format is accepted;
 * - checks that required query parameters are present and that integer/number/boolean query values parse.
 *
 * Errors are readable ("POST /access_codes/create body: must have required property 'device_id'") and
 * never quote request values (bodies may hold PINs).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; depending on the loader its default export is the function or a namespace.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv, formats: string[]) => Ajv;

export interface RequestToCheck {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  literalSegments: number;
  /** JSON pointer (from the document root) of the body schema, if the operation takes one. */
  bodySchemaPointer: string | null;
  bodyRequired: boolean;
  queryParams: { name: string; required: boolean; type?: string }[];
}

export interface OpenApiChecker {
  title: string;
  /** The operation a request maps to (`'PUT /smartlock/{smartlockId}/auth'`), or null. */
  operationFor(method: string, path: string): string | null;
  /** Readable errors for one request; empty when it conforms. */
  check(req: RequestToCheck): string[];
  /** Errors for many requests, plus the operations they exercised. */
  checkAll(reqs: RequestToCheck[]): { errors: string[]; operations: string[] };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const STRICT_FORMATS = ['date-time', 'int32', 'int64'];

type Json = Record<string, unknown>;

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** OpenAPI schema dialect → JSON Schema (nullable → type null), collecting the formats used. */
function normalise(node: unknown, formats: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => normalise(n, formats));
  if (!isObj(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = normalise(v, formats);
  if (typeof out.format === 'string' && typeof out.type === 'string') formats.add(out.format);
  // Generated documents (the Seam fake's) emit oneOf for overlapping scalar unions such as
  // string | date-time string, which no value can satisfy exactly once: read those as anyOf.
  if (Array.isArray(out.oneOf) && out.oneOf.every((b) => isObj(b) && !('properties' in b) && !('required' in b) && !('$ref' in b) && !('items' in b))) {
    out.anyOf = out.oneOf;
    delete out.oneOf;
  }
  if (out.nullable === true || out['x-nullable'] === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`openapi: only local $refs are supported (${ref})`);
  let cur: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = isObj(cur) || Array.isArray(cur) ? (cur as Json)[part] : undefined;
  }
  return cur;
}

function templateRegex(template: string): { regex: RegExp; literalSegments: number } {
  const segs = template.split('/').filter(Boolean);
  let literalSegments = 0;
  const body = segs
    .map((s) => {
      if (/^\{[^}]+\}$/.test(s)) return '[^/]+';
      if (s.includes('{')) return s.split(/\{[^}]+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
      literalSegments += 1;
      return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^/${body}/?$`), literalSegments };
}

export function loadOpenApi(source: string | object): OpenApiChecker {
  const raw = (typeof source === 'string' ? JSON.parse(readFileSync(source, 'utf8')) : source) as Json;
  const formats = new Set<string>();
  const doc = normalise(raw, formats) as Json;
  const swagger2 = typeof doc.swagger === 'string';
  if (!swagger2 && typeof doc.openapi !== 'string') throw new Error('openapi: neither an OpenAPI 3 nor a Swagger 2 document');

  let basePath = '';
  if (swagger2 && typeof doc.basePath === 'string') basePath = doc.basePath.replace(/\/$/, '');
  if (!swagger2 && Array.isArray(doc.servers) && isObj(doc.servers[0]) && typeof doc.servers[0].url === 'string') {
    try {
      basePath = new URL(doc.servers[0].url, 'http://x').pathname.replace(/\/$/, '');
    } catch {
      basePath = '';
    }
  }

  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv, STRICT_FORMATS);
  for (const f of formats) if (!STRICT_FORMATS.includes(f)) ajv.addFormat(f, true);
  const DOC_ID = 'openapi-document.json';
  ajv.addSchema(doc, DOC_ID);

  const deref = <T>(v: unknown): T => {
    let cur = v;
    for (let i = 0; i < 10 && isObj(cur) && typeof cur.$ref === 'string'; i++) cur = resolvePointer(doc, cur.$ref);
    return cur as T;
  };

  const operations: Operation[] = [];
  for (const [template, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    const shared = (Array.isArray(item.parameters) ? item.parameters : []).map((p) => deref<Json>(p));
    for (const method of METHODS) {
      const op = item[method];
      if (!isObj(op)) continue;
      const opPointer = `#/paths/${escapePointer(template)}/${method}`;
      const own = (Array.isArray(op.parameters) ? op.parameters : []).map((p) => deref<Json>(p));
      const params = [...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)), ...own];
      let bodySchemaPointer: string | null = null;
      let bodyRequired = false;
      if (swagger2) {
        const i = (Array.isArray(op.parameters) ? op.parameters : []).findIndex((p) => deref<Json>(p).in === 'body');
        if (i >= 0) {
          bodySchemaPointer = `${opPointer}/parameters/${i}/schema`;
          bodyRequired = deref<Json>((op.parameters as unknown[])[i]).required === true;
        }
      } else if (op.requestBody) {
        let rbPointer = `${opPointer}/requestBody`;
        let rb = op.requestBody as Json;
        if (typeof rb.$ref === 'string') {
          rbPointer = rb.$ref;
          rb = deref<Json>(rb);
        }
        const content = (rb.content ?? {}) as Record<string, unknown>;
        const type = Object.keys(content).find((t) => /json/.test(t)) ?? Object.keys(content).find((t) => t === '*/*');
        if (type && isObj(content[type]) && (content[type] as Json).schema) bodySchemaPointer = `${rbPointer}/content/${escapePointer(type)}/schema`;
        bodyRequired = rb.required === true;
      }
      const { regex, literalSegments } = templateRegex(basePath + template);
      operations.push({
        method: method.toUpperCase(),
        template,
        regex,
        literalSegments,
        bodySchemaPointer,
        bodyRequired,
        queryParams: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: String(p.name), required: p.required === true, type: (swagger2 ? p.type : deref<Json>(p.schema ?? {}).type) as string | undefined })),
      });
    }
  }
  // Literal segments beat templates: /smartlock/auth before /smartlock/{smartlockId}.
  operations.sort((a, b) => b.literalSegments - a.literalSegments);

  const validators = new Map<string, ValidateFunction>();
  const validatorFor = (pointer: string): ValidateFunction => {
    let v = validators.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `${DOC_ID}${pointer}` });
      validators.set(pointer, v);
    }
    return v;
  };

  const find = (method: string, path: string): Operation | undefined => operations.find((o) => o.method === method.toUpperCase() && o.regex.test(path));

  const check = (req: RequestToCheck): string[] => {
    const method = req.method.toUpperCase();
    const op = find(method, req.path);
    if (!op) return [`${method} ${req.path}: no such operation in the published document`];
    const label = `${method} ${op.template}`;
    const errors: string[] = [];
    const query = req.query ?? {};
    for (const p of op.queryParams) {
      const value = query[p.name];
      if (value === undefined) {
        if (p.required) errors.push(`${label} query: must have required parameter '${p.name}'`);
        continue;
      }
      if (p.type === 'integer' && !/^-?\d+$/.test(value)) errors.push(`${label} query/${p.name}: must be integer`);
      if (p.type === 'number' && Number.isNaN(Number(value))) errors.push(`${label} query/${p.name}: must be number`);
      if (p.type === 'boolean' && value !== 'true' && value !== 'false') errors.push(`${label} query/${p.name}: must be boolean`);
    }
    if (req.body === undefined) {
      if (op.bodyRequired) errors.push(`${label} body: is required`);
      return errors;
    }
    if (!op.bodySchemaPointer) {
      errors.push(`${label} body: the operation takes no request body`);
      return errors;
    }
    const validate = validatorFor(op.bodySchemaPointer);
    if (!validate(req.body)) {
      for (const e of validate.errors ?? []) {
        // oneOf/anyOf report every branch; the summary line is enough.
        errors.push(`${label} body${e.instancePath}: ${e.message ?? 'is invalid'}`);
      }
    }
    return [...new Set(errors)];
  };

  const info = (doc.info ?? {}) as Json;
  return {
    title: String(info.title ?? 'untitled'),
    operationFor: (method, path) => {
      const op = find(method, path);
      return op ? `${op.method} ${op.template}` : null;
    },
    check,
    checkAll(reqs) {
      const errors: string[] = [];
      const ops = new Set<string>();
      for (const r of reqs) {
        errors.push(...check(r));
        const op = find(r.method, r.path);
        if (op) ops.add(`${op.method} ${op.template}`);
      }
      return { errors, operations: [...ops].sort() };
    },
  };
}
