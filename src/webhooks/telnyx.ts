/**
 * Telnyx messaging and Call Control webhooks → engine events (providers.md §3, §4, §7). No I/O;
 * `now` is used only when `occurred_at` is unusable. The voice state machine that answers Call
 * Control webhooks with commands is in src/core/calls.ts.
 */
import { isHumanDetection } from '../core/calls.ts';
import type { EventType, InboundEvent } from '../core/events.ts';
import { clip, compact, fallbackNow, isRecord, scalar, str, validDate, type TranslateOptions, type TranslateResult } from './parse.ts';

/**
 * `client_state` as the dialer writes it (src/delivery/voice/telnyx.ts, `encodeClientState`):
 * base64 JSON `{executionId, enrollmentId, workspaceId}`. Only the execution id is needed here,
 * and anything we did not write (calls from other tools on the connection) decodes to nothing.
 */
function executionIdFromClientState(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    return isRecord(parsed) ? str(parsed.executionId) : undefined;
  } catch {
    return undefined;
  }
}

// Telnyx (and CTIA) treat these as keywords only when they are the entire message.
const STOP_WORDS = new Set(['STOP', 'STOPALL', 'STOP ALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const START_WORDS = new Set(['START', 'UNSTOP']);

/**
 * Case, surrounding whitespace, repeated inner spaces and trailing `.`/`!` are ignored: when in
 * doubt an opt-out must be honoured ("Stop." means stop), and a false STOP only costs a lead.
 */
function keyword(text: string | undefined): string {
  return (text ?? '').trim().replace(/\s+/g, ' ').replace(/[.!]+$/, '').trim().toUpperCase();
}

interface Draft {
  type: EventType;
  idSuffix?: string;
  suppress?: true;
  unsuppress?: true;
  data: Record<string, unknown>;
}

function phone(value: unknown): string | undefined {
  return isRecord(value) ? str(value.phone_number) : str(value);
}

function telnyxErrors(value: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(value)) return [];
  return value
    .filter(isRecord)
    .map((e) => compact({ code: str(e.code), title: str(e.title), detail: str(e.detail) }));
}

function inboundMessage(payload: Record<string, unknown>): Draft[] {
  const auto = str(payload.autoresponse_type)?.toUpperCase();
  const text = typeof payload.text === 'string' ? payload.text : undefined;
  const word = keyword(text);
  // Telnyx's own classification wins; the text check covers profiles with auto-response off,
  // since an unhonoured STOP is a compliance failure regardless of Telnyx settings.
  if (auto === 'STOP' || (!auto && STOP_WORDS.has(word))) {
    return [{ type: 'sms.opted_out', suppress: true, data: { keyword: word } }];
  }
  if (auto === 'START' || (!auto && START_WORDS.has(word))) {
    return [{ type: 'sms.opted_in', unsuppress: true, data: { keyword: word } }];
  }
  // HELP is a request for the help auto-reply Telnyx already sent, not engagement.
  if (auto === 'HELP' || word === 'HELP') return [];
  const media = Array.isArray(payload.media) ? payload.media.filter(isRecord) : [];
  const mediaUrls = media.map((m) => str(m.url)).filter((u): u is string => u !== undefined);
  const data = compact({ text: clip(text), mediaUrls, to: phone(firstTo(payload)) });
  return [{ type: 'sms.replied', data }];
}

function firstTo(payload: Record<string, unknown>): unknown {
  return Array.isArray(payload.to) ? payload.to[0] : payload.to;
}

/**
 * `message.finalized` carries the terminal status. `delivery_unconfirmed` (the carrier never
 * reported back) yields nothing: it is neither a delivery nor a failure we can act on.
 */
function finalizedMessage(payload: Record<string, unknown>): Draft[] {
  const to = firstTo(payload);
  const status = isRecord(to) ? str(to.status) : undefined;
  if (status === 'delivered') return [{ type: 'sms.delivered', data: { status } }];
  if (status === 'sending_failed' || status === 'delivery_failed') {
    return [{ type: 'sms.failed', data: { status, errors: telnyxErrors(payload.errors) } }];
  }
  return [];
}

// Causes that can only happen before anyone picked up. `originator_cancel` is excluded: that is
// our own hangup. `time_limit`, `not_found` and `unspecified` only become `call.completed`.
const NO_ANSWER_CAUSES = new Set(['no_answer', 'timeout', 'user_busy', 'call_rejected']);

/**
 * `call.answered` itself yields nothing: a voicemail box also answers, so answers are reported
 * from answering-machine detection, which the dialer must therefore always enable. `not_sure`
 * counts as human because the script is spoken to it (nextCallAction, src/core/calls.ts).
 */
function callEvent(eventType: string, payload: Record<string, unknown>): Draft[] {
  switch (eventType) {
    case 'call.machine.detection.ended':
    case 'call.machine.premium.detection.ended': {
      const result = str(payload.result);
      if (result === 'machine') return [{ type: 'call.voicemail', data: { amdResult: result } }];
      if (result && isHumanDetection(result)) {
        return [{ type: 'call.answered', data: { amdResult: result } }];
      }
      return [];
    }
    case 'call.hangup': {
      const hangupCause = str(payload.hangup_cause);
      const data = compact({
        hangupCause,
        hangupSource: str(payload.hangup_source),
        sipHangupCause: scalar(payload.sip_hangup_cause),
      });
      const drafts: Draft[] = [{ type: 'call.completed', data }];
      if (hangupCause && NO_ANSWER_CAUSES.has(hangupCause)) {
        drafts.push({ type: 'call.no_answer', idSuffix: ':no_answer', data });
      }
      return drafts;
    }
    default:
      return [];
  }
}

/**
 * One Telnyx webhook envelope `{data:{id, event_type, occurred_at, payload}}`. Event types the
 * engine has no use for (`message.sent`, `call.initiated`, `call.speak.ended`, …) yield nothing.
 */
export function translateTelnyxEvent(body: unknown, options?: TranslateOptions): TranslateResult {
  const data = isRecord(body) ? body.data : undefined;
  if (!isRecord(data)) return { ok: false, error: 'Telnyx webhook has no data object' };
  const id = str(data.id);
  const eventType = str(data.event_type);
  if (!id || !eventType) return { ok: false, error: 'Telnyx webhook lacks data.id or data.event_type' };
  const payload = isRecord(data.payload) ? data.payload : {};
  const occurredText = str(data.occurred_at);
  const occurredAt = (occurredText ? validDate(new Date(occurredText)) : undefined) ?? fallbackNow(options);

  let drafts: Draft[];
  let channel: 'sms' | 'voice';
  let address: string | undefined;
  let providerMessageId: string | undefined;
  let executionId: string | undefined;
  let sender: string | undefined;
  if (eventType.startsWith('message.')) {
    channel = 'sms';
    providerMessageId = str(payload.id);
    if (eventType === 'message.received') {
      drafts = inboundMessage(payload);
      address = phone(payload.from);
      sender = phone(firstTo(payload));
    } else {
      drafts = eventType === 'message.finalized' ? finalizedMessage(payload) : [];
      address = phone(firstTo(payload));
    }
  } else if (eventType.startsWith('call.')) {
    channel = 'voice';
    drafts = callEvent(eventType, payload);
    providerMessageId = str(payload.call_control_id);
    executionId = executionIdFromClientState(payload.client_state);
    address = str(payload.direction) === 'incoming' ? phone(payload.from) : phone(payload.to);
  } else {
    return { ok: true, events: [] };
  }

  const events = drafts.map(
    (d): InboundEvent => ({
      type: d.type,
      providerEventId: `telnyx:${id}${d.idSuffix ?? ''}`,
      provider: 'telnyx',
      occurredAt,
      ...(providerMessageId ? { providerMessageId } : {}),
      ...(executionId ? { executionId } : {}),
      ...(address ? { address: { channel, value: address } } : {}),
      ...(sender ? { sender } : {}),
      ...(d.suppress ? { suppress: true } : {}),
      ...(d.unsuppress ? { unsuppress: true } : {}),
      data: { eventType, ...d.data },
    }),
  );
  return { ok: true, events };
}
