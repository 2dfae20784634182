/**
 * Postmark single send over plain `fetch` (providers.md §2).
 */
import { textToHtml } from '../../core/emailBody.ts';
import { classifyFailure, type FetchLike, field, isSuccess, POSTMARK_PROFILE, postJson, trimBaseUrl } from '../http.ts';
import { type DeliveryResult, type EmailMessage, type EmailSender, emailHeaders } from '../types.ts';

export interface PostmarkOptions {
  serverToken: string;
  baseUrl?: string;
  /** `outbound` is Postmark's transactional stream; a broadcast stream needs its own unsubscribe handling. */
  messageStream?: string;
  timeoutMs?: number;
  /** The engine's clock, which the send deadline is measured by (default: the wall clock). */
  now?: () => number;
  fetch?: FetchLike;
}

export class PostmarkEmailSender implements EmailSender {
  readonly adapter = 'postmark';
  private readonly serverToken: string;
  private readonly baseUrl: string;
  private readonly messageStream: string;
  private readonly timeoutMs: number;
  private readonly now: (() => number) | undefined;
  private readonly fetch: FetchLike | undefined;

  constructor(options: PostmarkOptions) {
    this.serverToken = options.serverToken;
    this.baseUrl = trimBaseUrl(options.baseUrl ?? 'https://api.postmarkapp.com');
    this.messageStream = options.messageStream ?? 'outbound';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now;
    this.fetch = options.fetch;
  }

  async send(message: EmailMessage): Promise<DeliveryResult> {
    const outcome = await postJson(`${this.baseUrl}/email`, toPostmarkEmail(message, this.messageStream), {
      headers: { 'x-postmark-server-token': this.serverToken },
      timeoutMs: this.timeoutMs,
      deadline: message.deadline,
      now: this.now,
      fetch: this.fetch,
    });
    if (!isSuccess(outcome)) return classifyFailure(outcome, POSTMARK_PROFILE, { secrets: [this.serverToken] });

    const messageId = field(outcome.body, 'MessageID');
    const submittedAt = field(outcome.body, 'SubmittedAt');
    if (typeof messageId === 'string' && messageId !== '') {
      return { kind: 'sent', providerMessageId: messageId, metadata: { submittedAt } };
    }
    // Same policy as SendGrid: a 2xx is an acceptance, and a resend would be a duplicate.
    return {
      kind: 'sent',
      providerMessageId: `postmark:${message.idempotencyKey}`,
      metadata: { submittedAt, missingProviderMessageId: true },
    };
  }
}

export function toPostmarkEmail(message: EmailMessage, messageStream: string): Record<string, unknown> {
  const headers = Object.entries(emailHeaders(message)).map(([Name, Value]) => ({ Name, Value }));

  return {
    From: formatAddress(message.from.email, message.from.name),
    To: message.to,
    Subject: message.subject,
    TextBody: message.text,
    // Always both parts: a message without HTML gets the plain-looking HTML of its text.
    HtmlBody: message.html ?? textToHtml(message.text),
    MessageStream: messageStream,
    // Postmark's own tracking, unless Touchpoint tracks this email itself (counted once, not twice).
    TrackOpens: message.providerTracking !== false,
    TrackLinks: message.providerTracking === false ? 'None' : 'HtmlAndText',
    // Postmark wants metadata small (its docs speak of 80-character values, unverified here),
    // and an idempotency key can outgrow that; the execution id alone identifies the send.
    Metadata: {
      execution_id: message.executionId,
      enrollment_id: message.enrollmentId,
      workspace_id: message.workspaceId,
    },
    ...(headers.length > 0 ? { Headers: headers } : {}),
  };
}

/** `Name <email>`, quoting the name when it holds characters RFC 5322 reserves (`Doe, Jane`). */
export function formatAddress(email: string, name?: string): string {
  if (!name) return email;
  const plain = /^[\p{L}\p{N} !#$%&'*+\-/=?^_`{|}~]+$/u.test(name);
  return plain ? `${name} <${email}>` : `"${name.replace(/["\\]/g, '\\$&')}" <${email}>`;
}
