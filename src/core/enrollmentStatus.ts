/**
 * The enrollment state machine (DESIGN.md, "Enrollment statuses"). Operator actions are
 * checked here, so the API, the CLI and the engine agree on what is legal.
 */
export const ENROLLMENT_STATUSES = [
  'active',
  'paused',
  'waiting',
  'completed',
  'cancelled',
  'converted',
  'exited',
  'failed',
] as const;
export type EnrollmentStatus = (typeof ENROLLMENT_STATUSES)[number];

export const LIVE_STATUSES: readonly EnrollmentStatus[] = ['active', 'paused', 'waiting'];
export const TERMINAL_STATUSES: readonly EnrollmentStatus[] = ['completed', 'cancelled', 'converted', 'exited', 'failed'];

export const OPERATOR_ACTIONS = ['pause', 'resume', 'cancel', 'skip', 'convert', 'retry'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

export function isLive(status: EnrollmentStatus): boolean {
  return LIVE_STATUSES.includes(status);
}

export type Transition = { ok: true; to: EnrollmentStatus } | { ok: false; message: string };

/**
 * Where an operator action takes an enrollment. `skip` keeps a paused enrollment paused (its
 * pointer moves on; resume continues from there) and wakes a waiting one. `retry` takes a
 * `failed` enrollment (its step failed too many times in a row, or a send failed for good under
 * `onError: exit`) back to `active` on its current step, once the cause is fixed.
 */
export function operatorTransition(from: EnrollmentStatus, action: OperatorAction): Transition {
  const refuse = (why: string): Transition => ({ ok: false, message: `Cannot ${action} an enrollment that is ${from}: ${why}` });
  switch (action) {
    case 'pause':
      if (from === 'paused') return refuse('it is already paused.');
      return isLive(from) ? { ok: true, to: 'paused' } : refuse('it has finished.');
    case 'resume':
      if (from === 'paused') return { ok: true, to: 'active' };
      return isLive(from) ? refuse('it is not paused.') : refuse('it has finished.');
    case 'cancel':
      return isLive(from) ? { ok: true, to: 'cancelled' } : refuse('it has finished.');
    case 'skip':
      if (from === 'paused') return { ok: true, to: 'paused' };
      return isLive(from) ? { ok: true, to: 'active' } : refuse('it has finished.');
    case 'convert':
      // A lead can convert after its sequence ran to the end; that is still worth recording.
      return isLive(from) || from === 'completed' ? { ok: true, to: 'converted' } : refuse('it has finished.');
    case 'retry':
      if (from === 'failed') return { ok: true, to: 'active' };
      return refuse('only a failed enrollment can be retried.');
    default: {
      const unreachable: never = action;
      return unreachable;
    }
  }
}
