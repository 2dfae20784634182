import { describe, expect, it } from 'vitest';
import {
  afterDeliveryFailure,
  afterUnknownDelivery,
  allowedActions,
  ENROLLMENT_STATUSES,
  failedAttempt,
  interruptedVisit,
  OPERATOR_ACTIONS,
  operatorTransition,
  reasonAfterStepEnd,
  shouldRetryDelivery,
  statusAfterStepEnd,
  statusAfterSystemChange,
  stepErrorReason,
} from './transitions.ts';

describe('operator actions', () => {
  it('allows each action from exactly these statuses, to these', () => {
    const table: Record<string, Record<string, string>> = {};
    for (const action of OPERATOR_ACTIONS) {
      table[action] = {};
      for (const from of ENROLLMENT_STATUSES) {
        const t = operatorTransition(from, action);
        if (t.ok) table[action]![from] = t.to;
      }
    }
    expect(table).toEqual({
      pause: { active: 'paused', waiting: 'paused' },
      resume: { paused: 'active' },
      cancel: { active: 'cancelled', waiting: 'cancelled', paused: 'cancelled' },
      skip: { active: 'active', waiting: 'active', paused: 'paused' },
      convert: { active: 'converted', waiting: 'converted', paused: 'converted', completed: 'converted' },
      retry: { failed: 'active' },
    });
  });

  it('says why an action is refused', () => {
    expect(operatorTransition('paused', 'pause')).toEqual({ ok: false, message: 'Cannot pause an enrollment that is paused: it is already paused.' });
    expect(operatorTransition('active', 'resume')).toEqual({ ok: false, message: 'Cannot resume an enrollment that is active: it is not paused.' });
    expect(operatorTransition('completed', 'resume')).toEqual({ ok: false, message: 'Cannot resume an enrollment that is completed: it has finished.' });
    expect(operatorTransition('active', 'retry')).toEqual({ ok: false, message: 'Cannot retry an enrollment that is active: only a failed enrollment can be retried.' });
    expect(operatorTransition('exited', 'cancel')).toEqual({ ok: false, message: 'Cannot cancel an enrollment that is exited: it has finished.' });
  });

  it('lists the actions a status allows, and only those', () => {
    expect(allowedActions('paused')).toEqual(['resume', 'cancel', 'skip', 'convert']);
    expect(allowedActions('completed')).toEqual(['convert']);
    expect(allowedActions('failed')).toEqual(['retry']);
    expect(allowedActions('cancelled')).toEqual([]);
  });
});

describe("the engine's changes", () => {
  it("a step's end leaves an operator's word standing", () => {
    expect(statusAfterStepEnd('waiting', { kind: 'move' })).toBe('active');
    expect(statusAfterStepEnd('paused', { kind: 'move' })).toBe('paused');
    expect(statusAfterStepEnd('paused', { kind: 'finish', status: 'completed' })).toBe('completed');
    expect(statusAfterStepEnd('cancelled', { kind: 'finish', status: 'completed' })).toBe('cancelled');
    expect(statusAfterStepEnd('active', { kind: 'reschedule', waitingFor: 'branch' })).toBe('waiting');
    expect(statusAfterStepEnd('waiting', { kind: 'reschedule' })).toBe('active');
    expect(statusAfterStepEnd('paused', { kind: 'reschedule' })).toBe('paused');
    expect(statusAfterStepEnd('active', { kind: 'pause' })).toBe('paused');
    expect(statusAfterStepEnd('converted', { kind: 'pause' })).toBe('converted');
  });

  it("a step's end gives its reason only with the status it sets", () => {
    const reasons = { had: 'converted', given: 'unknown_delivery' };
    expect(reasonAfterStepEnd('active', { kind: 'pause' }, reasons)).toBe('unknown_delivery');
    expect(reasonAfterStepEnd('waiting', { kind: 'pause' }, reasons)).toBe('unknown_delivery');
    // A hold that lands on an enrollment an operator paused or an exit rule ended leaves its reason.
    expect(reasonAfterStepEnd('paused', { kind: 'pause' }, reasons)).toBe('converted');
    expect(reasonAfterStepEnd('exited', { kind: 'pause' }, reasons)).toBe('converted');
    expect(reasonAfterStepEnd('paused', { kind: 'finish', status: 'exited' }, reasons)).toBe('unknown_delivery');
    expect(reasonAfterStepEnd('cancelled', { kind: 'finish', status: 'completed' }, reasons)).toBe('converted');
    expect(reasonAfterStepEnd('waiting', { kind: 'move' }, reasons)).toBe('converted');
  });

  it('exits, holds, releases and failures move only what they may', () => {
    expect(statusAfterSystemChange('paused', 'exit')).toBe('exited');
    expect(statusAfterSystemChange('completed', 'exit')).toBe('completed');
    expect(statusAfterSystemChange('paused', 'hold')).toBe('paused');
    expect(statusAfterSystemChange('waiting', 'hold')).toBe('paused');
    expect(statusAfterSystemChange('paused', 'release')).toBe('active');
    expect(statusAfterSystemChange('paused', 'fail')).toBe('failed');
    expect(statusAfterSystemChange('cancelled', 'fail')).toBe('cancelled');
  });
});

describe("the executor's policies", () => {
  it('retries a retryable failure while attempts remain', () => {
    expect(shouldRetryDelivery(true, 4, 5)).toBe(true);
    expect(shouldRetryDelivery(true, 5, 5)).toBe(false);
    expect(shouldRetryDelivery(false, 1, 5)).toBe(false);
  });

  it('follows onError and onUnknownDelivery', () => {
    expect(afterDeliveryFailure('exit', 'invalid_number')).toEqual({ kind: 'finish', status: 'failed', action: 'fail', reason: 'delivery_failed: invalid_number' });
    expect(afterDeliveryFailure('continue', 'invalid_number')).toEqual({ kind: 'move_on' });
    expect(afterUnknownDelivery('pause')).toEqual({ kind: 'pause', reason: 'unknown_delivery' });
    expect(afterUnknownDelivery('continue')).toEqual({ kind: 'move_on' });
  });

  it('never sends an interrupted visit blindly', () => {
    expect(interruptedVisit(undefined, 'continue')).toBe('send');
    expect(interruptedVisit('retry_scheduled', 'exit')).toBe('send');
    expect(interruptedVisit('started', 'continue')).toBe('ask_provider');
    expect(interruptedVisit('unknown', 'continue')).toBe('unknown');
    expect(interruptedVisit('failed', 'exit')).toBe('failed_for_good');
    expect(interruptedVisit('failed', 'continue')).toBe('move_on');
    expect(interruptedVisit('succeeded', 'exit')).toBe('move_on');
  });

  it('gives up at the cap, with the error as the reason', () => {
    expect(failedAttempt(3, 5)).toEqual({ attempt: 4, givesUp: false });
    expect(failedAttempt(4, 5)).toEqual({ attempt: 5, givesUp: true });
    expect(stepErrorReason('intro', 5, 'boom')).toBe('step_error: step "intro" failed 5 times in a row: boom');
    expect(stepErrorReason(null, 1, 'x'.repeat(600))).toHaveLength(500);
  });
});
