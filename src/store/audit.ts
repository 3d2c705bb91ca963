/**
 * The append-only audit log: who did what to which subject, and why. Callers pass details that are
 * free of secrets; `write` strips any key that looks like one as a second line of defence.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface AuditEntry {
  organisationId: string | null;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  reason?: string | null;
  details?: Record<string, unknown>;
  at?: number;
}

const secretKey = /pin|secret|password|token|apikey|api_key|credential/i;

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = secretKey.test(k) && !/pinId|pinVersion/.test(k) ? '[redacted]' : scrub(v);
    return out;
  }
  return value;
}

export async function writeAudit(db: Kysely<Database>, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  await db
    .insertInto('auditLog')
    .values(
      list.map((e) => ({
        at: e.at ?? Date.now(),
        organisationId: e.organisationId,
        actor: e.actor,
        action: e.action,
        subjectType: e.subjectType,
        subjectId: e.subjectId,
        reason: e.reason ?? null,
        details: JSON.stringify(scrub(e.details ?? {})),
      })),
    )
    .execute();
}
