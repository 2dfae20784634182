/**
 * SendGrid Event Webhook and Inbound Parse → engine events (providers.md §1). Pure: no I/O,
 * and `now` is used only when a payload carries no usable time of its own.
 *
 * The small helpers at the top are shared with postmark.ts and telnyx.ts.
 */
import { createHash } from 'node:crypto';
import type { EventType } from '../core/definition.ts';
import { judgeSender, sendgridVerdicts } from './authentication.ts';
import type { InboundEvent, TranslateResult } from './types.ts';

export interface TranslateOptions {
  /** Fallback for `occurredAt` when the payload has no parseable time. */
  now?: Date;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty trimmed string, or undefined for anything else. */
export function str(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A string or finite number as a string, for hashing fields whose JSON type may vary. */
export function scalar(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : str(value);
}

/** Drops undefined values so stored event data stays tidy JSON. */
export function compact(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
}

/** A dedupe key for payloads without an id: identical payloads (retries) hash identically. */
export function stableHash(parts: ReadonlyArray<string | undefined>): string {
  const hash = createHash('sha256');
  // Length-prefixing keeps ['ab','c'] and ['a','bc'] apart.
  for (const part of parts) hash.update(part === undefined ? '-1:' : `${part.length}:${part}`);
  return hash.digest('hex').slice(0, 32);
}

/**
 * A time a provider reported, if it is one we can store: JavaScript dates reach ±275,760 years,
 * PostgreSQL reads neither a six-digit year nor year 0 and before, so a signed event stamped
 * `+010000-01-01` made every delivery of its batch fail (503, retried forever). Outside
 * 1970–9999 it is no time at all, and the caller falls back to now.
 */
export function validDate(value: Date): Date | undefined {
  const year = value.getUTCFullYear();
  return Number.isFinite(value.getTime()) && year >= 1970 && year <= 9999 ? value : undefined;
}

export function fallbackNow(options: TranslateOptions | undefined): Date {
  const now = options?.now;
  return now instanceof Date && validDate(now) ? now : new Date();
}

/** `"Lee, Ann" <Ann@Acme.test>` or a bare address → `ann@acme.test`. */
export function parseEmailAddress(value: unknown): string | undefined {
  const text = str(value);
  if (!text) return undefined;
  const bracketed = [...text.matchAll(/<([^<>]*)>/g)].pop()?.[1];
  const candidate = (bracketed ?? text).trim().toLowerCase();
  return /^[^\s@<>",]+@[^\s@<>",]+$/.test(candidate) ? candidate : undefined;
}

/** Header names lower-cased, each with all its values in order. */
export type HeaderMap = Map<string, string[]>;

function addHeader(map: HeaderMap, name: string, value: string): void {
  const key = name.trim().toLowerCase();
  if (key === '') return;
  map.set(key, [...(map.get(key) ?? []), value.trim()]);
}

/** A raw RFC 5322 header block; continuation lines (leading whitespace) are unfolded. */
export function parseHeaderBlock(raw: unknown): HeaderMap {
  const map: HeaderMap = new Map();
  if (typeof raw !== 'string') return map;
  const unfolded = raw.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) addHeader(map, line.slice(0, colon), line.slice(colon + 1));
  }
  return map;
}

/** Postmark-style `[{Name, Value}]`. */
export function headerMapFromList(list: unknown): HeaderMap {
  const map: HeaderMap = new Map();
  if (!Array.isArray(list)) return map;
  for (const item of list) {
    if (isRecord(item) && typeof item.Name === 'string' && typeof item.Value === 'string') {
      addHeader(map, item.Name, item.Value);
    }
  }
  return map;
}

export function firstHeader(headers: HeaderMap, name: string): string | undefined {
  return str(headers.get(name)?.[0]);
}

/** Message ids in a header value, angle brackets stripped; bare ids are split on whitespace. */
export function messageIds(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] ?? '');
  const ids = bracketed.length > 0 ? bracketed : value.split(/[\s,]+/);
  return ids.filter((id) => id !== '');
}

