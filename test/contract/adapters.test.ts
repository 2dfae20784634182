/**
 * The four live adapters through the shared conformance suite, each against its fake provider.
 * Provider particulars (Telnyx call commands, classifier edges) live in providers.test.ts.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { PostmarkEmailSender } from '../../src/delivery/email/postmark.ts';
import { SendGridEmailSender } from '../../src/delivery/email/sendgrid.ts';
import { TelnyxSmsSender } from '../../src/delivery/sms/telnyx.ts';
import { decodeClientState, TelnyxVoiceCaller } from '../../src/delivery/voice/telnyx.ts';
import { type FakeProviders, startFakeProviders } from '../../src/devtools/fakes/index.ts';
import type { FakeServer } from '../../src/devtools/fakes/server.ts';
import {
  describeEmailSenderConformance,
  describeSmsSenderConformance,
  describeVoiceCallerConformance,
  emailMessage,
  envelope,
  type FailureScenario,
  type ScenarioExpectation,
  smsMessage,
  voiceCall,
} from './conformance.ts';

let fakes: FakeProviders;

beforeAll(async () => {
  fakes = await startFakeProviders();
});

afterAll(async () => {
  await fakes?.close();
});

/**
 * Faults every HTTP fake injects the same way. Codes differ: SendGrid and Postmark give none on
 * a 5xx, so the status stands in; Telnyx answers 10007.
 */
function commonFault<M>(fake: FakeServer, scenario: FailureScenario, serverCode: (status: number) => string): ScenarioExpectation<M> | undefined {
  switch (scenario) {
    case 'rate-limited-retry-after':
      fake.failNext({ status: 429, headers: { 'Retry-After': '7' } });
      return { retryAfterMs: { min: 7000, max: 7000 } };
    case 'server-error':
      fake.failNext({ status: 500 });
      return { code: serverCode(500) };
    case 'unavailable':
      fake.failNext({ status: 503 });
      return { code: serverCode(503) };
    case 'timeout':
      fake.hangNext();
      return {};
    default:
      return undefined;
  }
}

function header(fake: FakeServer, name: string): string | undefined {
  const value = fake.lastRequest().headers[name];
  return Array.isArray(value) ? value[0] : value;
}

describeEmailSenderConformance('sendgrid', () => {
  fakes.reset();
  const fake = fakes.sendgrid;
  let apiKey = fake.apiKey;
  return {
    secrets: [fake.apiKey, 'SG.wrong-key'],
    sender: ({ timeoutMs }) => new SendGridEmailSender({ apiKey, baseUrl: fake.baseUrl, timeoutMs }),
    message: emailMessage,
    arrange(scenario) {
      switch (scenario) {
        case 'invalid-request':
          return { code: '400', alter: (m) => ({ ...m, to: 'not-an-address' }) };
        case 'unauthorized':
          apiKey = 'SG.wrong-key';
          return { code: '401' };
        case 'rate-limited-reset':
          fake.failNext({ status: 429, headers: { 'X-RateLimit-Reset': String(Math.floor(Date.now() / 1000) + 30) } });
          return { code: '429', retryAfterMs: { min: 28_000, max: 31_000 } };
        case 'recipient-blocked':
          return undefined; // SendGrid accepts and reports a `dropped` event instead.
        default:
          return commonFault(fake, scenario, String);
      }
    },
    verifySent(message, providerMessageId) {
      expect(providerMessageId).toBe(fake.sent[0]?.messageId);
      const request = fake.lastRequest();
      expect(request.path).toBe('/v3/mail/send');
      expect(header(fake, 'authorization')).toBe(`Bearer ${fake.apiKey}`);
      expect(request.body).toMatchObject({
        personalizations: [{ to: [{ email: message.to }] }],
        from: { email: 'sales@us.test', name: 'Dana at Us' },
        subject: message.subject,
        content: [
          { type: 'text/plain', value: message.text },
          { type: 'text/html', value: message.html },
        ],
        custom_args: {
          execution_id: envelope.executionId,
          enrollment_id: envelope.enrollmentId,
          workspace_id: envelope.workspaceId,
          idempotency_key: envelope.idempotencyKey,
        },
        headers: {
          'List-Unsubscribe': '<https://app.test/u/tok_123>',
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          'In-Reply-To': '<prev@us.test>',
        },
      });
    },
  };
});

