/**
 * Team admin: locations, spaces and plans — list and create, with the API's own validation errors.
 */
import { html, raw } from '../html.js';
import { csrfField, errorSummary, errorsFrom, input, select, type FormErrors } from '../layout.js';
import { must, intField, list, type WebContext } from '../context.js';
import { setFlash } from '../session.js';
import type { WebModule } from '../router.js';

const spaceKinds = ['room', 'desk', 'office', 'equipment', 'parking', 'court', 'other'];

async function locationsPage(ctx: WebContext, values: Record<string, unknown> = {}, errors: FormErrors | null = null) {
  const rows = must(await ctx.api('GET', ctx.q('/v1/locations'))).results as any[];
  const body = html`<div class="table-wrap"><table class="stack"><caption>Buildings and their time zones</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Time zone</th></tr></thead>
    <tbody>${rows.length === 0 ? html`<tr><td colspan="2">No locations yet.</td></tr>` : ''}
    ${rows.map((l) => html`<tr><td data-label="Name">${l.name}</td><td data-label="Time zone">${l.timeZone}</td></tr>`)}</tbody></table></div>
  <h2>Add a location</h2>
  ${errorSummary(errors)}
  <form method="post" action="/web/locations" class="panel">${csrfField(ctx.session.csrf)}
    ${input({ name: 'name', label: 'Name', value: String(values.name ?? ''), required: true, errors })}
    ${input({ name: 'timeZone', label: 'Time zone', value: String(values.timeZone ?? 'Europe/London'), required: true, hint: 'IANA name, e.g. Europe/London or America/New_York', errors })}
    <button type="submit">Add location</button>
  </form>`;
  return ctx.render('Locations', body, { status: errors ? 400 : 200, current: '/web/locations' });
}

async function spacesPage(ctx: WebContext, values: Record<string, unknown> = {}, errors: FormErrors | null = null) {
  const [spaces, locations, mappings] = await Promise.all([
    ctx.api('GET', ctx.q('/v1/spaces')).then(must),
    ctx.api('GET', ctx.q('/v1/locations')).then(must),
    ctx.api('GET', ctx.q('/v1/mappings?limit=1000')).then(must),
  ]);
  const locName = (id: string) => (locations.results as any[]).find((l) => l.id === id)?.name ?? id;
  const doors = (spaceId: string) => (mappings.results as any[]).filter((m) => m.spaceId === spaceId).map((m) => m.targetName ?? m.targetRef);
  const canEdit = ctx.principal.role === 'team-admin' || ctx.principal.role === 'platform-admin';
  const v = (k: string) => (values[k] === undefined ? '' : String(values[k]));
  const body = html`<div class="table-wrap"><table class="stack"><caption>Bookable spaces and the doors they open</caption>
    <thead><tr><th scope="col">Space</th><th scope="col">Location</th><th scope="col">Kind</th><th scope="col">Doors</th><th scope="col">Buffers</th></tr></thead>
    <tbody>${(spaces.results as any[]).length === 0 ? html`<tr><td colspan="5">No spaces yet.</td></tr>` : ''}
    ${(spaces.results as any[]).map((s) => html`<tr>
      <td data-label="Space"><a href="/web/spaces/${s.id}">${s.name}</a></td>
      <td data-label="Location">${locName(s.locationId)}</td>
      <td data-label="Kind">${s.kind}</td>
      <td data-label="Doors">${doors(s.id).length ? doors(s.id).join(', ') : html`<span class="muted">not mapped</span>`}</td>
      <td data-label="Buffers">${s.bufferBeforeMinutes === null && s.bufferAfterMinutes === null ? html`<span class="muted">integration's</span>` : `${s.bufferBeforeMinutes ?? '–'} / ${s.bufferAfterMinutes ?? '–'} min`}</td>
    </tr>`)}</tbody></table></div>
  ${canEdit
    ? html`<h2>Add a space</h2>
  ${errorSummary(errors)}
  <form method="post" action="/web/spaces" class="panel">${csrfField(ctx.session.csrf)}
    ${select({ name: 'locationId', label: 'Location', options: (locations.results as any[]).map((l) => ({ value: l.id, label: `${l.name} (${l.timeZone})` })), value: v('locationId') || null, errors, required: true })}
    ${input({ name: 'name', label: 'Name', value: v('name'), required: true, errors })}
    ${select({ name: 'kind', label: 'Kind', options: spaceKinds.map((k) => ({ value: k, label: k })), value: v('kind') || 'room', errors })}
    <div class="grid2">
      ${input({ name: 'bufferBeforeMinutes', label: 'Buffer before (minutes, optional)', type: 'number', value: v('bufferBeforeMinutes'), hint: "Blank: use the integration's", errors, attrs: 'min="0" max="1440" inputmode="numeric"' })}
      ${input({ name: 'bufferAfterMinutes', label: 'Buffer after (minutes, optional)', type: 'number', value: v('bufferAfterMinutes'), hint: "Blank: use the integration's", errors, attrs: 'min="0" max="1440" inputmode="numeric"' })}
    </div>
    <button type="submit">Add space</button>
  </form>`
    : ''}`;
  return ctx.render('Spaces', body, { status: errors ? 400 : 200, current: '/web/spaces' });
}

