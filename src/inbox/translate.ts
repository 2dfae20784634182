/**
 * A message read from a mailbox's INBOX, in the engine's words (docs/MAILBOXES.md, "Replies,
 * bounces and auto-replies"): a delivery report → `email.bounced` (hard or soft); an automatic
 * answer → `email.auto_replied` with the day its writer is back; a person's answer →
 * `email.replied` with the text above the quote. The mailbox's own sends, mailing lists and
 * other mail-system notices are skipped. Pure; every event is scoped to the mailbox's workspace.
 */
import { createHash } from 'node:crypto';
import type { InboundEvent } from '../core/events.ts';
import { autoReplyReason, bounceOf, isBulkMail, isDeliveryReport, isSystemSender, parseDeliveryStatus, stripQuoted } from '../core/inboundMail.ts';
import { returnDate } from '../core/returnDates.ts';
import { judgeMailboxSender, trustedAuthenticationResults } from '../webhooks/authentication.ts';
import { clip } from '../webhooks/parse.ts';
import { firstHeader, messageIds, replyTargets } from '../webhooks/mailHeaders.ts';
import type { InboundMail } from './parse.ts';

export interface MailboxRef {
  id: string;
  workspaceId: string;
  fromEmail: string;
  /** The zone a stated return day is read in. */
  zone: string;
  /**
   * The authserv-ids of the mailbox's own server (its `imap.authservId`, else its IMAP host):
   * only an `Authentication-Results` header written by one of them is believed.
   */
  authservIds?: string[];
}

export interface AutoReplySettings {
  /** How long an auto-reply that states no return day pauses (AUTO_REPLY_PAUSE_DAYS). */
  pauseDays: number;
  /** A stated return day further away than this is not believed; the default applies. */
  maxPauseDays: number;
}

export type Translation = { kind: 'event'; event: InboundEvent } | { kind: 'skip'; reason: string };

/**
 * The dedupe key: the message's own Message-ID within the workspace (the same reply copied to
 * two of its mailboxes counts once; a UIDVALIDITY change that renumbers the INBOX re-reads
 * nothing twice), else a hash of its bytes.
 */
export function inboundEventId(workspaceId: string, mail: InboundMail, raw: Buffer | string): string {
  const key = mail.messageId ? `mid:${mail.messageId}` : `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  return `imap:${workspaceId}:${key}`;
}

export function translateInboundMail(
  mail: InboundMail,
  mailbox: MailboxRef,
  args: { raw: Buffer | string; receivedAt: Date; settings: AutoReplySettings },
): Translation {
  const base = {
    provider: 'imap' as const,
    providerEventId: inboundEventId(mailbox.workspaceId, mail, args.raw),
    occurredAt: mail.date && !Number.isNaN(mail.date.getTime()) && mail.date <= args.receivedAt ? mail.date : args.receivedAt,
    workspaceId: mailbox.workspaceId,
  };
  // `from`: who wrote it, for the thread on the timeline (a reply may come from a colleague of the lead's).
  const meta = { mailboxId: mailbox.id, messageId: mail.messageId, subject: mail.subject, from: mail.from };
  if (mail.from && mail.from === mailbox.fromEmail.toLowerCase()) return { kind: 'skip', reason: 'sent by the mailbox itself' };

  if (isDeliveryReport(mail.contentType) || (isSystemSender(mail.from) && mail.deliveryStatus)) {
    const bounce = bounceOf(parseDeliveryStatus(mail.deliveryStatus ?? mail.text ?? ''));
    if (!bounce) return { kind: 'skip', reason: 'a delivery report without a failure' };
    // The bounced message's own id, from the returned headers; some servers thread the report too.
    const returned = mail.returnedHeaders ? messageIds(firstHeader(mail.returnedHeaders, 'message-id')) : [];
    return {
      kind: 'event',
      event: {
        ...base,
        type: 'email.bounced',
        inReplyTo: [...new Set([...returned, ...replyTargets(mail.headers)])],
        ...(bounce.recipient ? { address: { channel: 'email' as const, value: bounce.recipient } } : {}),
        suppress: bounce.bounceType === 'hard',
        transient: bounce.bounceType === 'soft',
        data: compact({ ...meta, bounceType: bounce.bounceType, status: bounce.status, diagnostic: bounce.diagnostic, recipient: bounce.recipient }),
      },
    };
  }
  if (isSystemSender(mail.from)) return { kind: 'skip', reason: 'a mail-system notice that is not a delivery report' };
  if (!mail.from) return { kind: 'skip', reason: 'no sender address' };
  const address = { channel: 'email' as const, value: mail.from };
  const inReplyTo = replyTargets(mail.headers);
  // What the mailbox's server found of SPF, DKIM and DMARC for the From (docs/MAILBOXES.md, "Sender authentication").
  const authentication = judgeMailboxSender(mail.from, trustedAuthenticationResults(mail.headers, mailbox.authservIds ?? []));

  const reason = autoReplyReason(mail.headers, mail.subject, mail.text);
  if (reason) {
    const stated = returnDate(`${mail.subject ?? ''}\n${mail.text ?? ''}`, { receivedAt: args.receivedAt, zone: mailbox.zone, maxDays: args.settings.maxPauseDays });
    const pauseUntil = stated?.at ?? new Date(args.receivedAt.getTime() + args.settings.pauseDays * 86_400_000);
    return {
      kind: 'event',
      event: {
        ...base,
        type: 'email.auto_replied',
        address,
        inReplyTo,
        pauseUntil,
        data: compact({ ...meta, detectedBy: reason, returnDate: stated?.date, pauseUntil: pauseUntil.toISOString(), text: clip(mail.text?.trim()), authentication }),
      },
    };
  }
  if (isBulkMail(mail.headers)) return { kind: 'skip', reason: 'bulk or mailing-list mail' };
  return {
    kind: 'event',
    event: { ...base, type: 'email.replied', address, inReplyTo, data: compact({ ...meta, text: clip(stripQuoted(mail.text ?? '')), authentication }) },
  };
}

function compact(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
}
