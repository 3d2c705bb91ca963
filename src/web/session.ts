/**
 * Web sessions and CSRF. The session cookie is signed (@fastify/cookie, secret derived from the
 * app's SecretBox), httpOnly and SameSite=Lax; its value is sealed (AES-GCM), because it carries
 * the API key the user logged in with. Every request resolves the principal from that key exactly
 * as the API does, so a revoked key ends the session at once.
 *
 * CSRF: each session has its own random token, sent back in a hidden field of every POST form; the
 * log-in form, before any session exists, uses a token in a separate signed cookie.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SecretBox } from '../security/crypto.js';

export const SESSION_COOKIE = 'ls_session';
export const LOGIN_CSRF_COOKIE = 'ls_login_csrf';
export const FLASH_COOKIE = 'ls_flash';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface SessionData {
  /** The API key the user logged in with. */
  key: string;
  /** CSRF token for this session. */
  csrf: string;
  /** Platform admins: the organisation they are looking at. */
  org: string | null;
  /** Issued at (ms). */
  at: number;
}

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of the expected token with what the form sent. */
export function csrfMatches(expected: string | null | undefined, given: unknown): boolean {
  if (typeof expected !== 'string' || expected.length < 16 || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The signing secret for web cookies, derived from the master key (never the key itself). */
export function cookieSecret(secrets: SecretBox): string {
  return secrets.keyedHash('cookie-signing', 'web-session');
}

export function sealSession(secrets: SecretBox, s: SessionData): string {
  return secrets.seal(JSON.stringify({ k: s.key, c: s.csrf, o: s.org, t: s.at }));
}

export function openSession(secrets: SecretBox, sealed: string, now = Date.now()): SessionData | null {
  try {
    const v = JSON.parse(secrets.open(sealed)) as { k?: unknown; c?: unknown; o?: unknown; t?: unknown };
    if (typeof v.k !== 'string' || typeof v.c !== 'string' || typeof v.t !== 'number') return null;
    if (now - v.t > SESSION_TTL_MS || v.t > now + 60_000) return null;
    return { key: v.k, csrf: v.c, org: typeof v.o === 'string' ? v.o : null, at: v.t };
  } catch {
    return null;
  }
}

const cookieOptions = (req: FastifyRequest) => ({
  path: '/',
  httpOnly: true,
  sameSite: 'lax' as const,
  secure: req.protocol === 'https',
  signed: true,
});

export function readSignedCookie(req: FastifyRequest, name: string): string | null {
  const v = req.cookies?.[name];
  if (!v) return null;
  const u = req.unsignCookie(v);
  return u.valid && u.value !== null ? u.value : null;
}

export function readSession(req: FastifyRequest, secrets: SecretBox): SessionData | null {
  const sealed = readSignedCookie(req, SESSION_COOKIE);
  return sealed ? openSession(secrets, sealed) : null;
}

export function writeSession(req: FastifyRequest, reply: FastifyReply, secrets: SecretBox, s: SessionData): void {
  reply.setCookie(SESSION_COOKIE, sealSession(secrets, s), { ...cookieOptions(req), maxAge: SESSION_TTL_MS / 1000 });
}

export function clearSession(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** The pre-session CSRF token for the log-in form (created on first view). */
export function loginCsrf(req: FastifyRequest, reply: FastifyReply): string {
  const existing = readSignedCookie(req, LOGIN_CSRF_COOKIE);
  if (existing) return existing;
  const token = newCsrfToken();
  reply.setCookie(LOGIN_CSRF_COOKIE, token, { ...cookieOptions(req), maxAge: 3600 });
  return token;
}

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

export function setFlash(req: FastifyRequest, reply: FastifyReply, flash: Flash): void {
  reply.setCookie(FLASH_COOKIE, JSON.stringify(flash), { ...cookieOptions(req), maxAge: 60 });
}

export function takeFlash(req: FastifyRequest, reply: FastifyReply): Flash | null {
  const v = readSignedCookie(req, FLASH_COOKIE);
  if (!v) return null;
  reply.clearCookie(FLASH_COOKIE, { path: '/' });
  try {
    const f = JSON.parse(v) as Flash;
    return (f.kind === 'ok' || f.kind === 'error') && typeof f.text === 'string' ? f : null;
  } catch {
    return null;
  }
}
