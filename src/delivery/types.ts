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
  /** Extra headers; the threading ones below win over same-named entries here. */
  headers?: Record<string, string>;
  /**
   * The Message-ID Touchpoint made for this email (no angle brackets; docs/SEQUENCES.md,
   * "Threads"). Every adapter sends it as the `Message-ID` header, so a reply names it.
   */
  messageId?: string;
  /** A reply in a thread: the Message-ID of the email it answers (no angle brackets). */
  inReplyTo?: string;
  /** The thread's Message-IDs, oldest first, ending with `inReplyTo` (no angle brackets). */
  references?: string[];
  /**
   * `false`: Touchpoint tracks this email's opens and clicks itself, so the provider must not
   * add its own pixel or rewrite links (events would be counted twice). Absent: the provider's
   * defaults.
   */
  providerTracking?: boolean;
}

/**
 * The headers every adapter writes for an email: its extra `headers`, then Message-ID,
 * In-Reply-To and References from the typed fields (which win over any same-named header, in
 * any letter case), then List-Unsubscribe when the message has an unsubscribe link.
 */
export function emailHeaders(message: EmailMessage): Record<string, string> {
  const typed: Record<string, string> = {};
  if (message.messageId) typed['Message-ID'] = `<${message.messageId}>`;
  if (message.inReplyTo) typed['In-Reply-To'] = `<${message.inReplyTo}>`;
  if (message.references && message.references.length > 0) typed.References = message.references.map((id) => `<${id}>`).join(' ');
  if (message.unsubscribeUrl) {
    typed['List-Unsubscribe'] = `<${message.unsubscribeUrl}>`;
    typed['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  const overridden = new Set(Object.keys(typed).map((name) => name.toLowerCase()));
  const extra = Object.entries(message.headers ?? {}).filter(([name]) => !overridden.has(name.toLowerCase()));
  return { ...Object.fromEntries(extra), ...typed };
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

/** A rep's own mailbox as the sender needs it: its SMTP login, opened from the sealed store. */
export interface MailboxAccount {
  id: string;
  /** Changes whenever the mailbox's settings do: a pool built for an older version is rebuilt. */
  version: string;
  smtp: { host: string; port: number; secure: boolean; user: string; password: string };
}

/**
 * Sends an email through a mailbox (SMTP). `sent` and `failed` as every adapter; it throws only
 * when the server may have the message without having confirmed it (outcome unknown).
 */
export interface MailboxSender {
  readonly adapter: string;
  send(account: MailboxAccount, message: EmailMessage): Promise<DeliveryResult>;
  /** Closes one mailbox's connections (its settings changed, it was deleted), or all. */
  close(mailboxId?: string): Promise<void>;
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
  /** Email steps of sequences that name `mailboxes` (docs/MAILBOXES.md). */
  mailbox?: MailboxSender;
  ledger?: SendLedger;
}

/**
 * A send the engine is about to make, as a gate sees it (before its intent is written). `key`
 * is the visit's idempotency key: the same visit asking again is the same send.
 */
export interface GateRequest {
  key: string;
  channel: 'email' | 'sms' | 'voice';
  /** The address or number it goes out from (a rate limit's per-sender bucket). */
  sender: string;
  workspaceId: string;
  enrollmentId: string;
}

/**
 * A gate's answer: send now (its slot is taken), or not before `afterMs` from now. A gate that
 * answers `later` either took nothing, or holds what it reserved for that visit's key, so the
 * visit asking again at that time goes at once (docs/ENGINE.md, "Limit-aware claims").
 */
export type Admission =
  | { kind: 'now' }
  | {
      kind: 'later';
      afterMs: number;
      reason: string;
      /**
       * Optional, for a limit with a queue (the rate limits): places for other sends known to
       * go out the same way behind this one (the rest of its step's queue, by visit key: a key
       * already holding a place keeps it, as moved by any slip), answering the ms until each.
       * The engine makes them due at those places without claiming them, so each is claimed
       * once, at its place (docs/ENGINE.md, "Limit-aware claims"). A gate without it (a
       * mailbox's daily cap, say) defers the sends it is asked about only.
       */
      queueBehind?: (keys: string[]) => Promise<number[]>;
    };

/**
 * Asked for a round's sends before their intents: a limited send is deferred (its enrollment's
 * next run set to when the limit has room) instead of waiting inside the round, so it never
 * holds back the round's other sends and is not claimed again before its time. Rate limits are
 * one gate (src/delivery/rateLimited.ts); a mailbox's daily cap fits the same way.
 */
export interface SendGate {
  admit(requests: GateRequest[]): Promise<Admission[]>;
}