/**
 * The ids an inbound email answers, most specific first: In-Reply-To, then References from the
 * newest (last) back to the thread root.
 */
export function replyTargets(headers: HeaderMap): string[] {
  const ids = [
    ...messageIds(firstHeader(headers, 'in-reply-to')),
    ...messageIds(firstHeader(headers, 'references')).reverse(),
  ];
  return [...new Set(ids)];
}

/**
 * Out-of-office notes, autoresponders and bounce notices (RFC 3834 and common de-facto headers).
 * They carry no intent from the lead, so they must not look like a reply to exit rules.
 */
export function isAutoReply(headers: HeaderMap, sender: string | undefined): boolean {
  const autoSubmitted = firstHeader(headers, 'auto-submitted')?.toLowerCase();
  if (autoSubmitted !== undefined && !autoSubmitted.startsWith('no')) return true;
  if (headers.has('x-autoreply') || headers.has('x-autorespond')) return true;
  const precedence = firstHeader(headers, 'precedence')?.toLowerCase();
  if (precedence === 'auto_reply' || precedence === 'bulk' || precedence === 'junk') return true;
  const contentType = firstHeader(headers, 'content-type') ?? '';
  if (/report-type\s*=\s*"?delivery-status/i.test(contentType)) return true;
  return sender !== undefined && /^(mailer-daemon|postmaster)@/.test(sender);
}

/** Keeps the stored reply bounded; the full message stays with the provider. */
export const MAX_REPLY_TEXT = 10_000;

export function clip(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.slice(0, MAX_REPLY_TEXT);
}

// ── Event Webhook ────────────────────────────────────────────────────────────────────────

interface Classified {
  type: EventType;
  suppress?: true;
  data: Record<string, unknown>;
}

/**
 * Only events that say something about the lead become engine events. `processed`, `deferred`
 * and `group_resubscribe` are dropped (the last because no engine event means "resubscribed"
 * and re-using `email.unsubscribed` would trip exit rules).
 */
function classify(item: Record<string, unknown>, event: string): Classified | undefined {
  switch (event) {
    case 'delivered':
      return { type: 'email.delivered', data: { response: str(item.response) } };
    case 'open':
      return {
        type: 'email.opened',
        data: { userAgent: str(item.useragent), ip: str(item.ip), machineOpen: item.sg_machine_open === true },
      };
    case 'click':
      return { type: 'email.clicked', data: { url: str(item.url) } };
    case 'bounce': {
      // `blocked` is SendGrid's temporary rejection (reputation, content, rate); it must not
      // exit an enrollment or suppress a good address, so only true bounces count.
      const bounceType = str(item.type) ?? 'bounce';
      if (bounceType !== 'bounce') return undefined;
      const data = { bounceType: 'hard', status: str(item.status), reason: str(item.reason) };
      return { type: 'email.bounced', suppress: true, data };
    }
    case 'dropped':
      return classifyDropped(str(item.reason));
    case 'spamreport':
      return { type: 'email.spam_reported', suppress: true, data: {} };
    case 'unsubscribe':
      return { type: 'email.unsubscribed', suppress: true, data: {} };
    case 'group_unsubscribe':
      return { type: 'email.unsubscribed', suppress: true, data: { asmGroupId: scalar(item.asm_group_id) } };
    default:
      return undefined;
  }
}

/**
 * A drop means SendGrid refused to send. When the reason is the address itself (on its bounce,
 * unsubscribe or spam list, or invalid) we mirror that state; other reasons (quota, a bad
 * SMTPAPI header) are our own faults and say nothing about the lead.
 */
function classifyDropped(reason: string | undefined): Classified | undefined {
  const r = (reason ?? '').toLowerCase();
  const data = { bounceType: 'dropped', reason };
  if (r.includes('bounce')) return { type: 'email.bounced', suppress: true, data };
  if (r.includes('unsubscribe')) return { type: 'email.unsubscribed', suppress: true, data };
  if (r.includes('spam')) return { type: 'email.spam_reported', suppress: true, data };
  if (/^invalid\b/.test(r) && !r.includes('smtpapi')) return { type: 'email.bounced', suppress: true, data };
  return undefined;
}

function unixSeconds(value: unknown): Date | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? validDate(new Date(n * 1000)) : undefined;
}

