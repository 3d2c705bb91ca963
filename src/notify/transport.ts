/**
 * Sending e-mail over SMTP (nodemailer). Errors are turned into text that is safe to store and log:
 * the SMTP URL's user and password never appear in it.
 */
import nodemailer from 'nodemailer';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per outbox row, so a receiver can drop the rare duplicate after a crash mid-send. */
  messageId: string;
}

export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
  /** Where mail goes, without credentials (logs, status). */
  describe: string;
}

export function smtpTransport(url: string, opts: { timeoutMs?: number } = {}): MailTransport {
  const parsed = new URL(url);
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw new Error('LOCKSTEP_SMTP_URL must start with smtp:// or smtps://');
  const secrets = [parsed.password, decodeURIComponent(parsed.password)].filter((s) => s.length > 0);
  const timeout = opts.timeoutMs ?? 20_000;
  const transporter = nodemailer.createTransport({
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : parsed.protocol === 'smtps:' ? 465 : 587,
    secure: parsed.protocol === 'smtps:',
    auth: parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // nodemailer's own logger is off: it would print message bodies (and so PINs).
    logger: false,
    debug: false,
  });
  return {
    describe: `${parsed.protocol}//${parsed.host}`,
    async send(mail) {
      try {
        // attachDataUrls: an inline data: image (the check-in QR code) goes as a cid: attachment,
        // which mail clients show where they block data: URLs.
        await transporter.sendMail({ ...mail, messageId: mail.messageId, attachDataUrls: true });
      } catch (err) {
        throw new Error(safeSmtpError(err, secrets));
      }
    },
    close: () => transporter.close(),
  };
}

/** "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:2525", with credentials cut out and length bounded. */
export function safeSmtpError(err: unknown, secrets: string[]): string {
  const e = err as { code?: string; responseCode?: number; message?: string };
  let text = `${e?.code ?? 'error'}${e?.responseCode ? ` ${e.responseCode}` : ''}: ${e?.message ?? String(err)}`;
  for (const s of secrets) text = text.split(s).join('[redacted]');
  return text.replace(/\/\/[^@\s/]+@/g, '//[redacted]@').slice(0, 300);
}
