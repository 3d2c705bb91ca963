/**
 * Team admin: a new booking. Start and end are wall-clock times read in the chosen space's location
 * time zone (the API's startLocal/endLocal); the organiser and invitees are found or created by
 * e-mail. The API creates bookings for team admins only (hosts look after existing ones), so this page
 * checks team-admin too; every error is the API's own, shown next to its field.
 */
import { html, raw } from '../html.js';
import { csrfField, errorSummary, errorsFrom, fieldId, input, select, type FormErrors } from '../layout.js';
import { must, type WebContext } from '../context.js';
import { setFlash } from '../session.js';
import type { Body, WebModule } from '../router.js';

const enc = encodeURIComponent;

/** One invitee per line (or separated by commas/semicolons): `guest@example.com` or `Name <guest@example.com>`. */
export function parseInvitees(text: string): { name: string; email: string }[] {
  return text
    .split(/[\n;,]+/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(.*?)\s*<([^<>]*)>$/.exec(entry);
      const email = (m ? m[2] : entry).trim();
      const name = (m ? m[1].replace(/^"|"$/g, '').trim() : '') || email.split('@')[0] || email;
      return { name, email };
    });
}

/** API issues on `invitees.N.*` belong to the one invitees box: say which entry. */
function foldInviteeErrors(errors: FormErrors, invitees: { email: string }[]): FormErrors {
  const fields: Record<string, string> = {};
  for (const [path, message] of Object.entries(errors.fields)) {
    const m = /^invitees\.(\d+)(?:\.(\w+))?$/.exec(path);
    if (!m) {
      fields[path] = message;
      continue;
    }
    const n = Number(m[1]);
    const text = `invitee ${n + 1} (${invitees[n]?.email ?? '?'}): ${m[2] ? `${m[2]}: ` : ''}${message}`;
    fields.invitees = fields.invitees ? `${fields.invitees}; ${text}` : text;
  }
  return { message: errors.message, fields };
}

function textarea(opts: { name: string; label: string; value: string; hint?: string; errors?: FormErrors | null; rows?: number }) {
  const id = fieldId(opts.name);
  const err = opts.errors?.fields[opts.name];
  const described = [opts.hint ? `${id}-hint` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ');
  return html`<div class="field${err ? ' invalid' : ''}">
    <label for="${id}">${opts.label}</label>
    ${opts.hint ? html`<p class="hint" id="${id}-hint">${opts.hint}</p>` : ''}
    ${err ? html`<p class="error" id="${id}-err">${err}</p>` : ''}
    <textarea id="${id}" name="${opts.name}" rows="${opts.rows ?? 3}"${described ? html` aria-describedby="${described}"` : ''}${err ? raw(' aria-invalid="true"') : ''}>${opts.value}</textarea>
  </div>`;
}

async function newBookingPage(ctx: WebContext, values: Body = {}, errors: FormErrors | null = null) {
  const [spaces, locations] = await Promise.all([ctx.api('GET', ctx.q('/v1/spaces?limit=500')).then(must), ctx.api('GET', ctx.q('/v1/locations')).then(must)]);
  const loc = (id: string) => (locations.results as any[]).find((l) => l.id === id);
  const v = (k: string) => (values[k] === undefined || values[k] === null ? '' : String(values[k]));
  const spaceOptions = (spaces.results as any[]).map((s) => {
    const l = loc(s.locationId);
    return { value: s.id, label: l ? `${s.name} — ${l.name} (${l.timeZone})` : s.name };
  });
  const body = (spaceOptions.length === 0
    ? html`<p class="panel">There are no spaces yet. <a href="/web/spaces">Add a space</a> first.</p>`
    : html`${errorSummary(errors)}
  <form method="post" action="/web/bookings" class="panel" novalidate>${csrfField(ctx.session.csrf)}
    ${select({ name: 'spaceId', label: 'Space', options: spaceOptions, value: v('spaceId') || null, errors, required: true, empty: 'Choose a space' })}
    ${input({ name: 'title', label: 'Title (optional)', value: v('title'), errors })}
    <fieldset><legend>When</legend>
      <p class="hint" id="when-hint">Local date and time at the space, in its location's time zone (shown next to each space above). Door access opens and closes around this with the buffers.</p>
      <div class="grid2">
        ${input({ name: 'startLocal', label: 'Start', type: 'datetime-local', value: v('startLocal'), required: true, errors, attrs: 'step="60"' })}
        ${input({ name: 'endLocal', label: 'End', type: 'datetime-local', value: v('endLocal'), required: true, errors, attrs: 'step="60"' })}
      </div>
    </fieldset>
    <fieldset><legend>Organiser</legend>
      <div class="grid2">
        ${input({ name: 'organiser.name', label: 'Organiser name', value: v('organiser.name'), required: true, errors, autocomplete: 'off' })}
        ${input({ name: 'organiser.email', label: 'Organiser e-mail', type: 'email', value: v('organiser.email'), required: true, hint: 'Their PIN and access details are e-mailed here.', errors, autocomplete: 'off' })}
      </div>
    </fieldset>
    ${textarea({ name: 'invitees', label: 'Invitees (optional)', value: v('invitees'), hint: 'One e-mail address per line, optionally as Name <e-mail>. Each invitee gets their own PIN.', errors })}
    <div class="actions"><button type="submit">Create booking</button><a class="button secondary" href="/web/bookings">Cancel</a></div>
  </form>`);
  return ctx.render('New booking', body, { status: errors ? 400 : 200, current: '/web/bookings' });
}

export const bookingFormPages: WebModule = (r) => {
  r.get('/web/bookings/new', 'team-admin', async (ctx) => newBookingPage(ctx));

  r.post('/web/bookings', 'team-admin', async (ctx, _p, body) => {
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
    const invitees = parseInvitees(str('invitees'));
    const title = str('title');
    const res = await ctx.api(
      'POST',
      '/v1/bookings',
      ctx.b({
        spaceId: str('spaceId'),
        organiser: { name: str('organiser.name'), email: str('organiser.email') },
        invitees,
        startLocal: str('startLocal'),
        endLocal: str('endLocal'),
        ...(title ? { title } : {}),
      }),
    );
    if (!res.ok) {
      if (res.status !== 400 && res.status !== 409) return newBookingPage(ctx, body, { message: res.body?.message ?? `the booking was refused (${res.status})`, fields: {} });
      return newBookingPage(ctx, body, foldInviteeErrors(errorsFrom(res.body), invitees));
    }
    const b = res.body;
    setFlash(ctx.req, ctx.reply, { kind: 'ok', text: `Booked ${b.spaceName}, ${b.startLocal.slice(0, 10)} ${b.startLocal.slice(11, 16)} – ${b.endLocal.slice(11, 16)} (${b.timeZone}). Access is being set up; guests are e-mailed their PIN once it is on the door.` });
    return ctx.reply.redirect(`/web/bookings/${enc(b.id)}`, 303);
  });
};
