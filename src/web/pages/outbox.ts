/**
 * Admins: the e-mail outbox (GET /v1/outbox, /v1/outbox/:id). Every notification Lockstep produced,
 * sent over SMTP or — with no SMTP configured — kept here (the embedded default). Team admins see
 * bodies with PINs and codes masked, as the API gives them; a platform admin reading one message sees
 * it whole (the API audits that read).
 */
import { html, raw } from '../html.js';
import { select } from '../layout.js';
import { localTime, must, type WebContext } from '../context.js';
import type { WebModule } from '../router.js';

const enc = encodeURIComponent;

const statusLabels: Record<string, string> = {
  queued: 'Queued',
  sent: 'Sent',
  outbox: 'Kept in outbox',
  failed: 'Failed',
};
const statusBadge = (s: string) => html`<span class="badge s-mail-${s}">${statusLabels[s] ?? s}</span>`;

const kindLabels: Record<string, string> = {
  'booking.confirmed': 'Booking confirmed',
  'booking.moved': 'Booking moved',
  'booking.revoked': 'Access revoked',
  'pin.changed': 'PIN changed',
  'credential.changed': 'New access code',
  'integration.failing': 'Integration failing',
  'target.full': 'Keypad full',
};
const kindLabel = (k: string) => kindLabels[k] ?? k;

/** The organisation's first location's zone (the outbox spans spaces; one zone reads best). */
async function outboxZone(ctx: WebContext): Promise<string> {
  if (!ctx.org) return 'UTC';
  return (await ctx.app.store.db.selectFrom('locations').select('timeZone').where('organisationId', '=', ctx.org).orderBy('createdAt').executeTakeFirst())?.timeZone ?? 'UTC';
}

function deliveryNote(delivery: string): ReturnType<typeof html> {
  return delivery === 'smtp'
    ? html`<p class="panel" id="delivery">E-mail is delivered over SMTP. Each message below shows whether it has been sent.</p>`
    : html`<p class="panel" id="delivery"><strong>No SMTP server is configured</strong>, so messages are not e-mailed: they are kept in this local outbox. Set an SMTP URL in the server configuration to deliver them.</p>`;
}

export const outboxPages: WebModule = (r) => {
  r.get('/web/outbox', 'team-admin', async (ctx, _p, query) => {
    const status = ['queued', 'sent', 'outbox', 'failed'].includes(query.status ?? '') ? query.status : '';
    const res = must(await ctx.api('GET', ctx.q(`/v1/outbox?limit=200${status ? `&status=${enc(status)}` : ''}`)));
    const rows = res.results as any[];
    const zone = await outboxZone(ctx);
    const body = html`${deliveryNote(res.delivery)}
    <form method="get" action="/web/outbox" class="actions" aria-label="Filter messages">
      ${select({ name: 'status', label: 'Status', value: status, empty: 'Any status', options: Object.entries(statusLabels).map(([value, label]) => ({ value, label })) })}
      <button type="submit" class="secondary">Filter</button>
    </form>
    <div class="table-wrap"><table class="stack"><caption>Messages, newest first (times in ${zone})</caption>
      <thead><tr><th scope="col">Recipient</th><th scope="col">Kind</th><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Sent</th><th scope="col">Error</th></tr></thead>
      <tbody>${rows.length === 0 ? html`<tr><td colspan="7">No messages${status ? ' with this status' : ''} yet.</td></tr>` : ''}
      ${rows.map((m) => html`<tr>
        <td data-label="Recipient">${m.to || html`<span class="muted">no address</span>`}</td>
        <td data-label="Kind">${kindLabel(m.kind)}</td>
        <td data-label="Subject"><a href="/web/outbox/${m.id}">${m.subject}</a></td>
        <td data-label="Status">${statusBadge(m.status)}</td>
        <td data-label="Created">${localTime(m.createdAt, zone)}</td>
        <td data-label="Sent">${m.sentAt ? localTime(m.sentAt, zone) : '—'}</td>
        <td data-label="Error">${m.lastError ? html`<span class="error">${m.lastError}</span> <span class="muted">(attempt ${m.attempts})</span>` : '—'}</td>
      </tr>`)}</tbody></table></div>`;
    return ctx.render('Outbox', body, { current: '/web/outbox' });
  });

  r.get('/web/outbox/:id', 'team-admin', async (ctx, p) => {
    const m = must(await ctx.api('GET', `/v1/outbox/${enc(p.id)}`));
    const zone = await outboxZone(ctx);
    const body = html`<p><a href="/web/outbox">Back to the outbox</a></p>
    <dl class="kv">
      <dt>To</dt><dd>${m.to || '—'}</dd>
      <dt>Kind</dt><dd>${kindLabel(m.kind)}</dd>
      <dt>Status</dt><dd>${statusBadge(m.status)}</dd>
      <dt>Created</dt><dd>${localTime(m.createdAt, zone)} <span class="muted">(${zone})</span></dd>
      <dt>Sent</dt><dd>${m.sentAt ? localTime(m.sentAt, zone) : '—'}</dd>
      ${m.lastError ? html`<dt>Last error</dt><dd class="error">${m.lastError} (attempt ${m.attempts})</dd>` : ''}
      ${m.bookingId ? html`<dt>Booking</dt><dd><a href="/web/bookings/${m.bookingId}">${m.bookingId}</a></dd>` : ''}
    </dl>
    <h2>Text</h2>
    ${m.redacted ? html`<p class="hint" id="redacted-note">PINs and codes are masked here; only the recipient (and a platform admin) sees them.</p>` : ''}
    <pre class="mail" tabindex="0" aria-label="Message text"${m.redacted ? raw(' aria-describedby="redacted-note"') : ''}>${m.text}</pre>`;
    return ctx.render(m.subject || 'Message', body, { current: '/web/outbox' });
  });
};
