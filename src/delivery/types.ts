/**
 * The delivery ports: one small interface per channel, each with a mock and live
 * implementations chosen by a factory from config (DESIGN.md, "Delivery adapters").
 * A send returns a value, never throws for a provider's answer: `sent` or `failed`.
 */

/** What a provider answered. `retryable` steers the executor: retry with backoff, or give up. */
export type DeliveryResult =
  | {
      kind: 'sent';
      providerMessageId: string;
      /** Anything worth keeping on the execution row (provider status, parts, …). */
      metadata?: Record<string, unknown>;
    }
  | {
      kind: 'failed';
      retryable: boolean;
      /** The provider's own code when it gave one (`429`, `406`, `40300`, `timeout`, …). */
      code: string;
      message: string;
      /** From `Retry-After` or rate-limit reset headers, when the provider said. */
      retryAfterMs?: number;
      /**
       * The request may have reached the provider (a timeout or a dropped connection after it
       * was written): nothing proves the message was not taken. The engine never resends such a
       * visit — it records the delivery `unknown` (docs/ENGINE.md, "Crashes: at most once").
       * Absent: the failure proves nothing went out (DNS, connection refused, an HTTP answer).
       */
      mayHaveSent?: true;
    };

/** Fields every outgoing message carries so webhooks can be matched back to the execution. */
export interface Envelope {
  /** enrollment id + step id + visit number; passed to the provider where it accepts one. */
  idempotencyKey: string;
  executionId: string;
  enrollmentId: string;
  workspaceId: string;
  /**
   * When the call must be over, answered or aborted: the executor sets it safely before its
   * lease runs out, so no send can still reach the provider once another worker may take the
   * visit over (docs/ENGINE.md, "Crashes: at most once"). Live adapters abort at it.
   */
  deadline?: Date;
}

export interface EmailMessage extends Envelope {
  to: string;
  from: { email: string; name?: string };
  subject: string;
  text: string;
  html?: string;
  /** One-click unsubscribe (RFC 8058); live adapters add the List-Unsubscribe headers. */
  unsubscribeUrl?: string;
  /** Extra headers, e.g. `In-Reply-To` for a follow-up in the same thread. */
  headers?: Record<string, string>;
}

export interface SmsMessage extends Envelope {
  to: string;
  from: string;
  text: string;
}

export interface VoiceCall extends Envelope {
  to: string;
  from: string;
  /** Spoken to a human who answers. */
  script: string;
  /** Left after the greeting when a machine answers; absent = hang up on machines. */
  voicemail?: string;
}

export interface EmailSender {
  /** Name recorded on the execution row: `mock`, `sendgrid`, `postmark`. */
  readonly adapter: string;
  send(message: EmailMessage): Promise<DeliveryResult>;
}

export interface SmsSender {
  readonly adapter: string;
  send(message: SmsMessage): Promise<DeliveryResult>;
}

/**
 * Places a call. `sent` means the provider accepted the dial; how the call went arrives later
 * as events (`call.answered`, `call.voicemail`, `call.no_answer`, `call.completed`).
 */
export interface VoiceCaller {
  readonly adapter: string;
  dial(call: VoiceCall): Promise<DeliveryResult>;
}

/** What the provider knows of a send we lost track of (a crash between intent and answer). */
export type SendLookup = { kind: 'sent'; providerMessageId: string } | { kind: 'not_sent' };

/**
 * A provider's record of what it accepted, keyed by our idempotency key. Only a provider that
 * can answer with certainty offers one (the mock does); without it, an interrupted send stays
 * `unknown` and is never resent.
 */
export interface SendLedger {
  lookup(idempotencyKey: string): Promise<SendLookup>;
}

export interface DeliveryAdapters {
  email: EmailSender;
  sms: SmsSender;
  voice: VoiceCaller;
  ledger?: SendLedger;
}
