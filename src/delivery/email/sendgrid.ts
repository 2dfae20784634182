/**
 * SendGrid v3 Mail Send over plain `fetch` (providers.md §1). The SDK is avoided because
 * `setApiKey` resets the base URL, which would send test traffic to the real API.
 */
import { textToHtml } from '../../core/emailBody.ts';
import { classifyFailure, type FetchLike, isSuccess, postJson, SENDGRID_PROFILE, trimBaseUrl } from '../http.ts';
import { type DeliveryResult, type EmailMessage, type EmailSender, emailHeaders } from '../types.ts';

export interface SendGridOptions {
  apiKey: string;
  /** `https://api.eu.sendgrid.com` for EU-pinned subusers; a fake's URL in tests. */
  baseUrl?: string;
  timeoutMs?: number;
  /** The engine's clock, which the send deadline is measured by (default: the wall clock). */
  now?: () => number;
  fetch?: FetchLike;
}

export class SendGridEmailSender implements EmailSender {
  readonly adapter = 'sendgrid';
  private readonly apiKey: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly now: (() => number) | undefined;
  private readonly fetch: FetchLike | undefined;

  constructor(options: SendGridOptions) {
    this.apiKey = options.apiKey;
    this.baseUrl = trimBaseUrl(options.baseUrl ?? 'https://api.sendgrid.com');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now;
    this.fetch = options.fetch;
  }

  async send(message: EmailMessage): Promise<DeliveryResult> {
    const outcome = await postJson(`${this.baseUrl}/v3/mail/send`, toSendGridMail(message), {
      headers: { authorization: `Bearer ${this.apiKey}` },
      timeoutMs: this.timeoutMs,
      deadline: message.deadline,
      now: this.now,
      fetch: this.fetch,
    });
    if (!isSuccess(outcome)) return classifyFailure(outcome, SENDGRID_PROFILE, { secrets: [this.apiKey] });

    const messageId = outcome.headers.get('x-message-id');
    if (messageId) return { kind: 'sent', providerMessageId: messageId, metadata: { status: outcome.status } };
    // Accepted but unnamed: resending would duplicate the email, so keep a stable id of our own.
    // Events can still be matched through custom_args.execution_id.
    return {
      kind: 'sent',
      providerMessageId: `sendgrid:${message.idempotencyKey}`,
      metadata: { status: outcome.status, missingProviderMessageId: true },
    };
  }
}

/** The Mail Send body. Custom args ride at message level so every event carries them flattened. */
export function toSendGridMail(message: EmailMessage): Record<string, unknown> {
  // Always both parts: a message without HTML gets the plain-looking HTML of its text.
  const content = [
    { type: 'text/plain', value: message.text },
    { type: 'text/html', value: message.html ?? textToHtml(message.text) },
  ];

  const headers = emailHeaders(message);

  return {
    personalizations: [{ to: [{ email: message.to }] }],
    from: message.from.name ? { email: message.from.email, name: message.from.name } : { email: message.from.email },
    subject: message.subject,
    content,
    custom_args: {
      execution_id: message.executionId,
      enrollment_id: message.enrollmentId,
      workspace_id: message.workspaceId,
      idempotency_key: message.idempotencyKey,
    },
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(message.providerTracking === false
      ? { tracking_settings: { click_tracking: { enable: false, enable_text: false }, open_tracking: { enable: false } } }
      : {}),
  };
}
