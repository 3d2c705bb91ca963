/**
 * The web console and guest portal: server-rendered pages under /web, served by the API server.
 * Forms POST (url-encoded) and redirect; every page resolves the principal from the session like
 * the API does and checks the role server-side; every POST carries the session's CSRF token.
 */
import { overLimit } from '../api/limits.js';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import type { Api } from '../api/types.js';
import type { Role } from '../api/auth.js';
import { html } from './html.js';
import { CSS, csrfField, page } from './layout.js';
import { loadContext, need, WebError, type WebContext } from './context.js';
import {
  clearSession,
  cookieSecret,
  csrfMatches,
  loginCsrf,
  newCsrfToken,
  readSignedCookie,
  LOGIN_CSRF_COOKIE,
  writeSession,
} from './session.js';
import { integrationPages } from './pages/integrations.js';
import { venuePages } from './pages/venue.js';
import { mappingPages } from './pages/mapping.js';
import { hostPages } from './pages/host.js';
import { guestPages } from './pages/guest.js';
import { auditPages } from './pages/audit.js';
import { outboxPages } from './pages/outbox.js';
import { bookingFormPages } from './pages/booking-form.js';

export type { Body, WebModule, WebRouter } from './router.js';
import type { Body, WebModule, WebRouter } from './router.js';

// bookingFormPages before hostPages: /web/bookings/new is a static route next to /web/bookings/:id.
const modules: WebModule[] = [integrationPages, venuePages, mappingPages, bookingFormPages, hostPages, guestPages, auditPages, outboxPages];

export const homeFor: Record<Role, string> = {
  'platform-admin': '/web/integrations',
  'team-admin': '/web/spaces',
  host: '/web/bookings',
  guest: '/web/me',
};

function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'same-origin');
  reply.header('x-frame-options', 'DENY');
}

/** A cross-site POST carries another origin; browsers send Origin on every POST form submit. */
function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin !== 'null';
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function loginPage(csrf: string, opts: { error?: string; next?: string } = {}): string {
  return page(
    'Log in',
    { principal: null },
    html`<div class="panel" style="max-width:32rem">
      <p>Log in with the API key you were given. Guests get a personal key from the venue; staff keys come from a team admin.</p>
      ${opts.error ? html`<div class="flash error" role="alert" id="error-summary">${opts.error}</div>` : ''}
      <form method="post" action="/web/login">
        ${csrfField(csrf)}
        <input type="hidden" name="next" value="${opts.next ?? ''}">
        <div class="field${opts.error ? ' invalid' : ''}">
          <label for="f-key">API key</label>
          <p class="hint" id="f-key-hint">Starts with lsk_. It is kept in an encrypted, httpOnly cookie for this browser session.</p>
          <input id="f-key" name="key" type="password" autocomplete="current-password" required aria-describedby="f-key-hint"${opts.error ? html` aria-invalid="true"` : ''}>
        </div>
        <button type="submit">Log in</button>
      </form>
    </div>`,
  );
}

