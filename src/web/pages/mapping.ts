/**
 * Team admin: map a space to access targets picked from the list pulled live from the provider, and
 * set buffers per space and per integration. Every change is previewed first ("3 bookings and
 * 1 subscription change") and applied only by an explicit Update.
 */
import { html, raw, type SafeHtml } from '../html.js';
import { csrfField, errorSummary, errorsFrom, input, type FormErrors } from '../layout.js';
import { must, intField, list, WebError, type WebContext } from '../context.js';
import { setFlash } from '../session.js';
import type { WebModule } from '../router.js';

const enc = encodeURIComponent;

interface Target {
  ref: string;
  name: string;
  description?: string;
}

async function spacePage(ctx: WebContext, spaceId: string, bufferValues: Record<string, unknown> | null = null, errors: FormErrors | null = null) {
  const space = must(await ctx.api('GET', `/v1/spaces/${enc(spaceId)}`));
  const [integrations, mappings] = await Promise.all([
    ctx.api('GET', ctx.q('/v1/integrations')).then(must),
    ctx.api('GET', ctx.q(`/v1/mappings?spaceId=${enc(spaceId)}`)).then(must),
  ]);
  const active = (integrations.results as any[]).filter((i) => i.status === 'active');
  const sections: SafeHtml[] = [];
  for (const i of active) {
    const targets = await ctx.api<{ results: Target[] }>('GET', `/v1/integrations/${enc(i.id)}/targets`);
    const mapped = (mappings.results as any[]).filter((m) => m.integrationId === i.id).map((m) => m.targetRef);
    if (!targets.ok) {
      sections.push(html`<section><h3>${i.name}</h3><div class="flash error" role="alert">Could not load the doors from ${i.kind}: ${(targets.body as any)?.message ?? targets.status}</div>
        ${mapped.length ? html`<p>Currently mapped: ${mapped.join(', ')}</p>` : ''}</section>`);
      continue;
    }
    sections.push(html`<section aria-labelledby="int-${i.id}">
      <form method="post" action="/web/spaces/${space.id}/mapping" class="panel">${csrfField(ctx.session.csrf)}
        <input type="hidden" name="integrationId" value="${i.id}">
        <fieldset><legend id="int-${i.id}">Doors on ${i.name} (${i.kind}), live from the provider</legend>
          ${targets.body.results.map((t) => html`<div class="choice">
            <input type="checkbox" id="t-${i.id}-${t.ref}" name="targets" value="${t.ref}"${mapped.includes(t.ref) ? raw(' checked') : ''}>
            <label for="t-${i.id}-${t.ref}">${t.name}${t.description ? html`<span class="hint">${t.description}</span>` : ''}</label></div>`)}
        </fieldset>
        <button type="submit">Preview mapping change</button>
      </form></section>`);
  }
  const bv = (k: 'bufferBeforeMinutes' | 'bufferAfterMinutes') => (bufferValues ? String(bufferValues[k] ?? '') : space[k] === null ? '' : String(space[k]));
  const body = html`<dl class="kv"><dt>Kind</dt><dd>${space.kind}</dd><dt>Buffers</dt><dd>${space.bufferBeforeMinutes === null && space.bufferAfterMinutes === null ? "the integration's" : `${space.bufferBeforeMinutes ?? "integration's"} min before, ${space.bufferAfterMinutes ?? "integration's"} min after`}</dd></dl>
  <h2>Doors this space opens</h2>
  ${active.length === 0 ? html`<p>No active integration yet; a platform admin connects one.</p>` : sections}
  <h2 id="space-buffers">Buffers for this space</h2>
  ${errorSummary(errors)}
  <form method="post" action="/web/spaces/${space.id}/buffers" class="panel">${csrfField(ctx.session.csrf)}
    <p class="hint">Access starts this long before and ends this long after each booking of this space. Leave blank to use each integration's buffers.</p>
    <div class="grid2">
      ${input({ name: 'bufferBeforeMinutes', label: 'Minutes before', type: 'number', value: bv('bufferBeforeMinutes'), errors, attrs: 'min="0" max="1440" inputmode="numeric"' })}
      ${input({ name: 'bufferAfterMinutes', label: 'Minutes after', type: 'number', value: bv('bufferAfterMinutes'), errors, attrs: 'min="0" max="1440" inputmode="numeric"' })}
    </div>
    <button type="submit">Preview buffer change</button>
  </form>`;
  return ctx.render(`Space: ${space.name}`, body, { status: errors ? 400 : 200, current: '/web/spaces' });
}

