/**
 * Postmark webhooks and inbound JSON → engine events (providers.md §2). Pure: no I/O, and
 * `now` is used only when a payload carries no usable time of its own.
 */
import type { EventType, InboundEvent } from '../core/events.ts';
import { judgeSender, postmarkVerdicts } from './authentication.ts';
import { firstHeader, headerMapFromList, isAutoReply, messageIds, parseEmailAddress, replyTargets } from './mailHeaders.ts';
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

export interface PostmarkOptions extends TranslateOptions {
  /** The `X-PM-Webhook-Trace-Id` header: Postmark keeps it across retries of one delivery. */
  traceId?: string;
}

// Bounce TypeCodes from postmark.js `BounceTypeCode` (providers.md lists Blocked as 16; the SDK
// has Unsubscribe = 16 and Blocked = 100006).
const HARD_BOUNCE = 1;
const UNSUBSCRIBE = 16;
const BAD_EMAIL_ADDRESS = 100000;
const SPAM_COMPLAINT = 100001;

interface Classified {
  type: EventType;
  suppress?: true;
  data: Record<string, unknown>;
}

/**
 * Exit rules match on event type, so only permanent failures may be `email.bounced`: hard bounces,
 * bad addresses, and anything Postmark itself deactivated (`Inactive`: later sends would fail
 * with 406 anyway). Soft, transient, blocked, DNS, spam-filter notices and autoresponders yield
 * nothing: a full mailbox or an out-of-office must not end an enrollment.
 */
function classifyBounce(body: Record<string, unknown>): Classified | undefined {
  const code = typeof body.TypeCode === 'number' ? body.TypeCode : undefined;
  const data = {
    bounceType: str(body.Type),
    typeCode: code,
    description: str(body.Description),
    details: str(body.Details),
  };
  if (code === SPAM_COMPLAINT) return { type: 'email.spam_reported', suppress: true, data };
  // The recipient's server processed an unsubscribe request (e.g. a List-Unsubscribe mailto).
  if (code === UNSUBSCRIBE) return { type: 'email.unsubscribed', suppress: true, data };
  if (code === HARD_BOUNCE || code === BAD_EMAIL_ADDRESS || body.Inactive === true) {
    return { type: 'email.bounced', suppress: true, data };
  }
  return undefined;
}

/**
 * Only suppressions are translated, typed by their reason so an exit rule on `email.unsubscribed`
 * does not fire for a bounce. A reactivation (`SuppressSending: false`) yields nothing: there is no
 * engine event for "resubscribed", and `email.unsubscribed` with `unsuppress` would trip exit rules.
 */
function classifySubscriptionChange(body: Record<string, unknown>): Classified | undefined {
  if (body.SuppressSending !== true) return undefined;
  const reason = str(body.SuppressionReason);
  const data = { suppressionReason: reason, origin: str(body.Origin) };
  if (reason === 'HardBounce') return { type: 'email.bounced', suppress: true, data };
  if (reason === 'SpamComplaint') return { type: 'email.spam_reported', suppress: true, data };
  return { type: 'email.unsubscribed', suppress: true, data };
}

function classify(recordType: string, body: Record<string, unknown>): Classified | undefined {
  switch (recordType) {
    case 'Delivery':
      return { type: 'email.delivered', data: { details: str(body.Details) } };
    case 'Open':
      return {
        type: 'email.opened',
        data: { firstOpen: body.FirstOpen === true, userAgent: str(body.UserAgent) },
      };
    case 'Click':
      return {
        type: 'email.clicked',
        data: { url: str(body.OriginalLink), clickLocation: str(body.ClickLocation) },
      };
    case 'Bounce':
      return classifyBounce(body);
    case 'SpamComplaint':
      return { type: 'email.spam_reported', suppress: true, data: { details: str(body.Details) } };
    case 'SubscriptionChange':
      return classifySubscriptionChange(body);
    default:
      return undefined;
  }
}

function isoDate(value: unknown): Date | undefined {
  const text = str(value);
  return text ? validDate(new Date(text)) : undefined;
}

