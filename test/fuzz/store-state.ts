/**
 * The whole store as data: every row of every table (found in the database catalogue, so a table
 * added later is covered without touching this file), and the invariants a successful write must
 * keep. Both work the same on SQLite and PostgreSQL.
 */
import { sql, type Kysely } from 'kysely';
import { isValidTimeZone } from '../../src/domain/time.js';
import { sourceSettings, type SourceKind } from '../../src/sources/kinds.js';
import type { StoreKind } from '../support/stores.js';

export type Rows = Record<string, unknown>[];

/**
 * Every row of every table, as the database renders it to JSON (one string per table, built inside
 * the database so a snapshot stays cheap as the store grows); rows are parsed (keys camelCased) and
 * sorted only when a table is looked at or differs.
 */
export class Snapshot {
  private parsed = new Map<string, Rows>();
  private sorted = new Map<string, string[]>();
  constructor(readonly raw: Map<string, string>) {}
  get tables(): string[] {
    return [...this.raw.keys()];
  }
  get(table: string): Rows | undefined {
    const snake = table.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    let rows = this.parsed.get(snake);
    if (!rows) {
      const text = this.raw.get(snake);
      if (text === undefined) return undefined;
      rows = (JSON.parse(text) as Record<string, unknown>[]).map(camelRow);
      this.parsed.set(snake, rows);
    }
    return rows;
  }
  /** The table's rows as JSON text, sorted: equal for equal contents, whatever the scan order. */
  rowTexts(table: string): string[] {
    let texts = this.sorted.get(table);
    if (!texts) {
      texts = (this.get(table) ?? []).map((r) => JSON.stringify(r)).sort();
      this.sorted.set(table, texts);
    }
    return texts;
  }
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
function camelRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[camel(k)] = v;
  return out;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const statements = new WeakMap<object, { table: string; sql: string }[]>();

async function snapshotStatements(db: Kysely<any>, kind: StoreKind): Promise<{ table: string; sql: string }[]> {
  const cached = statements.get(db);
  if (cached) return cached;
  const names = (
    kind === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)).rows
      : (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(db)).rows
  )
    .map((r) => r.name)
    .sort();
  const out: { table: string; sql: string }[] = [];
  for (const t of names) {
    if (kind === 'postgres') {
      out.push({ table: t, sql: `select '${t}' as t, coalesce((select json_agg(x) from ${quoteIdent(t)} x), '[]'::json)::text as j` });
      continue;
    }
    const cols = (await sql.raw<{ name: string }>(`pragma table_info(${quoteIdent(t)})`).execute(db)).rows.map((c) => c.name);
    const pairs = cols.map((c) => `'${c.replace(/'/g, "''")}', ${quoteIdent(c)}`).join(', ');
    out.push({ table: t, sql: `select '${t}' as t, coalesce((select json_group_array(json_object(${pairs})) from ${quoteIdent(t)}), '[]') as j` });
  }
  statements.set(db, out);
  return out;
}

/** Every row of every table (from the catalogue, so a table added later is included). */
export async function snapshot(db: Kysely<any>, kind: StoreKind): Promise<Snapshot> {
  const stmts = await snapshotStatements(db, kind);
  // One round trip on either store: every table's rows as one JSON text each.
  const res = await sql.raw<{ t: string; j: string }>(stmts.map((s) => s.sql).join(' union all ')).execute(db);
  return new Snapshot(new Map(res.rows.map((r) => [r.t, r.j])));
}

export interface TableDiff {
  table: string;
  added: string[];
  removed: string[];
}

/** Rows that differ between two snapshots, per table (a changed row is one removed and one added). */
export function diff(before: Snapshot, after: Snapshot): TableDiff[] {
  const out: TableDiff[] = [];
  for (const t of new Set([...before.tables, ...after.tables])) {
    if (before.raw.get(t) === after.raw.get(t)) continue;
    const b = before.rowTexts(t);
    const a = after.rowTexts(t);
    if (a.length === b.length && a.every((r, i) => r === b[i])) continue;
    const bs = new Set(b);
    const as = new Set(a);
    out.push({ table: t, added: a.filter((r) => !bs.has(r)), removed: b.filter((r) => !as.has(r)) });
  }
  return out;
}

