/**
 * Platform admin: integrations — list, connect (provider and its credential fields from
 * GET /v1/providers; secrets entered once, then only shown masked), test, disconnect (keep/revoke).
 */
import { html, raw } from '../html.js';
import { csrfField, errorSummary, errorsFrom, input, select, type FormErrors } from '../layout.js';
import { must, intField, WebError, type WebContext } from '../context.js';
import { setFlash } from '../session.js';
import type { WebModule } from '../router.js';

interface ProviderInfo {
  kind: string;
  label: string;
  credentialFields: { name: string; label: string; secret: boolean; required: boolean }[];
}

async function connectForm(ctx: WebContext, kind: string | undefined, values: Record<string, unknown> = {}, errors: FormErrors | null = null) {
  const providers = must(await ctx.api<{ results: ProviderInfo[] }>('GET', '/v1/providers')).results;
  const mod = providers.find((p) => p.kind === kind);
  const picker = html`<form method="get" action="/web/integrations/new" class="panel">
    ${select({ name: 'kind', label: 'Provider', options: providers.map((p) => ({ value: p.kind, label: `${p.label} (${p.kind})` })), value: kind ?? null, empty: 'Choose a provider…' })}
    <button type="submit" class="secondary">Show its settings</button>
  </form>`;
  if (!mod) return ctx.render('Connect an integration', html`${picker}`, { current: '/web/integrations' });
  const v = (k: string) => (values[k] === undefined ? '' : String(values[k]));
  const body = html`${picker}
  ${errorSummary(errors)}
  <form method="post" action="/web/integrations" class="panel" autocomplete="off">
    ${csrfField(ctx.session.csrf)}
    <input type="hidden" name="kind" value="${mod.kind}">
    <h2>${mod.label}</h2>
    <p class="muted">Organisation: ${ctx.orgs.find((o) => o.id === ctx.org)?.name ?? ctx.org ?? '—'}</p>
    ${input({ name: 'name', label: 'Name', value: v('name') || mod.label, required: true, errors })}
    ${input({ name: 'baseUrl', label: 'Provider API base URL', value: v('baseUrl'), required: true, type: 'url', hint: 'For example https://api.example.com', errors })}
    <fieldset><legend>Credentials</legend>
      <p class="hint">Secrets are sealed at rest and never shown again — only masked.</p>
      ${mod.credentialFields.map((f) =>
        input({
          name: `credentials.${f.name}`,
          label: f.label,
          type: f.secret ? 'password' : 'text',
          value: f.secret ? '' : v(`credentials.${f.name}`),
          required: f.required,
          autocomplete: f.secret ? 'new-password' : 'off',
          errors,
        }),
      )}
    </fieldset>
    <div class="grid2">
      ${input({ name: 'bufferBeforeMinutes', label: 'Buffer before each booking (minutes)', value: v('bufferBeforeMinutes'), type: 'number', hint: 'Blank: the provider default (usually 15)', errors, attrs: 'min="0" max="1440" inputmode="numeric"' })}
      ${input({ name: 'bufferAfterMinutes', label: 'Buffer after each booking (minutes)', value: v('bufferAfterMinutes'), type: 'number', hint: 'Blank: the provider default (usually 15)', errors, attrs: 'min="0" max="1440" inputmode="numeric"' })}
    </div>
    <div class="choice"><input type="checkbox" id="f-skip" name="skipConnectionTest" value="1"${values.skipConnectionTest ? raw(' checked') : ''}>
      <label for="f-skip">Save without testing the connection</label></div>
    <button type="submit">Connect</button>
  </form>`;
  return ctx.render('Connect an integration', body, { status: errors ? 400 : 200, current: '/web/integrations' });
}