/** One webhook POST: a single object routed by `RecordType`. Unknown record types yield nothing. */
export function translatePostmarkEvent(body: unknown, options?: PostmarkOptions): TranslateResult {
  if (!isRecord(body)) return { ok: false, error: 'Postmark webhook body is not a JSON object' };
  const recordType = str(body.RecordType);
  if (!recordType) return { ok: false, error: 'Postmark webhook has no RecordType' };
  const classified = classify(recordType, body);
  if (!classified) return { ok: true, events: [] };

  const messageId = str(body.MessageID);
  const when = body.ReceivedAt ?? body.DeliveredAt ?? body.BouncedAt ?? body.ChangedAt;
  const discriminator = scalar(body.ID) ?? str(when);
  const traceId = str(options?.traceId);
  // Postmark sends no event id. Opens and clicks repeat per message, so the time (or the
  // bounce ID) is part of the key; the trace id, when the route has it, is better still.
  const providerEventId = traceId
    ? `postmark:trace:${traceId}`
    : messageId && discriminator
      ? `postmark:${recordType}:${messageId}:${discriminator}`
      : `postmark:${recordType}:h:${stableHash([messageId, discriminator, str(body.Recipient ?? body.Email)])}`;
  const address = parseEmailAddress(body.Recipient) ?? parseEmailAddress(body.Email);
  const metadata = isRecord(body.Metadata) ? body.Metadata : {};
  const executionId = str(metadata.execution_id);

  const event: InboundEvent = {
    type: classified.type,
    providerEventId,
    provider: 'postmark',
    occurredAt: isoDate(when) ?? fallbackNow(options),
    ...(messageId ? { providerMessageId: messageId } : {}),
    ...(executionId ? { executionId } : {}),
    ...(address ? { address: { channel: 'email' as const, value: address } } : {}),
    ...(classified.suppress ? { suppress: true } : {}),
    data: compact({ recordType, messageStream: str(body.MessageStream), ...classified.data }),
  };
  return { ok: true, events: [event] };
}

/**
 * Postmark inbound JSON → one `email.replied` (`email.reply_unverified` when the SPF/DKIM verdicts
 * contradict the From: authentication.ts). Auto-replies yield nothing (see isAutoReply).
 * Postmark's own `MessageID` is the dedupe key: unique per inbound message and stable on retry.
 */
export function translatePostmarkInbound(body: unknown, options?: TranslateOptions): TranslateResult {
  if (!isRecord(body)) return { ok: false, error: 'Postmark inbound body is not a JSON object' };
  const headers = headerMapFromList(body.Headers);
  const fromFull = isRecord(body.FromFull) ? body.FromFull : {};
  const sender = parseEmailAddress(fromFull.Email) ?? parseEmailAddress(body.From);
  if (!sender) return { ok: false, error: 'Postmark inbound email has no parseable sender' };
  if (isAutoReply(headers, sender)) return { ok: true, events: [] };

  const headerMessageId = messageIds(firstHeader(headers, 'message-id'))[0];
  const subject = str(body.Subject);
  const stripped = str(body.StrippedTextReply);
  const text = stripped ?? (typeof body.TextBody === 'string' ? body.TextBody : undefined);
  const id =
    str(body.MessageID) ??
    headerMessageId ??
    `h:${stableHash([sender, str(body.To), subject, str(body.Date), text])}`;

  const authentication = judgeSender(sender, postmarkVerdicts(headers));

  return {
    ok: true,
    events: [
      {
        type: authentication.verdict === 'fail' ? 'email.reply_unverified' : 'email.replied',
        providerEventId: `postmark-inbound:${id}`,
        provider: 'postmark',
        occurredAt: isoDate(body.Date) ?? fallbackNow(options),
        address: { channel: 'email', value: sender },
        inReplyTo: replyTargets(headers),
        data: compact({ messageId: headerMessageId, subject, to: str(body.To), text: clip(text), authentication }),
      },
    ],
  };
}
