/**
 * Telnyx Call Control over plain `fetch` (providers.md §4): the dial, plus the two commands the
 * call state machine needs. Reacting to call webhooks happens elsewhere.
 */
import {
  classifyFailure,
  type FetchLike,
  field,
  isSuccess,
  postJson,
  TELNYX_PROFILE,
  trimBaseUrl,
} from '../http.ts';
import type { DeliveryResult, VoiceCall, VoiceCaller } from '../types.ts';

/** What we put in `client_state`; Telnyx echoes it in every call webhook. */
export interface CallClientState {
  executionId: string;
  enrollmentId: string;
  workspaceId: string;
}

export function encodeClientState(state: CallClientState): string {
  const { executionId, enrollmentId, workspaceId } = state;
  return Buffer.from(JSON.stringify({ executionId, enrollmentId, workspaceId }), 'utf8').toString('base64');
}

/** `undefined` for anything we did not write (calls placed by other tools on the same connection). */
export function decodeClientState(clientState: string | null | undefined): CallClientState | undefined {
  if (!clientState) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(clientState, 'base64').toString('utf8'));
    const [executionId, enrollmentId, workspaceId] = ['executionId', 'enrollmentId', 'workspaceId'].map((key) =>
      field(value, key),
    );
    if (typeof executionId !== 'string' || typeof enrollmentId !== 'string' || typeof workspaceId !== 'string') {
      return undefined;
    }
    return { executionId, enrollmentId, workspaceId };
  } catch {
    return undefined;
  }
}

export type VoicemailDetection = 'greeting_end' | 'detect_beep' | 'detect_words';

export interface TelnyxVoiceOptions {
  apiKey: string;
  /** The Call Control application (connection) whose number places the call. */
  connectionId: string;
  baseUrl?: string;
  /** Call webhooks; absent = the connection's webhook URL. */
  webhookUrl?: string;
  timeoutMs?: number;
  /** The engine's clock, which the send deadline is measured by (default: the wall clock). */
  now?: () => number;
  /** How long to ring before Telnyx gives up (5–600 s); absent = Telnyx's default. */
  ringTimeoutSecs?: number;
  /**
   * AMD mode when a voicemail is to be left. `greeting_end` reports the end of the greeting on a
   * beep or on silence; `detect_beep` reports only when it hears a beep, so a beepless mailbox
   * would never get its message.
   */
  voicemailDetection?: VoicemailDetection;
  fetch?: FetchLike;
}

export class TelnyxVoiceCaller implements VoiceCaller {
  readonly adapter = 'telnyx';
  private readonly options: TelnyxVoiceOptions & { baseUrl: string; timeoutMs: number };

  constructor(options: TelnyxVoiceOptions) {
    this.options = {
      ...options,
      baseUrl: trimBaseUrl(options.baseUrl ?? 'https://api.telnyx.com'),
      timeoutMs: options.timeoutMs ?? 10_000,
    };
  }

  async dial(call: VoiceCall): Promise<DeliveryResult> {
    const { apiKey, connectionId, baseUrl, webhookUrl, ringTimeoutSecs, timeoutMs, fetch } = this.options;
    // Plain `detect` when there is no voicemail: we hang up on machines and need no greeting end.
    const amd = call.voicemail ? (this.options.voicemailDetection ?? 'greeting_end') : 'detect';
    const body: Record<string, unknown> = {
      connection_id: connectionId,
      to: call.to,
      from: call.from,
      answering_machine_detection: amd,
      client_state: encodeClientState(call),
      command_id: call.idempotencyKey,
    };
    if (webhookUrl) body.webhook_url = webhookUrl;
    if (ringTimeoutSecs !== undefined) body.timeout_secs = ringTimeoutSecs;

    const outcome = await postJson(`${baseUrl}/v2/calls`, body, {
      headers: { authorization: `Bearer ${apiKey}` },
      timeoutMs,
      deadline: call.deadline,
      now: this.options.now,
      fetch,
    });
    if (!isSuccess(outcome)) return classifyFailure(outcome, TELNYX_PROFILE, { secrets: [apiKey] });

    const data = field(outcome.body, 'data');
    const callControlId = field(data, 'call_control_id');
    const metadata = {
      callLegId: field(data, 'call_leg_id'),
      callSessionId: field(data, 'call_session_id'),
      answeringMachineDetection: amd,
    };
    if (typeof callControlId === 'string' && callControlId !== '') {
      return { kind: 'sent', providerMessageId: callControlId, metadata };
    }
    // Without a call_control_id we cannot command the call; the webhooks still carry client_state.
    return {
      kind: 'sent',
      providerMessageId: `telnyx:${call.idempotencyKey}`,
      metadata: { ...metadata, missingProviderMessageId: true },
    };
  }
}

export type CallCommandResult =
  | { ok: true }
  | { ok: false; retryable: boolean; code: string; message: string; retryAfterMs?: number };

export interface TelnyxCallControlOptions {
  apiKey: string;
  baseUrl?: string;
  timeoutMs?: number;
  /** `female`, `male`, or a provider voice such as `AWS.Polly.Joanna`. */
  voice?: string;
  language?: string;
  fetch?: FetchLike;
}

/**
 * Commands on a live call. `commandId` is the only idempotency Telnyx offers (a repeated id on
 * the same call is ignored), so callers derive it from the execution and the step of the call.
 * `clientState` is the base64 string echoed in the webhook, or the ids to encode.
 */
export class TelnyxCallControl {
  private readonly options: TelnyxCallControlOptions & { baseUrl: string; timeoutMs: number };

  constructor(options: TelnyxCallControlOptions) {
    this.options = {
      ...options,
      baseUrl: trimBaseUrl(options.baseUrl ?? 'https://api.telnyx.com'),
      timeoutMs: options.timeoutMs ?? 10_000,
    };
  }

  speak(
    callControlId: string,
    text: string,
    commandId: string,
    clientState: string | CallClientState,
  ): Promise<CallCommandResult> {
    return this.command(callControlId, 'speak', commandId, clientState, {
      payload: text,
      payload_type: 'text',
      voice: this.options.voice ?? 'female',
      language: this.options.language ?? 'en-US',
    });
  }

  hangup(callControlId: string, commandId: string, clientState: string | CallClientState): Promise<CallCommandResult> {
    return this.command(callControlId, 'hangup', commandId, clientState, {});
  }

  private async command(
    callControlId: string,
    action: string,
    commandId: string,
    clientState: string | CallClientState,
    params: Record<string, unknown>,
  ): Promise<CallCommandResult> {
    const { apiKey, baseUrl, timeoutMs, fetch } = this.options;
    const state = typeof clientState === 'string' ? clientState : encodeClientState(clientState);
    const url = `${baseUrl}/v2/calls/${encodePathSegment(callControlId)}/actions/${action}`;
    const outcome = await postJson(url, { ...params, client_state: state, command_id: commandId }, {
      headers: { authorization: `Bearer ${apiKey}` },
      timeoutMs,
      fetch,
    });
    if (isSuccess(outcome)) return { ok: true };
    const { kind: _kind, ...failure } = classifyFailure(outcome, TELNYX_PROFILE, { secrets: [apiKey] });
    return { ok: false, ...failure };
  }
}

/** Call control ids look like `v3:AbC…`; keep `:` as Telnyx's own SDK does, escape the rest. */
function encodePathSegment(segment: string): string {
  return segment.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]+/g, encodeURIComponent);
}
