/**
 * A real SMTP server for tests (the `smtp-server` package) on 127.0.0.1: AUTH PLAIN/LOGIN with
 * one account, STARTTLS with the local mail servers' self-signed certificate (src/devtools/mail/certificate.ts), and recipients
 * that misbehave on purpose: `tempfail…@` gets 451 at RCPT, `reject…@` 550, `vanish…@` has
 * its message taken after DATA and never answered (the client's socket timeout ends it).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { selfSignedCertificate } from '../../src/devtools/mail/certificate.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface TestSmtpServer {
  port: number;
  /** The self-signed certificate: trust it as the CA. */
  ca: string;
  user: string;
  password: string;
  received: ReceivedMail[];
  close(): Promise<void>;
}

let certificate: { key: string; cert: string } | undefined;

export async function startSmtpServer(options: { user?: string; password?: string } = {}): Promise<TestSmtpServer> {
  certificate ??= selfSignedCertificate();
  const user = options.user ?? 'rep@acme.test';
  const password = options.password ?? 'app-password-Zq8!xT';
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    key: certificate.key,
    cert: certificate.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) return callback(null, { user });
      const error = Object.assign(new Error('Invalid username or password'), { responseCode: 535 });
      return callback(error);
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('tempfail')) return callback(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 451 }));
      if (address.address.startsWith('reject')) return callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to, raw: Buffer.concat(chunks).toString('utf8') });
        if (to.some((a) => a.startsWith('vanish'))) return; // taken, never answered
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    ca: certificate.cert,
    user,
    password,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
