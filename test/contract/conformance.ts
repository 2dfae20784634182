/**
 * The delivery conformance suite: what every EmailSender, SmsSender and VoiceCaller must do,
 * written once. A harness says how to provoke each failure on its adapter (a fake provider's
 * fault injection, a mock's failNext) and what the provider-specific code should be.
 */
import { beforeEach, afterEach, describe, expect, test } from 'vitest';
import type {
  DeliveryResult,
  EmailMessage,
  EmailSender,
  Envelope,
  SmsMessage,
  SmsSender,
  VoiceCall,
  VoiceCaller,
} from '../../src/delivery/types.ts';

export type FailureScenario =
  /** The provider refuses the payload itself (400/422). */
  | 'invalid-request'
  /** Wrong credentials (401). */
  | 'unauthorized'
  /** 429 with `Retry-After: 7`. */
  | 'rate-limited-retry-after'
  /** 429 with the provider's rate-limit reset header, or with none if the provider sends none. */
  | 'rate-limited-reset'
  | 'server-error'
  | 'unavailable'
  /** No answer within the sender's deadline. */
  | 'timeout'
  /** The provider refuses this recipient for good (Postmark 406, Telnyx 40300). */
  | 'recipient-blocked';

export interface ScenarioExpectation<Message> {
  /** The code the failure must carry; absent = any non-empty code. */
  code?: string;
  /** Inclusive range for retryAfterMs; `null` = must be absent; absent = not checked. */
  retryAfterMs?: { min: number; max: number } | null;
  /** Changes the message so the provider refuses it (e.g. a malformed address). */
  alter?: (message: Message) => Message;
}

export interface ConformanceHarness<Sender, Message> {
  /** Called after `arrange`, so a scenario may change how the sender is built (a wrong key). */
  sender(options: { timeoutMs: number }): Sender;
  message(): Message;
  /** Sets up the next send to meet the scenario; `undefined` = the provider has no such failure (skipped). */
  arrange(scenario: FailureScenario): ScenarioExpectation<Message> | undefined;
  /** Provider-side checks after a successful send: the wire format, for live adapters. */
  verifySent(message: Message, providerMessageId: string): void | Promise<void>;
  /** Credentials that must never appear in a failure message. */
  secrets?: readonly string[];
  close?(): void | Promise<void>;
}

/** Sample messages a harness can hand out; live harnesses assert their wire form. */
export const envelope: Envelope = {
  idempotencyKey: 'enr_7f3a:intro-email:1',
  executionId: 'exe_01HZX4',
  enrollmentId: 'enr_7f3a',
  workspaceId: 'ws_acme',
};

export function emailMessage(): EmailMessage {
  return {
    ...envelope,
    to: 'lee@acme.test',
    from: { email: 'sales@us.test', name: 'Dana at Us' },
    subject: 'Quick question, Lee',
    text: 'Hi Lee, …',
    html: '<p>Hi Lee, …</p>',
    unsubscribeUrl: 'https://app.test/u/tok_123',
    headers: { 'In-Reply-To': '<prev@us.test>' },
  };
}

export function smsMessage(): SmsMessage {
  return { ...envelope, to: '+15552223333', from: '+15550001111', text: 'Hi Lee, Dana here.' };
}

export function voiceCall(): VoiceCall {
  return { ...envelope, to: '+15552223333', from: '+15550001111', script: 'Hi Lee, this is Dana.' };
}

type Setup<Sender, Message> = () => ConformanceHarness<Sender, Message> | Promise<ConformanceHarness<Sender, Message>>;

export function describeEmailSenderConformance(name: string, setup: Setup<EmailSender, EmailMessage>): void {
  describeConformance(`EmailSender conformance: ${name}`, setup, (sender, message) => sender.send(message));
}

export function describeSmsSenderConformance(name: string, setup: Setup<SmsSender, SmsMessage>): void {
  describeConformance(`SmsSender conformance: ${name}`, setup, (sender, message) => sender.send(message));
}

