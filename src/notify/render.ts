/**
 * Turns a message described as data (paragraphs, labelled detail rows, a note) into its plain-text and
 * HTML parts. Every value is escaped here, once, so a guest named `<b>` cannot inject markup, and the
 * secrets a message carries are known so a redacted copy can be shown in lists (made when read:
 * src/notify/outbox.ts).
 */
export interface MessageSection {
  heading?: string;
  rows: [label: string, value: string][];
  /** An image shown under the rows in the HTML part only (e.g. a QR code as a data: URL; sent inline). */
  image?: { src: string; alt: string; width: number };
}

export interface MessageContent {
  subject: string;
  greeting: string;
  paragraphs: string[];
  sections: MessageSection[];
  /** Shown highlighted: access still being set up, a code that keeps working, … */
  note?: string;
  /** PINs and codes in this message; the redacted copy replaces them. */
  secrets: string[];
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
  /** The PINs and codes it carries, longest first: redactText/redactHtml mask them for a redacted copy. */
  secrets: string[];
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** "Tue 1 Dec 2026, 09:00 (Europe/London)": the door's own wall clock, with the zone named. */
export function localTime(ms: number, zone: string): string {
  return `${wallClock(ms, zone).dateTime} (${zone})`;
}

/** A window whose ends share a day reads "Tue 1 Dec 2026, 09:00 – 11:00 (Europe/London)". */
export function localWindow(from: number, until: number | null, zone: string): string {
  if (until === null) return `from ${localTime(from, zone)}, no end date`;
  const a = wallClock(from, zone);
  const b = wallClock(until, zone);
  return `${a.dateTime} – ${a.day === b.day ? b.time : b.dateTime} (${zone})`;
}

// Every message formats several times; luxon builds a DateTime and a formatter per call (5% of the
// engine process's CPU under load). One Intl formatter per zone gives the same en-GB text.
const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(ms: number, zone: string): { dateTime: string; time: string; day: string } {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(zone, f);
  }
  const p: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of f.formatToParts(ms)) p[part.type] = part.value;
  const time = `${p.hour}:${p.minute}`;
  return { dateTime: `${p.weekday} ${p.day} ${p.month} ${p.year}, ${time}`, time, day: `${p.year}-${p.month}-${p.day}` };
}

const MASK = '••••••';

/** A message's secrets as the redacted copies mask them: distinct, non-empty, longest first. */
export function secretList(secrets: string[]): string[] {
  return [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
}

/** `text` with every secret masked (`secrets` from secretList). */
export function redactText(text: string, secrets: string[]): string {
  return secrets.reduce((acc, secret) => acc.split(secret).join(MASK), text);
}

/** `html` with every secret masked, as it appears there (escaped). */
export function redactHtml(html: string, secrets: string[]): string {
  return redactText(html, secrets.map(escapeHtml));
}

export function render(content: MessageContent): RenderedMessage {
  const text = toText(content);
  const html = toHtml(content);
  return { subject: content.subject, text, html, secrets: secretList(content.secrets) };
}

function toText(c: MessageContent): string {
  const lines = [c.greeting, ''];
  for (const p of c.paragraphs) lines.push(p, '');
  if (c.note) lines.push(`NOTE: ${c.note}`, '');
  for (const s of c.sections) {
    if (s.heading) lines.push(s.heading);
    for (const [label, value] of s.rows) lines.push(`  ${label}: ${value}`);
    lines.push('');
  }
  lines.push('— Lockstep');
  return lines.join('\n');
}

function toHtml(c: MessageContent): string {
  const e = escapeHtml;
  const parts = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>${e(c.subject)}</title></head>`,
    '<body style="font-family:system-ui,sans-serif;color:#1a1a1a;line-height:1.5;max-width:40em">',
    `<p>${e(c.greeting)}</p>`,
    ...c.paragraphs.map((p) => `<p>${e(p)}</p>`),
  ];
  if (c.note) parts.push(`<p role="note" style="background:#fff4d6;border-left:4px solid #b7791f;padding:.5em 1em"><strong>Note:</strong> ${e(c.note)}</p>`);
  for (const s of c.sections) {
    if (s.heading) parts.push(`<h2 style="font-size:1.1em">${e(s.heading)}</h2>`);
    parts.push('<table role="presentation" style="border-collapse:collapse">');
    for (const [label, value] of s.rows) {
      parts.push(`<tr><th scope="row" style="text-align:left;padding:.2em 1em .2em 0;font-weight:600">${e(label)}</th><td>${e(value)}</td></tr>`);
    }
    parts.push('</table>');
    if (s.image) parts.push(`<p><img src="${e(s.image.src)}" alt="${e(s.image.alt)}" width="${s.image.width}" height="${s.image.width}"></p>`);
  }
  parts.push('<p style="color:#555">— Lockstep</p></body></html>');
  return parts.join('\n');
}
