/**
 * The mock adapters through the same conformance suite as the live ones: the mock is the
 * default, so it must answer every failure class in the shape the engine relies on. Its
 * failures are injected (failNext), where the live adapters' come from the fake providers.
 */
import { expect } from 'vitest';
import { MockDelivery, type MockFailure } from '../../src/delivery/mock.ts';
import {
  type ConformanceHarness,
  describeEmailSenderConformance,
  describeSmsSenderConformance,
  describeVoiceCallerConformance,
  emailMessage,
  type FailureScenario,
  type ScenarioExpectation,
  smsMessage,
  voiceCall,
} from './conformance.ts';

const FAILURES: Record<FailureScenario, { failure: MockFailure; expect: Omit<ScenarioExpectation<unknown>, 'alter'> }> = {
  'invalid-request': { failure: { retryable: false, code: '400' }, expect: { code: '400' } },
  unauthorized: { failure: { retryable: false, code: '401' }, expect: { code: '401' } },
  'rate-limited-retry-after': { failure: { retryable: true, code: '429', retryAfterMs: 7000 }, expect: { code: '429', retryAfterMs: { min: 7000, max: 7000 } } },
  'rate-limited-reset': { failure: { retryable: true, code: '429', retryAfterMs: 30_000 }, expect: { code: '429', retryAfterMs: { min: 30_000, max: 30_000 } } },
  'server-error': { failure: { retryable: true, code: '500' }, expect: { code: '500' } },
  unavailable: { failure: { retryable: true }, expect: { code: '503' } },
  timeout: { failure: { retryable: true, code: 'timeout', mayHaveSent: true }, expect: {} },
  'recipient-blocked': { failure: { retryable: false, code: 'blocked' }, expect: { code: 'blocked' } },
};

function harness<S, M extends { to: string }>(message: () => M, pick: (mock: MockDelivery) => S) {
  return (): ConformanceHarness<S, M> => {
    const mock = new MockDelivery();
    return {
      sender: () => pick(mock),
      message,
      arrange(scenario: FailureScenario) {
        mock.failNext(FAILURES[scenario].failure);
        return FAILURES[scenario].expect;
      },
      verifySent(sent: M, providerMessageId: string) {
        expect(mock.sends).toHaveLength(1);
        expect(mock.sends[0]).toMatchObject({ providerMessageId, recipient: sent.to });
      },
    };
  };
}

describeEmailSenderConformance('mock', harness(emailMessage, (mock) => mock.adapters().email));
describeSmsSenderConformance('mock', harness(smsMessage, (mock) => mock.adapters().sms));
describeVoiceCallerConformance('mock', harness(voiceCall, (mock) => mock.adapters().voice));
