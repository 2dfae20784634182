/**
 * SendGrid Event Webhook and Inbound Parse → engine events (providers.md §1). Pure: no I/O,
 * and `now` is used only when a payload carries no usable time of its own.
 */
import type { EventType, InboundEvent } from '../core/events.ts';
import { judgeSender, sendgridVerdicts } from './authentication.ts';
import { firstHeader, isAutoReply, messageIds, parseEmailAddress, parseHeaderBlock, replyTargets } from './mailHeaders.ts';
import {
  clip,
  compact,
  fallbackNow,
  isRecord,
  scalar,
  stableHash,
  str,
  validDate,
  type TranslateOptions,
  type TranslateResult,
} from './parse.ts';

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
