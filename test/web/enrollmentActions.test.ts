/** The enrollment card's buttons are the server's state machine: every action it allows, none it refuses. */
import { describe, expect, it } from 'vitest';
import { ENROLLMENT_STATUSES, OPERATOR_ACTIONS, operatorTransition } from '../../src/core/enrollmentStatus.ts';
import { actionsFor, outcomeMatters } from '../../web/src/lead/enrollmentActions.ts';

describe('enrollment card actions', () => {
  it('a failed enrollment offers Retry', () => {
    expect(actionsFor('failed')).toEqual(['retry']);
  });

  it('every button offered is an action the server accepts from that status', () => {
    for (const status of ENROLLMENT_STATUSES) {
      for (const action of actionsFor(status)) expect(operatorTransition(status, action).ok, `${action} from ${status}`).toBe(true);
    }
  });

  it('every action the server accepts from a status is offered (skip while paused, convert once completed)', () => {
    for (const status of ENROLLMENT_STATUSES) {
      const accepted = OPERATOR_ACTIONS.filter((action) => operatorTransition(status, action).ok);
      expect([...actionsFor(status)].sort(), status).toEqual([...accepted].sort());
    }
    expect(actionsFor('paused')).toContain('skip');
    expect(actionsFor('completed')).toEqual(['convert']);
  });

  it('offers Record outcome only where an outcome moves something: tasks, calls, outcome branches', () => {
    expect(outcomeMatters('waiting', { type: 'task', outcomes: ['done'] })).toBe(true);
    expect(outcomeMatters('waiting', { type: 'branch', outcomes: ['connected'] })).toBe(true);
    expect(outcomeMatters('waiting', { type: 'branch', outcomes: null, title: 'Waits for manual.outcome of step call' })).toBe(true);
    expect(outcomeMatters('active', { type: 'voice' })).toBe(true);
    expect(outcomeMatters('waiting', { type: 'branch', outcomes: null, title: 'Waits for email.opened' })).toBe(false);
    expect(outcomeMatters('active', { type: 'wait' })).toBe(false);
    expect(outcomeMatters('active', { type: 'email' })).toBe(false);
    expect(outcomeMatters('paused', { type: 'task', outcomes: ['done'] })).toBe(false);
    expect(outcomeMatters('completed', { type: 'task', outcomes: ['done'] })).toBe(false);
  });
});
