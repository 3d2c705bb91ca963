/**
 * Guest portal: PIN(s) at the top (the guest's own key reads them, as GET /v1/me/pins does), then
 * each booking with its doors and access window in the location's time zone, and any credentials
 * the provider issued. A guest only ever reaches their own data: everything goes through the API
 * with their own key, and another guest's booking is a 403 here.
 */
import { html, type SafeHtml } from '../html.js';
import { stateBadge } from '../layout.js';
import { localTime, must, WebError, type WebContext } from '../context.js';
import type { WebModule } from '../index.js';

const enc = encodeURIComponent;

async function bookingCard(ctx: WebContext, b: any, door: (i: string, ref: string) => string, headingLevel: 'h2' | 'h3'): Promise<SafeHtml> {
  const sync = must(await ctx.api('GET', `/v1/bookings/${enc(b.id)}/sync`));
  const mine = (sync.entries as any[]).filter((e) => e.personId === ctx.principal.personId);
  const zone = b.timeZone;
  const title = html`<a href="/web/bookings/${b.id}">${b.spaceName}${b.title ? ` — ${b.title}` : ''}</a>`;
  return html`<article class="panel booking" aria-label="Booking ${b.spaceName}">
    ${headingLevel === 'h2' ? html`<h2>${title}</h2>` : html`<h3>${title}</h3>`}
    <p><strong>${localTime(b.start, zone)} – ${localTime(b.end, zone)}</strong> <span class="muted">(${zone})</span>
      ${b.status === 'cancelled' ? html` · <span class="badge s-cancelled">Cancelled</span>` : b.status === 'pending' ? html` · <span class="badge s-pending">Awaiting confirmation</span>` : ''}</p>
    ${mine.length === 0
      ? html`<p class="muted">${b.status === 'confirmed' ? 'No doors are set up for this space yet.' : 'No door access for this booking.'}</p>`
      : html`<div class="table-wrap"><table class="stack"><caption>Your doors (times in ${zone})</caption>
        <thead><tr><th scope="col">Door</th><th scope="col">Opens for you from</th><th scope="col">Until</th><th scope="col">Status</th></tr></thead>
        <tbody>${mine.map((e) => html`<tr><td data-label="Door">${door(e.integrationId, e.targetRef)}</td>
          <td data-label="From">${localTime(e.from, zone)}</td><td data-label="Until">${localTime(e.until, zone)}</td>
          <td data-label="Status">${stateBadge(e.state)}${e.state === 'failed' ? html`<div class="muted">We are retrying; the front desk can help.</div>` : ''}</td></tr>`)}</tbody></table></div>`}
  </article>`;
}

async function doorLookup(ctx: WebContext) {
  const rows = await ctx.app.store.db.selectFrom('mappings').select(['integrationId', 'targetRef', 'targetName']).where('organisationId', '=', ctx.principal.organisationId!).execute();
  return (integrationId: string, ref: string) => rows.find((m) => m.integrationId === integrationId && m.targetRef === ref)?.targetName ?? ref;
}

export async function guestBookingPage(ctx: WebContext, id: string) {
  const res = await ctx.api('GET', `/v1/bookings/${enc(id)}`);
  // The API says 404 for someone else's booking (ids do not leak); the page says it plainly.
  if (!res.ok) throw new WebError(403, 'This booking is not one of yours.');
  const door = await doorLookup(ctx);
  return ctx.render('Your booking', await bookingCard(ctx, res.body, door, 'h2'), { current: '/web/me' });
}

export const guestPages: WebModule = (r) => {
  r.get('/web/me', 'guest', async (ctx) => {
    if (ctx.principal.role !== 'guest' || !ctx.principal.personId) throw new WebError(403, 'This is the guest portal; log in with a guest key to see your PIN and bookings.');
    const [pins, creds, bookings] = await Promise.all([
      ctx.api('GET', '/v1/me/pins').then(must),
      ctx.api('GET', '/v1/me/credentials').then(must),
      ctx.api('GET', '/v1/bookings?limit=200').then(must),
    ]);
    const door = await doorLookup(ctx);
    const now = Date.now();
    const upcoming = (bookings.results as any[]).filter((b) => Date.parse(b.end) > now - 86_400_000).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    const cards = await Promise.all(upcoming.map((b) => bookingCard(ctx, b, door, 'h3')));
    const body = html`<section aria-labelledby="pins-h"><h2 id="pins-h">Your PIN</h2>
      ${(pins.results as any[]).length === 0
        ? html`<p class="panel">You have no PIN yet. It appears here once a booking of yours is confirmed.</p>`
        : html`<div class="pins">${(pins.results as any[]).map((p) => html`<div class="panel"><p class="hint">${p.integrationName}</p>
            <p class="pin" data-testid="pin" aria-label="PIN ${p.pin.split('').join(' ')}">${p.pin}</p>
            <p class="hint">Type it on the keypad of any door listed below, during your booking.</p></div>`)}</div>`}
    </section>
    ${(creds.results as any[]).length
      ? html`<section aria-labelledby="creds-h"><h2 id="creds-h">Codes and keys from the door system</h2>
        <div class="table-wrap"><table class="stack"><thead><tr><th scope="col">Door</th><th scope="col">Code or key</th><th scope="col">Valid from</th><th scope="col">Until</th></tr></thead><tbody>
        ${(creds.results as any[]).map((c) => html`<tr><td data-label="Door">${c.targetName ?? c.targetRef}</td>
          <td data-label="Code">${c.kind === 'url-key' ? html`<a href="${/^https:\/\//.test(c.secret) ? c.secret : '#'}">Open key</a>` : html`<code>${c.secret}</code>`}${c.instructions ? html`<div class="hint">${c.instructions}</div>` : ''}</td>
          <td data-label="Valid from">${c.local.validFrom ? `${c.local.validFrom.slice(0, 10)} ${c.local.validFrom.slice(11, 16)}` : '—'}</td>
          <td data-label="Until">${c.local.validUntil ? `${c.local.validUntil.slice(0, 10)} ${c.local.validUntil.slice(11, 16)}` : 'open-ended'}</td></tr>`)}
        </tbody></table></div></section>`
      : ''}
    <section aria-labelledby="bookings-h"><h2 id="bookings-h">Your bookings</h2>
      ${cards.length === 0 ? html`<p>No upcoming bookings.</p>` : cards}
    </section>`;
    return ctx.render(`Hello, ${ctx.who}`, body, { current: '/web/me' });
  });
};
