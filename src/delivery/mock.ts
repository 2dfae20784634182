/**
 * Mock delivery: the default. Answers like a provider (realistic message ids), records every
 * send, and can be told to fail so tests can walk the retry and error paths.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Channel } from '../core/definition.ts';
import { DEMO_REPLY_TEXT, wantsSimulatedReply } from '../core/demo.ts';
import type { EventType, InboundEvent } from '../core/events.ts';
import type { DeliveryAdapters, DeliveryResult, EmailMessage, SmsMessage, VoiceCall, SendLookup } from './types.ts';

export interface MockSend {
  channel: Channel;
  idempotencyKey: string;
  executionId: string;
  recipient: string;
  providerMessageId: string;
  payload: Record<string, unknown>;
  at: Date;
}

/** An injected failure; `mayHaveSent` plays a live adapter's timeout after its request left (the engine records it unknown). */
export type MockFailure = { retryable: boolean; code?: string; message?: string; retryAfterMs?: number; mayHaveSent?: true };

interface FailureRule {
  channel?: Channel;
  recipient?: string;
  failure: MockFailure;
  remaining: number;
}

export interface MockDeliveryOptions {
  /** Called for every send, e.g. to persist it in `mock_outbox` so other processes can count. */
  onSend?: (send: MockSend) => Promise<void> | void;
  /**
   * Where the mock's record of its sends lives when it is not this process's memory (the
   * `mock_outbox` table), so a worker restarted after a crash can ask what went out.
   */
  findSend?: (idempotencyKey: string) => Promise<{ providerMessageId: string } | undefined>;
  /** Simulated provider latency; 0 answers at once. */
  latencyMs?: number;
  now?: () => Date;
  /**
   * How every mock call ends. With `onEvents`, a dial reports its outcome at once, as Telnyx's
   * webhooks would, so branches on call outcomes move in the embedded demo. Deterministic.
   */
  callOutcome?: 'answered' | 'voicemail' | 'no_answer';
  onEvents?: (events: InboundEvent[]) => Promise<void> | void;
  /**
   * With `onEvents`: an email to an address whose local part ends in `+reply` (the demo data's)
   * is answered by a simulated `email.replied`, as a provider's inbound webhook would report it,
   * this long after the send (0: on the next turn of the event loop, once the send is recorded).
   */
  replyDelayMs?: number;
}

const CALL_EVENTS: Record<NonNullable<MockDeliveryOptions['callOutcome']>, EventType[]> = {
  answered: ['call.answered', 'call.completed'],
  voicemail: ['call.voicemail', 'call.completed'],
  no_answer: ['call.no_answer', 'call.completed'],
};

/** Ids shaped like each provider's: SendGrid's X-Message-Id, Telnyx message and call ids. */
const messageIdFor: Record<Channel, () => string> = {
  email: () => randomBytes(16).toString('base64url').slice(0, 22),
  sms: () => randomUUID(),
  voice: () => `v3:${randomBytes(24).toString('base64url')}`,
};

export class MockDelivery {
  readonly sends: MockSend[] = [];
  private rules: FailureRule[] = [];

  constructor(private readonly options: MockDeliveryOptions = {}) {}

  /** Makes the next `times` sends (optionally on one channel or to one recipient) fail. */
  failNext(failure: MockFailure, filter: { channel?: Channel; recipient?: string; times?: number } = {}): void {
    this.rules.push({ channel: filter.channel, recipient: filter.recipient, failure, remaining: filter.times ?? 1 });
  }

  reset(): void {
    this.sends.length = 0;
    this.rules = [];
  }

  adapters(): DeliveryAdapters {
    return {
      ledger: { lookup: (key) => this.lookup(key) },
      email: {
        adapter: 'mock',
        send: async (m: EmailMessage) => {
          const result = await this.deliver('email', m.to, m, emailPayload(m));
          if (result.kind === 'sent') this.simulateReply(m, result.providerMessageId);
          return result;
        },
      },
      // Mailbox sends in mock mode: recorded like any email, with the mailbox and its From.
      mailbox: {
        adapter: 'mock',
        send: (account, m: EmailMessage) => this.deliver('email', m.to, m, { ...emailPayload(m), from: m.from.email, mailboxId: account.id }),
        close: async () => undefined,
      },
      sms: { adapter: 'mock', send: (m: SmsMessage) => this.deliver('sms', m.to, m, { text: m.text, from: m.from }) },
      voice: {
        adapter: 'mock',
        dial: async (c: VoiceCall) => {
          const result = await this.deliver('voice', c.to, c, { script: c.script, voicemail: c.voicemail });
          if (result.kind === 'sent') await this.reportCall(c, result.providerMessageId);
          return result;
        },
      },
    };
  }

