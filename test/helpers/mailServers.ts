/**
 * The local mail server pair for tests (src/devtools/mail): a real Dovecot on 127.0.0.1 and an
 * SMTP server that delivers into its Maildirs, sharing one self-signed certificate. Without
 * Dovecot installed the suites that need it skip, except under CI=true, where that fails.
 */
import { selfSignedCertificate } from '../../src/devtools/mail/certificate.ts';
import { findDovecot, startDovecot, type DovecotServer, type MailUser } from '../../src/devtools/mail/dovecot.ts';
import { startLocalSmtp, type LocalSmtpServer } from '../../src/devtools/mail/smtpServer.ts';

export interface MailServers {
  imap: DovecotServer;
  smtp: LocalSmtpServer;
  /** Trust this as the CA of both. */
  ca: string;
  close(): Promise<void>;
}

/** Whether the suites can run; throws under CI when Dovecot is missing. */
export function dovecotAvailable(): boolean {
  if (findDovecot()) return true;
  if (process.env.CI === 'true') throw new Error('Dovecot is not installed (apt-get install dovecot-imapd); under CI=true that fails the run.');
  console.warn('Dovecot is not installed (apt-get install dovecot-imapd); skipping the IMAP suites.');
  return false;
}

export async function startMailServers(users: MailUser[]): Promise<MailServers> {
  const certificate = selfSignedCertificate();
  const imap = await startDovecot({ users, certificate });
  const smtp = await startLocalSmtp({ users, certificate, deliver: (user, raw) => imap.deliver(user, raw) });
  return {
    imap,
    smtp,
    ca: certificate.cert,
    close: async () => {
      await smtp.close();
      await imap.close();
    },
  };
}
