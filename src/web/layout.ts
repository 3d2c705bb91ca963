/**
 * The page frame (skip link, navigation by role, flash message) and small form/table helpers, all
 * built with the escaping `html` template.
 */
import { html, raw, type SafeHtml } from './html.js';
import type { Flash } from './session.js';
import type { Principal, Role } from '../api/auth.js';

export interface FrameInfo {
  principal: Principal | null;
  who?: string;
  csrf?: string;
  flash?: Flash | null;
  orgs?: { id: string; name: string }[];
  org?: string | null;
}

const navByRole: Record<Role, [string, string][]> = {
  'platform-admin': [
    ['/web/integrations', 'Integrations'],
    ['/web/spaces', 'Spaces'],
    ['/web/bookings', 'Bookings'],
    ['/web/codes', 'Codes'],
    ['/web/outbox', 'Outbox'],
    ['/web/audit', 'Audit log'],
  ],
  'team-admin': [
    ['/web/locations', 'Locations'],
    ['/web/spaces', 'Spaces'],
    ['/web/plans', 'Plans'],
    ['/web/buffers', 'Buffers'],
    ['/web/bookings', 'Bookings'],
    ['/web/codes', 'Codes'],
    ['/web/outbox', 'Outbox'],
    ['/web/audit', 'Audit log'],
  ],
  host: [
    ['/web/bookings', 'Bookings'],
    ['/web/codes', 'Codes'],
    ['/web/audit', 'Audit log'],
  ],
  guest: [
    ['/web/me', 'My access'],
    ['/web/audit', 'Activity'],
  ],
};

