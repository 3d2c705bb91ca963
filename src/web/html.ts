/**
 * HTML building with escaping by default: every value interpolated into `html\`…\`` is escaped unless
 * it is itself the result of `html` (or `raw`, used only for markup this module builds).
 */

const RAW = Symbol('lockstep.raw-html');

export interface SafeHtml {
  readonly [RAW]: true;
  readonly value: string;
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;', '=': '&#61;' };

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"'`=]/g, (c) => entities[c]);
}

/** Marks trusted markup. Never pass user input. */
export function raw(markup: string): SafeHtml {
  return { [RAW]: true, value: markup };
}

export function isSafe(v: unknown): v is SafeHtml {
  return typeof v === 'object' && v !== null && (v as SafeHtml)[RAW] === true;
}

function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  if (isSafe(v)) return v.value;
  return escapeHtml(v);
}

/** Tagged template: literal parts are trusted, every interpolated value is escaped (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return raw(out);
}

export const toString = (v: SafeHtml) => v.value;
