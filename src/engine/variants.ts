/**
 * Which A/B variant each send of a round gets (docs/SEQUENCES.md, "A/B variants"), and the
 * automatic winner's decision (docs/ANALYTICS.md, "Automatic winner"). The pick itself is the
 * core's (`assignVariant`: stored, else winner, else the hashed weighted pick); this module
 * knows the winners, and decides one when a step asks for it and its figures allow.
 *
 * Cost on the hot path: only sends of steps with variants do anything; winners are cached per
 * process (a decided one for good, "none yet" for `WINNER_RECHECK_MS` so another worker's
 * decision is seen soon), and a step's figures are read at most once per `EVALUATE_EVERY_MS`
 * per process.
 */
import type { DeliveryStep } from '../core/definition.ts';
import { replyRateVerdict } from '../core/significance.ts';
import { assignVariant, variantsOf, type Assignment } from '../core/variants.ts';
import { abDecisionsOf, recordAbDecision, variantFigures } from '../db/variantStats.ts';
import type { RunContext } from './context.ts';
import type { EngineDeps } from './deps.ts';

const WINNER_RECHECK_MS = 30_000;
const EVALUATE_EVERY_MS = 60_000;

interface Known {
  winner: string | null;
  checkedAt: number;
}

export class VariantPicker {
  private readonly winners = new Map<string, Known>();
  private readonly evaluatedAt = new Map<string, number>();

  constructor(private readonly deps: EngineDeps) {}

  /** The assignment of each send (undefined for a step without variants), in order. */
  async assignAll(sends: Array<{ context: RunContext; step: DeliveryStep }>): Promise<Array<Assignment | undefined>> {
    const tested = sends.filter(({ step }) => variantsOf(step) !== undefined);
    if (tested.length === 0) return sends.map(() => undefined);
    await this.refreshWinners(tested);
    try {
      await this.decideWinners(tested);
    } catch (error) {
      // Deciding is an optimisation of what is sent next, never a reason to hold the sends up.
      this.deps.logger?.warn({ err: error }, 'A/B winner evaluation failed; assigning by weight meanwhile');
    }
    return sends.map(({ context, step }) =>
      assignVariant(step, context.enrollment.id, {
        // A retry of this visit sends what its first attempt was assigned.
        stored: context.execution?.stepId === step.id ? context.execution.variant : undefined,
        winner: this.winners.get(keyOf(context, step))?.winner,
      }),
    );
  }

  private async refreshWinners(sends: Array<{ context: RunContext; step: DeliveryStep }>): Promise<void> {
    const now = this.deps.clock.now().getTime();
    const stale = new Set<string>();
    for (const { context, step } of sends) {
      const known = this.winners.get(keyOf(context, step));
      if (!known || (known.winner === null && now - known.checkedAt >= WINNER_RECHECK_MS)) stale.add(context.enrollment.sequenceId);
    }
    if (stale.size === 0) return;
    const decided = await abDecisionsOf(this.deps.db, [...stale]);
    for (const { context, step } of sends) {
      if (!stale.has(context.enrollment.sequenceId)) continue;
      const winner = decided.find((d) => d.sequenceId === context.enrollment.sequenceId && d.stepId === step.id)?.variant ?? null;
      this.winners.set(keyOf(context, step), { winner, checkedAt: now });
    }
  }

  /** Steps with `abTest.autoWinner` and no winner yet: read their figures, record a winner if called. */
  private async decideWinners(sends: Array<{ context: RunContext; step: DeliveryStep }>): Promise<void> {
    const now = this.deps.clock.now();
    const due = new Map<string, { context: RunContext; step: DeliveryStep }>();
    for (const send of sends) {
      const key = keyOf(send.context, send.step);
      const auto = send.step.type === 'voice' ? undefined : send.step.abTest?.autoWinner;
      if (!auto || this.winners.get(key)?.winner) continue;
      if (now.getTime() - (this.evaluatedAt.get(key) ?? -Infinity) < EVALUATE_EVERY_MS) continue;
      due.set(key, send);
    }
    for (const [key, { context, step }] of due) {
      this.evaluatedAt.set(key, now.getTime());
      const auto = step.type === 'voice' ? undefined : step.abTest?.autoWinner;
      const variants = variantsOf(step) ?? [];
      const rows = await variantFigures(this.deps.db, context.enrollment.sequenceId, step.id);
      // Every variant of this version takes part, with zeros when it has not been sent yet.
      const figures = variants.map((v) => {
        const row = rows.find((r) => r.variant === v.id);
        return { id: v.id, successes: row?.replied ?? 0, trials: row?.delivered ?? 0 };
      });
      const verdict = replyRateVerdict(figures, { minDeliveries: auto?.minDeliveriesPerVariant, confidence: auto?.confidence });
      if (verdict.status !== 'winner' || !verdict.winner) continue;
      const decision = await recordAbDecision(this.deps.db, {
        sequenceId: context.enrollment.sequenceId,
        stepId: step.id,
        workspaceId: context.enrollment.workspaceId,
        variant: verdict.winner,
        decidedAt: now,
        figures: { variants: figures.map((f) => ({ id: f.id, delivered: f.trials, replied: f.successes })), ...verdict },
      });
      this.winners.set(key, { winner: decision.variant, checkedAt: now.getTime() });
      this.deps.logger?.info(
        { sequenceId: decision.sequenceId, stepId: decision.stepId, variant: decision.variant, summary: verdict.summary },
        'A/B test decided: new assignments get the winner',
      );
    }
  }
}

function keyOf(context: RunContext, step: DeliveryStep): string {
  return `${context.enrollment.sequenceId}\u0000${step.id}`;
}