export function page(title: string, info: FrameInfo, body: SafeHtml, current = ''): string {
  const p = info.principal;
  const nav = p
    ? html`<nav aria-label="Main"><ul>${navByRole[p.role].map(([href, label]) =>
        html`<li><a href="${href}"${current === href ? raw(' aria-current="page"') : ''}>${label}</a></li>`)}</ul></nav>`
    : '';
  const orgPicker =
    p?.role === 'platform-admin' && info.orgs && info.orgs.length
      ? html`<form method="post" action="/web/org" class="inline org-picker">
          <input type="hidden" name="_csrf" value="${info.csrf}">
          <label for="org-pick">Organisation</label>
          <select id="org-pick" name="org">${info.orgs.map((o) => html`<option value="${o.id}"${o.id === info.org ? raw(' selected') : ''}>${o.name}</option>`)}</select>
          <button type="submit" class="secondary">Switch</button>
        </form>`
      : '';
  const account = p
    ? html`<div class="account"><span>${info.who ?? ''} <span class="role">(${p.role})</span></span>
        <form method="post" action="/web/logout" class="inline"><input type="hidden" name="_csrf" value="${info.csrf}"><button type="submit" class="secondary">Log out</button></form></div>`
    : '';
  const flash = info.flash
    ? html`<div class="flash ${info.flash.kind}" role="${info.flash.kind === 'error' ? 'alert' : 'status'}">${info.flash.text}</div>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Lockstep</title>
<link rel="stylesheet" href="/web/app.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/web">Lockstep</a>
  ${nav}
  ${orgPicker}
  ${account}
</header>
<main id="main" tabindex="-1">
${flash}
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
}

/** Field-level errors from an API refusal: `issues[].path` like `body.name` → `name`. */
export interface FormErrors {
  message: string;
  fields: Record<string, string>;
}

export function errorsFrom(body: any): FormErrors {
  const fields: Record<string, string> = {};
  for (const i of body?.issues ?? []) {
    const path = String(i.path ?? '').replace(/^body\./, '');
    if (path && !fields[path]) fields[path] = String(i.message ?? 'is invalid');
  }
  return { message: String(body?.message ?? 'the request was refused'), fields };
}

export function errorSummary(errors: FormErrors | null | undefined): SafeHtml | '' {
  if (!errors) return '';
  return html`<div class="flash error" role="alert" id="error-summary"><h2>There is a problem</h2><p>${errors.message}</p>
    ${Object.keys(errors.fields).length ? html`<ul>${Object.entries(errors.fields).map(([f, m]) => html`<li><a href="#f-${f.replace(/\W/g, '-')}">${f}: ${m}</a></li>`)}</ul>` : ''}</div>`;
}

export const fieldId = (name: string) => `f-${name.replace(/\W/g, '-')}`;

export function input(opts: {
  name: string;
  label: string;
  value?: string | number | null;
  type?: string;
  required?: boolean;
  hint?: string;
  errors?: FormErrors | null;
  autocomplete?: string;
  attrs?: string;
}): SafeHtml {
  const id = fieldId(opts.name);
  const err = opts.errors?.fields[opts.name];
  const described = [opts.hint ? `${id}-hint` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ');
  return html`<div class="field${err ? ' invalid' : ''}">
    <label for="${id}">${opts.label}${opts.required ? html` <span aria-hidden="true">*</span>` : ''}</label>
    ${opts.hint ? html`<p class="hint" id="${id}-hint">${opts.hint}</p>` : ''}
    ${err ? html`<p class="error" id="${id}-err">${err}</p>` : ''}
    <input id="${id}" name="${opts.name}" type="${opts.type ?? 'text'}" value="${opts.value ?? ''}"${opts.required ? raw(' required') : ''}${
      described ? html` aria-describedby="${described}"` : ''}${err ? raw(' aria-invalid="true"') : ''}${opts.autocomplete ? html` autocomplete="${opts.autocomplete}"` : ''}${opts.attrs ? raw(' ' + opts.attrs) : ''}>
  </div>`;
}

export function select(opts: {
  name: string;
  label: string;
  options: { value: string; label: string }[];
  value?: string | null;
  errors?: FormErrors | null;
  required?: boolean;
  empty?: string;
}): SafeHtml {
  const id = fieldId(opts.name);
  const err = opts.errors?.fields[opts.name];
  return html`<div class="field${err ? ' invalid' : ''}">
    <label for="${id}">${opts.label}</label>
    ${err ? html`<p class="error" id="${id}-err">${err}</p>` : ''}
    <select id="${id}" name="${opts.name}"${opts.required ? raw(' required') : ''}${err ? html` aria-invalid="true" aria-describedby="${id}-err"` : ''}>
      ${opts.empty !== undefined ? html`<option value="">${opts.empty}</option>` : ''}
      ${opts.options.map((o) => html`<option value="${o.value}"${o.value === opts.value ? raw(' selected') : ''}>${o.label}</option>`)}
    </select>
  </div>`;
}

export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

export function stateBadge(state: string): SafeHtml {
  const labels: Record<string, string> = {
    applied: 'On the door',
    pending: 'Pending',
    scheduled: 'Scheduled',
    failed: 'Failed',
    revoking: 'Revoking',
    revoked: 'Revoked',
    'left-valid': 'Still valid (offline code)',
    'waiting-for-slot': 'Waiting for a free slot',
    'not-mapped': 'No doors mapped',
    present: 'On the provider',
    creating: 'Being created',
    updating: 'Updating',
    deleting: 'Being removed',
  };
  return html`<span class="badge s-${state}">${labels[state] ?? state}</span>`;
}

export const CSS = `
:root{--fg:#14171a;--muted:#4a5560;--bg:#fff;--panel:#f4f6f8;--line:#c9d1d9;--accent:#0b57d0;--accent-fg:#fff;--ok:#0a6b2d;--err:#a4161a;--warn:#7a4d00;--focus:#ffbf47}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus,main:focus-visible{outline:3px solid var(--focus);outline-offset:2px;box-shadow:0 0 0 5px var(--fg)}
.skip{position:absolute;left:-999px;top:0;background:var(--fg);color:#fff;padding:.5rem 1rem;z-index:10}
.skip:focus{left:0}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.75rem 1rem;background:#102a43;color:#fff}
header.top a{color:#fff}
.brand{font-weight:700;font-size:1.15rem;text-decoration:none}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem .9rem;list-style:none;margin:0;padding:0}
nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.account{margin-left:auto;display:flex;gap:.5rem;align-items:center}
.role{color:#d9e2ec}
.org-picker label{color:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}
h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:1rem 0 .25rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--panel)}
caption{text-align:left;font-weight:600;padding:.25rem 0}
.table-wrap{overflow-x:auto}
form.inline{display:inline-flex;gap:.4rem;align-items:center;margin:0}
.field{margin:0 0 .9rem}
.field label,fieldset legend{display:block;font-weight:600;margin-bottom:.2rem}
.hint{color:var(--muted);margin:.1rem 0 .3rem;font-size:.92rem}
.error{color:var(--err);font-weight:600;margin:.1rem 0 .3rem}
.invalid input,.invalid select,.invalid textarea{border-color:var(--err);border-width:2px}
input,select,textarea{font:inherit;padding:.45rem .5rem;border:1px solid #6b7785;border-radius:4px;max-width:100%;min-height:2.5rem}
input[type=checkbox],input[type=radio]{min-height:auto;width:1.2rem;height:1.2rem;vertical-align:middle}
fieldset{border:1px solid var(--line);border-radius:6px;padding:.75rem 1rem;margin:0 0 1rem}
.choice{display:flex;gap:.6rem;align-items:flex-start;margin:.35rem 0}
.choice label{font-weight:600}
.choice .hint{display:block;font-weight:400}
button,.button{font:inherit;font-weight:600;padding:.5rem 1rem;border-radius:4px;border:2px solid var(--accent);background:var(--accent);color:var(--accent-fg);cursor:pointer;min-height:2.5rem;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--err);border-color:var(--err)}
.flash{padding:.75rem 1rem;border-radius:6px;margin:0 0 1rem;border-left:6px solid}
.flash.ok{background:#e6f4ea;border-color:var(--ok)}
.flash.error{background:#fdecea;border-color:var(--err)}
.flash h2{margin:0 0 .25rem;font-size:1.1rem}
.panel{background:var(--panel);border-radius:8px;padding:1rem;margin:0 0 1rem}
.inline-form{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin:.25rem 0}
.inline-form label{font-weight:600;display:flex;flex-direction:column;gap:.2rem}
.verdict{padding:.6rem .9rem;border-radius:6px;border-left:6px solid;font-weight:400}
.verdict.ok{background:#e6f4ea;border-color:var(--ok);color:inherit}
.verdict.error{background:#fdecea;border-color:var(--err);color:inherit}
ol.chain{list-style:none;padding:0;margin:.25rem 0 1rem}
ol.chain li{padding:.2rem 0}
ol.chain .link{display:inline-block;min-width:8.5rem;font-weight:600}
ol.chain li.broken .link{color:var(--err)}
ol.chain li.ok .link{color:var(--ok)}
.pin{font:700 2.4rem/1.1 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.25em;margin:.25rem 0}
.pins{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem}
.pins .panel{background:#102a43;color:#fff}
.pins .panel .hint{color:#d9e2ec}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.88rem;font-weight:600;border:1px solid}
.s-applied,.s-present{background:#e6f4ea;color:var(--ok)}
.s-pending,.s-scheduled,.s-creating,.s-updating,.s-revoking,.s-deleting{background:#fff4e0;color:var(--warn)}
.s-failed{background:#fdecea;color:var(--err)}
.s-revoked,.s-not-mapped,.s-cancelled{background:#eef1f4;color:#3d4852}
.s-left-valid,.s-waiting-for-slot{background:#fff4e0;color:var(--warn)}
.s-mail-sent{background:#e6f4ea;color:var(--ok)}
.s-mail-queued{background:#fff4e0;color:var(--warn)}
.s-mail-failed{background:#fdecea;color:var(--err)}
.s-mail-outbox{background:#e8f0fe;color:#0b3d91}
pre.mail{white-space:pre-wrap;word-break:break-word;background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:1rem;font:15px/1.5 ui-monospace,Menlo,Consolas,monospace;max-width:48rem}
textarea{width:100%;max-width:40rem}
.muted{color:var(--muted)}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}
dl.kv dt{font-weight:600}
dl.kv dd{margin:0}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
@media (max-width:40rem){
  header.top{padding:.6rem .75rem}
  .account{margin-left:0}
  main{padding:.75rem}
  .pin{font-size:2rem}
  table.stack thead{position:absolute;left:-9999px}
  table.stack tr{display:block;border:1px solid var(--line);border-radius:6px;margin:0 0 .75rem;padding:.25rem .5rem}
  table.stack td{display:block;border:0;padding:.2rem 0}
  table.stack td::before{content:attr(data-label) ": ";font-weight:600}
  button,.button{width:100%}
  form.inline button{width:auto}
}
`;
