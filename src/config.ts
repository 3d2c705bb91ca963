/**
 * Runtime configuration, from environment variables (documented in the README's configuration
 * reference) with defaults that make `npm start` work on a fresh machine.
 */
import path from 'node:path';

export interface Config {
  databaseUrl: string;
  secretKey?: string;
  keyFile: string;
  host: string;
  port: number;
  demoPort: number;
  logLevel: string;
  /** Trust X-Forwarded-For from these proxies (Fastify `trustProxy`: true, a hop count, or addresses/CIDRs). */
  trustProxy: boolean | string;
  driftCheckMinutes: number;
  /** A claimed sync item is taken over by another worker if its claimer has not finished by then (crashed). */
  claimLeaseSeconds: number;
  /** Concurrent syncs per integration (per worker). */
  laneSize: number;
  /** smtp://user:pass@host:port or smtps://…; unset: e-mails are kept in the local outbox (GET /v1/outbox). */
  smtpUrl?: string;
  /** HTTP SMS gateway (POST JSON {to, text}) for spaces whose PINs go by SMS; unset: SMS stay in the outbox. */
  smsGatewayUrl?: string;
  smsGatewayToken?: string;
  mailFrom: string;
  /** Where alerts about failing integrations go (comma-separated); unset: they stay in the outbox. */
  alertEmails: string[];
  /** How long a notification waits for access to reach the provider before it is sent with a "still being set up" note. */
  notifyGraceSeconds: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.LOCKSTEP_DATABASE_URL ?? './data/lockstep.db';
  const dataDir = /^postgres/.test(databaseUrl) ? './data' : path.dirname(databaseUrl.replace(/^sqlite:/, ''));
  return {
    databaseUrl,
    secretKey: env.LOCKSTEP_SECRET_KEY || undefined,
    keyFile: env.LOCKSTEP_KEY_FILE ?? path.join(dataDir === '.' ? './data' : dataDir, 'secret.key'),
    host: env.LOCKSTEP_HOST ?? '127.0.0.1',
    port: intEnv(env, 'LOCKSTEP_PORT', 3000),
    demoPort: intEnv(env, 'LOCKSTEP_DEMO_PORT', 3001),
    logLevel: env.LOCKSTEP_LOG_LEVEL ?? 'info',
    trustProxy: parseTrustProxy(env.LOCKSTEP_TRUST_PROXY),
    driftCheckMinutes: intEnv(env, 'LOCKSTEP_DRIFT_CHECK_MINUTES', 15),
    claimLeaseSeconds: intEnv(env, 'LOCKSTEP_CLAIM_LEASE_SECONDS', 120),
    laneSize: Math.max(1, intEnv(env, 'LOCKSTEP_LANE_SIZE', 32)),
    smtpUrl: env.LOCKSTEP_SMTP_URL || undefined,
    smsGatewayUrl: env.LOCKSTEP_SMS_GATEWAY_URL || undefined,
    smsGatewayToken: env.LOCKSTEP_SMS_GATEWAY_TOKEN || undefined,
    mailFrom: env.LOCKSTEP_MAIL_FROM || 'Lockstep <lockstep@localhost>',
    alertEmails: (env.LOCKSTEP_ALERT_EMAIL ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    notifyGraceSeconds: intEnv(env, 'LOCKSTEP_NOTIFY_GRACE_SECONDS', 120),
  };
}

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return n;
}

/** LOCKSTEP_TRUST_PROXY: unset/false, true (any proxy), or a comma-separated list of proxy addresses/CIDRs. */
function parseTrustProxy(raw: string | undefined): boolean | string {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  return raw;
}
