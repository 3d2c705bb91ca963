import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw } from '../../src/web/html.js';
import { errorsFrom, input, page } from '../../src/web/layout.js';
import { parseInvitees } from '../../src/web/pages/booking-form.js';

describe('HTML escaping', () => {
  it('escapes every character that can break out of text or a quoted attribute', () => {
    expect(escapeHtml(`<script>alert("x")</script>&'\`=`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;&#61;');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });

  it('escapes interpolated values but not the template or nested html', () => {
    const name = '<img src=x onerror=alert(1)>';
    const out = html`<p title="${name}">${name} ${html`<b>${name}</b>`}</p>`.value;
    expect(out).not.toContain('<img');
    expect(out).toBe('<p title="&lt;img src&#61;x onerror&#61;alert(1)&gt;">&lt;img src&#61;x onerror&#61;alert(1)&gt; <b>&lt;img src&#61;x onerror&#61;alert(1)&gt;</b></p>');
  });

  it('joins arrays, drops null/undefined/false, and lets only raw() through unescaped', () => {
    expect(html`${['<a>', html`<i>b</i>`]}${null}${undefined}${false}`.value).toBe('&lt;a&gt;<i>b</i>');
    expect(html`${raw('<br>')}`.value).toBe('<br>');
    // A plain object that merely looks like safe HTML is still escaped.
    expect(html`${{ value: '<x>' } as unknown}`.value).toBe('[object Object]');
  });

  it('escapes what the page frame and form helpers interpolate', () => {
    const evil = '"><script>x()</script>';
    const field = input({ name: 'name', label: evil, value: evil, errors: errorsFrom({ message: evil, issues: [{ path: 'body.name', message: evil }] }) }).value;
    expect(field).not.toContain('<script>');
    expect(field).toContain('aria-invalid="true"');
    const doc = page(evil, { principal: { keyId: 'k', role: 'guest', organisationId: 'o', personId: 'p' }, who: evil, csrf: evil, flash: { kind: 'error', text: evil } }, html`${evil}`);
    expect(doc).not.toContain('<script>');
    expect(doc.startsWith('<!doctype html>')).toBe(true);
  });

  it('reads invitees one per line, as e-mail or Name <e-mail>', () => {
    expect(parseInvitees('bob@example.com\n  "Cy Young" <cy@example.com> ; ,\n')).toEqual([
      { name: 'bob', email: 'bob@example.com' },
      { name: 'Cy Young', email: 'cy@example.com' },
    ]);
    expect(parseInvitees('')).toEqual([]);
  });
});
