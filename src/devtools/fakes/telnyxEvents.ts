/**
 * Realistic Telnyx webhook envelopes (providers.md §3–4): `{data:{record_type:'event', id,
 * event_type, occurred_at, payload}, meta:{attempt, delivered_to}}`.
 */
import { randomUUID } from 'node:crypto';
import { smsSegments } from '../../core/smsSegments.ts';

export type TelnyxMessageEventType = 'message.sent' | 'message.finalized' | 'message.received';

export type TelnyxCallEventType =
  | 'call.initiated'
  | 'call.answered'
  | 'call.machine.detection.ended'
  | 'call.machine.greeting.ended'
  | 'call.speak.started'
  | 'call.speak.ended'
  | 'call.playback.ended'
  | 'call.gather.ended'
  | 'call.hangup';

/** An event without its `meta`, which the emitter adds per attempt. */
export interface TelnyxEvent {
  data: { record_type: 'event'; id: string; event_type: string; occurred_at: string; payload: Record<string, unknown> };
}

export function telnyxEvent(eventType: string, payload: Record<string, unknown>, occurredAt?: string): TelnyxEvent {
  return {
    data: {
      record_type: 'event',
      id: randomUUID(),
      event_type: eventType,
      occurred_at: occurredAt ?? new Date().toISOString(),
      payload,
    },
  };
}

/** A message as `POST /v2/messages` and the message webhooks describe it. */
export interface TelnyxMessageRecord {
  id: string;
  from: string;
  to: string;
  text: string;
  messagingProfileId?: string;
}

export function messagePayload(
  message: TelnyxMessageRecord,
  direction: 'outbound' | 'inbound',
  status: string,
): Record<string, unknown> {
  const { encoding } = smsSegments(message.text);
  const parts = smsParts(message.text);
  return {
    record_type: 'message',
    id: message.id,
    direction,
    type: 'SMS',
    messaging_profile_id: message.messagingProfileId ?? '4001767e-ce0f-4cae-9d5f-0d5e636e7809',
    from: { phone_number: message.from, carrier: 'Telnyx', line_type: 'Wireless' },
    to: [{ phone_number: message.to, status, carrier: 'T-Mobile USA', line_type: 'Wireless' }],
    text: message.text,
    media: [],
    encoding,
    parts,
    tags: [],
    cost: null,
    errors: [],
    received_at: new Date().toISOString(),
    sent_at: status === 'queued' ? null : new Date().toISOString(),
    completed_at: status === 'delivered' || status.endsWith('failed') ? new Date().toISOString() : null,
    valid_until: null,
  };
}

/** Parts as Telnyx counts them (GSM-7 160/153, UCS-2 70/67): the core's rule, at least one. */
export function smsParts(text: string): number {
  return Math.max(1, smsSegments(text).segments);
}

/** Keywords Telnyx acts on when they are the whole message (providers.md §7). */
export function autoresponseType(text: string): 'STOP' | 'START' | 'HELP' | null {
  const keyword = text.trim().toUpperCase();
  if (['STOP', 'STOPALL', 'STOP ALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'].includes(keyword)) return 'STOP';
  if (['START', 'UNSTOP'].includes(keyword)) return 'START';
  if (keyword === 'HELP') return 'HELP';
  return null;
}

/** A call as the call webhooks describe it; `clientState` is echoed verbatim. */
export interface TelnyxCallRecord {
  callControlId: string;
  callLegId: string;
  callSessionId: string;
  connectionId: string;
  from: string;
  to: string;
  clientState: string | null;
  startedAt: string;
}

export function callPayload(
  call: TelnyxCallRecord,
  eventType: TelnyxCallEventType,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const base = {
    call_control_id: call.callControlId,
    call_leg_id: call.callLegId,
    call_session_id: call.callSessionId,
    connection_id: call.connectionId,
    client_state: call.clientState,
    from: call.from,
    to: call.to,
    direction: 'outgoing',
  };
  return { ...base, ...callFields(call, eventType), ...extra };
}

function callFields(call: TelnyxCallRecord, eventType: TelnyxCallEventType): Record<string, unknown> {
  switch (eventType) {
    case 'call.initiated':
      return { state: 'bridging', start_time: call.startedAt };
    case 'call.answered':
      return { state: 'answered', start_time: call.startedAt };
    case 'call.machine.detection.ended':
      return { result: 'human' };
    case 'call.machine.greeting.ended':
      return { result: 'beep_detected' };
    case 'call.speak.started':
      return {};
    case 'call.speak.ended':
    case 'call.playback.ended':
      return { status: 'completed' };
    case 'call.gather.ended':
      return { digits: '', status: 'timeout' };
    case 'call.hangup':
      return {
        state: 'hangup',
        hangup_cause: 'normal_clearing',
        hangup_source: 'callee',
        sip_hangup_cause: '200',
        start_time: call.startedAt,
        end_time: new Date().toISOString(),
        call_quality_stats: null,
      };
  }
}
