/**
 * The enrollment state machine, in one place (DESIGN.md, "Enrollment statuses"): the statuses,
 * what an operator may do from each and where it leads, where the engine's own changes lead
 * (a step's end, a failure, an exit rule, a sequence's hold), and the executor's policies for a
 * send that failed, failed for good, or may have gone out. The API, the CLI, the engine and the
 * dashboard read it from here; the database functions that apply the engine's changes in bulk
 * (`src/db/functions/engine_apply_steps.sql`, `engine_record_failures.sql`) spell the same table
 * in SQL, and `test/integration/transitions.test.ts` proves the two agree.
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
/** The statuses the dispatcher runs (a paused enrollment keeps its place but is not due). */
export const RUNNABLE_STATUSES: readonly EnrollmentStatus[] = ['active', 'waiting'];

export function isLive(status: EnrollmentStatus): boolean {
  return LIVE_STATUSES.includes(status);
}

export function isRunnable(status: EnrollmentStatus): boolean {
  return RUNNABLE_STATUSES.includes(status);
}

export const OPERATOR_ACTIONS = ['pause', 'resume', 'cancel', 'skip', 'convert', 'retry'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/**
 * Operator actions: from which status each is allowed, and the status it leads to. `skip` keeps
 * a paused enrollment paused (its pointer moves on; resume continues from there) and wakes a
 * waiting one. A lead can convert after its sequence ran to the end: still worth recording.
 * `retry` takes a `failed` enrollment (its step failed too many times in a row, or a send failed
 * for good under `onError: exit`) back to `active` on its current step, once the cause is fixed.
 */
export const OPERATOR_TRANSITIONS: Readonly<Record<OperatorAction, Readonly<Partial<Record<EnrollmentStatus, EnrollmentStatus>>>>> = {
  pause: { active: 'paused', waiting: 'paused' },
  resume: { paused: 'active' },
  cancel: { active: 'cancelled', waiting: 'cancelled', paused: 'cancelled' },
  skip: { active: 'active', waiting: 'active', paused: 'paused' },
  convert: { active: 'converted', waiting: 'converted', paused: 'converted', completed: 'converted' },
  retry: { failed: 'active' },
};

export type Transition = { ok: true; to: EnrollmentStatus } | { ok: false; message: string };

/** Where an operator action takes an enrollment, or the sentence that says why it cannot. */
export function operatorTransition(from: EnrollmentStatus, action: OperatorAction): Transition {
  const to = OPERATOR_TRANSITIONS[action][from];
  if (to) return { ok: true, to };
  return { ok: false, message: `Cannot ${action} an enrollment that is ${from}: ${whyNot(from, action)}` };
}

function whyNot(from: EnrollmentStatus, action: OperatorAction): string {
  if (action === 'retry') return 'only a failed enrollment can be retried.';
  if (action === 'pause' && from === 'paused') return 'it is already paused.';
  if (action === 'resume' && isLive(from)) return 'it is not paused.';
  return 'it has finished.';
}

/** The operator actions an enrollment in `status` allows, in OPERATOR_ACTIONS order. */
export function allowedActions(status: EnrollmentStatus): OperatorAction[] {
  return OPERATOR_ACTIONS.filter((action) => OPERATOR_TRANSITIONS[action][status] !== undefined);
}

/**
 * How a step ends, as the engine records it (`engine_apply_steps`):
 * - `move`: on to the next step (a new visit);
 * - `finish`: the enrollment ends (completed, exited, failed);
 * - `reschedule`: it stays on its step and comes back later, parked while `waitingFor` is set;
 * - `pause`: it is held for an operator (a send whose outcome is unknown).
 */
export type StepEndKind =
  | { kind: 'move' }
  | { kind: 'finish'; status: Extract<EnrollmentStatus, 'completed' | 'exited' | 'failed'> }
  | { kind: 'reschedule'; waitingFor?: 'task' | 'branch' | null }
  | { kind: 'pause' };

/**
 * The status a step's end leaves. An operator's word stands: a step that ends on a paused
 * enrollment moves its pointer but leaves it paused, and one that ends after a cancel (or any
 * other end) changes nothing of its status.
 */
export function statusAfterStepEnd(from: EnrollmentStatus, end: StepEndKind): EnrollmentStatus {
  switch (end.kind) {
    case 'move':
      return from === 'waiting' ? 'active' : from;
    case 'finish':
      return isLive(from) ? end.status : from;
    case 'reschedule':
      if (!isRunnable(from)) return from;
      return end.waitingFor ? 'waiting' : 'active';
    case 'pause':
      return isRunnable(from) ? 'paused' : from;
    default: {
      const unreachable: never = end;
      return unreachable;
    }
  }
}

/**
 * The status reason a step's end leaves (`had`: the enrollment's; `given`: the end's own, for a
 * finish or a hold). The end's reason goes with the status it sets: where the end changes the
 * status, its reason replaces the old one; where an operator's word stands (the status does not
 * change), so does the reason for it. A hold for an unknown send that lands on an enrollment
 * an operator paused, converted or cancelled, or an exit rule ended, while the send was in flight
 * leaves the reason an exit or a pause gave (`replied`, `converted` — which the reports count —
 * `sequence_paused` and `auto_reply`, which their releases look for). Nothing goes past the
 * unknown visit meanwhile: a paused enrollment that runs again meets the visit's `unknown` row
 * and is held then (docs/SIMULATION.md, Findings 8).
 */
export function reasonAfterStepEnd(from: EnrollmentStatus, end: StepEndKind, reasons: { had: string | null; given: string | null }): string | null {
  const setsReason = end.kind === 'finish' || end.kind === 'pause';
  return setsReason && statusAfterStepEnd(from, end) !== from ? reasons.given : reasons.had;
}

/**
 * The engine's other changes of status, each with the audit row's action:
 * - `exit`: an exit rule fired (an event, a conversion elsewhere) — any live enrollment;
 * - `hold`: its sequence was paused — an active or waiting one (a paused one is the operator's);
 * - `release`: its sequence was re-activated — one the hold paused (`status_reason`
 *   `sequence_paused`), never one an operator paused;
 * - `fail`: its step failed `MAX_CONSECUTIVE_FAILURES` times in a row — any live one.
 */
export const SYSTEM_TRANSITIONS = {
  exit: { from: LIVE_STATUSES, to: 'exited', audit: 'exit' },
  hold: { from: RUNNABLE_STATUSES, to: 'paused', audit: 'pause' },
  release: { from: ['paused'], to: 'active', audit: 'resume' },
  fail: { from: LIVE_STATUSES, to: 'failed', audit: 'fail' },
} as const satisfies Record<string, { from: readonly EnrollmentStatus[]; to: EnrollmentStatus; audit: string }>;
export type SystemChange = keyof typeof SYSTEM_TRANSITIONS;

/** The status a system change leaves (unchanged where the table does not allow it). */
export function statusAfterSystemChange(from: EnrollmentStatus, change: SystemChange): EnrollmentStatus {
  const { from: allowed, to } = SYSTEM_TRANSITIONS[change];
  return (allowed as readonly EnrollmentStatus[]).includes(from) ? to : from;
}

/**
 * A failed attempt (a step that threw): the count of failures in a row goes up, and at `cap`
 * the enrollment gives up (`fail`). Answers the attempt's number and whether it gave up.
 */
export function failedAttempt(previousFailures: number, cap: number): { attempt: number; givesUp: boolean } {
  const attempt = previousFailures + 1;
  return { attempt, givesUp: attempt >= cap };
}

/** The status reason (and timeline line) of an enrollment that gave up on a step. */
export function stepErrorReason(stepId: string | null, attempt: number, message: string, maxLength = 500): string {
  return `step_error: step "${stepId ?? '(none)'}" failed ${attempt} times in a row: ${message}`.slice(0, maxLength);
}

/** A retryable delivery failure is tried again while attempts remain (`maxAttempts`, first try included). */
export function shouldRetryDelivery(retryable: boolean, attempts: number, maxAttempts: number): boolean {
  return retryable && attempts < maxAttempts;
}

/** What follows a step: on to the next one, or an end of the enrollment. */
export type Consequence =
  | { kind: 'move_on' }
  | { kind: 'finish'; status: 'failed'; action: 'fail'; reason: string }
  | { kind: 'pause'; reason: 'unknown_delivery' };

/** A send that failed for good: the sequence's `onError` says exit (the enrollment is `failed`), or go on. */
export function afterDeliveryFailure(onError: 'continue' | 'exit', code: string | null): Consequence {
  if (onError === 'exit') return { kind: 'finish', status: 'failed', action: 'fail', reason: `delivery_failed: ${code}` };
  return { kind: 'move_on' };
}

/** A send we cannot know went out is never resent: go on, or hold for an operator (`onUnknownDelivery`). */
export function afterUnknownDelivery(onUnknownDelivery: 'continue' | 'pause'): Consequence {
  return onUnknownDelivery === 'pause' ? { kind: 'pause', reason: 'unknown_delivery' } : { kind: 'move_on' };
}

/**
 * A visit that finds its execution row already written was interrupted; what its status says
 * to do (never to send again blindly):
 * - `send`: no row, or a retry is scheduled — the visit proceeds as usual;
 * - `ask_provider`: `started` — a crash between intent and answer; the provider's ledger may
 *   know, else it is unknown;
 * - `unknown`: follow `onUnknownDelivery`;
 * - `failed_for_good`: the send failed and `onError` said exit, but the move was lost;
 * - `move_on`: an outcome recorded whose move was lost.
 */
export type InterruptedVisit = 'send' | 'ask_provider' | 'unknown' | 'failed_for_good' | 'move_on';

export function interruptedVisit(executionStatus: string | undefined, onError: 'continue' | 'exit'): InterruptedVisit {
  if (executionStatus === undefined || executionStatus === 'retry_scheduled') return 'send';
  if (executionStatus === 'started') return 'ask_provider';
  if (executionStatus === 'unknown') return 'unknown';
  if (executionStatus === 'failed' && onError === 'exit') return 'failed_for_good';
  return 'move_on';
}

/**
 * The send fence (docs/ENGINE.md, "Crashes: at most once"): every adapter call has a deadline
 * `marginMs` before its claim's lease runs out — room for clocks that disagree between workers
 * and for writing the outcome — and a call with less than `minSendMs` left before that deadline
 * is not started at all. So once the lease has run out and another worker may take the visit
 * over, no call of the old holder can still reach the provider.
 */
export function sendFence(leaseMs: number): { marginMs: number; minSendMs: number } {
  return { marginMs: Math.min(leaseMs / 5, 30_000), minSendMs: Math.min(leaseMs / 4, 10_000) };
}

/** The deadline of a send made under a lease that runs out at `leaseUntil`. */
export function sendDeadline(leaseUntil: Date, leaseMs: number): Date {
  return new Date(leaseUntil.getTime() - sendFence(leaseMs).marginMs);
}

/**
 * The deadline of an interrupted attempt: the one its intent recorded, else (an intent written
 * before deadlines were recorded) the latest it can have had — a lease is never longer than
 * `leaseMs` from the moment the attempt began.
 */
export function interruptedDeadline(metadata: Record<string, unknown> | undefined, startedAt: Date, leaseMs: number): Date {
  const recorded = typeof metadata?.sendDeadline === 'string' ? Date.parse(metadata.sendDeadline) : Number.NaN;
  return new Date(Number.isNaN(recorded) ? startedAt.getTime() + leaseMs : recorded);
}

/**
 * What the provider's ledger answer means for a `started` visit. "Sent" is certain at once.
 * "Not sent" is certain only once the interrupted attempt's deadline has passed: before it, that
 * call may still be in flight and reach the provider after the answer, so the visit is
 * re-checked at the deadline, never resent. No ledger: the outcome is unknown.
 */
export type LedgerVerdict = 'record_sent' | 'resend' | 'recheck' | 'unknown';

export function afterLedgerLookup(answer: 'sent' | 'not_sent' | undefined, deadline: Date, now: Date): LedgerVerdict {
  if (answer === 'sent') return 'record_sent';
  if (answer === 'not_sent') return now.getTime() > deadline.getTime() ? 'resend' : 'recheck';
  return 'unknown';
}

/**
 * How long a cancel can be taken back (`POST /api/sequences/enrollments/{id}/undo-cancel`): long
 * enough for the dashboard's "Undo" after a slip of the mouse, short enough that nothing the
 * lead did meanwhile is lost (a cancelled enrollment ignores events; an undo after a reply would
 * replay a sequence the reply should have ended).
 */
export const CANCEL_UNDO_WINDOW_MS = 60_000;

/**
 * Whether a cancel can be undone: the enrollment is `cancelled` (only an operator's cancel leads
 * there, and nothing leads out but this undo), by a cancel made less than the window ago. It
 * goes back where it was: a paused one stays paused, an active or waiting one becomes `active`
 * on its current step (the engine decides it again: a task or branch waits again, from when it
 * first entered the step).
 */
export function undoCancelTransition(status: EnrollmentStatus, cancel: { from: EnrollmentStatus | null; at: Date } | undefined, now: Date): Transition {
  if (status !== 'cancelled' || !cancel) return { ok: false, message: `Only a cancel can be undone; this enrollment is ${status}.` };
  if (now.getTime() - cancel.at.getTime() > CANCEL_UNDO_WINDOW_MS) {
    return { ok: false, message: `A cancel can be undone for ${CANCEL_UNDO_WINDOW_MS / 1000} seconds; this one is older. Enroll the lead again instead.` };
  }
  if (!cancel.from || !isLive(cancel.from)) return { ok: false, message: 'The enrollment was not running when it was cancelled.' };
  return { ok: true, to: cancel.from === 'paused' ? 'paused' : 'active' };
}
