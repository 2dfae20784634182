/**
 * The operator actions the enrollment card offers for each status: exactly what the server's
 * state machine (src/core/transitions.ts) allows from it, read from the same table, so the
 * card can neither hide an action the server takes nor offer one it refuses.
 */
import { allowedActions, ENROLLMENT_STATUSES, isLive, type EnrollmentStatus, type OperatorAction } from '../../../src/core/transitions.ts';

export type Action = OperatorAction;

/** The card's order: the step's own controls first, the ends after. */
const ORDER: readonly Action[] = ['resume', 'pause', 'skip', 'cancel', 'convert', 'retry'];

export function actionsFor(status: string): Action[] {
  if (!isStatus(status)) return [];
  const allowed = new Set(allowedActions(status));
  return ORDER.filter((action) => allowed.has(action));
}

export function isLiveStatus(status: string): boolean {
  return isStatus(status) && isLive(status);
}

function isStatus(status: string): status is EnrollmentStatus {
  return (ENROLLMENT_STATUSES as readonly string[]).includes(status);
}

export const LABEL: Record<Action, string> = {
  pause: 'Pause',
  resume: 'Resume',
  skip: 'Skip step',
  cancel: 'Cancel',
  convert: 'Mark converted',
  retry: 'Retry',
};
