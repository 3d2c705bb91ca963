/**
 * URL keys (api/url-keys.ts): a guest fetches a signed link for one booking
 * (GET /v1/me/bookings/:id/url-key), opens it on their phone (GET /k/:token: a minimal page with an
 * "Open door" button) and opens the door now (POST /k/:token), only inside the booking's access
 * window, never after cancellation, at most 5 times a minute per link.
 */
import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.js';
import type { Api, RouteModule } from '../types.js';
import { bearer, idParams, iso } from '../types.js';
import { forbidden, notFound, conflict } from '../errors.js';
import { html, raw, type SafeHtml } from '../../web/html.js';
import { localWindow } from '../../notify/render.js';
import { keyBooking, signUrlKey, verifyUrlKey, type BookingAccessWindow } from '../url-keys.js';
import { overLimit, secretKey } from '../limits.js';
import { openDoorsNow } from '../door-open.js';


export const urlKeyRoutes: RouteModule = (api, app) => {
  const db = app.store.db;
  api.get('/v1/me/bookings/:id/url-key', {
    schema: {
      tags: ['me'],
      security: bearer,
      params: idParams,
      summary: "A signed link (URL key) that opens this booking's doors now from a phone, valid until the booking's access ends",
    },
  }, async (req) => {
    const p = req.principal;
    if (p.role !== 'guest' || !p.personId) throw forbidden('only a guest key (tied to one person) can get a URL key for their booking');
    const key = await keyBooking(db, { bookingId: req.params.id, personId: p.personId }, Date.now());
    if (!key || key.booking.organisationId !== p.organisationId) throw notFound('booking', req.params.id);
    if (key.booking.status !== 'confirmed') throw conflict(`booking ${key.booking.id} is ${key.booking.status}; a URL key is only issued for a confirmed booking`);
    if (key.until <= Date.now()) throw conflict(`booking ${key.booking.id} has ended`);
    const token = signUrlKey(app.secrets, { bookingId: key.booking.id, personId: p.personId, expiresAt: key.until });
    const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? '127.0.0.1';
    return {
      bookingId: key.booking.id,
      url: `${req.protocol}://${host}/k/${token}`,
      token,
      validFrom: iso(key.from),
      expiresAt: iso(Math.floor(key.until / 1000) * 1000),
      note: `open the link on your phone; the door opens only between validFrom and expiresAt, at most ${app.limits.urlKeyOpens.limit} times a minute`,
    };
  });
};

type Outcome = { status: number; personId?: string; error?: string; title: string; message: string; canOpen?: boolean; opened?: string[]; key?: BookingAccessWindow; retryAfter?: number };

