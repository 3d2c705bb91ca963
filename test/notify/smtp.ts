/**
 * A real SMTP server in the test process (smtp-server), reading each message that arrives with
 * mailparser. It can be stopped and started again on the same port to play "SMTP down, then up".
 */
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface TestMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  raw: ParsedMail;
}

export interface TestSmtp {
  port: number;
  /** smtp://user:pass@127.0.0.1:port (or without credentials). */
  url: string;
  mails: TestMail[];
  /** Mails to one address. */
  to(address: string): TestMail[];
  /** Logins seen (user names), to show authentication happened. */
  logins: string[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startSmtp(opts: { user?: string; pass?: string; port?: number; startStopped?: boolean } = {}): Promise<TestSmtp> {
  const mails: TestMail[] = [];
  const logins: string[] = [];
  let server: SMTPServer | null = null;
  let port = opts.port ?? 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = new SMTPServer({
        // Plain SMTP on loopback: no STARTTLS (self-signed), AUTH allowed without TLS.
        disabledCommands: ['STARTTLS'],
        allowInsecureAuth: true,
        authOptional: !opts.user,
        logger: false,
        onAuth(auth, _session, cb) {
          if (auth.username === opts.user && auth.password === opts.pass) {
            logins.push(auth.username!);
            return cb(null, { user: auth.username });
          }
          return cb(new Error('invalid username or password'));
        },
        onData(stream, _session, cb) {
          simpleParser(stream)
            .then((mail) => {
              const to = Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? '');
              mails.push({ to, subject: mail.subject ?? '', text: mail.text ?? '', html: typeof mail.html === 'string' ? mail.html : '', messageId: mail.messageId ?? '', raw: mail });
              cb();
            })
            .catch((err) => cb(err));
        },
      });
      const s = server.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        resolve();
      });
      s.once('error', reject);
    });

  if (opts.startStopped) {
    // Reserve a port number, then leave it closed: connections are refused until start().
    const probe = new SMTPServer({ logger: false });
    await new Promise<void>((resolve) => {
      const s = probe.listen(0, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        probe.close(() => resolve());
      });
    });
  } else {
    await listen();
  }

  const auth = opts.user ? `${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.pass ?? '')}@` : '';
  return {
    get port() {
      return port;
    },
    get url() {
      return `smtp://${auth}127.0.0.1:${port}`;
    },
    mails,
    to: (address) => mails.filter((m) => m.to.includes(address)),
    logins,
    async stop() {
      const s = server;
      server = null;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start: listen,
  };
}
