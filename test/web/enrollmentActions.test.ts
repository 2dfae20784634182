/** The enrollment card's buttons are the server's state machine: every action it allows, none it refuses. */
import { describe, expect, it } from 'vitest';
import { ENROLLMENT_STATUSES, OPERATOR_ACTIONS, operatorTransition } from '../../src/core/enrollmentStatus.ts';
import { actionsFor } from '../../web/src/lead/enrollmentActions.ts';

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
});
