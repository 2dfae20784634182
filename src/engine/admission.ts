/**
 * Admission of a round's sends through the send gate (rate limits, a mailbox's cap) before their
 * intents (docs/ENGINE.md, "Limit-aware claims: a limited send is deferred, never held"). A send
 * the gate defers ends here, with no intent and no attempt counted: briefly, it is carried beside
 * the batch with its claim and its content; else its enrollment is rescheduled to when the limit
 * has room. Either way the rest of its step's queue in the database is given its places behind
 * it: the due backlog without being claimed, the rows queued just ahead moved back with a slip.
 */
import type { DeliveryStep } from '../core/definition.ts';
import { idempotencyKeyOf, type IntentRequest } from '../db/executions.ts';
import { deferOnStep, queuedOnStep } from '../db/stepBacklog.ts';
import { senderOf, type ReadyContent } from './delivery.ts';
import type { EngineDeps } from './deps.ts';
import { ending, type Ending, type Visit } from './endings.ts';

/**
 * A send deferred by a limit at least this far out has its step's due backlog deferred behind it
 * (deferBacklog); a shorter deferral queues too few behind it to pay for reading the backlog.
 */
const BACKLOG_AFTER_MS = 200;
/**
 * Any deferral by a limit with a queue also brings the next of its step's rows already queued
 * (up to this many, due within QUEUED_AHEAD_MS) to their places as the limit now keeps them: a
 * slip (the queue fell behind: a stall) moved those places back, and a row left due at its old
 * place would come back early, once per row. The rows further ahead are brought along by the
 * first of them to come back early, this many at a time.
 */
const QUEUED_AHEAD = 200;
const QUEUED_AHEAD_MS = 10_000;
/**
 * In the running loop, a send deferred by a limit for less than this keeps its claim: it is held
 * beside the batch (taking none of its rows) and tried again at its time, neither written back
 * nor claimed again. What such deferrals are: a send at its queue place whose rate window is
 * still full because sends a second earlier went late, or bunched after a stall (one round of a
 * batch sends every text whose place passed during it). Up to the batch size are held; a
 * longer deferral, or one past that, is rescheduled (a claim later).
 */
const CARRY_MAX_MS = 2_000;
/** At most this many of a step's backlog deferred at once; the rest is deferred by the next. */
const BACKLOG_LIMIT = 10_000;

/**
 * A carried send's content, kept with its claim so the retry sends what was rendered (and drafted
 * by the AI writer) once, for the same visit (`key`), instead of rendering it again. Its context
 * is read again all the same: exit rules, suppressions and windows are re-checked before a send.
 */
export interface KeptContent {
  key: string;
  step: DeliveryStep;
  content: ReadyContent;
  rendered: Record<string, unknown>;
  variant?: string;
}

/**
 * Sends deferred briefly in a round: enrollment id → when it may send, and its content. Their
 * claims are held until then (CARRY_MAX_MS), up to `room`; the batch's loop (Executor.runBatch)
 * holds them.
 */
export type Carried = Map<string, { at: number; kept: KeptContent }> & { room: number };

/**
 * Asks the send gate (rate limits, a mailbox's cap) about the round's sends before their
 * intents. One it defers ends here, with no intent and no attempt counted: its enrollment is
 * rescheduled to when the limit has room, so it never holds back the round's other sends and
 * is not claimed again before then (docs/ENGINE.md, "Limit-aware claims").
 */
export async function admit<T extends { visit: Visit; step: DeliveryStep; request: IntentRequest; content: ReadyContent }>(
  deps: EngineDeps,
  ready: T[],
  endings: Ending[],
  carried?: Carried,
): Promise<T[]> {
  const gate = deps.sendGate;
  if (!gate || ready.length === 0) return ready;
  const answers = await gate.admit(
    ready.map(({ visit, step, request: { identity: who } }) => ({
      key: idempotencyKeyOf(who.enrollmentId, who.stepId, who.visit),
      channel: step.type,
      sender: senderOf(deps, step, visit.context),
      workspaceId: who.workspaceId,
      enrollmentId: who.enrollmentId,
    })),
  );
  const now = deps.clock.now().getTime();
  // Per step of a pinned version, the deferral furthest out whose gate can queue sends behind it.
  const queues = new Map<string, { visit: Visit; afterMs: number; queueBehind: (keys: string[]) => Promise<number[]> }>();
  const admitted = ready.filter((r, i) => {
    const answer = answers[i]!;
    if (answer.kind === 'now') return true;
    deps.observer?.delivery?.(r.step.type, r.request.adapter, 'deferred');
    if (answer.queueBehind) {
      const { enrollment } = r.visit.context;
      const group = `${enrollment.sequenceId}:${enrollment.sequenceVersion}:${r.step.id}`;
      if ((queues.get(group)?.afterMs ?? -1) < answer.afterMs) queues.set(group, { visit: r.visit, afterMs: answer.afterMs, queueBehind: answer.queueBehind });
    }
    if (carried && answer.afterMs < CARRY_MAX_MS && carried.size < carried.room) {
      // Kept, lease, content and all, and tried again in the batch's first round after its time.
      const { identity: who, rendered, variant } = r.request;
      const key = idempotencyKeyOf(who.enrollmentId, who.stepId, who.visit);
      carried.set(r.visit.claim.enrollmentId, { at: now + answer.afterMs, kept: { key, step: r.step, content: r.content, rendered, variant } });
      return false;
    }
    endings.push(ending(r.visit, { kind: 'reschedule', at: new Date(now + answer.afterMs) }));
    return false;
  });
  for (const { visit, afterMs, queueBehind } of queues.values()) await deferBacklog(deps, visit, queueBehind, afterMs >= BACKLOG_AFTER_MS);
  return admitted;
}

/**
 * The rest of a deferred send's step queue: the enrollments on the same step of the same pinned
 * version go out from the same sender (senderOf reads only the definition), so the limit would
 * defer each of them too. Those due (when `withDue`: a deferral long enough to have a backlog
 * behind it) are given their places in the limit's queue behind it and made due at them,
 * without being claimed: each is claimed once, at its place. The next ones already queued are
 * made due at their places as the limit keeps them now, moved back by any slip since they were
 * given (docs/ENGINE.md, "Limit-aware claims"). Only a saving: should it fail, they are claimed
 * and deferred one by one as before.
 */
async function deferBacklog(deps: EngineDeps, visit: Visit, queueBehind: (keys: string[]) => Promise<number[]>, withDue: boolean): Promise<void> {
  const { db, clock } = deps;
  const { enrollment } = visit.context;
  const stepId = enrollment.currentStepId!;
  try {
    const now = clock.now();
    const rows = await queuedOnStep(db, {
      workspaceId: enrollment.workspaceId,
      sequenceId: enrollment.sequenceId,
      sequenceVersion: enrollment.sequenceVersion,
      stepId,
      now,
      due: withDue ? BACKLOG_LIMIT : 0,
      ahead: QUEUED_AHEAD,
      aheadMs: QUEUED_AHEAD_MS,
    });
    if (rows.length === 0) return;
    const waits = await queueBehind(rows.map((r) => idempotencyKeyOf(r.enrollmentId, stepId, r.stepSeq)));
    const at = clock.now().getTime();
    await deferOnStep(db, { stepId, now, rows: rows.map((r, i) => ({ ...r, at: new Date(at + waits[i]!) })) });
  } catch (error) {
    deps.logger?.warn({ err: error, enrollmentId: enrollment.id }, 'deferring a limited step’s backlog failed; its sends are deferred one by one');
  }
}
