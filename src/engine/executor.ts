/**
 * Runs claimed enrollments, a step at a time, as a batch (DESIGN.md, "Life of one step"). Each
 * round takes one step for every enrollment of the batch in three round trips whatever its
 * size: read every context; write every intent (re-checked under the row locks, committed
 * before any send); then, after the adapter calls have run side by side, record every outcome
 * together with the move it causes. Every write is fenced by the lease; a single claim is a
 * batch of one.
 */
import { retryDelayMs } from '../core/backoff.ts';
import { decideStep, findStep, firstDueAt, nextStepId } from '../core/decide.ts';
import { isDeliveryStep, type DeliveryStep, type Step } from '../core/definition.ts';
import { DEFAULT_FREQUENCY_CAPS } from '../core/limits.ts';
import { resolveZone } from '../core/time.ts';
import { applyVariant } from '../core/variants.ts';
import {
  afterDeliveryFailure,
  afterLedgerLookup,
  afterUnknownDelivery,
  interruptedDeadline,
  interruptedVisit,
  sendDeadline,
  sendFence,
  shouldRetryDelivery,
  type Consequence,
} from '../core/transitions.ts';
import type { Claim } from '../db/enrollments.ts';
import { letGoOfClaims, releaseLeases } from '../db/leases.ts';
import { completeExecution, idempotencyKeyOf, writeIntents, type ExecutionIdentity, type IntentRequest } from '../db/executions.ts';
import { recordCapDeferrals } from '../db/workspaceSettings.ts';
import { timerOf } from './clock.ts';
import { deferDueOnStep, dueOnStep } from '../db/stepBacklog.ts';
import type { DeliveryResult } from '../delivery/types.ts';
import { loadRunContexts, type RunContext } from './context.ts';
import { writeMailboxIntents, type MailboxRecord } from '../db/mailboxes.ts';
import { adapterNameFor, prepareContent, send, senderOf, sendsThroughMailbox, type ReadyContent } from './delivery.ts';
import { previousEmails } from '../db/threads.ts';
import { repliesInThread } from '../core/threads.ts';
import type { EngineDeps } from './deps.ts';
import { applyEndsResettingFailures, recordFailures, type Failure } from './failures.ts';
import type { ExecutionWrite, StepEnd, StepTransition } from '../db/stepEnds.ts';
import { VariantPicker } from './variants.ts';
import { enrollmentNotices } from './liveNotices.ts';

/**
 * A send deferred by a limit at least this far out has its step's due backlog deferred behind it
 * (deferBacklog); a shorter deferral queues too few behind it to pay for reading the backlog.
 */
const BACKLOG_AFTER_MS = 200;
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

/** Steps one claim may run back to back before it lets others have a turn. */
const MAX_STEPS_PER_CLAIM = 16;

/** One enrollment's current step in a round. */
interface Visit {
  claim: Claim;
  context: RunContext;
  now: Date;
  zone: string;
  step: Step | undefined;
  /** The claim's last step this time: whatever comes next waits for a new claim. */
  last: boolean;
}

/** How a visit ends: the writes to commit, and whether the enrollment's next step runs at once. */
interface Ending {
  end: StepEnd;
  claim: Claim;
  runNow: boolean;
  /** A deferral whose reason goes on the timeline (the frequency cap). */
  note?: { workspaceId: string; leadId: string; reason: string };
}

/** A written intent: its row, and for a mailbox send the mailbox and the Message-ID stored with it. */
interface SendIntent {
  id: string;
  attempts: number;
  mailbox?: MailboxRecord;
  messageId?: string;
}

/** Sends deferred briefly in a round: their claims are held until then (CARRY_MAX_MS), up to `room`. */
type Carried = Map<string, number> & { room: number };

type Plan = { kind: 'end'; ending: Ending } | { kind: 'deliver'; step: DeliveryStep };

export class Executor {
  private readonly variants: VariantPicker;

  constructor(private readonly deps: EngineDeps) {
    this.variants = new VariantPicker(deps);
  }

  /** Runs one claimed enrollment (a batch of one). */
  async run(claim: Claim): Promise<void> {
    await this.runBatch([claim]);
  }

