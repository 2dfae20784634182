/**
 * A step that throws fails its own enrollment only (docs/ENGINE.md, "Failures: one bad
 * enrollment never holds up another"): the executor collects such visits as `Failure`s while the
 * rest of its batch goes on; here each is counted, comes back after a backoff, and at the cap is
 * `failed` with the error on its timeline. A step that ends normally clears the count. A batched
 * write that fails is written again item by item (`allOrEach`), so the bad row fails alone.
 */
import { retryDelayMs } from '../core/backoff.ts';
import { failedAttempt, stepErrorReason, type EnrollmentStatus } from '../core/transitions.ts';
import type { Db } from '../db/db.ts';
import { recordStepFailures, resetFailures, type Claim, type EnrollmentRecord, type StepFailure } from '../db/enrollments.ts';
import type { EngineDeps } from './deps.ts';
import { applyStepEnds, type ExecutionWrite, type StepEnd } from '../db/stepEnds.ts';

/** Consecutive failed attempts before an enrollment is `failed` (MAX_CONSECUTIVE_FAILURES). */
export const DEFAULT_MAX_CONSECUTIVE_FAILURES = 5;
/** Backoff between failed attempts: exponential from a few seconds, at most a quarter hour. */
const FAILURE_BACKOFF = { baseMs: 5_000, maxMs: 15 * 60_000 };

/** A visit whose step threw: it fails alone, counted, and comes back after a backoff. */
export interface Failure {
  claim: Claim;
  enrollment: EnrollmentRecord;
  stepId: string | null;
  /** The step's type, when the definition could be read (the metric's label). */
  stepType?: string;
  error: unknown;
  /** What the adapter answered before the throw, if it was called. */
  execution?: ExecutionWrite;
}

/** Step ends in one statement; one that ends a run of failures resets its count with it. */
export async function applyEndsResettingFailures(db: Db, ends: StepEnd[], recovering: Set<string>): Promise<Map<string, EnrollmentStatus>> {
  const resets = ends.filter((e) => recovering.has(e.enrollmentId));
  if (resets.length === 0) return applyStepEnds(db, ends);
  return db.transaction(async (tx) => {
    const statuses = await applyStepEnds(tx, ends);
    await resetFailures(tx, resets.map((e) => e.enrollmentId).filter((id) => statuses.has(id)));
    return statuses;
  });
}

/**
 * The failed attempts of a round: each is counted and comes back after a backoff, or at the
 * cap is `failed` with the error on its timeline. Should that write fail too (the store is
 * away), the lease retries them.
 */
export async function recordFailures(deps: EngineDeps, failures: Failure[]): Promise<void> {
  if (failures.length === 0) return;
  const { clock, logger, observer, random } = deps;
  const cap = deps.maxConsecutiveFailures ?? DEFAULT_MAX_CONSECUTIVE_FAILURES;
  const now = clock.now();
  const rows: StepFailure[] = failures.map(({ claim, enrollment, stepId, stepType, error, execution }) => {
    const message = error instanceof Error ? error.message : String(error);
    const { attempt, givesUp } = failedAttempt(enrollment.consecutiveFailures, cap);
    logger?.error(
      { err: error, enrollmentId: enrollment.id, workspaceId: enrollment.workspaceId, stepId, attempt, cap },
      givesUp ? 'step failed again; the enrollment is now failed' : 'step failed; retrying after a backoff',
    );
    observer?.stepExecuted?.(stepType ?? 'unknown', 'error', 0);
    return {
      enrollmentId: claim.enrollmentId,
      leaseId: claim.leaseId,
      now,
      reason: stepErrorReason(stepId, attempt, message),
      retryAt: new Date(now.getTime() + retryDelayMs(attempt, { ...FAILURE_BACKOFF, random })),
      cap,
      execution: execution?.kind === 'record' ? undefined : execution,
    };
  });
  const counted = (results: Map<string, { status: string }>) => {
    for (const result of results.values()) if (result.status === 'failed') observer?.enrollmentFailed?.('step_error');
  };
  try {
    counted(await recordStepFailures(deps.db, rows));
  } catch (error) {
    // One at a time, and one the store refuses even so (its adapter's answer, say) is counted
    // without it: a failure must never go uncounted, or it would be retried forever.
    logger?.warn({ err: error, batch: rows.length }, 'recording failed steps failed; recording them one by one');
    for (const row of rows) {
      try {
        counted(await recordStepFailures(deps.db, [row]).catch(() => recordStepFailures(deps.db, [{ ...row, execution: undefined }])));
      } catch (single) {
        logger?.error({ err: single, enrollmentId: row.enrollmentId }, 'could not record a failed step; the lease retries it');
      }
    }
  }
}

/**
 * One batched write; should it fail (a deadlock, say), each item on its own, so one bad row
 * never costs the others their intent or leaves their sends unrecorded. An item that fails
 * alone is handed to `failed` (it fails its own enrollment, counted like any failed step).
 */
export async function allOrEach<T, V>(
  deps: Pick<EngineDeps, 'logger'>,
  what: string,
  items: T[],
  enrollmentOf: (item: T) => string,
  write: (items: T[]) => Promise<Map<string, V>>,
  failed: (item: T, error: unknown) => void,
): Promise<Map<string, V>> {
  if (items.length === 0) return new Map();
  try {
    return await write(items);
  } catch (error) {
    if (items.length === 1) {
      deps.logger?.error({ err: error, enrollmentId: enrollmentOf(items[0]!) }, `${what} failed for one enrollment`);
      failed(items[0]!, error);
      return new Map();
    }
    deps.logger?.warn({ err: error, batch: items.length }, `batched ${what} failed; writing them one by one`);
    const answers = new Map<string, V>();
    for (const item of items) {
      try {
        for (const [id, value] of await write([item])) answers.set(id, value);
      } catch (single) {
        deps.logger?.error({ err: single, enrollmentId: enrollmentOf(item) }, `${what} failed for one enrollment`);
        failed(item, single);
      }
    }
    return answers;
  }
}
