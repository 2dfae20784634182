import { describe, expect, it } from 'vitest';
import { nextCallAction } from './calls.ts';

describe('nextCallAction', () => {
  it.each([
    ['call.machine.detection.ended', { result: 'human' }, true, 'speak_script'],
    ['call.machine.detection.ended', { result: 'not_sure' }, false, 'speak_script'],
    ['call.machine.detection.ended', { result: 'machine' }, true, 'none'],
    ['call.machine.detection.ended', { result: 'machine' }, false, 'hangup'],
    ['call.machine.premium.detection.ended', { result: 'human_residence' }, true, 'speak_script'],
    ['call.machine.premium.detection.ended', { result: 'machine' }, true, 'none'],
    ['call.machine.premium.detection.ended', { result: 'machine' }, false, 'hangup'],
    ['call.machine.premium.detection.ended', { result: 'fax_detected' }, true, 'hangup'],
    ['call.machine.premium.detection.ended', { result: 'silence' }, true, 'hangup'],
    ['call.machine.greeting.ended', { result: 'beep_detected' }, true, 'speak_voicemail'],
    ['call.machine.greeting.ended', { result: 'ended' }, true, 'speak_voicemail'],
    ['call.machine.greeting.ended', { result: 'not_sure' }, false, 'hangup'],
    ['call.machine.premium.greeting.ended', { result: 'beep_detected' }, true, 'speak_voicemail'],
    ['call.speak.ended', { status: 'completed' }, true, 'hangup'],
    ['call.playback.ended', { status: 'completed' }, true, 'hangup'],
    ['call.speak.ended', { status: 'call_hangup' }, true, 'none'],
    ['call.speak.ended', { status: 'cancelled_amd' }, true, 'none'],
    ['call.answered', {}, true, 'none'],
    ['call.hangup', { hangup_cause: 'normal_clearing' }, true, 'none'],
  ])('%s %o (voicemail %s) → %s', (eventType, payload, hasVoicemail, action) => {
    expect(nextCallAction(eventType, payload, hasVoicemail)).toEqual({ action });
  });

  it('is total on garbage', () => {
    expect(nextCallAction('call.machine.detection.ended', null, true)).toEqual({ action: 'none' });
    expect(nextCallAction('', 'x', false)).toEqual({ action: 'none' });
  });
});
