import { describe, expect, it } from 'vitest';
// The dialer's encoder: pins the client_state contract between delivery and webhooks.
import { encodeClientState } from '../delivery/voice/telnyx.ts';
import type { InboundEvent } from '../core/events.ts';
import type { TranslateResult } from './parse.ts';
import { translateTelnyxEvent } from './telnyx.ts';

const NOW = new Date('2030-01-01T00:00:00Z');
const OCCURRED = '2019-12-09T21:32:14.148+00:00';
const LEAD = '+15552223333';
const US = '+15550001111';

function events(result: TranslateResult): InboundEvent[] {
  if (!result.ok) throw new Error(result.error);
  return result.events;
}

function envelope(event_type: string, payload: Record<string, unknown>, id = '86f58db9-0000-4000-8000-000000000001') {
  return {
    data: { record_type: 'event', id, event_type, occurred_at: OCCURRED, payload },
    meta: { attempt: 1, delivered_to: 'https://app.test/hooks/sms' },
  };
}

function finalized(status: string, errors: unknown[] = []) {
  return envelope('message.finalized', {
    id: '40385f64-5717-4562-b3fc-2c963f66afa6',
    record_type: 'message',
    direction: 'outbound',
    type: 'SMS',
    from: { phone_number: US },
    to: [{ phone_number: LEAD, status }],
    errors,
    completed_at: OCCURRED,
  });
}

function received(text: string, autoresponse_type: string | null = null) {
  return envelope('message.received', {
    id: 'b301ed3f-1490-491f-995f-6e64e69674d4',
    direction: 'inbound',
    type: 'SMS',
    from: { phone_number: LEAD, carrier: 'T-Mobile USA', line_type: 'Wireless' },
    to: [{ phone_number: US, status: 'webhook_delivered' }],
    text,
    media: [],
    autoresponse_type,
  });
}

describe('translateTelnyxEvent: messaging', () => {
  it('maps a delivered message.finalized', () => {
    expect(translateTelnyxEvent(finalized('delivered'))).toEqual({
      ok: true,
      events: [
        {
          type: 'sms.delivered',
          providerEventId: 'telnyx:86f58db9-0000-4000-8000-000000000001',
          provider: 'telnyx',
          occurredAt: new Date(OCCURRED),
          providerMessageId: '40385f64-5717-4562-b3fc-2c963f66afa6',
          address: { channel: 'sms', value: LEAD },
          data: { eventType: 'message.finalized', status: 'delivered' },
        },
      ],
    });
  });

  it('maps failures with their error codes', () => {
    const errors = [{ code: '40300', title: 'Blocked due to STOP message', detail: 'opted out' }];
    for (const status of ['sending_failed', 'delivery_failed']) {
      expect(events(translateTelnyxEvent(finalized(status, errors)))[0]).toMatchObject({
        type: 'sms.failed',
        data: { status, errors },
      });
    }
  });

  it('ignores message.sent, unconfirmed delivery and unknown event families', () => {
    expect(events(translateTelnyxEvent(finalized('delivery_unconfirmed')))).toEqual([]);
    const sent = finalized('sent');
    sent.data.event_type = 'message.sent';
    expect(events(translateTelnyxEvent(sent))).toEqual([]);
    expect(events(translateTelnyxEvent(envelope('number_order.complete', {})))).toEqual([]);
  });

  it('maps an ordinary inbound text to sms.replied from the lead', () => {
    expect(events(translateTelnyxEvent(received('Sure, call me at 3')))[0]).toEqual({
      type: 'sms.replied',
      providerEventId: 'telnyx:86f58db9-0000-4000-8000-000000000001',
      provider: 'telnyx',
      occurredAt: new Date(OCCURRED),
      providerMessageId: 'b301ed3f-1490-491f-995f-6e64e69674d4',
      address: { channel: 'sms', value: LEAD },
      // Our number it came to: an opt-out belongs to that sender (docs/ENGINE.md).
      sender: US,
      data: { eventType: 'message.received', text: 'Sure, call me at 3', mediaUrls: [], to: US },
    });
  });

  it.each(['STOP', 'stop', ' Stop ', 'STOPALL', 'stop  all', 'Unsubscribe', 'cancel', 'END', 'quit', 'Stop.'])(
    'treats %j as an opt-out',
    (text) => {
      expect(events(translateTelnyxEvent(received(text)))[0]).toMatchObject({
        type: 'sms.opted_out',
        suppress: true,
        address: { channel: 'sms', value: LEAD },
      });
    },
  );

  it('trusts autoresponse_type over the text', () => {
    expect(events(translateTelnyxEvent(received('arrêt', 'STOP')))[0]?.type).toBe('sms.opted_out');
    expect(events(translateTelnyxEvent(received('yes again', 'START')))[0]?.type).toBe('sms.opted_in');
    expect(events(translateTelnyxEvent(received('what is this', 'HELP')))).toEqual([]);
  });

  it('maps START/UNSTOP to opt-in, HELP to nothing, and keywords inside sentences to replies', () => {
    for (const text of ['START', 'unstop']) {
      expect(events(translateTelnyxEvent(received(text)))[0]).toMatchObject({ type: 'sms.opted_in', unsuppress: true });
    }
    expect(events(translateTelnyxEvent(received('help')))).toEqual([]);
    for (const text of ['please stop texting me', 'stop by tomorrow?', 'the end']) {
      expect(events(translateTelnyxEvent(received(text)))[0]?.type).toBe('sms.replied');
    }
  });
});

const STATE = { executionId: 'exe_1', enrollmentId: 'enr_1', workspaceId: 'ws_1' };