async function plansPage(ctx: WebContext, values: Record<string, unknown> = {}, errors: FormErrors | null = null) {
  const [plans, spaces] = await Promise.all([ctx.api('GET', ctx.q('/v1/plans')).then(must), ctx.api('GET', ctx.q('/v1/spaces')).then(must)]);
  const spaceName = (id: string) => (spaces.results as any[]).find((s) => s.id === id)?.name ?? id;
  const chosen = list(values.spaceIds);
  const body = html`<div class="table-wrap"><table class="stack"><caption>Membership plans and what they open</caption>
    <thead><tr><th scope="col">Plan</th><th scope="col">Spaces</th><th scope="col">Direct targets</th></tr></thead>
    <tbody>${(plans.results as any[]).length === 0 ? html`<tr><td colspan="3">No plans yet.</td></tr>` : ''}
    ${(plans.results as any[]).map((p) => html`<tr><td data-label="Plan">${p.name}</td><td data-label="Spaces">${p.spaceIds.map(spaceName).join(', ') || '—'}</td>
      <td data-label="Direct targets">${p.targets.map((t: any) => t.targetRef).join(', ') || '—'}</td></tr>`)}</tbody></table></div>
  <h2>Add a plan</h2>
  ${errorSummary(errors)}
  <form method="post" action="/web/plans" class="panel">${csrfField(ctx.session.csrf)}
    ${input({ name: 'name', label: 'Name', value: String(values.name ?? ''), required: true, errors })}
    <fieldset><legend>Spaces the plan opens</legend>
      ${(spaces.results as any[]).map((s) => html`<div class="choice"><input type="checkbox" id="plan-sp-${s.id}" name="spaceIds" value="${s.id}"${chosen.includes(s.id) ? raw(' checked') : ''}><label for="plan-sp-${s.id}">${s.name}</label></div>`)}
    </fieldset>
    <button type="submit">Add plan</button>
  </form>`;
  return ctx.render('Plans', body, { status: errors ? 400 : 200, current: '/web/plans' });
}

export const venuePages: WebModule = (r) => {
  r.get('/web/locations', 'team-admin', async (ctx) => locationsPage(ctx));
  r.post('/web/locations', 'team-admin', async (ctx, _p, body) => {
    const res = await ctx.api('POST', '/v1/locations', ctx.b({ name: String(body.name ?? ''), timeZone: String(body.timeZone ?? '') }));
    if (!res.ok) return locationsPage(ctx, body, errorsFrom(res.body));
    setFlash(ctx.req, ctx.reply, { kind: 'ok', text: `Added location ${res.body.name}.` });
    return ctx.reply.redirect('/web/locations', 303);
  });

  r.get('/web/spaces', 'host', async (ctx) => spacesPage(ctx));
  r.post('/web/spaces', 'team-admin', async (ctx, _p, body) => {
    const before = intField(body.bufferBeforeMinutes);
    const after = intField(body.bufferAfterMinutes);
    const res = await ctx.api('POST', '/v1/spaces', ctx.b({
      locationId: String(body.locationId ?? ''),
      name: String(body.name ?? ''),
      kind: String(body.kind ?? ''),
      ...(before !== undefined ? { bufferBeforeMinutes: before } : {}),
      ...(after !== undefined ? { bufferAfterMinutes: after } : {}),
    }));
    if (!res.ok) return spacesPage(ctx, body, errorsFrom(res.body));
    setFlash(ctx.req, ctx.reply, { kind: 'ok', text: `Added space ${res.body.name}. Now map it to the doors it opens.` });
    return ctx.reply.redirect(`/web/spaces/${encodeURIComponent(res.body.id)}`, 303);
  });

  r.get('/web/plans', 'team-admin', async (ctx) => plansPage(ctx));
  r.post('/web/plans', 'team-admin', async (ctx, _p, body) => {
    const res = await ctx.api('POST', '/v1/plans', ctx.b({ name: String(body.name ?? ''), spaceIds: list(body.spaceIds) }));
    if (!res.ok) return plansPage(ctx, body, errorsFrom(res.body));
    setFlash(ctx.req, ctx.reply, { kind: 'ok', text: `Added plan ${res.body.name}.` });
    return ctx.reply.redirect('/web/plans', 303);
  });
};
