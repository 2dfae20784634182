/**
 * Telnyx Messaging over plain `fetch` (providers.md §3). The SDK is avoided because it retries
 * sends by itself and messages have no idempotency key: every SDK retry can be a second text.
 */
import { classifyFailure, type FetchLike, field, isSuccess, postJson, TELNYX_PROFILE, trimBaseUrl } from '../http.ts';
import type { DeliveryResult, SmsMessage, SmsSender } from '../types.ts';

export interface TelnyxSmsOptions {
  apiKey: string;
  /** Needed when sending from a number pool; with a plain `from` number it only selects profile settings. */
  messagingProfileId?: string;
  baseUrl?: string;
  /** Per-message delivery webhooks; absent = the messaging profile's webhook URL. */
  webhookUrl?: string;
  timeoutMs?: number;
  /** The engine's clock, which the send deadline is measured by (default: the wall clock). */
  now?: () => number;
  fetch?: FetchLike;
}

export class TelnyxSmsSender implements SmsSender {
  readonly adapter = 'telnyx';
  private readonly apiKey: string;
  private readonly messagingProfileId: string | undefined;
  private readonly baseUrl: string;
  private readonly webhookUrl: string | undefined;
  private readonly timeoutMs: number;
  private readonly now: (() => number) | undefined;
  private readonly fetch: FetchLike | undefined;

  constructor(options: TelnyxSmsOptions) {
    this.apiKey = options.apiKey;
    this.messagingProfileId = options.messagingProfileId;
    this.baseUrl = trimBaseUrl(options.baseUrl ?? 'https://api.telnyx.com');
    this.webhookUrl = options.webhookUrl;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now;
    this.fetch = options.fetch;
  }

  async send(message: SmsMessage): Promise<DeliveryResult> {
    const body: Record<string, unknown> = { from: message.from, to: message.to, text: message.text };
    if (this.messagingProfileId) body.messaging_profile_id = this.messagingProfileId;
    if (this.webhookUrl) body.webhook_url = this.webhookUrl;

    const outcome = await postJson(`${this.baseUrl}/v2/messages`, body, {
      headers: { authorization: `Bearer ${this.apiKey}` },
      timeoutMs: this.timeoutMs,
      deadline: message.deadline,
      now: this.now,
      fetch: this.fetch,
    });
    if (!isSuccess(outcome)) return classifyFailure(outcome, TELNYX_PROFILE, { secrets: [this.apiKey] });

    const data = field(outcome.body, 'data');
    const id = field(data, 'id');
    const recipients = field(data, 'to');
    const metadata = {
      parts: field(data, 'parts'),
      status: Array.isArray(recipients) ? field(recipients[0], 'status') : undefined,
    };
    if (typeof id === 'string' && id !== '') return { kind: 'sent', providerMessageId: id, metadata };
    // Telnyx has no client reference on messages, so without data.id no webhook will match;
    // still an acceptance, and a resend would text the lead twice.
    return {
      kind: 'sent',
      providerMessageId: `telnyx:${message.idempotencyKey}`,
      metadata: { ...metadata, missingProviderMessageId: true },
    };
  }
}