export async function registerWeb(web: Api, server: Api, app: App): Promise<void> {
  // HTML pages, not API: keep them out of /openapi.json.
  web.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  await web.register(cookie, { secret: cookieSecret(app.secrets) });
  await web.register(formbody, { bodyLimit: 64 * 1024 });

  web.addHook('onSend', async (_req, reply, payload) => {
    securityHeaders(reply);
    return payload;
  });

  web.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    const status = err instanceof WebError ? err.statusCode : err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'web page failed');
    const message = status >= 500 ? 'Something went wrong on our side. Nothing was changed; try again or check the server log.' : err.message;
    const title = status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : status >= 500 ? 'Error' : 'Cannot do that';
    const body = html`<div class="flash error" role="alert">${message}</div><p><a href="/web">Back to your start page</a></p>`;
    if (req.web) return req.web.render(title, body, { status });
    return reply.status(status).type('text/html; charset=utf-8').send(page(title, { principal: null }, body));
  });

  web.get('/web/app.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(CSS));
  web.get('/', async (_req, reply) => reply.redirect('/web'));

  web.get('/web/login', async (req, reply) => {
    const q = req.query as Record<string, string>;
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(loginPage(loginCsrf(req, reply), { next: q.next }));
  });

  web.post('/web/login', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const expected = readSignedCookie(req, LOGIN_CSRF_COOKIE);
    if (!sameOrigin(req) || !csrfMatches(expected, body._csrf)) {
      return reply.status(403).type('text/html; charset=utf-8').send(loginPage(loginCsrf(req, reply), { error: 'Your log-in form expired. Please try again.' }));
    }
    const key = typeof body.key === 'string' ? body.key.trim() : '';
    const principal = key ? await app.apiKeys.principalFor(key) : null;
    if (!principal) {
      // The same brute-force count as the API: one budget per address, whichever door is tried.
      const wait = await overLimit(app, `auth-fail:${req.ip}`, app.limits.failedAuth);
      if (wait !== null) {
        return reply
          .status(429)
          .header('retry-after', String(wait))
          .type('text/html; charset=utf-8')
          .send(loginPage(expected!, { error: `Too many unknown keys were tried from your address. Wait ${wait} seconds and try again.` }));
      }
      return reply.status(401).type('text/html; charset=utf-8').send(loginPage(expected!, { error: 'That API key is unknown or has been revoked. Check it and try again.' }));
    }
    // A fresh CSRF token per session (the log-in token is not reused).
    writeSession(req, reply, app.secrets, { key, csrf: newCsrfToken(), org: principal.organisationId, at: Date.now() });
    reply.clearCookie(LOGIN_CSRF_COOKIE, { path: '/' });
    const next = typeof body.next === 'string' && /^\/web(\/[\w\-/.?=&%]*)?$/.test(body.next) && !body.next.startsWith('//') ? body.next : homeFor[principal.role];
    return reply.redirect(next, 303);
  });

  const withContext = async (req: FastifyRequest, reply: FastifyReply): Promise<WebContext | null> => {
    const ctx = await loadContext(req, reply, app, server);
    if (ctx) req.web = ctx;
    return ctx;
  };

  const router: WebRouter = {
    get(path, role, handler) {
      web.get(path, async (req, reply) => {
        const ctx = await withContext(req, reply);
        if (!ctx) return reply.redirect(`/web/login?next=${encodeURIComponent(req.url)}`, 303);
        need(ctx, role);
        const result = await handler(ctx, req.params as Record<string, string>, req.query as Record<string, string>);
        return result ?? reply;
      });
    },
    post(path, role, handler) {
      web.post(path, async (req, reply) => {
        const ctx = await withContext(req, reply);
        if (!ctx) return reply.redirect('/web/login', 303);
        const body = (req.body ?? {}) as Body;
        if (!sameOrigin(req) || !csrfMatches(ctx.session.csrf, body._csrf)) {
          throw new WebError(403, 'This form was not sent from this session (missing or wrong CSRF token). Reload the page and try again.');
        }
        need(ctx, role);
        const result = await handler(ctx, req.params as Record<string, string>, body);
        return result ?? reply;
      });
    },
  };

  router.get('/web', 'guest', async (ctx) => ctx.reply.redirect(homeFor[ctx.principal.role], 303));
  router.post('/web/logout', 'guest', async (ctx) => {
    clearSession(ctx.req, ctx.reply);
    return ctx.reply.redirect('/web/login', 303);
  });
  router.post('/web/org', 'platform-admin', async (ctx, _p, body) => {
    const org = ctx.orgs.find((o) => o.id === body.org);
    if (!org) throw new WebError(400, 'Choose one of the listed organisations.');
    writeSession(ctx.req, ctx.reply, app.secrets, { ...ctx.session, org: org.id });
    const back = ctx.req.headers.referer;
    let to = '/web';
    try {
      if (back && new URL(back).host === ctx.req.headers.host) to = new URL(back).pathname;
    } catch {
      /* keep /web */
    }
    return ctx.reply.redirect(to, 303);
  });

  for (const mod of modules) mod(router, app);
}