export function describeDiff(d: TableDiff[]): string {
  const cut = (s: string) => (s.length > 400 ? `${s.slice(0, 400)}…` : s);
  return d.map((x) => `  ${x.table}: +${x.added.length} -${x.removed.length}\n${[...x.added.slice(0, 3).map((r) => `    + ${cut(r)}`), ...x.removed.slice(0, 3).map((r) => `    - ${cut(r)}`)].join('\n')}`).join('\n');
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const index = (rows: Rows | undefined, key = 'id') => new Map((rows ?? []).map((r) => [r[key] as string, r]));
const parses = (text: unknown) => {
  try {
    JSON.parse(String(text));
    return true;
  } catch {
    return false;
  }
};

/**
 * The store's consistency rules, checked on a snapshot; returns one line per violation. Foreign keys
 * already guard existence; these add what they cannot: same organisation on both ends, one of two
 * columns set, time order, enums, uniqueness the API promises, settings that still parse.
 */
export function violations(s: Snapshot): string[] {
  const out: string[] = [];
  const bad = (rule: string, row: unknown) => out.push(`${rule}: ${JSON.stringify(row).slice(0, 300)}`);
  const orgs = index(s.get('organisations'));
  const people = index(s.get('people'));
  const spaces = index(s.get('spaces'));
  const locations = index(s.get('locations'));
  const integrations = index(s.get('integrations'));
  const plans = index(s.get('plans'));
  const companies = index(s.get('companies'));
  const bookings = index(s.get('bookings'));
  const sameOrg = (row: Record<string, unknown> | undefined, org: unknown) => !!row && row.organisationId === org;

  for (const b of bookings.values()) {
    if (!sameOrg(people.get(b.organiserId as string), b.organisationId)) bad('booking without its organiser (in its organisation)', b);
    if (!sameOrg(spaces.get(b.spaceId as string), b.organisationId)) bad('booking on a missing space (or another organisation’s)', b);
    if (!(num(b.endsAt)! > num(b.startsAt)!)) bad('booking that does not end after it starts', b);
    if (!Number.isFinite(num(b.startsAt)) || !Number.isFinite(num(b.endsAt))) bad('booking with a non-finite instant', b);
    if (!['pending', 'confirmed', 'cancelled'].includes(b.status as string)) bad('booking with an unknown status', b);
    for (const k of ['bumpInMinutes', 'bumpOutMinutes'] as const) if (!(num(b[k])! >= 0 && num(b[k])! <= 1440)) bad(`booking ${k} outside 0..1440`, b);
    // A source may deliver version 2147483647 and an API edit adds one (bigint since 70bc6c0): any safe integer.
    if (!(Number.isSafeInteger(num(b.sourceVersion)) && num(b.sourceVersion)! >= 0)) bad('booking version not a non-negative integer', b);
  }
  for (const i of s.get('bookingInvitees') ?? []) {
    const b = bookings.get(i.bookingId as string);
    if (!b) bad('invitee of a missing booking', i);
    else if (!sameOrg(people.get(i.personId as string), b.organisationId)) bad('invitee who is not a person of the booking’s organisation', i);
    else if (b.organiserId === i.personId) bad('organiser listed as their own invitee', i);
  }
  for (const sp of spaces.values()) {
    if (!sameOrg(locations.get(sp.locationId as string), sp.organisationId)) bad('space in a missing location (or another organisation’s)', sp);
    for (const k of ['bufferBeforeMinutes', 'bufferAfterMinutes'] as const) if (sp[k] !== null && !(num(sp[k])! >= 0 && num(sp[k])! <= 1440)) bad(`space ${k} outside 0..1440`, sp);
  }
  for (const l of locations.values()) {
    if (!orgs.has(l.organisationId as string)) bad('location of a missing organisation', l);
    if (!isValidTimeZone(l.timeZone as string)) bad('location with an invalid time zone', l);
  }
  const mappingKeys = new Set<string>();
  for (const m of s.get('mappings') ?? []) {
    if (!sameOrg(spaces.get(m.spaceId as string), m.organisationId)) bad('mapping to a missing space (or another organisation’s)', m);
    if (!sameOrg(integrations.get(m.integrationId as string), m.organisationId)) bad('mapping to a missing integration (or another organisation’s)', m);
    const key = `${m.spaceId}\0${m.integrationId}\0${m.targetRef}`;
    if (mappingKeys.has(key)) bad('the same space mapped twice to one target', m);
    mappingKeys.add(key);
  }
  for (const ps of s.get('planSpaces') ?? []) if (plans.get(ps.planId as string)?.organisationId !== spaces.get(ps.spaceId as string)?.organisationId) bad('plan space of another organisation', ps);
  for (const pt of s.get('planTargets') ?? []) if (plans.get(pt.planId as string)?.organisationId !== integrations.get(pt.integrationId as string)?.organisationId) bad('plan target on another organisation’s integration', pt);
  for (const sub of s.get('subscriptions') ?? []) {
    if ((sub.personId === null) === (sub.companyId === null)) bad('subscription without exactly one of person and company', sub);
    if (sub.personId !== null && !sameOrg(people.get(sub.personId as string), sub.organisationId)) bad('subscription of a missing person', sub);
    if (sub.companyId !== null && !sameOrg(companies.get(sub.companyId as string), sub.organisationId)) bad('subscription of a missing company', sub);
    if (!sameOrg(plans.get(sub.planId as string), sub.organisationId)) bad('subscription on a missing plan', sub);
    if (sub.endsAt !== null && !(num(sub.endsAt)! > num(sub.startsAt)!)) bad('subscription that ends before it starts', sub);
  }
  for (const cm of s.get('companyMembers') ?? []) if (companies.get(cm.companyId as string)?.organisationId !== people.get(cm.personId as string)?.organisationId) bad('company member of another organisation', cm);
  const emails = new Set<string>();
  for (const p of people.values()) {
    if (!orgs.has(p.organisationId as string)) bad('person of a missing organisation', p);
    if (p.email !== null) {
      const e = String(p.email);
      if (e !== e.toLowerCase()) bad('person e-mail not stored in lower case (matching is case-insensitive)', p);
      const key = `${p.organisationId}\0${e.toLowerCase()}`;
      if (emails.has(key)) bad('two people with one e-mail in an organisation', p);
      emails.add(key);
    }
    let ext: unknown;
    try {
      ext = JSON.parse(String(p.externalIds));
    } catch {
      ext = undefined;
    }
    if (typeof ext !== 'object' || ext === null || Array.isArray(ext)) bad('person externalIds not a JSON object', p);
  }
  for (const k of s.get('apiKeys') ?? []) {
    if (k.role === 'platform-admin' ? k.organisationId !== null : !orgs.has(k.organisationId as string)) bad('API key with the wrong organisation for its role', k);
    if (k.role === 'guest' ? !sameOrg(people.get(k.personId as string), k.organisationId) : k.personId !== null) bad('API key person does not match its role', k);
    if (!['platform-admin', 'team-admin', 'host', 'guest'].includes(k.role as string)) bad('API key with an unknown role', k);
  }
  for (const i of integrations.values()) {
    if (!['active', 'revoking', 'disconnected'].includes(i.status as string)) bad('integration with an unknown status', i);
    for (const k of ['bufferBeforeMinutes', 'bufferAfterMinutes'] as const) if (!(num(i[k])! >= 0 && num(i[k])! <= 1440)) bad(`integration ${k} outside 0..1440`, i);
    if (i.pinLength !== null && !(num(i.pinLength)! >= 4 && num(i.pinLength)! <= 12)) bad('integration PIN length outside 4..12', i);
  }
  for (const src of s.get('bookingSources') ?? []) {
    const schema = sourceSettings[src.kind as SourceKind];
    let parsedOk = false;
    try {
      parsedOk = !!schema && schema.safeParse(JSON.parse(String(src.settings))).success;
    } catch {
      parsedOk = false;
    }
    if (!parsedOk) bad('booking source whose stored settings no longer pass its kind’s schema', src);
    if ((src.kind === 'ical') !== (src.secretSealed === null)) bad('booking source signing secret does not match its kind', src);
  }
  for (const e of s.get('sourceEvents') ?? []) if (e.bookingId !== null && !bookings.has(e.bookingId as string)) bad('source ledger pointing at a missing booking', e);
  for (const r of s.get('triggerRules') ?? []) {
    const scope = r.scopeType === 'space' ? spaces.get(r.scopeId as string) : integrations.get(r.scopeId as string);
    if (!sameOrg(scope, r.organisationId)) bad('trigger rule for a missing space or integration', r);
  }
  for (const c of s.get('callbackSubscriptions') ?? []) if (c.spaceId !== null && !sameOrg(spaces.get(c.spaceId as string), c.organisationId)) bad('call-back subscription for a missing space', c);
  const cards = new Set<string>();
  for (const c of s.get('accessCards') ?? []) {
    const key = `${c.organisationId}\0${c.cardHash}`;
    if (cards.has(key)) bad('one card number mapped to two e-mails', c);
    cards.add(key);
  }
  for (const a of s.get('auditLog') ?? []) if (!parses(a.details)) bad('audit entry whose details are not JSON', a);
  return out;
}

/** True when any table holds a row whose `id` column is `id`. */
export function stored(s: Snapshot, id: string): boolean {
  return s.tables.some((t) => (s.get(t) ?? []).some((r) => r.id === id));
}