describeEmailSenderConformance('postmark', () => {
  fakes.reset();
  const fake = fakes.postmark;
  let serverToken = fake.serverToken;
  return {
    secrets: [fake.serverToken, 'wrong-token'],
    sender: ({ timeoutMs }) => new PostmarkEmailSender({ serverToken, baseUrl: fake.baseUrl, timeoutMs }),
    message: emailMessage,
    arrange(scenario) {
      switch (scenario) {
        case 'invalid-request':
          return { code: '300', alter: (m) => ({ ...m, to: 'not-an-address' }) };
        case 'unauthorized':
          serverToken = 'wrong-token';
          return { code: '10' };
        case 'rate-limited-reset':
          // Postmark documents no rate-limit headers: still retryable, with no delay to offer.
          fake.failNext({ status: 429 });
          return { code: '429', retryAfterMs: null };
        case 'recipient-blocked':
          fake.deactivate('lee@acme.test');
          return { code: '406' };
        default:
          return commonFault(fake, scenario, String);
      }
    },
    verifySent(message, providerMessageId) {
      expect(providerMessageId).toBe(fake.sent[0]?.messageId);
      const request = fake.lastRequest();
      expect(request.path).toBe('/email');
      expect(header(fake, 'x-postmark-server-token')).toBe(fake.serverToken);
      expect(request.body).toEqual({
        From: 'Dana at Us <sales@us.test>',
        To: message.to,
        Subject: message.subject,
        TextBody: message.text,
        HtmlBody: message.html,
        MessageStream: 'outbound',
        TrackOpens: true,
        TrackLinks: 'HtmlAndText',
        Metadata: { execution_id: envelope.executionId, enrollment_id: envelope.enrollmentId, workspace_id: envelope.workspaceId },
        Headers: [
          { Name: 'In-Reply-To', Value: '<prev@us.test>' },
          { Name: 'List-Unsubscribe', Value: '<https://app.test/u/tok_123>' },
          { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
        ],
      });
    },
  };
});

/** Telnyx faults shared by messaging and call control. */
function telnyxFault<M extends { to: string }>(scenario: FailureScenario, setKey: (key: string) => void): ScenarioExpectation<M> | undefined {
  switch (scenario) {
    case 'invalid-request':
      return { code: '10016', alter: (m) => ({ ...m, to: '5552223333' }) };
    case 'unauthorized':
      setKey('KEYwrong');
      return { code: '10009' };
    case 'rate-limited-reset':
      fakes.telnyx.failNext({ status: 429, headers: { 'x-ratelimit-reset': '30' } });
      return { code: '10011', retryAfterMs: { min: 30_000, max: 30_000 } };
    default:
      return commonFault(fakes.telnyx, scenario, () => '10007');
  }
}

describeSmsSenderConformance('telnyx', () => {
  fakes.reset();
  const fake = fakes.telnyx;
  let apiKey = fake.apiKey;
  return {
    secrets: [fake.apiKey, 'KEYwrong'],
    sender: ({ timeoutMs }) =>
      new TelnyxSmsSender({ apiKey, baseUrl: fake.baseUrl, timeoutMs, messagingProfileId: 'mp_1', webhookUrl: 'https://app.test/hooks/telnyx' }),
    message: smsMessage,
    arrange(scenario) {
      if (scenario === 'recipient-blocked') {
        fake.optOut('+15552223333');
        return { code: '40300' };
      }
      return telnyxFault(scenario, (key) => (apiKey = key));
    },
    verifySent(message, providerMessageId) {
      expect(providerMessageId).toBe(fake.messages[0]?.id);
      expect(header(fake, 'authorization')).toBe(`Bearer ${fake.apiKey}`);
      expect(fake.lastRequest().path).toBe('/v2/messages');
      expect(fake.lastRequest().body).toEqual({
        from: message.from,
        to: message.to,
        text: message.text,
        messaging_profile_id: 'mp_1',
        webhook_url: 'https://app.test/hooks/telnyx',
      });
    },
  };
});

describeVoiceCallerConformance('telnyx', () => {
  fakes.reset();
  const fake = fakes.telnyx;
  let apiKey = fake.apiKey;
  return {
    secrets: [fake.apiKey, 'KEYwrong'],
    sender: ({ timeoutMs }) =>
      new TelnyxVoiceCaller({ apiKey, connectionId: 'conn_42', baseUrl: fake.baseUrl, timeoutMs, webhookUrl: 'https://app.test/hooks/telnyx' }),
    message: voiceCall,
    arrange(scenario) {
      if (scenario === 'recipient-blocked') return undefined; // Call Control has no opt-out list.
      return telnyxFault(scenario, (key) => (apiKey = key));
    },
    verifySent(call, providerMessageId) {
      expect(fake.calls.has(providerMessageId)).toBe(true);
      expect(providerMessageId).toMatch(/^v3:/);
      expect(header(fake, 'authorization')).toBe(`Bearer ${fake.apiKey}`);
      const body = fake.lastRequest().body as Record<string, unknown>;
      expect(body).toMatchObject({
        connection_id: 'conn_42',
        to: call.to,
        from: call.from,
        answering_machine_detection: 'detect',
        command_id: envelope.idempotencyKey,
        webhook_url: 'https://app.test/hooks/telnyx',
      });
      expect(decodeClientState(body.client_state as string)).toEqual({
        executionId: envelope.executionId,
        enrollmentId: envelope.enrollmentId,
        workspaceId: envelope.workspaceId,
      });
    },
  };
});