function call(event_type: string, extra: Record<string, unknown> = {}, id?: string) {
  return envelope(
    event_type,
    {
      call_control_id: 'v3:abc',
      call_leg_id: 'leg-1',
      call_session_id: 'sess-1',
      connection_id: '1494404757140276705',
      client_state: encodeClientState(STATE),
      direction: 'outgoing',
      from: US,
      to: LEAD,
      ...extra,
    },
    id,
  );
}

describe('translateTelnyxEvent: calls', () => {
  it('reports a human answer from machine detection, with the execution from client_state', () => {
    expect(events(translateTelnyxEvent(call('call.machine.detection.ended', { result: 'human' })))).toEqual([
      {
        type: 'call.answered',
        providerEventId: 'telnyx:86f58db9-0000-4000-8000-000000000001',
        provider: 'telnyx',
        occurredAt: new Date(OCCURRED),
        providerMessageId: 'v3:abc',
        executionId: 'exe_1',
        address: { channel: 'voice', value: LEAD },
        data: { eventType: 'call.machine.detection.ended', amdResult: 'human' },
      },
    ]);
  });

  it.each([
    ['call.machine.detection.ended', 'machine', 'call.voicemail'],
    ['call.machine.detection.ended', 'not_sure', 'call.answered'],
    ['call.machine.premium.detection.ended', 'human_business', 'call.answered'],
    ['call.machine.premium.detection.ended', 'machine', 'call.voicemail'],
  ])('maps %s %s to %s', (eventType, result, type) => {
    expect(events(translateTelnyxEvent(call(eventType, { result })))[0]?.type).toBe(type);
  });

  it('emits nothing for call.answered, call.initiated, greetings and speech', () => {
    for (const type of ['call.initiated', 'call.answered', 'call.machine.greeting.ended', 'call.speak.ended']) {
      expect(events(translateTelnyxEvent(call(type, { result: 'beep_detected', status: 'completed' })))).toEqual([]);
    }
    expect(events(translateTelnyxEvent(call('call.machine.premium.detection.ended', { result: 'silence' })))).toEqual([]);
  });

  it('emits call.completed on every hangup and call.no_answer for unanswered causes', () => {
    const hangup = (hangup_cause: string) =>
      events(translateTelnyxEvent(call('call.hangup', { hangup_cause, hangup_source: 'callee', sip_hangup_cause: 480 })));
    const normal = hangup('normal_clearing');
    expect(normal).toHaveLength(1);
    expect(normal[0]).toMatchObject({
      type: 'call.completed',
      data: { hangupCause: 'normal_clearing', hangupSource: 'callee', sipHangupCause: '480' },
    });
    for (const cause of ['no_answer', 'timeout', 'user_busy', 'call_rejected']) {
      const pair = hangup(cause);
      expect(pair.map((e) => e.type)).toEqual(['call.completed', 'call.no_answer']);
      expect(pair[1]?.providerEventId).toBe(`${pair[0]?.providerEventId}:no_answer`);
    }
    for (const cause of ['originator_cancel', 'time_limit', 'not_found', 'unspecified']) {
      expect(hangup(cause).map((e) => e.type)).toEqual(['call.completed']);
    }
  });

  it('addresses an incoming call by its caller and tolerates garbage client_state', () => {
    const [event] = events(
      translateTelnyxEvent(
        call('call.hangup', {
          direction: 'incoming',
          from: LEAD,
          to: US,
          client_state: '%%%not-base64',
          hangup_cause: 'normal_clearing',
        }),
      ),
    );
    expect(event?.address).toEqual({ channel: 'voice', value: LEAD });
    expect(event?.executionId).toBeUndefined();
  });
});

describe('translateTelnyxEvent: envelopes and ids', () => {
  it('gives identical payloads identical ids and distinct events distinct ids', () => {
    const a = events(translateTelnyxEvent(finalized('delivered')))[0]?.providerEventId;
    expect(events(translateTelnyxEvent(finalized('delivered')))[0]?.providerEventId).toBe(a);
    const other = call('call.hangup', { hangup_cause: 'normal_clearing' }, 'another-id');
    expect(events(translateTelnyxEvent(other))[0]?.providerEventId).toBe('telnyx:another-id');
  });

  it('falls back to the clock when occurred_at is unusable', () => {
    const body = finalized('delivered');
    (body.data as Record<string, unknown>).occurred_at = 'yesterday-ish';
    expect(events(translateTelnyxEvent(body, { now: NOW }))[0]?.occurredAt).toEqual(NOW);
  });

  it('rejects envelopes without data, id or event_type', () => {
    for (const body of [null, 'x', [], {}, { data: [] }, { data: { id: 'x' } }, { data: { event_type: 'call.hangup' } }]) {
      expect(translateTelnyxEvent(body).ok).toBe(false);
    }
    expect(translateTelnyxEvent({ data: { id: 'x', event_type: 'call.hangup' } })).toMatchObject({ ok: true });
  });
});

describe('client_state', () => {
  it('yields no execution for state we did not write', () => {
    const notAnObject = Buffer.from('[1,2]').toString('base64');
    const noExecution = Buffer.from('{"touch":"t_1"}').toString('base64');
    for (const client_state of [undefined, '', '!!!', 'e30', notAnObject, noExecution, 42]) {
      const [event] = events(translateTelnyxEvent(call('call.hangup', { client_state, hangup_cause: 'timeout' })));
      expect(event?.executionId).toBeUndefined();
      expect(event?.providerMessageId).toBe('v3:abc');
    }
  });
});