function confirmPage(ctx: WebContext, opts: { title: string; action: string; summary: string; details: SafeHtml; hidden: Record<string, string | string[]>; back: string }) {
  const hidden = Object.entries(opts.hidden).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => html`<input type="hidden" name="${k}" value="${x}">`));
  const body = html`<div class="panel">
    <p class="preview" role="status"><strong>${opts.summary}</strong></p>
    ${opts.details}
    <form method="post" action="${opts.action}" class="actions">${csrfField(ctx.session.csrf)}${hidden}
      <input type="hidden" name="confirm" value="1">
      <button type="submit">Update</button>
      <a class="button secondary" href="${opts.back}">Cancel</a>
    </form></div>`;
  return ctx.render(opts.title, body);
}

function bufferPayload(body: Record<string, unknown>, blank: null | undefined) {
  return { bufferBeforeMinutes: intField(body.bufferBeforeMinutes, blank), bufferAfterMinutes: intField(body.bufferAfterMinutes, blank) };
}

export const mappingPages: WebModule = (r) => {
  r.get('/web/spaces/:id', 'team-admin', async (ctx, p) => spacePage(ctx, p.id));

  r.post('/web/spaces/:id/mapping', 'team-admin', async (ctx, p, body) => {
    const integrationId = String(body.integrationId ?? '');
    const targetRefs = list(body.targets);
    const preview = await ctx.api('POST', '/v1/preview/mapping', { spaceId: p.id, integrationId, targetRefs });
    if (!preview.ok) throw new WebError(preview.status, preview.body?.message ?? 'The preview failed.');
    const back = `/web/spaces/${enc(p.id)}`;
    if (body.confirm !== '1') {
      const targets = await ctx.api<{ results: Target[] }>('GET', `/v1/integrations/${enc(integrationId)}/targets`);
      const name = (ref: string) => (targets.ok ? targets.body.results.find((t) => t.ref === ref)?.name : undefined) ?? ref;
      const details = html`<ul>
        <li>Adds: ${preview.body.added.length ? preview.body.added.map(name).join(', ') : 'nothing'}</li>
        <li>Removes: ${preview.body.removed.length ? preview.body.removed.map(name).join(', ') : 'nothing'}</li></ul>`;
      return confirmPage(ctx, { title: 'Confirm mapping change', action: `/web/spaces/${enc(p.id)}/mapping`, summary: preview.body.summary, details, hidden: { integrationId, targets: targetRefs }, back });
    }
    const current = must(await ctx.api('GET', ctx.q(`/v1/mappings?spaceId=${enc(p.id)}&integrationId=${enc(integrationId)}`))).results as any[];
    const problems: string[] = [];
    for (const ref of preview.body.added) {
      const res = await ctx.api('POST', '/v1/mappings', { spaceId: p.id, integrationId, targetRef: ref });
      if (!res.ok) problems.push(res.body?.message ?? `could not map ${ref}`);
    }
    for (const ref of preview.body.removed) {
      const m = current.find((x) => x.targetRef === ref);
      if (!m) continue;
      const res = await ctx.api('DELETE', `/v1/mappings/${enc(m.id)}`);
      if (!res.ok) problems.push(res.body?.message ?? `could not unmap ${ref}`);
    }
    setFlash(ctx.req, ctx.reply, problems.length ? { kind: 'error', text: problems.join('; ') } : { kind: 'ok', text: `Mapping updated: ${preview.body.summary}.` });
    return ctx.reply.redirect(back, 303);
  });

  r.post('/web/spaces/:id/buffers', 'team-admin', async (ctx, p, body) => {
    const values = bufferPayload(body, null);
    const preview = await ctx.api('POST', '/v1/preview/buffers', { spaceId: p.id, ...values });
    if (!preview.ok) {
      if (preview.status === 400) return spacePage(ctx, p.id, body, errorsFrom(preview.body));
      throw new WebError(preview.status, preview.body?.message ?? 'The preview failed.');
    }
    const back = `/web/spaces/${enc(p.id)}`;
    const show = (v: unknown) => (v === null ? "the integration's" : `${v} min`);
    if (body.confirm !== '1') {
      return confirmPage(ctx, {
        title: 'Confirm buffer change',
        action: `/web/spaces/${enc(p.id)}/buffers`,
        summary: preview.body.summary,
        details: html`<p>New buffers for this space: ${show(values.bufferBeforeMinutes)} before, ${show(values.bufferAfterMinutes)} after.</p>`,
        hidden: { bufferBeforeMinutes: String(body.bufferBeforeMinutes ?? ''), bufferAfterMinutes: String(body.bufferAfterMinutes ?? '') },
        back,
      });
    }
    const res = await ctx.api('PATCH', `/v1/spaces/${enc(p.id)}`, values);
    if (!res.ok) return spacePage(ctx, p.id, body, errorsFrom(res.body));
    setFlash(ctx.req, ctx.reply, { kind: 'ok', text: `Buffers updated: ${preview.body.summary}.` });
    return ctx.reply.redirect(back, 303);
  });

  const buffersPage = async (ctx: WebContext, failed: { id: string; values: Record<string, unknown>; errors: FormErrors } | null = null) => {
    const integrations = (must(await ctx.api('GET', ctx.q('/v1/integrations'))).results as any[]).filter((i) => i.status === 'active');
    const body = html`<p>Access starts this long before and ends this long after each booking, on every space of the integration that does not set its own buffers.</p>
    ${integrations.length === 0 ? html`<p>No active integration.</p>` : ''}
    ${integrations.map((i) => {
      const mine = failed && failed.id === i.id ? failed : null;
      const errors = mine ? mine.errors : null;
      const v = (k: string) => (mine ? String(mine.values[k] ?? '') : String(i[k]));
      return html`<section aria-labelledby="b-${i.id}"><h2 id="b-${i.id}">${i.name} (${i.kind})</h2>
        ${errorSummary(errors)}
        <form method="post" action="/web/integrations/${i.id}/buffers" class="panel">${csrfField(ctx.session.csrf)}
          <div class="grid2">
            ${input({ name: 'bufferBeforeMinutes', label: 'Minutes before', type: 'number', value: v('bufferBeforeMinutes'), required: true, errors, attrs: 'min="0" max="1440" inputmode="numeric"' })}
            ${input({ name: 'bufferAfterMinutes', label: 'Minutes after', type: 'number', value: v('bufferAfterMinutes'), required: true, errors, attrs: 'min="0" max="1440" inputmode="numeric"' })}
          </div>
          <button type="submit">Preview buffer change</button>
        </form></section>`;
    })}`;
    return ctx.render('Buffers', body, { status: failed ? 400 : 200, current: '/web/buffers' });
  };

  r.get('/web/buffers', 'team-admin', async (ctx) => buffersPage(ctx));

  r.post('/web/integrations/:id/buffers', 'team-admin', async (ctx, p, body) => {
    const values = bufferPayload(body, undefined);
    const preview = await ctx.api('POST', '/v1/preview/buffers', { integrationId: p.id, ...values });
    if (!preview.ok) {
      if (preview.status === 400) return buffersPage(ctx, { id: p.id, values: body, errors: errorsFrom(preview.body) });
      throw new WebError(preview.status, preview.body?.message ?? 'The preview failed.');
    }
    if (body.confirm !== '1') {
      return confirmPage(ctx, {
        title: 'Confirm buffer change',
        action: `/web/integrations/${enc(p.id)}/buffers`,
        summary: preview.body.summary,
        details: html`<p>New buffers: ${values.bufferBeforeMinutes ?? 'unchanged'} min before, ${values.bufferAfterMinutes ?? 'unchanged'} min after each booking.</p>`,
        hidden: { bufferBeforeMinutes: String(body.bufferBeforeMinutes ?? ''), bufferAfterMinutes: String(body.bufferAfterMinutes ?? '') },
        back: '/web/buffers',
      });
    }
    const patch = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    const res = await ctx.api('PATCH', `/v1/integrations/${enc(p.id)}`, patch);
    if (!res.ok) return buffersPage(ctx, { id: p.id, values: body, errors: errorsFrom(res.body) });
    setFlash(ctx.req, ctx.reply, { kind: 'ok', text: `Buffers updated: ${preview.body.summary}.` });
    return ctx.reply.redirect('/web/buffers', 303);
  });
};
