/**
 * The local mail server pair of `touchpoint fake-providers`: Dovecot (when installed) and an SMTP
 * server that delivers into its Maildirs, one rep account, and a lead who answers. Each email
 * Touchpoint sends through the rep's mailbox is answered into the rep's INBOX after a delay, by
 * the recipient's address: `ooo…@` sends an out-of-office, `bounce…@` comes back as a hard
 * bounce (an RFC 3464 report), anyone else replies in the thread.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { selfSignedCertificate, type Certificate } from './certificate.ts';
import { findDovecot, startDovecot, type DovecotServer, type MailUser } from './dovecot.ts';
import { startLocalSmtp, type LocalSmtpServer, type RelayedMail } from './smtpServer.ts';

export interface LocalMail {
  rep: MailUser;
  smtp: LocalSmtpServer;
  /** Absent when Dovecot is not installed: sending works, reading the INBOX does not. */
  imap?: DovecotServer;
  certificate: Certificate;
  close(): Promise<void>;
}

function header(raw: string, name: string): string | undefined {
  const block = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  return new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(block.replace(/\r?\n[ \t]+/g, ' '))?.[1]?.trim();
}

/** The lead's answer to one relayed email, as raw RFC 5322 text. */
export function answerTo(mail: RelayedMail, rep: string, now: Date): string {
  const to = mail.to[0] ?? 'lead@example.test';
  const messageId = header(mail.raw, 'Message-ID') ?? `<${randomUUID()}@touchpoint.test>`;
  const subject = header(mail.raw, 'Subject') ?? '';
  const date = now.toUTCString();
  if (/^bounce/i.test(to)) {
    return [
      'From: Mail Delivery System <MAILER-DAEMON@mx.example.test>', `To: ${rep}`, 'Subject: Undelivered Mail Returned to Sender',
      `Message-ID: <${randomUUID()}@mx.example.test>`, `Date: ${date}`, 'Auto-Submitted: auto-replied', 'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="report"', '', '--report', 'Content-Type: text/plain', '',
      `Your message to ${to} could not be delivered.`, '', '--report', 'Content-Type: message/delivery-status', '',
      'Reporting-MTA: dns; mx.example.test', '', `Final-Recipient: rfc822; ${to}`, 'Action: failed', 'Status: 5.1.1',
      'Diagnostic-Code: smtp; 550 5.1.1 User unknown', '', '--report', 'Content-Type: text/rfc822-headers', '',
      `Message-ID: ${messageId}`, `Subject: ${subject}`, '', '--report--', '',
    ].join('\r\n');
  }
  const back = new Date(now.getTime() + 7 * 86_400_000).toISOString().slice(0, 10);
  const ooo = /^ooo/i.test(to);
  return [
    `From: ${to}`, `To: ${rep}`, `Subject: ${ooo ? 'Automatic reply' : 'Re'}: ${subject.replace(/^re:\s*/i, '')}`,
    `Message-ID: <${randomUUID()}@example.test>`, `In-Reply-To: ${messageId}`, `References: ${messageId}`, `Date: ${date}`,
    ...(ooo ? ['Auto-Submitted: auto-replied'] : []), 'Content-Type: text/plain; charset=utf-8', '',
    ooo ? `I am out of the office and back on ${back}.` : 'Thanks, this sounds interesting. Can we talk on Tuesday?',
    '', `On ${date}, ${rep} wrote:`, '> (your email)', '',
  ].join('\r\n');
}

export async function startLocalMail(options: { onAnswer?: (mail: RelayedMail, answer: string) => void; delayMs?: number } = {}): Promise<LocalMail> {
  const certificate = selfSignedCertificate();
  const rep: MailUser = { user: 'rep@touchpoint.test', password: randomBytes(12).toString('base64url') };
  const imap = findDovecot() ? await startDovecot({ users: [rep], certificate }) : undefined;
  const smtp = await startLocalSmtp({ users: [rep], certificate, deliver: (user, raw) => imap?.deliver(user, raw) });
  const timers = new Set<NodeJS.Timeout>();
  if (options.onAnswer && imap) {
    smtp.onRelay = (mail) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        const answer = answerTo(mail, rep.user, new Date());
        imap.deliver(rep.user, answer);
        options.onAnswer?.(mail, answer);
      }, options.delayMs ?? 1000);
      timers.add(timer);
    };
  }
  return {
    rep,
    smtp,
    imap,
    certificate,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await smtp.close();
      await imap?.close();
    },
  };
}
