/**
 * Email threads (docs/SEQUENCES.md, "Threads"): every email carries a Message-ID Touchpoint
 * makes; an email step without a subject answers the enrollment's previous email, with
 * `Re: <its subject>`, `In-Reply-To` = its Message-ID and `References` = the chain. Pure: the
 * caller brings the random part and the previous email.
 *
 * Message ids are kept without angle brackets (as `messageIds` in webhooks/mailHeaders.ts reads
 * them from a reply); `angle` adds them where a header is written.
 */

/** The previous email of an enrollment, as its execution row remembers it. */
export interface ThreadParent {
  messageId: string;
  subject: string;
  /** The parent's own References (oldest first), without its own id. */
  references: string[];
}

/** What an email says about its place in a thread; `inReplyTo` absent for the first one. */
export interface Threading {
  messageId: string;
  inReplyTo?: string;
  references: string[];
}

/** Thread-starting emails of one enrollment rarely number more than a dozen; a bound keeps a header sane. */
export const MAX_REFERENCES = 50;

/**
 * `<uuid@domain of the sender>`: unique (a random UUID) and anchored in the sender's own
 * domain, as RFC 5322 recommends, so spam filters see a coherent message. A sender address
 * without a usable domain falls back to `touchpoint.invalid`.
 */
export function newMessageId(uuid: string, fromEmail: string): string {
  const domain = fromEmail.slice(fromEmail.lastIndexOf('@') + 1).trim().toLowerCase();
  const usable = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(domain) && domain.includes('.');
  return `${uuid}@${usable ? domain : 'touchpoint.invalid'}`;
}

/**
 * The same Message-ID anchored in another sender's domain: a mailbox send learns its From only
 * when its mailbox is chosen, after the id was made (docs/MAILBOXES.md, "Threads"). The unique
 * part is kept, so a retry through the same mailbox keeps the very same id.
 */
export function withSenderDomain(messageId: string, fromEmail: string): string {
  const at = messageId.lastIndexOf('@');
  return newMessageId(at > 0 ? messageId.slice(0, at) : messageId, fromEmail);
}

/** `Re: <subject>`, never `Re: Re: …`: any run of leading `Re:` (any letter case) is folded into one. */
export function replySubject(previous: string): string {
  const bare = previous.replace(/^\s*(?:re\s*:\s*)+/i, '').trim();
  return `Re: ${bare}`;
}

/** The headers of a reply to `parent`: In-Reply-To its id, References its chain plus its id. */
export function replyThreading(messageId: string, parent: ThreadParent): Threading {
  const chain = [...parent.references.filter((id) => id !== parent.messageId), parent.messageId];
  // Keep the root and the newest: the root identifies the thread, the newest the parent.
  const references = chain.length > MAX_REFERENCES ? [chain[0]!, ...chain.slice(-(MAX_REFERENCES - 1))] : chain;
  return { messageId, inReplyTo: parent.messageId, references };
}

export function angle(id: string): string {
  return `<${id}>`;
}

/** The RFC 5322 header fields of a threading, ready for any adapter. */
export function threadingHeaders(threading: Threading): Record<string, string> {
  const headers: Record<string, string> = { 'Message-ID': angle(threading.messageId) };
  if (threading.inReplyTo) headers['In-Reply-To'] = angle(threading.inReplyTo);
  if (threading.references.length > 0) headers.References = threading.references.map(angle).join(' ');
  return headers;
}

/** Whether an email step answers the previous email (it has no subject of its own). */
export function repliesInThread(step: { type: string; subject?: string }): boolean {
  return step.type === 'email' && (step.subject === undefined || step.subject.trim() === '');
}