/** Public routes, outside API-key authentication: the token is the credential. */
export async function urlKeyPublicRoutes(api: Api, app: App): Promise<void> {
  // The page's button posts an empty form.
  api.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_req, _body, done) => done(null, {}));
  const params = z.object({ token: z.string().min(1).max(1000) });

  const check = async (req: FastifyRequest, token: string, now: number): Promise<Outcome> => {
    const v = verifyUrlKey(app.secrets, token, now);
    if (!v.ok) {
      // Forged or tampered tokens: a guesser is slowed per address, across every API node.
      const wait = v.reason === 'expired' ? null : await overLimit(app, `url-key-bad:${req.ip}`, app.limits.badUrlKeys);
      if (wait !== null) return { status: 429, error: 'rate_limited', title: 'Slow down', message: `Too many links that are not valid were tried from your address; try again in ${wait} s.`, retryAfter: wait };
      return v.reason === 'expired'
        ? { status: 410, error: 'expired', title: 'Link expired', message: 'This link has expired. Ask the venue for a new one.' }
        : { status: 404, error: 'not_found', title: 'Link not valid', message: 'This link is not valid. Check that you opened the whole link.' };
    }
    const key = await keyBooking(app.store.db, v.claims, now);
    if (!key) return { status: 404, error: 'not_found', title: 'Link not valid', message: 'This link is not valid any more.' };
    const when = localWindow(key.from, key.until, key.timeZone);
    if (key.booking.status === 'cancelled') return { status: 410, error: 'cancelled', title: 'Booking cancelled', message: 'This booking was cancelled, so this link no longer opens the door.', key };
    if (key.booking.status !== 'confirmed') return { status: 403, error: 'forbidden', title: 'Booking not confirmed', message: 'This booking is not confirmed yet.', key };
    if (now < key.from) return { status: 403, error: 'forbidden', title: 'Too early', message: `This link opens the door ${when}, not yet.`, key };
    if (now >= key.until) return { status: 403, error: 'forbidden', title: 'Booking over', message: `This link opened the door ${when}; that time is over.`, key };
    return { status: 200, title: key.spaceName, message: `You can open the door ${when}.`, canOpen: true, key, personId: v.claims.personId };
  };

  const wantsHtml = (req: FastifyRequest) => /text\/html/.test(String(req.headers.accept ?? ''));
  const send = (req: FastifyRequest, reply: FastifyReply, token: string, o: Outcome) => {
    // The token is a credential: keep it out of referrers, caches and search engines.
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').header('x-robots-tag', 'noindex');
    if (o.retryAfter !== undefined) reply.header('retry-after', String(o.retryAfter));
    if (!wantsHtml(req) && req.method === 'POST') {
      if (o.status >= 400) return reply.status(o.status).send({ error: o.error ?? 'error', message: o.message, issues: [] });
      return reply.status(200).send({ opened: o.opened ?? [] });
    }
    reply
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
      .type('text/html; charset=utf-8');
    return reply.status(o.status).send(keyPage(token, o));
  };

  api.get('/k/:token', { logLevel: 'warn', schema: { tags: ['url-keys'], params, summary: 'URL key page: the booking and an "Open door" button (HTML, no API key; the token is the credential)' } }, async (req, reply) => {
    return send(req, reply, req.params.token, await check(req, req.params.token, Date.now()));
  });

  api.post('/k/:token', {
    logLevel: 'warn',
    schema: { tags: ['url-keys'], params, summary: "Open the booking's doors now with a URL key: only inside the access window, not after cancellation; 5 per minute per link" },
  }, async (req, reply) => {
    const token = req.params.token;
    // Counted under a keyed hash of the link, in the store: the limit holds across API nodes.
    const wait = await overLimit(app, secretKey(app, 'url-key', token), app.limits.urlKeyOpens);
    if (wait !== null) {
      return send(req, reply, token, { status: 429, error: 'rate_limited', title: 'Slow down', message: `This link can open the door ${app.limits.urlKeyOpens.limit} times a minute; try again in ${wait} s.`, retryAfter: wait });
    }
    const o = await check(req, token, Date.now());
    if (!o.canOpen || !o.key || !o.personId) return send(req, reply, token, o);
    const b = o.key.booking;
    const { opened } = await openDoorsNow(app, { organisationId: b.organisationId, personId: o.personId, spaceId: b.spaceId, actor: `url-key:${b.id}`, bookingId: b.id });
    if (opened.length === 0) {
      return send(req, reply, token, { ...o, status: 403, error: 'forbidden', title: 'Not open', message: 'No door could be opened for you right now: your access is not on the door system yet, or this door cannot be opened remotely.' });
    }
    return send(req, reply, token, { ...o, title: 'Door open', message: 'The door is open. Go ahead.', opened });
  });
}

function keyPage(token: string, o: Outcome): string {
  const button: SafeHtml | '' = o.canOpen
    ? html`<form method="post" action="/k/${token}"><button type="submit">Open door</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${o.title}</title>
<style>${raw('body{font-family:system-ui,sans-serif;margin:0;padding:1.5em;max-width:28em;color:#1a1a1a}h1{font-size:1.4em}button{font-size:1.3em;width:100%;padding:1em;border:0;border-radius:.5em;background:#1f6feb;color:#fff}p.muted{color:#555}')}</style>
</head><body><main>
<h1>${o.title}</h1>
${o.key && o.title !== o.key.spaceName ? html`<p class="muted">${o.key.spaceName}</p>` : ''}
<p role="status">${o.message}</p>
${button}
</main></body></html>`.value;
}