  /**
   * Runs the claimed enrollments until each must wait, finishes, or has run its share of steps.
   * `refill`, when given, tops the batch up before every round with enrollments that came due
   * meanwhile, so they start within a round instead of waiting for the whole batch to end.
   */
  async runBatch(
    claims: Claim[],
    refill?: { size: number; claim: (room: number) => Promise<Claim[]>; running?: () => boolean },
  ): Promise<number> {
    const stepsRun = new Map<string, number>();
    // Claims whose send a limit deferred briefly, held beside the batch until then (CARRY_MAX_MS).
    const notBefore = new Map<string, number>();
    let live = claims;
    let taken = 0;
    for (;;) {
      const heldNow = (c: Claim) => (notBefore.get(c.enrollmentId) ?? 0) > this.deps.clock.now().getTime();
      const holding = notBefore.size > 0 ? live.filter(heldNow).length : 0;
      if (refill && live.length - holding < refill.size) live = live.concat(await refill.claim(refill.size - (live.length - holding)));
      if (live.length === 0) return taken;
      const now = this.deps.clock.now().getTime();
      const held = notBefore.size > 0 ? live.filter(heldNow) : [];
      const due = held.length === 0 ? live : live.filter((c) => !heldNow(c));
      if (due.length === 0) {
        if (refill?.running?.() === false) {
          // Stopping: the held ones are due again now; their places stay kept for their keys.
          await releaseLeases(this.deps.db, held, this.deps.clock.now());
          return taken;
        }
        // Only briefly deferred sends left, and nothing new came due: wait for the first of them.
        await this.sleep(Math.min(...held.map((c) => notBefore.get(c.enrollmentId)!)) - now);
        continue;
      }
      const fresh = due.filter((c) => !stepsRun.has(c.enrollmentId));
      taken += fresh.length;
      this.observeLag(fresh);
      for (const claim of due) stepsRun.set(claim.enrollmentId, (stepsRun.get(claim.enrollmentId) ?? 0) + 1);
      const carried = refill ? Object.assign(new Map<string, number>(), { room: refill.size - held.length }) : undefined;
      const continuing = await this.round(due, (claim) => stepsRun.get(claim.enrollmentId)! >= MAX_STEPS_PER_CLAIM, carried);
      for (const claim of due) notBefore.delete(claim.enrollmentId);
      for (const [id, at] of carried ?? []) notBefore.set(id, at);
      const kept = new Set([...continuing.map((c) => c.enrollmentId), ...(carried?.keys() ?? [])]);
      // One that let go and comes due again is claimed afresh, with a fresh share of steps.
      for (const claim of due) if (!kept.has(claim.enrollmentId)) stepsRun.delete(claim.enrollmentId);
      live = held.concat(continuing, due.filter((c) => carried?.has(c.enrollmentId)));
    }
  }

  /** A pause on the engine's clock (its timers when it keeps them: a test's clock moves them). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void timerOf(this.deps.clock)(Math.max(0, ms), resolve));
  }

  private observeLag(claims: Claim[]): void {
    const { clock, observer } = this.deps;
    if (!observer?.schedulerLag) return;
    const now = clock.now().getTime();
    for (const claim of claims) observer.schedulerLag(Math.max(0, now - claim.dueAt.getTime()) / 1000);
  }

  /**
   * One step for each claim; answers the claims whose next step is due at once. Every stage is
   * per enrollment: one whose context, decision, content, intent or outcome throws fails alone
   * (`recordFailures`), and the rest of the batch goes on. Only an error of the batch's own
   * statements (the store is unreachable) fails the round, and the leases retry it.
   */
  private async round(claims: Claim[], isLast: (claim: Claim) => boolean, carried?: Carried): Promise<Claim[]> {
    const { db, clock } = this.deps;
    const { contexts, broken } = await loadRunContexts(db, claims.map((c) => c.enrollmentId), {
      now: clock.now(),
      defaults: this.deps.frequencyCaps ?? DEFAULT_FREQUENCY_CAPS,
    });
    const endings: Ending[] = [];
    const failures: Failure[] = [];
    const idle: Claim[] = [];
    const deliveries: Array<{ visit: Visit; step: DeliveryStep }> = [];
    for (const claim of claims) {
      const bad = broken.get(claim.enrollmentId);
      if (bad) {
        const { enrollment } = bad;
        if (enrollment.leaseId !== claim.leaseId) continue; // taken over
        if (enrollment.status === 'active' || enrollment.status === 'waiting') failures.push({ claim, enrollment, stepId: enrollment.currentStepId, error: bad.error });
        else idle.push(claim);
        continue;
      }
      const context = contexts.get(claim.enrollmentId);
      if (!context || context.enrollment.leaseId !== claim.leaseId) continue; // taken over
      const { enrollment, definition } = context;
      if (enrollment.status !== 'active' && enrollment.status !== 'waiting') {
        idle.push(claim); // paused or finished since it was claimed: let go, so a resume runs at once
        continue;
      }
      try {
        const visit: Visit = {
          claim,
          context,
          now: clock.now(),
          zone: resolveZone(context.lead.timezone, definition.schedule, context.workspaceZone),
          step: enrollment.currentStepId ? findStep(definition, enrollment.currentStepId) : undefined,
          last: isLast(claim),
        };
        const plan = await this.plan(visit);
        if (plan.kind === 'deliver') deliveries.push({ visit, step: plan.step });
        else endings.push(plan.ending);
      } catch (error) {
        const stepType = enrollment.currentStepId ? definition.steps.find((st) => st.id === enrollment.currentStepId)?.type : undefined;
        failures.push({ claim, enrollment, stepId: enrollment.currentStepId, stepType, error });
      }
    }
    endings.push(...(await this.deliverAll(deliveries, failures, carried)));
    const endingOf = new Map(endings.map((e) => [e.end.enrollmentId, e]));
    const recovering = new Set(endings.filter((e) => (contexts.get(e.end.enrollmentId)?.enrollment.consecutiveFailures ?? 0) > 0).map((e) => e.end.enrollmentId));
    const statuses = await this.allOrEach(
      'step ends',
      endings.map((e) => e.end),
      (e) => e.enrollmentId,
      (ends) => applyEndsResettingFailures(db, ends, recovering),
      (end, error) => {
        const ending = endingOf.get(end.enrollmentId)!;
        const context = contexts.get(end.enrollmentId)!;
        const { enrollment, definition } = context;
        const stepType = enrollment.currentStepId ? definition.steps.find((st) => st.id === enrollment.currentStepId)?.type : undefined;
        failures.push({ claim: ending.claim, enrollment, stepId: enrollment.currentStepId, stepType, error, execution: end.execution });
      },
    );
    // Why a send waits for tomorrow (the frequency cap), on the lead's timeline.
    const notes = endings.filter((e) => e.note && statuses.has(e.end.enrollmentId));
    await recordCapDeferrals(db, notes.map((e) => ({ ...e.note!, enrollmentId: e.end.enrollmentId, at: e.end.now })));
    await recordFailures(this.deps, failures);
    // The round is committed: tell the dashboards (one in-memory call for the whole round).
    this.deps.live?.publish([
      ...endings.flatMap((e) => enrollmentNotices(contexts.get(e.end.enrollmentId)!.enrollment, statuses.get(e.end.enrollmentId))),
      ...failures.flatMap((f) => enrollmentNotices(f.enrollment, undefined)),
    ]);
    if (idle.length > 0) await letGoOfClaims(db, idle, clock.now());
    return endings.filter((e) => e.runNow && statuses.get(e.end.enrollmentId) === 'active').map((e) => e.claim);
  }

