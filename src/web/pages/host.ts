/**
 * Host (front desk): bookings with each guest's access per door (from bookingAccessStatus via
 * GET /v1/bookings/:id/sync), Retry, PIN regeneration, cancelling (team admin), and the code
 * overview: every PIN and provider-issued credential, masked, with its targets, validity and sync state.
 */
import { html, type SafeHtml } from '../html.js';
import { csrfField, stateBadge } from '../layout.js';
import { localTime, must, WebError, type WebContext } from '../context.js';
import { setFlash } from '../session.js';
import { writeAudit } from '../../store/audit.js';
import { atLeast } from '../../api/auth.js';
import type { WebModule } from '../router.js';
import { guestBookingPage } from './guest.js';
import { localToInstant, TimeInputError } from '../../domain/time.js';
import { capacityReport, type TargetCapacityReport } from '../../engine/capacity.js';

const enc = encodeURIComponent;
export const MASK = '••••••';

export async function peopleNames(ctx: WebContext, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.app.store.db.selectFrom('people').select(['id', 'name', 'email']).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

export async function doorNames(ctx: WebContext, organisationId: string): Promise<(integrationId: string, ref: string) => string> {
  const rows = await ctx.app.store.db.selectFrom('mappings').select(['integrationId', 'targetRef', 'targetName']).where('organisationId', '=', organisationId).execute();
  return (integrationId, ref) => rows.find((m) => m.integrationId === integrationId && m.targetRef === ref)?.targetName ?? ref;
}

async function orgZone(ctx: WebContext): Promise<string> {
  if (!ctx.org) return 'UTC';
  return (await ctx.app.store.db.selectFrom('locations').select('timeZone').where('organisationId', '=', ctx.org).orderBy('createdAt').executeTakeFirst())?.timeZone ?? 'UTC';
}

function retryForm(ctx: WebContext, bookingId: string, integrationId: string, personId: string, label: string): SafeHtml {
  return html`<form method="post" action="/web/bookings/${bookingId}/retry" class="inline">${csrfField(ctx.session.csrf)}
    <input type="hidden" name="integrationId" value="${integrationId}"><input type="hidden" name="personId" value="${personId}">
    <button type="submit" class="secondary" aria-label="Retry ${label}">Retry</button></form>`;
}

function regenerateForm(ctx: WebContext, personId: string, integrationId: string, back: string, label: string): SafeHtml {
  return html`<form method="post" action="/web/people/${personId}/pin" class="inline">${csrfField(ctx.session.csrf)}
    <input type="hidden" name="integrationId" value="${integrationId}"><input type="hidden" name="back" value="${back}">
    <button type="submit" class="secondary" aria-label="Regenerate PIN for ${label}">Regenerate PIN</button></form>`;
}

/**
 * "Why can't this guest get in?": the explainer for one guest of the booking at a moment (default now),
 * asked for with a button, because it reads the provider live.
 */
async function explainPanel(ctx: WebContext, booking: any, people: string[], names: Map<string, string>, query: Record<string, string>): Promise<SafeHtml> {
  const zone = booking.timeZone;
  const asked = query.explain && people.includes(query.explain) ? query.explain : null;
  let answer: SafeHtml | string = '';
  if (asked) {
    let at = '';
    if (query.at) {
      try {
        at = new Date(localToInstant(query.at, zone)).toISOString();
      } catch (err) {
        if (!(err instanceof TimeInputError)) throw err;
        answer = html`<p class="error" role="alert">${err.message}</p>`;
      }
    }
    if (!answer) {
      const res = await ctx.api('GET', `/v1/access/explain?${new URLSearchParams({ personId: asked, spaceId: booking.spaceId, ...(at ? { at } : {}) })}`);
      const e = must(res);
      answer = html`<div class="explain" id="explain-result">
        <p class="verdict ${e.verdict.canEnter ? 'ok' : 'error'}"><strong>${names.get(asked) ?? asked}</strong> ${e.verdict.text}</p>
        ${(e.targets as any[]).map((t) => html`<h3>${t.canEnter ? '✓' : '✗'} ${t.targetName} <span class="muted">(${t.integrationName})</span></h3>
          <ol class="chain">${(t.chain as any[]).map((c) => html`<li class="${c.ok ? 'ok' : 'broken'}"><span class="link">${c.ok ? '✓' : '✗'} ${c.link}</span> ${c.says}</li>`)}</ol>`)}
      </div>`;
    }
  }
  return html`<h2 id="explain">Why can't they get in?</h2>
  <form method="get" action="/web/bookings/${booking.id}#explain" class="inline-form">
    <label>Guest <select name="explain">${people.map((pid) => html`<option value="${pid}" ${pid === asked ? 'selected' : ''}>${names.get(pid) ?? pid}</option>`)}</select></label>
    <label>At <input type="datetime-local" name="at" step="60" value="${query.at ?? ''}"> <span class="muted">(${zone}; empty = now)</span></label>
    <button type="submit" class="secondary">Explain</button>
  </form>
  <p class="hint">Walks booking, doors, window, PIN and what the door system holds right now, and says where it breaks.</p>
  ${answer}`;
}

/**
 * Locks that hold a limited number of codes (every mapped lock of a code-on-lock provider): how full
 * each is and who waits for a free slot. Team admins set the capacity where the provider does not say.
 */
async function keypadsSection(ctx: WebContext, integrationIds: string[], intName: (id: string) => string, door: (integrationId: string, ref: string) => string, zone: string): Promise<SafeHtml | string> {
  const db = ctx.app.store.db;
  const integrations = integrationIds.length ? await db.selectFrom('integrations').selectAll().where('id', 'in', integrationIds).where('status', '=', 'active').execute() : [];
  const locks: (TargetCapacityReport & { integrationId: string })[] = [];
  for (const i of integrations) {
    let codeOnLock = false;
    try {
      codeOnLock = ctx.app.engine.adapterFor(i).capabilities.pinOnLock;
    } catch {
      continue; // an integration whose provider this version cannot load shows up elsewhere as failing
    }
    // Every mapped lock of a code-on-lock provider; elsewhere only targets that are limited or have waiters.
    const mapped = codeOnLock ? (await db.selectFrom('mappings').select('targetRef').where('integrationId', '=', i.id).execute()).map((m) => m.targetRef) : [];
    for (const r of await capacityReport(db, i.id, undefined, mapped)) {
      if (codeOnLock || r.capacity !== null || r.waiting.length) locks.push({ integrationId: i.id, ...r });
    }
  }
  if (locks.length === 0) return '';
  const names = await peopleNames(ctx, locks.flatMap((r) => r.waiting.map((w) => w.personId)));
  const admin = atLeast(ctx.principal, 'team-admin');
  return html`<h2>Keypads</h2>
  <p class="hint">Locks that hold a limited number of codes. Codes made outside Lockstep count and are never touched; when a lock is full the nearest booking gets the next free slot.</p>
  <div class="table-wrap"><table class="stack"><caption>Capacity per lock</caption>
    <thead><tr><th scope="col">Lock</th><th scope="col">Capacity</th><th scope="col">Codes by Lockstep</th><th scope="col">Codes by others</th><th scope="col">Free</th><th scope="col">Waiting for a free slot</th></tr></thead>
    <tbody>${locks.map((r) => {
      const lock = door(r.integrationId, r.targetRef);
      return html`<tr>
      <td data-label="Lock">${lock} <span class="muted">(${intName(r.integrationId)})</span></td>
      <td data-label="Capacity">${r.capacity ?? 'not limited'}${r.setting !== null ? html` <span class="muted">(set by an admin)</span>` : r.reported !== null ? html` <span class="muted">(reported by the lock)</span>` : ''}
        ${admin
          ? html`<form method="post" action="/web/integrations/${enc(r.integrationId)}/targets/${enc(r.targetRef)}/capacity" class="inline">${csrfField(ctx.session.csrf)}
            <input type="number" name="capacity" min="1" max="100000" value="${r.setting ?? ''}" aria-label="Capacity of ${lock}" placeholder="${r.reported ?? 'codes'}" style="width:6rem">
            <button type="submit" class="secondary" aria-label="Save capacity of ${lock}">Save</button></form>`
          : ''}</td>
      <td data-label="Codes by Lockstep">${r.lockstepCodes}</td>
      <td data-label="Codes by others">${r.foreignCodes}</td>
      <td data-label="Free">${r.free ?? '—'}</td>
      <td data-label="Waiting for a free slot">${r.waiting.length === 0 ? html`<span class="muted">no one</span>` : html`<ol class="plain">${r.waiting.map((w) => html`<li>${names.get(w.personId) ?? w.personId} · from ${localTime(w.startsAt, zone)} ${stateBadge('waiting-for-slot')}</li>`)}</ol>`}</td></tr>`;
    })}
    </tbody></table></div>
  ${admin ? html`<p class="hint">Empty capacity: use the lock's own figure where it reports one (Seam), else no limit. A Nuki keypad holds 99 codes.</p>` : ''}`;
}

async function hostBookingPage(ctx: WebContext, id: string, query: Record<string, string> = {}) {
  const booking = must(await ctx.api('GET', `/v1/bookings/${enc(id)}`));
  const sync = must(await ctx.api('GET', `/v1/bookings/${enc(id)}/sync`));
  const integrations = must(await ctx.api('GET', ctx.q('/v1/integrations'))).results as any[];
  const intName = (iid: string) => integrations.find((i) => i.id === iid)?.name ?? iid;
  const people = [booking.organiserId, ...booking.inviteeIds];
  const names = await peopleNames(ctx, people);
  const door = await doorNames(ctx, booking.organisationId);
  const zone = booking.timeZone;
  const pinIntegrations = integrations.filter((i) => i.status === 'active');
  const back = `/web/bookings/${booking.id}`;
  const body = html`<dl class="kv">
    <dt>Space</dt><dd>${booking.spaceName}</dd>
    <dt>When</dt><dd>${localTime(booking.start, zone)} – ${localTime(booking.end, zone)} <span class="muted">(${zone})</span></dd>
    <dt>Status</dt><dd><span class="badge s-${booking.status}">${booking.status}</span></dd>
    <dt>Access</dt><dd>${stateBadge(sync.state)}</dd>
    <dt>Organiser</dt><dd>${names.get(booking.organiserId) ?? booking.organiserId}</dd>
    <dt>Invitees</dt><dd>${booking.inviteeIds.map((p: string) => names.get(p) ?? p).join(', ') || '—'}</dd>
  </dl>
  <h2>Access per guest and door</h2>
  <div class="table-wrap"><table class="stack"><caption>Times in ${zone}, buffers included</caption>
    <thead><tr><th scope="col">Guest</th><th scope="col">Door</th><th scope="col">Window</th><th scope="col">State</th><th scope="col">Action</th></tr></thead>
    <tbody>${sync.entries.length === 0 ? html`<tr><td colspan="5">This space opens no doors yet (not mapped).</td></tr>` : ''}
    ${(sync.entries as any[]).map((e) => {
      const who = names.get(e.personId) ?? e.personId;
      return html`<tr>
        <td data-label="Guest">${who}</td>
        <td data-label="Door">${door(e.integrationId, e.targetRef)} <span class="muted">(${intName(e.integrationId)})</span></td>
        <td data-label="Window">${localTime(e.from, zone)} – ${localTime(e.until, zone)}</td>
        <td data-label="State">${stateBadge(e.state)}${e.error ? html`<div class="error">${e.error}</div><div class="muted">attempt ${e.attempts}, next try ${localTime(e.nextAttemptAt, zone)}</div>` : ''}
          ${e.state === 'scheduled' && e.nextAttemptAt ? html`<div class="muted">provisioned from ${localTime(e.nextAttemptAt, zone)}</div>` : ''}
          ${e.state === 'left-valid' ? html`<div class="muted">still opens until ${localTime(e.validUntil, zone)}</div>` : ''}</td>
        <td data-label="Action">${retryForm(ctx, booking.id, e.integrationId, e.personId, `${who} at ${door(e.integrationId, e.targetRef)}`)}</td></tr>`;
    })}</tbody></table></div>
  ${await explainPanel(ctx, booking, people, names, query)}
  <h2>PINs</h2>
  <p class="hint">A new PIN replaces the old one on every door; only the guest sees it.</p>
  <div class="table-wrap"><table class="stack"><thead><tr><th scope="col">Guest</th><th scope="col">Integration</th><th scope="col">Action</th></tr></thead><tbody>
  ${people.flatMap((pid: string) => pinIntegrations.map((i) => html`<tr><td data-label="Guest">${names.get(pid) ?? pid}</td><td data-label="Integration">${i.name}</td>
    <td data-label="Action">${regenerateForm(ctx, pid, i.id, back, `${names.get(pid) ?? pid} on ${i.name}`)}</td></tr>`))}
  </tbody></table></div>
  ${atLeast(ctx.principal, 'team-admin') && booking.status !== 'cancelled'
    ? html`<h2>Cancel</h2><form method="post" action="/web/bookings/${booking.id}/cancel">${csrfField(ctx.session.csrf)}
      <p class="hint">Access is revoked on every door.</p><button type="submit" class="danger">Cancel booking</button></form>`
    : ''}`;
  return ctx.render(`Booking: ${booking.spaceName}${booking.title ? ` — ${booking.title}` : ''}`, body, { current: '/web/bookings' });
}

export const hostPages: WebModule = (r) => {
  r.get('/web/bookings', 'host', async (ctx) => {
    const from = new Date(Date.now() - 7 * 86_400_000).toISOString();
    const bookings = must(await ctx.api('GET', ctx.q(`/v1/bookings?limit=200&from=${enc(from)}`))).results as any[];
    const syncs = await Promise.all(bookings.map((b) => ctx.api('GET', `/v1/bookings/${enc(b.id)}/sync`).then(must)));
    const names = await peopleNames(ctx, bookings.flatMap((b) => [b.organiserId, ...b.inviteeIds]));
    const door = ctx.org ? await doorNames(ctx, ctx.org) : (_i: string, ref: string) => ref;
    const body = html`${atLeast(ctx.principal, 'team-admin') ? html`<p class="actions"><a class="button" href="/web/bookings/new">New booking</a></p>` : ''}
    <div class="table-wrap"><table class="stack"><caption>Bookings from the last 7 days on, with each guest's access per door</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Space</th><th scope="col">Guests</th><th scope="col">Status</th><th scope="col">Access per door</th></tr></thead>
      <tbody>${bookings.length === 0 ? html`<tr><td colspan="5">No bookings.</td></tr>` : ''}
      ${bookings.map((b, n) => html`<tr>
        <td data-label="When"><a href="/web/bookings/${b.id}">${localTime(b.start, b.timeZone)} – ${localTime(b.end, b.timeZone).slice(11)}</a> <span class="muted">${b.timeZone}</span></td>
        <td data-label="Space">${b.spaceName}</td>
        <td data-label="Guests">${[b.organiserId, ...b.inviteeIds].map((p: string) => names.get(p) ?? p).join(', ')}</td>
        <td data-label="Status"><span class="badge s-${b.status}">${b.status}</span></td>
        <td data-label="Access per door">${syncs[n].entries.length === 0 ? stateBadge(syncs[n].state) : html`<ul class="plain">${(syncs[n].entries as any[]).map((e) => html`<li>${names.get(e.personId) ?? e.personId} · ${door(e.integrationId, e.targetRef)}: ${stateBadge(e.state)}${e.error ? html` <span class="error">${e.error}</span>` : ''}</li>`)}</ul>`}</td>
      </tr>`)}</tbody></table></div>`;
    return ctx.render('Bookings', body, { current: '/web/bookings' });
  });

  r.get('/web/bookings/:id', 'guest', async (ctx, p, query) => {
    if (ctx.principal.role === 'guest') return guestBookingPage(ctx, p.id);
    return hostBookingPage(ctx, p.id, query);
  });

  r.post('/web/bookings/:id/retry', 'host', async (ctx, p, body) => {
    const sync = must(await ctx.api('GET', `/v1/bookings/${enc(p.id)}/sync`));
    const entry = (sync.entries as any[]).find((e) => e.integrationId === body.integrationId && e.personId === body.personId);
    if (!entry) throw new WebError(400, 'That guest and integration are not part of this booking.');
    const booking = must(await ctx.api('GET', `/v1/bookings/${enc(p.id)}`));
    await ctx.app.changes.verify(entry.integrationId, entry.personId);
    await writeAudit(ctx.app.store.db, { organisationId: booking.organisationId, actor: ctx.principal.keyId, action: 'access.retry-requested', subjectType: 'person', subjectId: entry.personId, details: { integrationId: entry.integrationId, bookingId: booking.id } });
    setFlash(ctx.req, ctx.reply, { kind: 'ok', text: 'Retry queued: Lockstep re-reads the provider and fixes what is missing.' });
    return ctx.reply.redirect(`/web/bookings/${enc(p.id)}`, 303);
  });

  r.post('/web/bookings/:id/cancel', 'team-admin', async (ctx, p) => {
    const res = await ctx.api('POST', `/v1/bookings/${enc(p.id)}/cancel`);
    setFlash(ctx.req, ctx.reply, res.ok ? { kind: 'ok', text: 'Booking cancelled; its access is being revoked.' } : { kind: 'error', text: res.body?.message ?? 'Cancel failed.' });
    return ctx.reply.redirect(`/web/bookings/${enc(p.id)}`, 303);
  });

  r.post('/web/people/:id/pin', 'host', async (ctx, p, body) => {
    const res = await ctx.api('POST', `/v1/people/${enc(p.id)}/pins/regenerate`, { integrationId: String(body.integrationId ?? '') });
    const back = typeof body.back === 'string' && /^\/web\/[\w\-/]*$/.test(body.back) ? body.back : '/web/codes';
    setFlash(ctx.req, ctx.reply, res.ok ? { kind: 'ok', text: `New PIN issued: ${res.body.note}.` } : { kind: 'error', text: res.body?.message ?? 'Could not regenerate the PIN.' });
    return ctx.reply.redirect(back, 303);
  });

  r.post('/web/integrations/:id/targets/:ref/capacity', 'team-admin', async (ctx, p, body) => {
    const raw = String(body.capacity ?? '').trim();
    if (raw !== '' && !/^\d+$/.test(raw)) {
      setFlash(ctx.req, ctx.reply, { kind: 'error', text: `Capacity "${raw.slice(0, 20)}" is not a whole number of codes; leave it empty to use the lock's own figure.` });
      return ctx.reply.redirect('/web/codes', 303);
    }
    const capacity = raw === '' ? null : Number(raw);
    const res = await ctx.api('PUT', `/v1/integrations/${enc(p.id)}/targets/${enc(p.ref)}/capacity`, { capacity });
    setFlash(ctx.req, ctx.reply, res.ok
      ? { kind: 'ok', text: capacity === null ? 'Capacity cleared: the lock\'s own figure (or no limit) applies.' : `Capacity set to ${capacity} codes; waiting guests are looked at again.` }
      : { kind: 'error', text: res.body?.message ?? 'Could not set the capacity.' });
    return ctx.reply.redirect('/web/codes', 303);
  });

  r.get('/web/codes', 'host', async (ctx) => {
    if (!ctx.org) throw new WebError(404, 'No organisation selected.');
    const db = ctx.app.store.db;
    const zone = await orgZone(ctx);
    const integrations = await db.selectFrom('integrations').select(['id', 'name', 'kind', 'status']).where('organisationId', '=', ctx.org).execute();
    const ids = integrations.map((i) => i.id);
    const intName = (id: string) => integrations.find((i) => i.id === id)?.name ?? id;
    const [pins, grants, users, work, waits] = ids.length
      ? await Promise.all([
          db.selectFrom('pins').innerJoin('people', 'people.id', 'pins.personId').select(['pins.id', 'pins.integrationId', 'pins.personId', 'pins.createdAt', 'people.name']).where('pins.integrationId', 'in', ids).where('pins.revokedAt', 'is', null).orderBy('people.name').execute(),
          db.selectFrom('providerGrants').selectAll().where('integrationId', 'in', ids).orderBy('startsAt').execute(),
          db.selectFrom('providerUsers').selectAll().where('integrationId', 'in', ids).execute(),
          db.selectFrom('syncWork').selectAll().where('integrationId', 'in', ids).execute(),
          db.selectFrom('slotWaits').select(['integrationId', 'personId']).where('integrationId', 'in', ids).execute(),
        ])
      : [[], [], [], [], []];
    const door = await doorNames(ctx, ctx.org);
    const names = await peopleNames(ctx, grants.map((g) => g.personId));
    const failing = (integrationId: string, personId: string) => work.find((w) => w.integrationId === integrationId && w.personId === personId && w.lastError);
    const pinRows = pins.map((pin) => {
      const mine = grants.filter((g) => g.integrationId === pin.integrationId && g.personId === pin.personId && g.credentialKind === null);
      const user = users.find((u) => u.integrationId === pin.integrationId && u.personId === pin.personId);
      const fail = failing(pin.integrationId, pin.personId);
      const waiting = waits.some((w) => w.integrationId === pin.integrationId && w.personId === pin.personId);
      // The PIN is on the doors when the provider user carries it, or (codes on locks, no user) every grant does.
      const onDoors = user ? user.pinId === pin.id && user.state === 'present' : mine.every((g) => g.state === 'present' && g.pinId === pin.id);
      const state = fail ? 'failed' : waiting ? 'waiting-for-slot' : mine.length === 0 ? 'not on a door' : onDoors ? 'present' : 'pending';
      const from = mine.length ? Math.min(...mine.map((g) => g.startsAt)) : null;
      const untilAll = mine.map((g) => g.endsAt);
      const until = mine.length ? (untilAll.includes(null) ? null : Math.max(...(untilAll as number[]))) : null;
      return html`<tr>
        <td data-label="Guest">${pin.name}</td>
        <td data-label="Code"><code aria-label="PIN hidden">${MASK}</code> <span class="muted">PIN · issued ${localTime(pin.createdAt, zone)}</span></td>
        <td data-label="Integration">${intName(pin.integrationId)}</td>
        <td data-label="Doors">${mine.map((g) => door(g.integrationId, g.targetRef)).join(', ') || '—'}</td>
        <td data-label="Valid from">${localTime(from, zone)}</td>
        <td data-label="Valid until">${mine.length ? (until === null ? 'open-ended' : localTime(until, zone)) : '—'}</td>
        <td data-label="Sync">${state === 'not on a door' ? html`<span class="muted">not on a door</span>` : stateBadge(state)}${fail ? html`<div class="error">${fail.lastError}</div>` : ''}</td>
        <td data-label="Action">${regenerateForm(ctx, pin.personId, pin.integrationId, '/web/codes', `${pin.name} on ${intName(pin.integrationId)}`)}</td></tr>`;
    });
    const credRows = grants.filter((g) => g.credentialKind !== null).map((g) => {
      const fail = failing(g.integrationId, g.personId);
      return html`<tr>
        <td data-label="Guest">${names.get(g.personId) ?? g.personId}</td>
        <td data-label="Code"><code aria-label="credential hidden">${MASK}</code> <span class="muted">${g.credentialKind} issued by the provider</span></td>
        <td data-label="Integration">${intName(g.integrationId)}</td>
        <td data-label="Doors">${door(g.integrationId, g.targetRef)}</td>
        <td data-label="Valid from">${localTime(g.credentialValidFrom ?? g.startsAt, zone)}</td>
        <td data-label="Valid until">${g.credentialValidUntil ?? g.endsAt ? localTime(g.credentialValidUntil ?? g.endsAt, zone) : 'open-ended'}</td>
        <td data-label="Sync">${stateBadge(fail ? 'failed' : g.state)}${fail ? html`<div class="error">${fail.lastError}</div>` : ''}</td>
        <td data-label="Action">—</td></tr>`;
    });
    const body = html`<p>Every PIN and provider-issued credential Lockstep manages. The codes themselves are never shown here — only the guest sees them.</p>
    <div class="table-wrap"><table class="stack"><caption>Codes (times in ${zone})</caption>
      <thead><tr><th scope="col">Guest</th><th scope="col">Code</th><th scope="col">Integration</th><th scope="col">Doors</th><th scope="col">Valid from</th><th scope="col">Valid until</th><th scope="col">Sync</th><th scope="col">Action</th></tr></thead>
      <tbody>${pinRows.length + credRows.length === 0 ? html`<tr><td colspan="8">No codes issued yet.</td></tr>` : ''}${pinRows}${credRows}</tbody></table></div>
    ${await keypadsSection(ctx, ids, intName, door, zone)}`;
    return ctx.render('Code overview', body, { current: '/web/codes' });
  });
};