/**
 * The Event Webhook body: a JSON array. A non-array body is an error; an item that is not an
 * object, or lacks `event` or `email`, is skipped so one odd item cannot sink a whole batch.
 */
export function translateSendGridEvents(body: unknown, options?: TranslateOptions): TranslateResult {
  if (!Array.isArray(body)) return { ok: false, error: 'SendGrid event body is not a JSON array' };
  const events: InboundEvent[] = [];
  for (const item of body) {
    if (!isRecord(item)) continue;
    const event = str(item.event);
    const email = str(item.email)?.toLowerCase();
    if (!event || !email) continue;
    const classified = classify(item, event);
    if (!classified) continue;

    const sgEventId = str(item.sg_event_id);
    const sgMessageId = str(item.sg_message_id);
    const providerEventId = sgEventId
      ? `sendgrid:${sgEventId}`
      : `sendgrid:h:${stableHash([
          event,
          email,
          scalar(item.timestamp),
          sgMessageId,
          str(item['smtp-id']),
          str(item.type),
          str(item.reason),
          str(item.url),
        ])}`;
    const providerMessageId = str(sgMessageId?.split('.')[0]);
    const executionId = str(item.execution_id);

    events.push({
      type: classified.type,
      providerEventId,
      provider: 'sendgrid',
      occurredAt: unixSeconds(item.timestamp) ?? fallbackNow(options),
      ...(providerMessageId ? { providerMessageId } : {}),
      ...(executionId ? { executionId } : {}),
      address: { channel: 'email', value: email },
      ...(classified.suppress ? { suppress: true } : {}),
      data: compact({ event, ...classified.data }),
    });
  }
  return { ok: true, events };
}

// ── Inbound Parse ────────────────────────────────────────────────────────────────────────

function envelopeSender(envelope: unknown): string | undefined {
  if (typeof envelope !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(envelope);
    return isRecord(parsed) ? parseEmailAddress(parsed.from) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One Inbound Parse POST (multipart fields, already strings). The `From` header names the
 * person; the envelope sender is only a fallback because it is often a bounce address.
 * Auto-replies yield no events: an out-of-office must neither exit "on reply" nor count as one.
 * A From that SendGrid's SPF/DKIM verdicts contradict is `email.reply_unverified` (authentication.ts).
 */
export function translateSendGridInbound(fields: unknown, options?: TranslateOptions): TranslateResult {
  if (!isRecord(fields)) return { ok: false, error: 'SendGrid inbound fields are not an object' };
  const headers = parseHeaderBlock(fields.headers);
  const sender = parseEmailAddress(fields.from) ?? envelopeSender(fields.envelope);
  if (!sender) return { ok: false, error: 'SendGrid inbound email has no parseable sender' };
  if (isAutoReply(headers, sender)) return { ok: true, events: [] };

  const messageId = messageIds(firstHeader(headers, 'message-id'))[0];
  const subject = str(fields.subject);
  const text = typeof fields.text === 'string' ? fields.text : undefined;
  const dateHeader = firstHeader(headers, 'date');
  const providerEventId = `sendgrid-inbound:${
    messageId ?? `h:${stableHash([sender, str(fields.to), subject, dateHeader, text])}`
  }`;

  const authentication = judgeSender(sender, sendgridVerdicts(fields, envelopeSender(fields.envelope)));

  return {
    ok: true,
    events: [
      {
        type: authentication.verdict === 'fail' ? 'email.reply_unverified' : 'email.replied',
        providerEventId,
        provider: 'sendgrid',
        occurredAt: (dateHeader ? validDate(new Date(dateHeader)) : undefined) ?? fallbackNow(options),
        address: { channel: 'email', value: sender },
        inReplyTo: replyTargets(headers),
        data: compact({ messageId, subject, to: str(fields.to), text: clip(text), authentication }),
      },
    ],
  };
}
