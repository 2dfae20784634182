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

/**
 * Whether recording an outcome can change anything where the enrollment stands: a task step, a
 * branch waiting for an outcome (or for the `manual.outcome` event), or a call (voice) step. On a
 * wait, an email or an SMS the engine would keep the outcome but nothing would move, so the card
 * does not offer it there (Log an activity records what happened instead).
 */
export function outcomeMatters(status: string, step: { type: string; outcomes?: string[] | null; title?: string | null } | null | undefined): boolean {
  if (!step || (status !== 'active' && status !== 'waiting')) return false;
  if (step.type === 'task' || step.type === 'voice') return true;
  if (step.type !== 'branch') return false;
  return (step.outcomes?.length ?? 0) > 0 || (step.title ?? '').includes('manual.outcome');
}
