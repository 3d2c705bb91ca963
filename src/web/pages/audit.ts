/**
 * The audit log for everyone, filterable by person, space, booking and time range. Staff see their
 * organisation's log; a guest sees only entries about themselves and their own bookings.
 */
import { html } from '../html.js';
import { errorSummary, input, select, type FormErrors } from '../layout.js';
import { localTime, type WebContext } from '../context.js';
import { localToInstant, TimeInputError } from '../../domain/time.js';
import type { WebModule } from '../router.js';

export interface AuditFilter {
  person?: string;
  space?: string;
  booking?: string;
  from?: string;
  until?: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function dayStart(date: string, zone: string, field: string, errors: FormErrors): number | undefined {
  if (!date) return undefined;
  try {
    if (!DATE.test(date)) throw new TimeInputError('must be a date like 2026-12-01');
    return localToInstant(`${date}T00:00:00`, zone);
  } catch (err) {
    errors.fields[field] = err instanceof Error ? err.message : 'is invalid';
    return undefined;
  }
}

async function zoneOf(ctx: WebContext, org: string | null): Promise<string> {
  if (!org) return 'UTC';
  return (await ctx.app.store.db.selectFrom('locations').select('timeZone').where('organisationId', '=', org).orderBy('createdAt').executeTakeFirst())?.timeZone ?? 'UTC';
}

export const auditPages: WebModule = (r) => {
  r.get('/web/audit', 'guest', async (ctx, _p, query) => {
    const db = ctx.app.store.db;
    const f: AuditFilter = { person: query.person ?? '', space: query.space ?? '', booking: (query.booking ?? '').trim(), from: query.from ?? '', until: query.until ?? '' };
    const org = ctx.org;
    const zone = await zoneOf(ctx, org);
    const errors: FormErrors = { message: 'Check the highlighted filters.', fields: {} };
    const from = dayStart(f.from!, zone, 'from', errors);
    const untilDay = dayStart(f.until!, zone, 'until', errors);
    const until = untilDay === undefined ? undefined : untilDay + 86_400_000;
    const guest = ctx.principal.role === 'guest';

    let q = db.selectFrom('auditLog').selectAll();
    if (ctx.principal.role === 'platform-admin') {
      if (org) q = q.where('organisationId', '=', org);
    } else {
      q = q.where('organisationId', '=', ctx.principal.organisationId!);
    }
    if (guest) {
      const me = ctx.principal.personId!;
      const mine = db
        .selectFrom('bookings')
        .select('id')
        .where((eb) => eb.or([eb('organiserId', '=', me), eb('id', 'in', eb.selectFrom('bookingInvitees').select('bookingId').where('personId', '=', me))]));
      q = q.where((eb) => eb.or([eb('subjectId', '=', me), eb('subjectId', 'in', mine)]));
    }
    const like = (v: string) => `%${v.replace(/[%\\]/g, '')}%`;
    if (f.person && !guest) q = q.where((eb) => eb.or([eb('subjectId', '=', f.person!), eb('details', 'like', like(f.person!))]));
    if (f.space) {
      const inSpace = db.selectFrom('bookings').select('id').where('spaceId', '=', f.space);
      q = q.where((eb) => eb.or([eb('subjectId', '=', f.space!), eb('details', 'like', like(f.space!)), eb('subjectId', 'in', inSpace)]));
    }
    if (f.booking) q = q.where((eb) => eb.or([eb('subjectId', '=', f.booking!), eb('details', 'like', like(f.booking!))]));
    if (from !== undefined) q = q.where('at', '>=', from);
    if (until !== undefined) q = q.where('at', '<', until);
    const rows = Object.keys(errors.fields).length ? [] : await q.orderBy('id', 'desc').limit(200).execute();

    const orgFilter = org ?? '';
    const [people, spaces, keys] = await Promise.all([
      guest ? [] : db.selectFrom('people').select(['id', 'name', 'email']).where('organisationId', '=', orgFilter).orderBy('name').execute(),
      guest ? [] : db.selectFrom('spaces').select(['id', 'name']).where('organisationId', '=', orgFilter).orderBy('name').execute(),
      db.selectFrom('apiKeys').select(['id', 'name', 'role']).where((eb) => eb.or([eb('organisationId', '=', orgFilter), eb('organisationId', 'is', null)])).execute(),
    ]);
    const actor = (id: string) => {
      if (id === 'engine') return 'Lockstep sync engine';
      const k = keys.find((x) => x.id === id);
      return k ? (guest && k.role !== 'guest' ? `staff (${k.role})` : `${k.name} (${k.role})`) : id;
    };
    const subject = (type: string, id: string) => {
      if (type === 'person') return people.find((p) => p.id === id)?.name ?? (id === ctx.principal.personId ? 'you' : id);
      if (type === 'space') return spaces.find((s) => s.id === id)?.name ?? id;
      return id;
    };
    // Details never carry secrets (the audit writer scrubs them); shown compactly.
    const details = (d: string) => {
      try {
        const o = JSON.parse(d) as Record<string, unknown>;
        const show = (v: unknown) => (typeof v === 'string' ? (ISO.test(v) ? localTime(v, zone) : v) : JSON.stringify(v));
        return Object.entries(o).map(([k, v]) => `${k}: ${show(v)}`).join('; ');
      } catch {
        return '';
      }
    };
    const body = html`<form method="get" action="/web/audit" class="panel" role="search" aria-label="Filter the audit log">
      ${Object.keys(errors.fields).length ? errorSummary(errors) : ''}
      <div class="grid2">
        ${guest ? '' : select({ name: 'person', label: 'Person', options: people.map((p) => ({ value: p.id, label: p.email ? `${p.name} <${p.email}>` : p.name })), value: f.person, empty: 'Anyone' })}
        ${guest ? '' : select({ name: 'space', label: 'Space', options: spaces.map((s) => ({ value: s.id, label: s.name })), value: f.space, empty: 'Any space' })}
        ${input({ name: 'booking', label: 'Booking id', value: f.booking, hint: 'e.g. bk_…' })}
        ${input({ name: 'from', label: `From (date, ${zone})`, type: 'date', value: f.from, errors })}
        ${input({ name: 'until', label: `Until (date, inclusive)`, type: 'date', value: f.until, errors })}
      </div>
      <div class="actions"><button type="submit">Filter</button> <a class="button secondary" href="/web/audit">Clear</a></div>
    </form>
    <div class="table-wrap"><table class="stack"><caption>${rows.length} entr${rows.length === 1 ? 'y' : 'ies'}, newest first (times in ${zone})</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Subject</th><th scope="col">Details</th></tr></thead>
      <tbody>${rows.length === 0 ? html`<tr><td colspan="5">Nothing matches.</td></tr>` : ''}
      ${rows.map((e) => html`<tr><td data-label="When">${localTime(e.at, zone)}</td><td data-label="Who">${actor(e.actor)}</td>
        <td data-label="What"><code>${e.action}</code>${e.reason ? html`<div class="muted">${e.reason}</div>` : ''}</td>
        <td data-label="Subject">${e.subjectType}: ${subject(e.subjectType, e.subjectId)}</td>
        <td data-label="Details">${details(e.details)}</td></tr>`)}
      </tbody></table></div>`;
    return ctx.render(guest ? 'Activity' : 'Audit log', body, { status: Object.keys(errors.fields).length ? 400 : 200, current: '/web/audit' });
  });
};
