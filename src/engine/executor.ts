/**
 * Runs claimed enrollments, a step at a time, as a batch (DESIGN.md, "Life of one step"). Each
 * round takes one step for every enrollment of the batch in three round trips whatever its
 * size: read every context; write every intent (re-checked under the row locks, committed
 * before any send); then, after the adapter calls have run side by side, record every outcome
 * together with the move it causes. Every write is fenced by the lease; a single claim is a
 * batch of one.
 *
 * This module is the batch's control flow: the rounds, the claims kept or carried between them,
 * and the plan of each visit. A visit's send goes down the send path (sendPath.ts: admission.ts,
 * intents.ts); an interrupted visit is settled first (interrupted.ts); every visit ends through
 * the constructors of endings.ts.
 */
import { decideStep, findStep } from '../core/decide.ts';
import type { DeliveryStep } from '../core/definition.ts';
import { DEFAULT_FREQUENCY_CAPS } from '../core/limits.ts';
import { resolveZone } from '../core/time.ts';
import type { Claim } from '../db/enrollments.ts';
import { letGoOfClaims, releaseLeases } from '../db/leases.ts';
import { recordCapDeferrals } from '../db/workspaceSettings.ts';
import type { Carried, KeptContent } from './admission.ts';
import { timerOf } from './clock.ts';
import { loadRunContexts } from './context.ts';
import type { EngineDeps } from './deps.ts';
import { end, ending, identity, moveOn, type Ending, type Plan, type Visit } from './endings.ts';
import { allOrEach, applyEndsResettingFailures, recordFailures, type Failure } from './failures.ts';
import { settleInterrupted } from './interrupted.ts';
import { SendPath } from './sendPath.ts';
import { enrollmentNotices } from './liveNotices.ts';

/** Steps one claim may run back to back before it lets others have a turn. */
const MAX_STEPS_PER_CLAIM = 16;

export class Executor {
  private readonly sends: SendPath;

  constructor(private readonly deps: EngineDeps) {
    this.sends = new SendPath(deps);
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
    // Claims whose send a limit deferred briefly, held beside the batch until then (CARRY_MAX_MS, admission.ts).
    const notBefore = new Map<string, number>();
    // …and what each of them was to send, so its retry does not render it again.
    const kept = new Map<string, KeptContent>();
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
      const carried: Carried | undefined = refill ? Object.assign(new Map(), { room: refill.size - held.length }) : undefined;
      const continuing = await this.round(due, (claim) => stepsRun.get(claim.enrollmentId)! >= MAX_STEPS_PER_CLAIM, carried, kept);
      for (const claim of due) {
        notBefore.delete(claim.enrollmentId);
        kept.delete(claim.enrollmentId);
      }
      for (const [id, { at, kept: content }] of carried ?? []) {
        notBefore.set(id, at);
        kept.set(id, content);
      }
      const still = new Set([...continuing.map((c) => c.enrollmentId), ...(carried?.keys() ?? [])]);
      // One that let go and comes due again is claimed afresh, with a fresh share of steps.
      for (const claim of due) if (!still.has(claim.enrollmentId)) stepsRun.delete(claim.enrollmentId);
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
  private async round(claims: Claim[], isLast: (claim: Claim) => boolean, carried?: Carried, kept?: ReadonlyMap<string, KeptContent>): Promise<Claim[]> {
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
          leaseMs: this.deps.leaseMs,
        };
        const plan = await this.plan(visit);
        if (plan.kind === 'deliver') deliveries.push({ visit, step: plan.step });
        else endings.push(plan.ending);
      } catch (error) {
        const stepType = enrollment.currentStepId ? definition.steps.find((st) => st.id === enrollment.currentStepId)?.type : undefined;
        failures.push({ claim, enrollment, stepId: enrollment.currentStepId, stepType, error });
      }
    }
    endings.push(...(await this.sends.deliverAll(deliveries, failures, carried, kept)));
    const endingOf = new Map(endings.map((e) => [e.end.enrollmentId, e]));
    const recovering = new Set(endings.filter((e) => (contexts.get(e.end.enrollmentId)?.enrollment.consecutiveFailures ?? 0) > 0).map((e) => e.end.enrollmentId));
    const statuses = await allOrEach(
      this.deps,
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

  /** Decides the visit's step; a send is left for the send path (`SendPath.deliverAll`), everything else ends here. */
  private async plan(visit: Visit): Promise<Plan> {
    const { context, step, now, zone } = visit;
    const { enrollment, definition } = context;
    // A visit that already has an execution row was interrupted: settle it, never resend.
    if (step) {
      const settled = await settleInterrupted(this.deps, visit, step);
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
      waitingSince: enrollment.waitingSince,
    });
    switch (decision.kind) {
      case 'exit':
        return end(visit, { kind: 'finish', status: 'exited', action: 'exit', reason: decision.reason });
      case 'complete':
        return end(
          visit,
          { kind: 'finish', status: 'completed', action: 'complete' },
          step ? { kind: 'record', identity: identity(context, step), status: 'succeeded' } : undefined,
        );
      case 'defer':
        if (decision.detail) {
          const deferred = ending(visit, { kind: 'reschedule', at: decision.until });
          return { kind: 'end', ending: { ...deferred, note: { workspaceId: enrollment.workspaceId, leadId: enrollment.leadId, reason: decision.detail } } };
        }
        return end(visit, { kind: 'reschedule', at: decision.until });
      case 'wait':
        return end(visit, { kind: 'reschedule', at: decision.until });
      case 'await':
        return end(visit, { kind: 'reschedule', at: decision.until, waitingFor: decision.waitingFor });
      case 'advance':
      case 'skip': {
        const status = decision.kind === 'advance' ? 'succeeded' : 'skipped';
        this.deps.observer?.stepExecuted?.(step!.type, status, 0);
        const metadata = decision.kind === 'advance' ? decision.detail : { reason: decision.reason };
        return { kind: 'end', ending: moveOn(visit, decision.next, { kind: 'record', identity: identity(context, step!), status, metadata }) };
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
}