export const integrationPages: WebModule = (r) => {
  r.get('/web/integrations', 'platform-admin', async (ctx) => {
    if (!ctx.org) return ctx.render('Integrations', html`<p>There is no organisation yet. Create one with <code>POST /v1/organisations</code>.</p>`);
    const rows = must(await ctx.api('GET', ctx.q('/v1/integrations'))).results as any[];
    const body = html`<p><a class="button" href="/web/integrations/new">Connect an integration</a></p>
    <div class="table-wrap"><table class="stack">
      <caption>Provider accounts of this organisation</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Status</th><th scope="col">Buffers</th><th scope="col">Last error</th></tr></thead>
      <tbody>${rows.length === 0 ? html`<tr><td colspan="5">No integrations yet.</td></tr>` : ''}
      ${rows.map((i) => html`<tr>
        <td data-label="Name"><a href="/web/integrations/${i.id}">${i.name}</a></td>
        <td data-label="Provider">${i.kind}</td>
        <td data-label="Status">${i.status === 'active' ? html`<span class="badge s-applied">active</span>` : html`<span class="badge s-revoked">${i.status}</span>`}</td>
        <td data-label="Buffers">${i.bufferBeforeMinutes} min before, ${i.bufferAfterMinutes} min after</td>
        <td data-label="Last error">${i.lastError ?? '—'}</td></tr>`)}
      </tbody></table></div>`;
    return ctx.render('Integrations', body, { current: '/web/integrations' });
  });

  r.get('/web/integrations/new', 'platform-admin', async (ctx, _p, q) => connectForm(ctx, q.kind));

  r.post('/web/integrations', 'platform-admin', async (ctx, _p, body) => {
    const credentials: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (k.startsWith('credentials.') && typeof v === 'string' && v !== '') credentials[k.slice(12)] = v;
    const payload = ctx.b({
      kind: String(body.kind ?? ''),
      name: String(body.name ?? ''),
      baseUrl: String(body.baseUrl ?? ''),
      credentials,
      skipConnectionTest: body.skipConnectionTest === '1',
      ...(intField(body.bufferBeforeMinutes) !== undefined ? { bufferBeforeMinutes: intField(body.bufferBeforeMinutes) } : {}),
      ...(intField(body.bufferAfterMinutes) !== undefined ? { bufferAfterMinutes: intField(body.bufferAfterMinutes) } : {}),
    });
    const res = await ctx.api('POST', '/v1/integrations', payload);
    if (!res.ok) return connectForm(ctx, payload.kind, body, errorsFrom(res.body));
    setFlash(ctx.req, ctx.reply, { kind: 'ok', text: `Connected ${res.body.name}. Its credentials are stored sealed and shown masked below.` });
    return ctx.reply.redirect(`/web/integrations/${encodeURIComponent(res.body.id)}`, 303);
  });

  r.get('/web/integrations/:id', 'platform-admin', async (ctx, p) => {
    const i = must(await ctx.api('GET', `/v1/integrations/${encodeURIComponent(p.id)}`));
    const status = must(await ctx.api('GET', `/v1/integrations/${encodeURIComponent(p.id)}/status`));
    const creds = Object.entries(i.credentials as Record<string, string>);
    const body = html`<dl class="kv">
      <dt>Provider</dt><dd>${i.kind}</dd>
      <dt>Status</dt><dd>${i.status}</dd>
      <dt>Base URL</dt><dd><code>${i.baseUrl}</code></dd>
      <dt>Buffers</dt><dd>${i.bufferBeforeMinutes} min before, ${i.bufferAfterMinutes} min after</dd>
      <dt>Provider users / grants</dt><dd>${status.providerUsers} / ${status.grants}</dd>
      <dt>Failing</dt><dd>${status.failing.length ? status.failing.map((f: any) => html`<div>${f.personId}: ${f.error} (attempt ${f.attempts})</div>`) : 'nothing'}</dd>
    </dl>
    <h2>Credentials</h2>
    <table><caption class="muted">Secrets are never shown again</caption><thead><tr><th scope="col">Field</th><th scope="col">Value</th></tr></thead>
      <tbody>${creds.map(([k, v]) => html`<tr><td>${k}</td><td><code>${v}</code></td></tr>`)}</tbody></table>
    ${i.status === 'active'
      ? html`<h2>Test the connection</h2>
      <form method="post" action="/web/integrations/${i.id}/test">${csrfField(ctx.session.csrf)}<button type="submit" class="secondary">Test connection</button></form>
      <h2>Disconnect</h2>
      <form method="post" action="/web/integrations/${i.id}/disconnect" class="panel">
        ${csrfField(ctx.session.csrf)}
        <fieldset><legend>What happens to the access Lockstep granted?</legend>
          <div class="choice"><input type="radio" id="mode-revoke" name="mode" value="revoke" checked>
            <label for="mode-revoke">Revoke it <span class="hint">Remove every PIN, membership and code Lockstep created; the integration ends disconnected once the provider is clean.</span></label></div>
          <div class="choice"><input type="radio" id="mode-keep" name="mode" value="keep">
            <label for="mode-keep">Keep it <span class="hint">Leave everything on the provider as it is and stop managing it.</span></label></div>
        </fieldset>
        <button type="submit" class="danger">Disconnect</button>
      </form>`
      : ''}`;
    return ctx.render(`Integration: ${i.name}`, body, { current: '/web/integrations' });
  });

  r.post('/web/integrations/:id/test', 'platform-admin', async (ctx, p) => {
    const res = await ctx.api('POST', `/v1/integrations/${encodeURIComponent(p.id)}/test`);
    setFlash(ctx.req, ctx.reply, res.ok ? { kind: 'ok', text: 'Connection works: the provider accepted the stored credentials.' } : { kind: 'error', text: res.body?.message ?? 'The test failed.' });
    return ctx.reply.redirect(`/web/integrations/${encodeURIComponent(p.id)}`, 303);
  });

  r.post('/web/integrations/:id/disconnect', 'platform-admin', async (ctx, p, body) => {
    const mode = body.mode === 'keep' ? 'keep' : body.mode === 'revoke' ? 'revoke' : null;
    if (!mode) throw new WebError(400, 'Choose whether to keep or revoke the granted access.');
    const res = await ctx.api('POST', `/v1/integrations/${encodeURIComponent(p.id)}/disconnect`, { mode });
    setFlash(ctx.req, ctx.reply, res.ok
      ? { kind: 'ok', text: mode === 'revoke' ? 'Disconnecting: everything Lockstep granted is being removed from the provider.' : 'Disconnected; the granted access was left on the provider.' }
      : { kind: 'error', text: res.body?.message ?? 'Disconnect failed.' });
    return ctx.reply.redirect(`/web/integrations/${encodeURIComponent(p.id)}`, 303);
  });
};
