/**
 * The email thread on the lead timeline (docs/DASHBOARD.md, "The thread on the lead timeline"):
 * the timeline's items that share a `threadId` (the Message-ID of the thread's first email) are
 * shown as one conversation — the subject once, then each message in order, sent or received,
 * with what happened to each sent one (delivered, opened, clicked, replied, bounced) as markers.
 * The thread takes the place of its newest item; the rest of the timeline stays around it.
 *
 * Pure: it regroups what the pages loaded so far. A thread whose older messages lie on a page not
 * yet loaded shows what is loaded and grows when "Older items" brings the rest.
 */
import type { TimelineItem } from '../api/types.ts';

/** Events that are a message in the thread (written by someone), not something that happened to one. */
const RECEIVED = new Set(['email.replied', 'email.auto_replied', 'email.reply_unverified']);

export interface ThreadMarker {
  id: string;
  /** The event type, e.g. `email.opened`. */
  type: string;
  /** One or two words: "delivered", "opened", "bounced (hard)". */
  label: string;
  at: string;
}

export interface ThreadMessage {
  item: TimelineItem;
  /** `out`: an email we sent (a step's, or an answer sent by hand); `in`: a reply or auto-reply; `event`: an event whose email is not loaded. */
  direction: 'out' | 'in' | 'event';
  markers: ThreadMarker[];
}

export interface Thread {
  id: string;
  /** The first email's subject without `Re:`. */
  subject: string;
  /** Oldest first, as a mail client lists a conversation. */
  messages: ThreadMessage[];
  /** The newest item's time: where the thread sits on the timeline. */
  at: string;
}

/**
 * What the mailbox's server said of a received message's sender (docs/MAILBOXES.md, "Sender
 * authentication"): a sentence when SPF/DKIM/DMARC failed, else null.
 */
export function unverifiedSender(item: TimelineItem): string | null {
  const auth = (detailsOf(item).authentication ?? null) as { verdict?: string; spf?: string; dkim?: string[]; dmarc?: string; authservId?: string } | null;
  if (item.data.type !== 'email.reply_unverified' && auth?.verdict !== 'fail') return null;
  const said = [auth?.spf ? `SPF ${auth.spf}` : null, auth?.dkim?.length ? `DKIM ${auth.dkim.join(', ')}` : null, auth?.dmarc ? `DMARC ${auth.dmarc}` : null].filter(Boolean);
  return `Sender not verified${auth?.authservId ? ` by ${auth.authservId}` : ''}${said.length ? `: ${said.join('; ')}` : ''}`;
}

export type TimelineEntry = { type: 'item'; item: TimelineItem } | { type: 'thread'; thread: Thread };

/** `Re: Re: Hello` → `Hello` (any run of leading `Re:`, as src/core/threads.ts folds it). */
export function bareSubject(subject: string): string {
  return subject.replace(/^\s*(?:re\s*:\s*)+/i, '').trim();
}

export function markerLabel(type: string, details: Record<string, unknown>): string {
  const word = type.startsWith('email.') ? type.slice('email.'.length).replace(/_/g, ' ') : type;
  if (type === 'email.bounced' && typeof details.bounceType === 'string') return `bounced (${details.bounceType})`;
  return word;
}

const detailsOf = (item: TimelineItem) => (item.data.details ?? {}) as Record<string, unknown>;
const renderedOf = (item: TimelineItem) => (item.data.rendered ?? {}) as Record<string, unknown>;

function buildThread(id: string, items: TimelineItem[]): Thread {
  const oldestFirst = [...items].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const sent = new Map<string, ThreadMessage>();
  const messages: ThreadMessage[] = [];
  for (const item of oldestFirst) {
    // An email we sent: a step's, or an operator's answer from the inbox (an activity in the thread).
    if (item.kind === 'execution' || item.kind === 'activity') {
      const message: ThreadMessage = { item, direction: 'out', markers: [] };
      sent.set(item.id, message);
      messages.push(message);
    }
  }
  for (const item of oldestFirst) {
    if (item.kind !== 'event') continue;
    const type = String(item.data.type);
    const answered = typeof item.data.executionId === 'string' ? sent.get(item.data.executionId) : undefined;
    if (RECEIVED.has(type)) {
      messages.push({ item, direction: 'in', markers: [] });
      // The email it answers says it was answered, where it was sent.
      answered?.markers.push({ id: item.id, type, label: type === 'email.replied' ? 'replied' : type === 'email.auto_replied' ? 'auto-replied' : 'unverified reply', at: item.at });
    } else if (answered) answered.markers.push({ id: item.id, type, label: markerLabel(type, detailsOf(item)), at: item.at });
    else messages.push({ item, direction: 'event', markers: [] });
  }
  messages.sort((a, b) => (a.item.at < b.item.at ? -1 : a.item.at > b.item.at ? 1 : 0));
  const firstSent = messages.find((m) => m.direction === 'out' && m.item.kind === 'execution' && typeof renderedOf(m.item).subject === 'string');
  const anySubject = firstSent ? renderedOf(firstSent.item).subject : messages.map((m) => detailsOf(m.item).subject).find((s) => typeof s === 'string');
  return { id, subject: bareSubject(String(anySubject ?? '')) || '(no subject)', messages, at: oldestFirst[oldestFirst.length - 1]!.at };
}

/**
 * The timeline as entries, newest first: items outside a thread as they are; a thread of two or
 * more items as one entry where its newest item was. A lone email with nothing about it yet stays
 * a plain item: one message is not a conversation.
 */
export function groupThreads(items: TimelineItem[]): TimelineEntry[] {
  const byThread = new Map<string, TimelineItem[]>();
  for (const item of items) {
    if (!item.threadId) continue;
    const list = byThread.get(item.threadId) ?? [];
    list.push(item);
    byThread.set(item.threadId, list);
  }
  const entries: TimelineEntry[] = [];
  const placed = new Set<string>();
  for (const item of items) {
    const members = item.threadId ? byThread.get(item.threadId) : undefined;
    if (!members || members.length < 2) {
      entries.push({ type: 'item', item });
      continue;
    }
    if (placed.has(item.threadId!)) continue;
    placed.add(item.threadId!);
    entries.push({ type: 'thread', thread: buildThread(item.threadId!, members) });
  }
  return entries;
}