export function describeVoiceCallerConformance(name: string, setup: Setup<VoiceCaller, VoiceCall>): void {
  describeConformance(`VoiceCaller conformance: ${name}`, setup, (caller, call) => caller.dial(call));
}

/** Long enough never to fire by accident; the timeout scenario uses its own short deadline. */
const NORMAL_DEADLINE_MS = 10_000;
const SHORT_DEADLINE_MS = 200;

interface ScenarioRule {
  scenario: FailureScenario;
  title: string;
  retryable: boolean;
  code?: string;
  deadlineMs?: number;
  /** The request may have reached the provider: the engine records such a send unknown, never resends it. */
  mayHaveSent?: true;
}

const RULES: readonly ScenarioRule[] = [
  { scenario: 'invalid-request', title: 'a rejected payload is a permanent failure with the provider code', retryable: false },
  { scenario: 'unauthorized', title: 'bad credentials are a permanent failure', retryable: false },
  { scenario: 'rate-limited-retry-after', title: '429 with Retry-After is retryable with retryAfterMs', retryable: true },
  { scenario: 'rate-limited-reset', title: '429 with the rate-limit reset header is retryable', retryable: true },
  { scenario: 'server-error', title: '500 is retryable', retryable: true },
  { scenario: 'unavailable', title: '503 is retryable', retryable: true },
  {
    scenario: 'timeout',
    title: 'no answer within the deadline is a timeout that may have been sent (never resent blindly)',
    retryable: true,
    code: 'timeout',
    mayHaveSent: true,
    deadlineMs: SHORT_DEADLINE_MS,
  },
  { scenario: 'recipient-blocked', title: 'a blocked recipient is a permanent failure', retryable: false },
];

function describeConformance<Sender extends { readonly adapter: string }, Message>(
  title: string,
  setup: Setup<Sender, Message>,
  deliver: (sender: Sender, message: Message) => Promise<DeliveryResult>,
): void {
  describe(title, () => {
    let harness: ConformanceHarness<Sender, Message>;

    beforeEach(async () => {
      harness = await setup();
    });

    afterEach(async () => {
      await harness.close?.();
    });

    test('success returns sent with the provider id, and the provider saw the right request', async () => {
      const sender = harness.sender({ timeoutMs: NORMAL_DEADLINE_MS });
      expect(sender.adapter).toMatch(/^[a-z]+$/);
      const message = harness.message();
      const result = await deliver(sender, message);
      if (result.kind !== 'sent') throw new Error(`expected sent, got ${JSON.stringify(result)}`);
      expect(result.providerMessageId).not.toBe('');
      await harness.verifySent(message, result.providerMessageId);
    });

    for (const rule of RULES) {
      test(rule.title, async (context) => {
        const expectation = harness.arrange(rule.scenario);
        if (!expectation) {
          context.skip(`the provider has no '${rule.scenario}' failure`);
          return;
        }
        const sender = harness.sender({ timeoutMs: rule.deadlineMs ?? NORMAL_DEADLINE_MS });
        const base = harness.message();
        const result = await deliver(sender, expectation.alter ? expectation.alter(base) : base);
        if (result.kind !== 'failed') throw new Error(`expected failed, got ${JSON.stringify(result)}`);

        expect(result.retryable).toBe(rule.retryable);
        // Only a failure after the request may have left says so; an HTTP answer proves what happened.
        expect(result.mayHaveSent).toBe(rule.mayHaveSent);
        const code = rule.code ?? expectation.code;
        if (code) expect(result.code).toBe(code);
        else expect(result.code).not.toBe('');
        expect(result.message.length).toBeGreaterThan(0);
        for (const secret of harness.secrets ?? []) expect(result.message).not.toContain(secret);

        if (expectation.retryAfterMs === null) expect(result.retryAfterMs).toBeUndefined();
        else if (expectation.retryAfterMs) {
          expect(result.retryAfterMs).toBeGreaterThanOrEqual(expectation.retryAfterMs.min);
          expect(result.retryAfterMs).toBeLessThanOrEqual(expectation.retryAfterMs.max);
        }
        if (!rule.retryable) expect(result.retryAfterMs).toBeUndefined();
      });
    }
  });
}
