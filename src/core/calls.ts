/**
 * A live call's rules (providers.md §4, §7): which answering-machine verdicts mean a person, and
 * which Call Control command follows each webhook. Pure, so the webhook translator (which
 * reports `call.answered`) and the call flow (which speaks or hangs up) share one answer.
 */

// `not_sure` counts as a person: the script is spoken to it, so a real person is never met with silence.
const HUMAN_RESULTS = new Set(['human', 'human_residence', 'human_business', 'not_sure']);

/** Whether an answering-machine detection result means a person picked up. */
export function isHumanDetection(result: string): boolean {
  return HUMAN_RESULTS.has(result);
}

export type CallAction = 'speak_script' | 'speak_voicemail' | 'hangup' | 'none';

/**
 * The voice state machine: which command to send after a Call Control webhook. A human (or an
 * unsure detection, so a real person is never met with silence) hears the script; on a machine
 * with a voicemail to leave we wait for the greeting to end, then speak it; otherwise hang up.
 * After our speech or playback completes we hang up; if it ended because the callee hung up or
 * AMD cut it off, there is nothing to do (a hangup on an ended call is a 422).
 */
export function nextCallAction(
  eventType: string,
  payload: unknown,
  hasVoicemail: boolean,
): { action: CallAction } {
  switch (eventType) {
    case 'call.machine.detection.ended':
    case 'call.machine.premium.detection.ended': {
      const result = field(payload, 'result');
      if (result && isHumanDetection(result)) return { action: 'speak_script' };
      // The dialer only asks for greeting-end detection when there is a voicemail to leave;
      // otherwise no greeting event will come, so hang up on the machine now.
      if (result === 'machine') return { action: hasVoicemail === true ? 'none' : 'hangup' };
      if (result === 'silence' || result === 'fax_detected') return { action: 'hangup' };
      return { action: 'none' };
    }
    case 'call.machine.greeting.ended':
    case 'call.machine.premium.greeting.ended':
      return { action: hasVoicemail === true ? 'speak_voicemail' : 'hangup' };
    case 'call.speak.ended':
    case 'call.playback.ended': {
      const status = field(payload, 'status');
      return { action: status === undefined || status === 'completed' ? 'hangup' : 'none' };
    }
    default:
      return { action: 'none' };
  }
}

/** A non-empty trimmed string field of an untrusted payload, or undefined. */
function field(payload: unknown, name: string): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const value = (payload as Record<string, unknown>)[name];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}