  /** Decides the visit's step; a send is left for `deliverAll`, everything else ends here. */
  private async plan(visit: Visit): Promise<Plan> {
    const { context, step, now, zone } = visit;
    const { enrollment, definition } = context;
    // A visit that already has an execution row was interrupted: settle it, never resend.
    if (step) {
      const settled = await this.settleInterrupted(visit, step);
      if (settled) return { kind: 'end', ending: settled };
    }
    const decision = decideStep({
      definition,
      stepId: enrollment.currentStepId,
      stepEnteredAt: enrollment.stepEnteredAt,
      enrolledAt: enrollment.enrolledAt,
      now,
      lead: context.lead,
      zone,
      facts: context.facts,
      suppressed: context.suppressed,
      sendsToday: context.sendsToday,
    });
    switch (decision.kind) {
      case 'exit':
        return this.end(visit, { kind: 'finish', status: 'exited', action: 'exit', reason: decision.reason });
      case 'complete':
        return this.end(
          visit,
          { kind: 'finish', status: 'completed', action: 'complete' },
          step ? { kind: 'record', identity: identity(context, step), status: 'succeeded' } : undefined,
        );
      case 'defer':
        if (decision.detail) {
          const ending = this.ending(visit, { kind: 'reschedule', at: decision.until });
          return { kind: 'end', ending: { ...ending, note: { workspaceId: enrollment.workspaceId, leadId: enrollment.leadId, reason: decision.detail } } };
        }
        return this.end(visit, { kind: 'reschedule', at: decision.until });
      case 'wait':
        return this.end(visit, { kind: 'reschedule', at: decision.until });
      case 'await':
        return this.end(visit, { kind: 'reschedule', at: decision.until, waitingFor: decision.waitingFor });
      case 'advance':
      case 'skip': {
        const status = decision.kind === 'advance' ? 'succeeded' : 'skipped';
        this.deps.observer?.stepExecuted?.(step!.type, status, 0);
        const metadata = decision.kind === 'advance' ? decision.detail : { reason: decision.reason };
        return { kind: 'end', ending: this.moveOn(visit, decision.next, { kind: 'record', identity: identity(context, step!), status, metadata }) };
      }
      case 'deliver':
        // The lead's next enrollment in this round sees this send against its cap.
        if (context.sendsToday) context.sendsToday.sent[decision.step.type] = (context.sendsToday.sent[decision.step.type] ?? 0) + 1;
        return { kind: 'deliver', step: decision.step };
      default: {
        const unreachable: never = decision;
        throw new Error(`Unhandled decision ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /**
   * The sends of a round: content for each, every intent in one transaction (a pause, cancel or
   * take-over that committed first wins; one that comes after waits for the outcome), then the
   * adapter calls side by side. Answers how each visit ends.
   */
  private async deliverAll(deliveries: Array<{ visit: Visit; step: DeliveryStep }>, failures: Failure[], carried?: Carried): Promise<Ending[]> {
    if (deliveries.length === 0) return [];
    const endings: Ending[] = [];
    const failed = (visit: Visit, error: unknown, execution?: ExecutionWrite) =>
      failures.push({ claim: visit.claim, enrollment: visit.context.enrollment, stepId: visit.context.enrollment.currentStepId, stepType: visit.step?.type, error, execution });
    // A/B variants: each send's variant is fixed before its content is written (src/engine/variants.ts).
    const assignments = await this.variants.assignAll(deliveries.map(({ visit, step }) => ({ context: visit.context, step })));
    const chosen = deliveries.map(({ visit, step }, i) => ({ visit, step: applyVariant(step, assignments[i]?.variantId) }));
    // The previous email of each enrollment whose email replies in its thread, in one query.
    const threaded = chosen.filter(({ step }) => repliesInThread(step)).map(({ visit }) => visit.context.enrollment.id);
    const parents = await previousEmails(this.deps.db, threaded);
    const prepared = await Promise.all(
      chosen.map(({ visit, step }) =>
        prepareContent(this.deps, visit.context, step, parents.get(visit.context.enrollment.id)).then(
          (content) => ({ ok: true as const, content }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      ),
    );
    let ready: Array<{ visit: Visit; step: DeliveryStep; request: IntentRequest; content: ReadyContent }> = [];
    deliveries.forEach(({ visit, step }, i) => {
      const outcome = prepared[i]!;
      if (!outcome.ok) return void failed(visit, outcome.error);
      const content = outcome.content;
      try {
        const adapter = adapterNameFor(this.deps, step, visit.context);
        if (content.kind === 'unsendable') {
          endings.push(
            this.afterFailure(visit, step, content.code, {
              kind: 'record',
              identity: identity(visit.context, step),
              status: 'failed',
              errorCode: content.code,
              errorMessage: content.message,
              adapter,
            }),
          );
          return;
        }
        // Too little lease left for the call to end safely before it: no intent, no send; the
        // visit runs again at once under a fresh claim (docs/ENGINE.md, "Crashes: at most once").
        const deadline = this.deadlineOf(visit.claim);
        if (this.tooLateToSend(deadline)) {
          endings.push(this.ending(visit, { kind: 'reschedule', at: this.deps.clock.now() }));
          return;
        }
        ready.push({
          visit,
          step,
          content: content.content,
          request: {
            identity: identity(visit.context, step),
            leaseId: visit.claim.leaseId,
            adapter,
            rendered: content.rendered,
            // Recorded so a worker that finds this intent interrupted knows when it can no longer be in flight.
            metadata: { sendDeadline: deadline.toISOString() },
            variant: assignments[i]?.variantId,
            now: visit.now,
          },
        });
      } catch (error) {
        failed(visit, error);
      }
    });
    ready = await this.admit(ready, endings, carried);
    const byEnrollment = new Map(ready.map((r) => [r.request.identity.enrollmentId, r]));
    const direct = ready.filter((r) => !sendsThroughMailbox(r.visit.context, r.step));
    const intents: Map<string, SendIntent> = await this.allOrEach(
      'intents',
      direct.map((r) => r.request),
      (r) => r.identity.enrollmentId,
      (rs) => writeIntents(this.deps.db, rs),
      (request, error) => failed(byEnrollment.get(request.identity.enrollmentId)!.visit, error),
    );
    for (const [id, intent] of await this.mailboxIntents(ready.filter((r) => sendsThroughMailbox(r.visit.context, r.step)), failed, endings)) intents.set(id, intent);
    const sent = await Promise.all(
      ready.map(async ({ visit, step, content, request }) => {
        const intent = intents.get(request.identity.enrollmentId);
        if (!intent) {
          if (!endings.some((e) => e.end.enrollmentId === request.identity.enrollmentId)) this.deps.observer?.delivery?.(step.type, request.adapter, 'aborted');
          return undefined;
        }
        // A mailbox send's Message-ID is the one its intent stored, in the mailbox's domain.
        const final = intent.messageId && content.threading ? { ...content, threading: { ...content.threading, messageId: intent.messageId } } : content;
        return this.sendOne(visit, step, final, request, intent).catch((failure: StepAfterIntentError) => {
          failed(visit, failure.cause, failure.execution);
          return undefined;
        });
      }),
    );
    for (const ending of sent) if (ending) endings.push(ending);
    return endings;
  }

  /**
   * Asks the send gate (rate limits, a mailbox's cap) about the round's sends before their
   * intents. One it defers ends here, with no intent and no attempt counted: its enrollment is
   * rescheduled to when the limit has room, so it never holds back the round's other sends and
   * is not claimed again before then (docs/ENGINE.md, "Limit-aware claims").
   */
  private async admit<T extends { visit: Visit; step: DeliveryStep; request: IntentRequest }>(
    ready: T[],
    endings: Ending[],
    carried?: Carried,
  ): Promise<T[]> {
    const gate = this.deps.sendGate;
    if (!gate || ready.length === 0) return ready;
    const answers = await gate.admit(
      ready.map(({ visit, step, request: { identity: who } }) => ({
        key: idempotencyKeyOf(who.enrollmentId, who.stepId, who.visit),
        channel: step.type,
        sender: senderOf(this.deps, step, visit.context),
        workspaceId: who.workspaceId,
        enrollmentId: who.enrollmentId,
      })),
    );
    const now = this.deps.clock.now().getTime();
    // Per step of a pinned version, the deferral furthest out whose gate can queue sends behind it.
    const queues = new Map<string, { visit: Visit; afterMs: number; queueBehind: (keys: string[]) => Promise<number[]> }>();
    const admitted = ready.filter((r, i) => {
      const answer = answers[i]!;
      if (answer.kind === 'now') return true;
      this.deps.observer?.delivery?.(r.step.type, r.request.adapter, 'deferred');
      if (carried && answer.afterMs < CARRY_MAX_MS && carried.size < carried.room) {
        // Kept, lease and all, and tried again in the batch's first round after its time.
        carried.set(r.visit.claim.enrollmentId, now + answer.afterMs);
        return false;
      }
      endings.push(this.ending(r.visit, { kind: 'reschedule', at: new Date(now + answer.afterMs) }));
      if (answer.queueBehind && answer.afterMs >= BACKLOG_AFTER_MS) {
        const { enrollment } = r.visit.context;
        const group = `${enrollment.sequenceId}:${enrollment.sequenceVersion}:${r.step.id}`;
        if ((queues.get(group)?.afterMs ?? -1) < answer.afterMs) queues.set(group, { visit: r.visit, afterMs: answer.afterMs, queueBehind: answer.queueBehind });
      }
      return false;
    });
    for (const { visit, queueBehind } of queues.values()) await this.deferBacklog(visit, queueBehind);
    return admitted;
  }

  /**
   * The rest of a deferred send's step backlog: the enrollments due on the same step of the same
   * pinned version go out from the same sender (senderOf reads only the definition), so the
   * limit would defer each of them too. They are given their places in the limit's queue behind
   * it and made due at them, without being claimed: each is claimed once, at its place
   * (docs/ENGINE.md, "Limit-aware claims"). Only a saving: should it fail, they are claimed and
   * deferred one by one as before.
   */
  private async deferBacklog(visit: Visit, queueBehind: (keys: string[]) => Promise<number[]>): Promise<void> {
    const { db, clock } = this.deps;
    const { enrollment } = visit.context;
    const stepId = enrollment.currentStepId!;
    try {
      const now = clock.now();
      const rows = await dueOnStep(db, {
        workspaceId: enrollment.workspaceId,
        sequenceId: enrollment.sequenceId,
        sequenceVersion: enrollment.sequenceVersion,
        stepId,
        now,
        limit: BACKLOG_LIMIT,
      });
      if (rows.length === 0) return;
      const waits = await queueBehind(rows.map((r) => idempotencyKeyOf(r.enrollmentId, stepId, r.stepSeq)));
      const at = clock.now().getTime();
      await deferDueOnStep(db, { stepId, now, rows: rows.map((r, i) => ({ ...r, at: new Date(at + waits[i]!) })) });
    } catch (error) {
      this.deps.logger?.warn({ err: error, enrollmentId: enrollment.id }, 'deferring a limited step’s backlog failed; its sends are deferred one by one');
    }
  }

  /**
   * Intents of sends that go through the sequence's mailboxes (docs/MAILBOXES.md): each takes a
   * mailbox with room today (its own once it has one), counted with its intent in one
   * transaction. One that must wait — every mailbox at its daily limit, or within its minimum
   * gap — is rescheduled to when it may send, inside the step's window, without an attempt
   * spent; a daily-limit wait leaves its reason on the lead's timeline.
   */
  private async mailboxIntents(
    items: Array<{ visit: Visit; step: DeliveryStep; request: IntentRequest }>,
    failed: (visit: Visit, error: unknown) => void,
    endings: Ending[],
  ): Promise<Map<string, SendIntent>> {
    const written = new Map<string, SendIntent>();
    if (items.length === 0) return written;
    const byEnrollment = new Map(items.map((i) => [i.request.identity.enrollmentId, i]));
    const answers = await this.allOrEach(
      'mailbox intents',
      items.map(({ visit, request }) => ({ intent: request, mailboxIds: visit.context.definition.mailboxes!, workspaceZone: visit.context.workspaceZone })),
      (r) => r.intent.identity.enrollmentId,
      (rs) => writeMailboxIntents(this.deps.db, rs),
      (r, error) => failed(byEnrollment.get(r.intent.identity.enrollmentId)!.visit, error),
    );
    for (const [enrollmentId, answer] of answers) {
      const { visit, step, request } = byEnrollment.get(enrollmentId)!;
      if (answer.kind === 'intent') {
        written.set(enrollmentId, answer);
      } else if (answer.kind === 'wait') {
        const at = firstDueAt(visit.context.definition, step.id, answer.until, visit.zone);
        const ending = this.ending(visit, { kind: 'reschedule', at });
        const { workspaceId, leadId } = visit.context.enrollment;
        endings.push(answer.cause === 'limit' ? { ...ending, note: { workspaceId, leadId, reason: `${answer.reason}; deferred to ${at.toISOString()}` } } : ending);
      } else {
        const message = 'None of the mailboxes this sequence names exists any more; not sent.';
        endings.push(
          this.afterFailure(visit, step, 'no_mailbox', {
            kind: 'record',
            identity: request.identity,
            status: 'failed',
            errorCode: 'no_mailbox',
            errorMessage: message,
            adapter: request.adapter,
          }),
        );
      }
    }
    return written;
  }

  /**
   * The adapter call and what follows from its answer. Rejects with a StepAfterIntentError when
   * anything after the intent throws, carrying the adapter's answer to record regardless.
   */
  private async sendOne(
    visit: Visit,
    step: DeliveryStep,
    content: ReadyContent,
    request: IntentRequest,
    intent: SendIntent,
  ): Promise<Ending> {
    let answer: ExecutionWrite | undefined;
    try {
      return await this.sendAndDecide(visit, step, content, request, intent, (written) => (answer = written));
    } catch (error) {
      // Without an answer the intent stays `started`: the next attempt settles it as after a
      // crash (the provider's ledger, else unknown), never by sending blindly.
      throw new StepAfterIntentError(error, answer);
    }
  }

  private async sendAndDecide(
    visit: Visit,
    step: DeliveryStep,
    content: ReadyContent,
    request: IntentRequest,
    intent: SendIntent,
    answered: (execution: ExecutionWrite) => void,
  ): Promise<Ending> {
    const { clock, observer, logger } = this.deps;
    const { identity: who, adapter } = request;
    const envelope = {
      idempotencyKey: idempotencyKeyOf(who.enrollmentId, who.stepId, who.visit),
      executionId: intent.id,
      enrollmentId: who.enrollmentId,
      workspaceId: who.workspaceId,
      deadline: this.deadlineOf(visit.claim),
    };
    const started = clock.now().getTime();
    let result: DeliveryResult;
    try {
      // The intent's write may have taken the time the call needed (a stall, a slow store): then
      // the call is not made at all, and nothing went out for certain.
      result = this.tooLateToSend(envelope.deadline)
        ? { kind: 'failed', retryable: true, code: 'lease_expiring', message: 'Too little of the lease was left to send safely; not sent.' }
        : await send(this.deps, step, content, visit.context, envelope, intent.mailbox);
    } catch (error) {
      // Adapters answer with values; a throw is a bug or a transport surprise after which we
      // cannot know whether the provider took the message. Like a crash: unknown, never resent.
      observer?.delivery?.(step.type, adapter, 'failed');
      logger?.error({ err: error, executionId: intent.id }, `${step.type} adapter threw; outcome unknown, not resending`);
      const unknown: ExecutionWrite = { kind: 'unknown', id: intent.id, attempt: intent.attempts };
      answered(unknown);
      return this.afterUnknown(this.finishedAt(visit), step.id, unknown);
    }
    if (result.kind === 'failed' && result.mayHaveSent) {
      // No answer after the request may have reached the provider: as after a throw, the
      // outcome is unknown and the visit is never resent (a webhook or an operator settles it).
      observer?.delivery?.(step.type, adapter, 'failed');
      logger?.warn(
        { enrollmentId: who.enrollmentId, stepId: who.stepId, executionId: intent.id, code: result.code },
        `${step.type} delivery may have reached the provider (${result.message}); outcome unknown, not resending`,
      );
      const unknown: ExecutionWrite = { kind: 'unknown', id: intent.id, attempt: intent.attempts, errorCode: result.code, errorMessage: result.message };
      answered(unknown);
      return this.afterUnknown(this.finishedAt(visit), step.id, unknown);
    }
    const at = this.finishedAt(visit);
    const seconds = (at.now.getTime() - started) / 1000;
    if (result.kind === 'sent') {
      observer?.delivery?.(step.type, adapter, 'sent');
      observer?.stepExecuted?.(step.type, 'succeeded', seconds);
      const sent: ExecutionWrite = {
        kind: 'complete',
        id: intent.id,
        attempt: intent.attempts,
        status: 'succeeded',
        providerMessageId: result.providerMessageId,
        metadata: result.metadata,
      };
      answered(sent);
      return this.moveOn(at, nextStepId(visit.context.definition, step.id), sent);
    }
    const retry = shouldRetryDelivery(result.retryable, intent.attempts, visit.context.definition.maxAttempts);
    observer?.delivery?.(step.type, adapter, retry ? 'retry' : 'failed');
    observer?.stepExecuted?.(step.type, retry ? 'retry_scheduled' : 'failed', seconds);
    logger?.warn(
      { enrollmentId: who.enrollmentId, stepId: who.stepId, executionId: intent.id, code: result.code, retry },
      `${step.type} delivery failed: ${result.message}`,
    );
    const answer: ExecutionWrite = {
      kind: 'complete',
      id: intent.id,
      attempt: intent.attempts,
      status: retry ? 'retry_scheduled' : 'failed',
      errorCode: result.code,
      errorMessage: result.message,
      metadata: { lastAttempt: intent.attempts, retryable: result.retryable },
    };
    answered(answer);
    if (!retry) return this.afterFailure(at, step, result.code, answer);
    const delay = retryDelayMs(intent.attempts, { retryAfterMs: result.retryAfterMs, random: this.deps.random });
    return this.ending(at, { kind: 'reschedule', at: new Date(at.now.getTime() + delay), attempts: intent.attempts }, answer);
  }

  /**
   * A visit with an execution row already written: a crash between intent and outcome
   * (`started`: ask the provider's ledger, else mark `unknown` and follow `onUnknownDelivery`),
   * or an outcome recorded whose move was lost (advance now). A scheduled retry proceeds.
   */
  private async settleInterrupted(visit: Visit, step: Step): Promise<Ending | undefined> {
    if (!isDeliveryStep(step)) return undefined;
    const { context, now } = visit;
    // The current visit's execution row came with the context (same key: enrollment, step, visit).
    const existing = context.execution;
    const settle = interruptedVisit(existing?.status, context.definition.onError);
    if (!existing || settle === 'send') return undefined;
    const next = nextStepId(context.definition, step.id);
    if (settle === 'ask_provider') {
      // Ask the provider first, when it can answer for certain: a send it has is recorded, one
      // it never got is retried as if it had failed. Otherwise the outcome is unknown.
      const key = idempotencyKeyOf(context.enrollment.id, step.id, context.enrollment.stepSeq);
      const known = await this.deps.adapters.ledger?.lookup(key);
      const deadline = interruptedDeadline(existing.metadata, existing.startedAt, this.deps.leaseMs);
      const verdict = afterLedgerLookup(known?.kind, deadline, this.deps.clock.now());
      if (verdict === 'recheck') {
        // The interrupted call may still be in flight until its deadline: a "not sent" now could
        // be overtaken by its delivery. Ask again once the deadline has passed.
        this.deps.logger?.info(
          { enrollmentId: context.enrollment.id, stepId: step.id, executionId: existing.id, deadline: deadline.toISOString() },
          'interrupted send may still be in flight; re-checking after its deadline',
        );
        return this.ending(visit, { kind: 'reschedule', at: new Date(deadline.getTime() + 1) });
      }
      if (known?.kind === 'sent') {
        return this.moveOn(visit, next, {
          kind: 'complete',
          id: existing.id,
          attempt: existing.attempts,
          status: 'succeeded',
          providerMessageId: known.providerMessageId,
          metadata: { reconciledFrom: 'provider_ledger' },
        });
      }
      if (verdict === 'resend') {
        await completeExecution(this.deps.db, existing.id, {
          status: 'retry_scheduled',
          attempt: existing.attempts,
          now,
          errorCode: 'interrupted',
          errorMessage: 'The worker stopped before the provider got the message; sending again.',
        });
        return undefined;
      }
    }
    if (settle === 'ask_provider' || settle === 'unknown') {
      this.deps.observer?.stepExecuted?.(step.type, 'unknown', 0);
      this.deps.logger?.warn(
        { enrollmentId: context.enrollment.id, stepId: step.id, executionId: existing.id },
        'send outcome unknown after an interrupted run; not resending',
      );
      return this.afterUnknown(visit, step.id, { kind: 'unknown', id: existing.id, attempt: existing.attempts });
    }
    if (settle === 'failed_for_good') return this.follow(visit, next, afterDeliveryFailure('exit', existing.errorCode));
    return this.moveOn(visit, next);
  }

  /** A send we cannot know went out is never resent: go on, or hold for an operator. */
  private afterUnknown(visit: Visit, stepId: string, execution: ExecutionWrite): Ending {
    const { definition } = visit.context;
    return this.follow(visit, nextStepId(definition, stepId), afterUnknownDelivery(definition.onUnknownDelivery), execution);
  }

  /** A send that failed for good: the sequence's `onError` says exit, or go on. */
  private afterFailure(visit: Visit, step: DeliveryStep, code: string, execution: ExecutionWrite): Ending {
    const { definition } = visit.context;
    return this.follow(visit, nextStepId(definition, step.id), afterDeliveryFailure(definition.onError, code), execution);
  }

  /** What the policy (src/core/transitions.ts) said follows the step: on to `next`, or an end. */
  private follow(visit: Visit, next: string | null, consequence: Consequence, execution?: ExecutionWrite): Ending {
    if (consequence.kind === 'move_on') return this.moveOn(visit, next, execution);
    return this.ending(visit, consequence, execution);
  }

  /** To `next` (null: the sequence is done); keeps the lease when the next step is due at once. */
  private moveOn(visit: Visit, next: string | null, execution?: ExecutionWrite): Ending {
    const { now, zone, context, last } = visit;
    if (next === null) return this.ending(visit, { kind: 'finish', status: 'completed', action: 'complete' }, execution);
    const dueAt = firstDueAt(context.definition, next, now, zone);
    const runNow = !last && dueAt.getTime() <= now.getTime();
    const keepLeaseUntil = runNow ? new Date(now.getTime() + this.deps.leaseMs) : undefined;
    const transition: StepTransition = { kind: 'move', next, dueAt, keepLeaseUntil };
    const ending = this.ending(visit, transition, execution);
    // The next round's sends are fenced by the renewed lease, not the one it was claimed with.
    return { ...ending, claim: keepLeaseUntil ? { ...ending.claim, leaseUntil: keepLeaseUntil } : ending.claim, runNow };
  }

  private ending(visit: Visit, transition: StepTransition, execution?: ExecutionWrite): Ending {
    const end: StepEnd = { enrollmentId: visit.claim.enrollmentId, leaseId: visit.claim.leaseId, now: visit.now, transition, execution };
    return { end, claim: visit.claim, runNow: false };
  }

  private end(visit: Visit, transition: StepTransition, execution?: ExecutionWrite): Plan {
    return { kind: 'end', ending: this.ending(visit, transition, execution) };
  }

  /** The deadline of every adapter call made under `claim` (sendFence in src/core/transitions.ts). */
  private deadlineOf(claim: Claim): Date {
    return sendDeadline(claim.leaseUntil, this.deps.leaseMs);
  }

  /** Whether a call starting now would have less than it needs before `deadline`. */
  private tooLateToSend(deadline: Date): boolean {
    return this.deps.clock.now().getTime() + sendFence(this.deps.leaseMs).minSendMs > deadline.getTime();
  }

  /** The visit as of now: a send's outcome and the move it causes are dated when it answered. */
  private finishedAt(visit: Visit): Visit {
    return { ...visit, now: this.deps.clock.now() };
  }

  /**
   * One batched write; should it fail (a deadlock, say), each item on its own, so one bad row
   * never costs the others their intent or leaves their sends unrecorded. An item that fails
   * alone is handed to `failed` (it fails its own enrollment, counted like any failed step).
   */
  private async allOrEach<T, V>(
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
        this.deps.logger?.error({ err: error, enrollmentId: enrollmentOf(items[0]!) }, `${what} failed for one enrollment`);
        failed(items[0]!, error);
        return new Map();
      }
      this.deps.logger?.warn({ err: error, batch: items.length }, `batched ${what} failed; writing them one by one`);
      const answers = new Map<string, V>();
      for (const item of items) {
        try {
          for (const [id, value] of await write([item])) answers.set(id, value);
        } catch (single) {
          this.deps.logger?.error({ err: single, enrollmentId: enrollmentOf(item) }, `${what} failed for one enrollment`);
          failed(item, single);
        }
      }
      return answers;
    }
  }
}

/** A throw after the intent was written, with what the adapter answered (if it was called). */
class StepAfterIntentError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly execution: ExecutionWrite | undefined,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}


function identity(context: RunContext, step: Step): ExecutionIdentity {
  const { enrollment } = context;
  return {
    workspaceId: enrollment.workspaceId,
    enrollmentId: enrollment.id,
    leadId: enrollment.leadId,
    sequenceId: enrollment.sequenceId,
    stepId: step.id,
    stepType: step.type,
    channel: isDeliveryStep(step) ? step.type : null,
    visit: enrollment.stepSeq,
  };
}
