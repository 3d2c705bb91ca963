/**
 * Request text, checked at the edge. JSON bodies are parsed here (clear errors; no prototype keys).
 *
 * Text the store cannot hold. PostgreSQL text refuses the NUL character (U+0000) outright, so a NUL
 * that reached a query would be a 500 there (and stored silently on SQLite); it never means anything
 * in a name, an id or an e-mail. Requests are checked at the edge, with the field named.
 */
import { ApiError } from './errors.js';

/** The path of the first string holding U+0000 inside `value` (depth-limited), or null. */
export function findNul(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const at = `${path}.${key}`;
    if (key.includes('\u0000')) return at;
    const found = findNul(item, at, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Throws a 400 naming the field when any part of the request holds U+0000. */
export function refuseNul(parts: Record<string, unknown>): void {
  for (const [where, value] of Object.entries(parts)) {
    const path = findNul(value, where);
    if (path) throw new ApiError(400, 'validation', `${path}: must not contain the NUL character (U+0000)`, [{ path, message: 'must not contain the NUL character (U+0000)' }]);
  }
}

/** A mapping's value for `key`, ignoring what objects inherit (`constructor`, `__proto__`, …). */
export function ownValue<T>(map: Record<string, T>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}

/** The path of the first key that could pollute prototypes when merged (`__proto__`, `constructor.prototype`), or null. */
function findProtoKey(value: unknown, path: string, depth = 0): string | null {
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (key === '__proto__' || (key === 'constructor' && item !== null && typeof item === 'object' && Object.hasOwn(item, 'prototype'))) return `${path}.${key}`;
    const found = findProtoKey(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

const invalidBody = (path: string, message: string, code = 'validation') => new ApiError(400, code, `${path}: ${message}`, [{ path, message }]);

/** The API's JSON body parser: says what is wrong with a body, and refuses prototype keys. */
export function parseJsonRequest(text: string): unknown {
  if (text.trim() === '') throw invalidBody('body', 'is empty JSON; send a JSON object, or no content-type header when there is no body', 'invalid_json');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw invalidBody('body', `is not valid JSON (${(err as Error).message})`, 'invalid_json');
  }
  const proto = findProtoKey(body, 'body');
  if (proto) throw invalidBody(proto === 'body.__proto__' ? 'body' : proto.slice(0, proto.lastIndexOf('.')), `keys named "__proto__" (or "constructor" holding "prototype") are not allowed`);
  return body;
}