  /** The mock knows for certain what it accepted: the sends it recorded. */
  private async lookup(idempotencyKey: string): Promise<SendLookup> {
    const found =
      this.sends.find((s) => s.idempotencyKey === idempotencyKey) ?? (await this.options.findSend?.(idempotencyKey));
    return found ? { kind: 'sent', providerMessageId: found.providerMessageId } : { kind: 'not_sent' };
  }

  /** Never awaited: the reply arrives after the send, on its own, like a real one. */
  private simulateReply(message: EmailMessage, providerMessageId: string): void {
    const { onEvents } = this.options;
    if (!onEvents || !wantsSimulatedReply(message.to)) return;
    setTimeout(() => {
      const event: InboundEvent = {
        type: 'email.replied',
        providerEventId: `mock:${providerMessageId}:email.replied`,
        provider: 'mock',
        occurredAt: this.options.now?.() ?? new Date(),
        providerMessageId,
        executionId: message.executionId,
        address: { channel: 'email', value: message.to },
        data: { mock: true, subject: `Re: ${message.subject}`, text: DEMO_REPLY_TEXT, from: message.to },
      };
      void Promise.resolve(onEvents([event])).catch(() => undefined);
    }, this.options.replyDelayMs ?? 0).unref?.();
  }

  private async reportCall(call: VoiceCall, providerMessageId: string): Promise<void> {
    const { callOutcome, onEvents } = this.options;
    if (!callOutcome || !onEvents) return;
    const occurredAt = this.options.now?.() ?? new Date();
    await onEvents(
      CALL_EVENTS[callOutcome].map((type) => ({
        type,
        providerEventId: `mock:${providerMessageId}:${type}`,
        provider: 'mock' as const,
        occurredAt,
        providerMessageId,
        executionId: call.executionId,
        address: { channel: 'voice' as const, value: call.to },
        data: { mock: true },
      })),
    );
  }

  private async deliver(
    channel: Channel,
    recipient: string,
    envelope: { idempotencyKey: string; executionId: string },
    payload: Record<string, unknown>,
  ): Promise<DeliveryResult> {
    if (this.options.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    const rule = this.rules.find(
      (r) => r.remaining > 0 && (!r.channel || r.channel === channel) && (!r.recipient || r.recipient === recipient),
    );
    if (rule) {
      rule.remaining -= 1;
      this.rules = this.rules.filter((r) => r.remaining > 0);
      const { failure } = rule;
      return {
        kind: 'failed',
        retryable: failure.retryable,
        code: failure.code ?? (failure.retryable ? '503' : '400'),
        message: failure.message ?? `Mock ${channel} provider refused the send.`,
        retryAfterMs: failure.retryAfterMs,
        ...(failure.mayHaveSent ? { mayHaveSent: true as const } : {}),
      };
    }
    const send: MockSend = {
      channel,
      idempotencyKey: envelope.idempotencyKey,
      executionId: envelope.executionId,
      recipient,
      providerMessageId: messageIdFor[channel](),
      payload,
      at: this.options.now?.() ?? new Date(),
    };
    this.sends.push(send);
    await this.options.onSend?.(send);
    return { kind: 'sent', providerMessageId: send.providerMessageId, metadata: { mock: true } };
  }
}

/** What the mock keeps of an email: what a recipient would see, threading headers included. */
function emailPayload(m: EmailMessage): Record<string, unknown> {
  return {
    subject: m.subject,
    text: m.text,
    ...(m.html !== undefined ? { html: m.html } : {}),
    ...(m.messageId ? { messageId: m.messageId } : {}),
    ...(m.inReplyTo ? { inReplyTo: m.inReplyTo } : {}),
    ...(m.references && m.references.length > 0 ? { references: m.references } : {}),
  };
}
