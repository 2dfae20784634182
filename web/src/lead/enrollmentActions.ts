/** The operator actions the enrollment card offers for each status (the server's state machine decides; this mirrors it). */
export type Action = 'pause' | 'resume' | 'skip' | 'cancel' | 'convert' | 'retry';

export const LIVE = new Set(['active', 'waiting', 'paused']);

export function actionsFor(status: string): Action[] {
  if (status === 'paused') return ['resume', 'cancel', 'convert'];
  if (status === 'active' || status === 'waiting') return ['pause', 'skip', 'cancel', 'convert'];
  // Failed: its step failed too many times in a row (the reason says why); retry once it is fixed.
  if (status === 'failed') return ['retry'];
  return [];
}

export const LABEL: Record<Action, string> = {
  pause: 'Pause',
  resume: 'Resume',
  skip: 'Skip step',
  cancel: 'Cancel',
  convert: 'Mark converted',
  retry: 'Retry',
};
