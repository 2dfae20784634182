/** The enrollment card's buttons agree with the server's state machine; a failed enrollment offers Retry. */
import { describe, expect, it } from 'vitest';
import { ENROLLMENT_STATUSES, operatorTransition } from '../../src/core/enrollmentStatus.ts';
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
});
