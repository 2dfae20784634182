/**
 * The outgoing half of the local mail server pair: a real SMTP server (the `smtp-server`
 * package) on 127.0.0.1 with STARTTLS and AUTH, which delivers into the IMAP server's Maildirs.
 *
 * It behaves as a small mail host does on one port:
 * - mail to a local user (one of the Dovecot users) is accepted without AUTH, as an MX accepts
 *   mail from anyone, and lands in that user's INBOX — so a test (or a newcomer) can place a
 *   reply, a bounce or an out-of-office there exactly as a person's mail client or an MTA would;
 * - mail to anyone else is relayed only for an authenticated user (submission), and since
 *   nothing leaves the machine it is kept in `outbox` instead (the lead's copy of what
 *   Touchpoint sent).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Certificate } from './certificate.ts';
import type { MailUser } from './dovecot.ts';

export interface RelayedMail {
  from: string;
  to: string[];
  raw: string;
  user: string;
}

export interface LocalSmtpServer {
  readonly port: number;
  /** Mail relayed for an authenticated user to non-local recipients (it goes nowhere else). */
  readonly outbox: RelayedMail[];
  /** Called after each relayed message is kept (fake-providers plays the lead from here). */
  onRelay?: (mail: RelayedMail) => void;
  close(): Promise<void>;
}

export interface LocalSmtpOptions {
  users: MailUser[];
  certificate: Certificate;
  /** Places a message in a local user's INBOX. */
  deliver(user: string, raw: string): void;
  port?: number;
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

export async function startLocalSmtp(options: LocalSmtpOptions): Promise<LocalSmtpServer> {
  const local = new Map(options.users.map((u) => [u.user.toLowerCase(), u]));
  const outbox: RelayedMail[] = [];
  const result: { onRelay?: (mail: RelayedMail) => void } = {};
  const server = new SMTPServer({
    secure: false,
    key: options.certificate.key,
    cert: options.certificate.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    size: 25 * 1024 * 1024,
    logger: false,
    onAuth(auth, _session, callback) {
      const user = local.get((auth.username ?? '').toLowerCase());
      if (user && auth.password === user.password) return callback(null, { user: user.user });
      return callback(smtpError('5.7.8 Invalid username or password', 535));
    },
    onRcptTo(address, session, callback) {
      if (local.has(address.address.toLowerCase())) return callback();
      if (session.user) return callback();
      return callback(smtpError('5.7.1 Relaying denied: authenticate first', 554));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(smtpError('5.3.4 Message too big', 552));
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        const remote: string[] = [];
        for (const to of recipients) {
          const user = local.get(to.toLowerCase());
          if (user) options.deliver(user.user, `Return-Path: <${from}>\r\nDelivered-To: ${to}\r\n${raw}`);
          else remote.push(to);
        }
        if (remote.length > 0) {
          const mail = { from, to: remote, raw, user: String(session.user ?? '') };
          outbox.push(mail);
          result.onRelay?.(mail);
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  return Object.assign(result, {
    port: (server.server.address() as AddressInfo).port,
    outbox,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
