/**
 * Webhook routes hand these functions attacker-controlled input; a throw becomes a 500 and a
 * provider retry loop. Property: every translator and verifier returns a result for anything.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { translatePostmarkEvent, translatePostmarkInbound } from './postmark.ts';
import { translateSendGridEvents, translateSendGridInbound } from './sendgrid.ts';
import { nextCallAction } from '../core/calls.ts';
import { translateTelnyxEvent } from './telnyx.ts';
import { verifyBasicAuth, verifySendGridSignature, verifyTelnyxSignature } from './verify.ts';

const NOW = new Date('2024-01-15T17:00:00Z');
const anything = fc.anything({
  withNullPrototype: true,
  withBoxedValues: true,
  withSparseArray: true,
  withDate: true,
  withMap: true,
  withSet: true,
});
const optional = { requiredKeys: [] as never[] };
const orJunk = <T,>(arb: fc.Arbitrary<T>) => fc.oneof(arb, anything);

// Shapes close enough to real payloads that the fuzzer reaches the branches behind the guards.
const sendGridItem = fc.record(
  {
    event: fc.constantFrom('delivered', 'open', 'click', 'bounce', 'dropped', 'spamreport', 'unsubscribe'),
    email: fc.oneof(fc.string(), fc.emailAddress()),
    timestamp: fc.oneof(fc.integer(), fc.double(), fc.string(), anything),
    sg_event_id: orJunk(fc.string()),
    sg_message_id: orJunk(fc.string()),
    type: orJunk(fc.constantFrom('bounce', 'blocked')),
    reason: orJunk(fc.constantFrom('Bounced Address', 'Invalid', 'Unsubscribed Address')),
    execution_id: anything,
  },
  optional,
);
const postmarkBody = fc.record(
  {
    RecordType: fc.constantFrom('Delivery', 'Open', 'Click', 'Bounce', 'SpamComplaint', 'SubscriptionChange'),
    TypeCode: orJunk(fc.constantFrom(1, 2, 16, 512, 4096, 100000, 100001, 100006)),
    Inactive: anything,
    SuppressSending: anything,
    SuppressionReason: orJunk(fc.constantFrom('HardBounce', 'SpamComplaint', 'ManualSuppression')),
    MessageID: anything,
    ID: anything,
    ReceivedAt: anything,
    Recipient: orJunk(fc.emailAddress()),
    Metadata: anything,
    From: orJunk(fc.string()),
    Headers: orJunk(fc.array(fc.record({ Name: fc.string(), Value: fc.string() }))),
  },
  optional,
);
const telnyxPayload = fc.record(
  {
    to: anything,
    from: anything,
    text: orJunk(fc.oneof(fc.constantFrom('STOP', ' start ', 'HELP'), fc.string())),
    autoresponse_type: anything,
    result: orJunk(fc.constantFrom('human', 'machine', 'not_sure')),
    hangup_cause: anything,
    client_state: orJunk(fc.base64String()),
    media: anything,
    errors: anything,
  },
  optional,
);
const telnyxBody = fc.record({
  data: fc.record(
    {
      id: orJunk(fc.string()),
      event_type: fc.constantFrom('message.finalized', 'message.received', 'call.hangup', 'call.machine.detection.ended'),
      occurred_at: anything,
      payload: orJunk(telnyxPayload),
    },
    optional,
  ),
});
const payloads = fc.oneof(fc.array(sendGridItem), postmarkBody, telnyxBody);
const bodies = fc.oneof(anything, payloads, fc.dictionary(fc.string(), fc.string()));

const bytes = fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a));
const header = fc.oneof(fc.string(), fc.base64String(), fc.constant(undefined));

function isResult(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

describe('never throws', () => {
  it('translators return a result for any input', () => {
    fc.assert(
      fc.property(bodies, fc.string(), fc.string(), (body, traceId, eventType) => {
        expect(isResult(translateSendGridEvents(body, { now: NOW }))).toBe(true);
        expect(isResult(translateSendGridInbound(body, { now: NOW }))).toBe(true);
        expect(isResult(translatePostmarkEvent(body, { traceId, now: NOW }))).toBe(true);
        expect(isResult(translatePostmarkInbound(body, { now: NOW }))).toBe(true);
        expect(isResult(translateTelnyxEvent(body, { now: NOW }))).toBe(true);
        expect(nextCallAction(eventType, body, true)).toHaveProperty('action');
      }),
      { numRuns: 500 },
    );
  });

  it('every emitted event has a valid date and a provider event id', () => {
    fc.assert(
      fc.property(payloads, (body) => {
        const results = [translateSendGridEvents(body), translatePostmarkEvent(body), translateTelnyxEvent(body)];
        for (const event of results.flatMap((r) => (r.ok ? r.events : []))) {
          expect(Number.isFinite(event.occurredAt.getTime())).toBe(true);
          expect(event.providerEventId.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('verifiers return a result for random strings and buffers', () => {
    const tolerance = fc.oneof(fc.integer(), fc.double());
    fc.assert(
      fc.property(header, header, header, bytes, tolerance, (key, signature, timestamp, rawBody, toleranceSeconds) => {
        const input = { publicKeyBase64: key ?? '', signature, timestamp, rawBody, now: NOW, toleranceSeconds };
        expect(isResult(verifySendGridSignature(input))).toBe(true);
        expect(isResult(verifyTelnyxSignature(input))).toBe(true);
        expect(isResult(verifyBasicAuth({ header: signature, user: key ?? '', password: timestamp ?? '' }))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('verifiers return a result for garbage of any type', () => {
    const verifiers = [verifySendGridSignature, verifyTelnyxSignature, verifyBasicAuth] as Array<(x: unknown) => unknown>;
    fc.assert(
      fc.property(anything, (junk) => {
        const fields = ['publicKeyBase64', 'signature', 'timestamp', 'rawBody', 'now', 'header', 'user', 'password'];
        const allJunk = Object.fromEntries(fields.map((f) => [f, junk]));
        for (const verify of verifiers) {
          expect(isResult(verify(junk))).toBe(true);
          expect(isResult(verify(allJunk))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
