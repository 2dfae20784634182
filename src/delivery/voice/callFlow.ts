/**
 * The live side of a call: Telnyx Call Control webhooks in, commands out. What to do next is
 * decided purely (`nextCallAction`, src/core/calls.ts); this module asks what to say and sends
 * the command. Loading the execution is handed in (`findExecution`), so delivery runs no SQL.
 *
 * Commands run before the webhook is answered, so a command that failed retryably turns into a
 * non-2xx and Telnyx re-delivers the webhook; `command_id` (execution id + action) makes that
 * retry, or a duplicate delivery, a no-op at Telnyx instead of a second speech.
 */
import type { Logger } from 'pino';
import { nextCallAction } from '../../core/calls.ts';
import { type FetchLike, postJson } from '../http.ts';
import { type CallCommandResult, decodeClientState, type TelnyxCallControl } from './telnyx.ts';

export interface CallFlowDeps {
  /** The voice execution a webhook's client_state names, with its lead (src/db/executionLeads.ts). */
  findExecution: (executionId: string) => Promise<CallExecution | undefined>;
  control: TelnyxCallControl;
  /** When set, an answered human call is handed to this voice agent instead of the script. */
  orchestratorUrl?: string;
  orchestratorTimeoutMs?: number;
  fetch?: FetchLike;
  logger?: Logger;
}

export type CallFlowOutcome =
  | { kind: 'ignored'; reason: 'not_a_call' | 'not_ours' | 'unknown_execution' }
  | { kind: 'none' }
  | { kind: 'commanded'; action: string; result: CallCommandResult }
  | { kind: 'handed_off' };

export interface CallExecution {
  id: string;
  workspaceId: string;
  enrollmentId: string;
  stepId: string;
  rendered: { text?: unknown; voicemail?: unknown } | null;
  lead: Record<string, unknown>;
}

export class CallFlow {
  constructor(private readonly deps: CallFlowDeps) {}

  /** Reacts to one Telnyx envelope's `data` (event type + payload). */
  async onWebhook(eventType: string, payload: Record<string, unknown>): Promise<CallFlowOutcome> {
    if (!eventType.startsWith('call.')) return { kind: 'ignored', reason: 'not_a_call' };
    const clientState = typeof payload.client_state === 'string' ? payload.client_state : undefined;
    const state = decodeClientState(clientState);
    const callControlId = typeof payload.call_control_id === 'string' ? payload.call_control_id : undefined;
    if (!state || !clientState || !callControlId) return { kind: 'ignored', reason: 'not_ours' };

    const execution = await this.deps.findExecution(state.executionId);
    if (!execution) return { kind: 'ignored', reason: 'unknown_execution' };
    const script = text(execution.rendered?.text);
    const voicemail = text(execution.rendered?.voicemail);
    const { action } = nextCallAction(eventType, payload, voicemail !== undefined);
    const commandId = `${execution.id}:${action}`;
    const { control } = this.deps;

    switch (action) {
      case 'none':
        return { kind: 'none' };
      case 'speak_script':
        if (this.deps.orchestratorUrl && (await this.handOff(callControlId, clientState, execution))) {
          return { kind: 'handed_off' };
        }
        return this.commanded(action, control.speak(callControlId, script ?? '', commandId, clientState));
      case 'speak_voicemail':
        return this.commanded(action, control.speak(callControlId, voicemail ?? '', commandId, clientState));
      case 'hangup':
        return this.commanded(action, control.hangup(callControlId, commandId, clientState));
    }
  }

  private async commanded(action: string, pending: Promise<CallCommandResult>): Promise<CallFlowOutcome> {
    const result = await pending;
    if (!result.ok) this.deps.logger?.warn({ action, code: result.code }, `call command failed: ${result.message}`);
    return { kind: 'commanded', action, result };
  }

  /**
   * The seam for a live voice agent. If it does not take the call (down, slow, refusing), the
   * script is spoken instead: a person who picked up is never left in silence.
   */
  private async handOff(callControlId: string, clientState: string, execution: CallExecution): Promise<boolean> {
    const outcome = await postJson(
      this.deps.orchestratorUrl!,
      {
        call_control_id: callControlId,
        client_state: clientState,
        execution: {
          id: execution.id,
          workspaceId: execution.workspaceId,
          enrollmentId: execution.enrollmentId,
          stepId: execution.stepId,
          script: text(execution.rendered?.text),
        },
        lead: execution.lead,
      },
      { timeoutMs: this.deps.orchestratorTimeoutMs ?? 3_000, fetch: this.deps.fetch },
    );
    const ok = outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300;
    if (!ok) this.deps.logger?.warn({ executionId: execution.id }, 'voice orchestrator did not take the call; speaking the script');
    return ok;
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
