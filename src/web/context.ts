/**
 * Per-request web context: the session's principal (resolved like the API does), the CSRF token,
 * the organisation in view, and `api()` — calls to the REST API in-process with the user's own key,
 * so every page gets exactly the API's role checks and validation messages.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import type { Api } from '../api/types.js';
import { atLeast, type Principal, type Role } from '../api/auth.js';
import { formatLocal } from '../domain/time.js';
import { page, type FrameInfo } from './layout.js';
import type { SafeHtml } from './html.js';
import { readSession, takeFlash, type Flash, type SessionData } from './session.js';

export class WebError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiResult<T = any> {
  status: number;
  ok: boolean;
  body: T;
}

export interface WebContext {
  req: FastifyRequest;
  reply: FastifyReply;
  app: App;
  principal: Principal;
  session: SessionData;
  /** The organisation pages act in (platform admins choose it; everyone else has their own). */
  org: string | null;
  orgs: { id: string; name: string }[];
  who: string;
  flash: Flash | null;
  api<T = any>(method: string, url: string, body?: unknown): Promise<ApiResult<T>>;
  /** `url` with `organisationId` added for platform admins. */
  q(url: string): string;
  /** `body` with `organisationId` added for platform admins. */
  b<T extends object>(body: T): T;
  render(title: string, body: SafeHtml, opts?: { status?: number; current?: string }): FastifyReply;
}

declare module 'fastify' {
  interface FastifyRequest {
    web?: WebContext;
  }
}

export async function loadContext(req: FastifyRequest, reply: FastifyReply, app: App, server: Api): Promise<WebContext | null> {
  const session = readSession(req, app.secrets);
  if (!session) return null;
  const principal = await app.apiKeys.principalFor(session.key);
  if (!principal) return null;
  const db = app.store.db;
  let orgs: { id: string; name: string }[] = [];
  let org = principal.organisationId;
  if (principal.role === 'platform-admin') {
    orgs = await db.selectFrom('organisations').select(['id', 'name']).orderBy('name').execute();
    org = orgs.find((o) => o.id === session.org)?.id ?? orgs[0]?.id ?? null;
  }
  let who = 'Platform admin';
  if (principal.personId) {
    who = (await db.selectFrom('people').select('name').where('id', '=', principal.personId).executeTakeFirst())?.name ?? 'Guest';
  } else {
    who = (await db.selectFrom('apiKeys').select('name').where('id', '=', principal.keyId).executeTakeFirst())?.name ?? principal.role;
  }
  const flash = takeFlash(req, reply);
  const ctx: WebContext = {
    req,
    reply,
    app,
    principal,
    session,
    org,
    orgs,
    who,
    flash,
    async api(method, url, body) {
      const res = await server.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${session.key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      const text = res.body;
      let parsed: any = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = { message: text };
      }
      return { status: res.statusCode, ok: res.statusCode < 300, body: parsed };
    },
    q(url) {
      if (principal.role !== 'platform-admin' || !org) return url;
      return `${url}${url.includes('?') ? '&' : '?'}organisationId=${encodeURIComponent(org)}`;
    },
    b(body) {
      return principal.role === 'platform-admin' && org ? { ...body, organisationId: org } : body;
    },
    render(title, body, opts = {}) {
      const info: FrameInfo = { principal, who, csrf: session.csrf, flash, orgs, org };
      return reply
        .status(opts.status ?? 200)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(page(title, info, body, opts.current));
    },
  };
  return ctx;
}

export function need(ctx: WebContext, role: Role): void {
  if (!atLeast(ctx.principal, role)) {
    throw new WebError(403, `This page needs the ${role} role or higher; you are logged in as ${ctx.principal.role}.`);
  }
}

/** Throws the API's refusal as a page error (for reads that should not fail). */
export function must<T>(res: ApiResult<T>): T {
  if (!res.ok) throw new WebError(res.status === 401 ? 403 : res.status, (res.body as any)?.message ?? `request failed (${res.status})`);
  return res.body;
}

/** A readable local time: `2026-03-29 09:00` in the zone (with the zone named where shown). */
export function localTime(ms: number | string | null | undefined, zone: string): string {
  if (ms === null || ms === undefined) return '—';
  const t = typeof ms === 'string' ? Date.parse(ms) : ms;
  if (!Number.isFinite(t)) return '—';
  const s = formatLocal(t, zone);
  return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
}

/** Form fields may arrive once (string) or many times (array). */
export function list(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  return (Array.isArray(v) ? v : [v]).map(String).filter((s) => s !== '');
}

/** Integer form input: blank → undefined (or null), digits → number, anything else passed on for the API to refuse. */
export function intField(v: unknown, blank: null | undefined = undefined): number | null | undefined | string {
  if (v === undefined || v === null) return blank;
  const s = String(v).trim();
  if (s === '') return blank;
  return /^-?\d+$/.test(s) ? Number(s) : s;
}
