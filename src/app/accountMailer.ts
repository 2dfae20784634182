/**
 * Account emails (password reset links, invites) — docs/ACCOUNTS.md, "Account emails". Where
 * one goes out, in order:
 *
 * 1. a **mailbox** of the account's workspace (the invite's; for a reset, the person's
 *    workspaces, oldest membership first): over SMTP, From the mailbox. A mailbox is a real
 *    account an admin added on purpose, so this holds on the mock default too — mock delivery is
 *    about sequences reaching leads, and a colleague's invite is not a demo send;
 * 2. with live delivery, the workspace's own **email connection** (SendGrid or Postmark), else the
 *    deployment's provider (`EMAIL_PROVIDER`), From `EMAIL_FROM` — the same adapter sequences use,
 *    which looks at the workspace's connection first;
 * 3. otherwise nothing is sent: the CLI prints links (`touchpoint users reset-password`).
 *
 * Never logs a link, a token or a password; a failure's sentence comes from the adapter, which
 * redacts the mailbox password.
 */
import { randomUUID } from 'node:crypto';
import type { AccountMail, AccountMailer } from '../accounts/accounts.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { accountMailbox, anyMailboxExists, mailboxSecretContext } from '../db/mailboxes.ts';
import type { EmailMessage, EmailSender, MailboxSender } from '../delivery/types.ts';

export interface AccountMailerParts {
  db: Db;
  config: Config;
  /** The live email adapter (workspace connections first); absent on mock delivery. */
  email?: EmailSender;
  /** Sends through a mailbox over SMTP. */
  smtp: MailboxSender;
  /** Opens a mailbox's sealed password; absent without a key ring. */
  openSecret?: (sealed: string, context: string) => string;
}

export function accountMailer(parts: AccountMailerParts): AccountMailer {
  const { db, config, email, smtp, openSecret } = parts;
  return {
    async canSend() {
      return email !== undefined || (openSecret !== undefined && (await anyMailboxExists(db)));
    },

    async canSendFor(workspaceIds) {
      return email !== undefined || (openSecret !== undefined && (await accountMailbox(db, workspaceIds)) !== undefined);
    },

    async send(mail: AccountMail) {
      // Not an execution of any enrollment: the envelope's ids are fresh, so no webhook about this
      // message can ever match a step.
      const envelope = { idempotencyKey: mail.key, executionId: randomUUID(), enrollmentId: randomUUID() };
      const mailbox = openSecret ? await accountMailbox(db, mail.workspaceIds) : undefined;
      if (mailbox && openSecret) {
        const password = openSecret(mailbox.smtpPasswordSealed, mailboxSecretContext(mailbox.id, 'smtp'));
        const message: EmailMessage = {
          ...envelope,
          workspaceId: mailbox.workspaceId,
          to: mail.to,
          from: { email: mailbox.fromEmail, ...(mailbox.fromName ? { name: mailbox.fromName } : {}) },
          subject: mail.subject,
          text: mail.text,
        };
        const result = await smtp.send({ id: mailbox.id, version: mailbox.updatedAt.toISOString(), smtp: { ...mailbox.smtp, password } }, message);
        if (result.kind === 'failed') throw new Error(`The account email could not be sent through mailbox ${mailbox.name} (${result.code}): ${result.message}`);
        return { via: 'mailbox' as const, from: mailbox.fromEmail };
      }
      if (!email) return undefined;
      const result = await email.send({
        ...envelope,
        // The workspace's own connection when it has one (the adapter picks it), else the deployment's provider.
        workspaceId: mail.workspaceIds[0] ?? randomUUID(),
        to: mail.to,
        from: { email: config.EMAIL_FROM, ...(config.EMAIL_FROM_NAME ? { name: config.EMAIL_FROM_NAME } : {}) },
        subject: mail.subject,
        text: mail.text,
      });
      if (result.kind === 'failed') throw new Error(`The account email could not be sent (${result.code}): ${result.message}`);
      return { via: 'provider' as const, from: config.EMAIL_FROM };
    },
  };
}
