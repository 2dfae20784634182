/**
 * `GET /api/sequences/{id}/stats`: per step and for the whole sequence, how many enrollments
 * reached, were sent, delivered, opened… and the rates a salesperson reads. Every measure and
 * rate is defined in docs/ANALYTICS.md; the fields of the first version (executed … failed,
 * enrollments) keep their names and meaning.
 */
import { z } from 'zod';
import { sequenceDefinitionSchema, type Step } from '../core/definition.ts';
import { replyRateVerdict } from '../core/significance.ts';
import { variantsOf, weightOf } from '../core/variants.ts';
import { abDecisionsOf, variantFigures, variantOutcomeFigures, type AbDecision } from '../db/variantStats.ts';
import { ENROLLMENT_STATUSES } from '../core/enrollmentStatus.ts';
import type { Db } from '../db/db.ts';
import { getDefinition, getSequence } from '../db/sequences.ts';
import { enrollmentCountsByStatus, eventFiguresByStep, executionFiguresByStep, outcomeFiguresByStep, replyClassFiguresByStep } from '../db/stats.ts';
import { REPLY_CLASSES } from '../core/sentiment.ts';
import { callerOf } from './auth.ts';
import { commonErrors, fail, id, idParams, type Api } from './wire.ts';

const count = z.number().int();
const rate = z.number().min(0).nullable();

const COUNT_COLUMNS = [
  'executed', 'sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'failed',
  'reached', 'optedOut', 'converted', 'meetingBooked', 'skipped',
] as const;
type CountColumn = (typeof COUNT_COLUMNS)[number];

/** The rates a salesperson reads (docs/ANALYTICS.md); the reports answer the same ones. */
export const rateFields = {
  delivery: rate.describe('delivered / sent'),
  open: rate.describe('opened / delivered'),
  click: rate.describe('clicked / delivered'),
  reply: rate.describe('replied / delivered'),
  bounce: rate.describe('bounced / sent'),
  optOut: rate.describe('optedOut / delivered'),
  conversion: rate.describe('converted / sent'),
  meeting: rate.describe('meetingBooked / sent'),
};

export const ratesSchema = z.object(rateFields).describe('Fractions from 0 to 1; null where the denominator is 0');

const figures = {
  ...(Object.fromEntries(COUNT_COLUMNS.map((c) => [c, count])) as Record<CountColumn, typeof count>),
  rates: ratesSchema,
};

const replyClassesSchema = z
  .object({ ...(Object.fromEntries(REPLY_CLASSES.map((c) => [c, count])) as Record<(typeof REPLY_CLASSES)[number], typeof count>), corrected: count })
  .describe('Replies (events) by sentiment class, and how many an operator corrected (docs/ANALYTICS.md, "Reply sentiment")');
type ReplyClassCounts = z.infer<typeof replyClassesSchema>;
const zeroClasses = (): ReplyClassCounts => ({ ...(Object.fromEntries(REPLY_CLASSES.map((c) => [c, 0])) as Record<(typeof REPLY_CLASSES)[number], number>), corrected: 0 });

const verdictSchema = z
  .object({
    status: z.enum(['insufficient_data', 'no_winner_yet', 'winner']),
    leader: z.string().nullable().describe('The variant with the highest reply rate'),
    winner: z.string().nullable().describe('Set when the leader is confident against every other variant'),
    comparisons: z.array(
      z.object({
        against: z.string(),
        z: z.number(),
        pAdjusted: z.number().describe('One-sided p of "the leader is better", Bonferroni-adjusted'),
        confidence: z.number().describe('1 − pAdjusted'),
      }),
    ),
    minDeliveries: count,
    confidence: z.number().describe('The confidence asked for a verdict'),
    summary: z.string(),
  })
  .describe('Two-proportion z-test of the reply rates (docs/ANALYTICS.md, "A/B variants")');

const variantStats = z.object({
  id: z.string(),
  weight: z.number().nullable().describe("The variant's weight in the current version; null for a variant no longer in it"),
  ...figures,
});

const abTestStats = z
  .object({
    variants: z.array(variantStats),
    verdict: verdictSchema,
    decision: z
      .object({ variant: z.string(), decidedAt: z.string(), figures: z.record(z.string(), z.unknown()) })
      .nullable()
      .describe('The automatic winner, once decided: new assignments get it'),
  })
  .nullable()
  .describe('Steps with A/B variants: each variant\'s figures and the verdict; null for other steps');

const stepStats = z.object({
  stepId: z.string(),
  type: z.string().nullable(),
  ...figures,
  branch: z
    .object({ then: count, else: count })
    .nullable()
    .describe('Branch steps: enrollments that went each way; null for other steps'),
  abTest: abTestStats,
  replyClasses: replyClassesSchema,
});

const sequenceTotals = z.object({ ...figures, replyClasses: replyClassesSchema }).describe('The whole sequence: each enrollment counted once per measure, whatever step it was at');

export const sequenceStatsSchema = z.object({
  sequenceId: id,
  steps: z.array(stepStats),
  enrollments: z.record(z.enum(ENROLLMENT_STATUSES), count),
  totals: sequenceTotals,
});

type Counts = Record<CountColumn, number>;

/** A share, or null when nothing could have happened (0 / 0 is not a rate). */
function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** The rates of a row's counts: the stats' and the reports' one definition. */
export function ratesOf(c: Pick<Counts, 'sent' | 'delivered' | 'opened' | 'clicked' | 'replied' | 'bounced' | 'optedOut' | 'converted' | 'meetingBooked'>): z.infer<typeof ratesSchema> {
  return {
    delivery: ratio(c.delivered, c.sent),
    open: ratio(c.opened, c.delivered),
    click: ratio(c.clicked, c.delivered),
    reply: ratio(c.replied, c.delivered),
    bounce: ratio(c.bounced, c.sent),
    optOut: ratio(c.optedOut, c.delivered),
    conversion: ratio(c.converted, c.sent),
    meeting: ratio(c.meetingBooked, c.sent),
  };
}

/**
 * A step's variants side by side — those of the current version first, in its order, then any
 * variant that only older versions sent — with the verdict on their reply rates.
 */
function abTestOf(
  step: Step | undefined,
  stepId: string,
  rows: Awaited<ReturnType<typeof variantFigures>>,
  outcomes: Awaited<ReturnType<typeof variantOutcomeFigures>>,
  decisions: AbDecision[],
): z.infer<typeof abTestStats> {
  const current = step ? variantsOf(step) ?? [] : [];
  const mine = rows.filter((r) => r.stepId === stepId);
  if (current.length === 0 && mine.length === 0) return null;
  const ids = [...current.map((v) => v.id), ...mine.map((r) => r.variant).filter((id) => !current.some((v) => v.id === id))];
  const variants = ids.map((id) => {
    const row = mine.find((r) => r.variant === id);
    const counts = zeroCounts();
    if (row) for (const column of COUNT_COLUMNS) if (column in row) counts[column] = (row as unknown as Counts)[column];
    for (const o of outcomes) if (o.stepId === stepId && o.variant === id) counts[o.outcome] += o.n;
    const variant = current.find((v) => v.id === id);
    return { id, weight: variant ? weightOf(variant) : null, ...counts, rates: ratesOf(counts) };
  });
  const auto = step && (step.type === 'email' || step.type === 'sms') ? step.abTest?.autoWinner : undefined;
  const verdict = replyRateVerdict(
    variants.filter((v) => v.weight !== null).map((v) => ({ id: v.id, successes: v.replied, trials: v.delivered })),
    { minDeliveries: auto?.minDeliveriesPerVariant, confidence: auto?.confidence },
  );
  const decided = decisions.find((d) => d.stepId === stepId);
  return {
    variants,
    verdict,
    decision: decided ? { variant: decided.variant, decidedAt: new Date(decided.decidedAt).toISOString(), figures: decided.figures } : null,
  };
}

const zeroCounts = (): Counts => Object.fromEntries(COUNT_COLUMNS.map((c) => [c, 0])) as Counts;

export function sequenceStatsRoutes(api: Api, db: Db) {
  api.get(
    '/sequences/:id/stats',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Per step and for the sequence: reached, sent, delivered, opened, clicked, replied, bounced, opted out, converted, meetings, failed, skipped, and their rates',
        description:
          'Every figure but `executed` counts enrollments (an email opened twice counts once). Rates are fractions, null when their denominator is 0. Definitions: docs/ANALYTICS.md.',
        tags: ['sequences'],
        params: idParams,
        response: { 200: sequenceStatsSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const sequence = await getSequence(db, callerOf(request).workspaceId, request.params.id);
      if (!sequence) return fail(reply, 404, 'not_found', `Sequence ${request.params.id} does not exist.`);
      const [stored, executions, events, outcomes, statuses, variantRows, variantOutcomes, decisions, classRows] = await Promise.all([
        getDefinition(db, sequence.id, sequence.currentVersion),
        executionFiguresByStep(db, sequence.id),
        eventFiguresByStep(db, sequence.id),
        outcomeFiguresByStep(db, sequence.id),
        enrollmentCountsByStatus(db, sequence.id),
        variantFigures(db, sequence.id),
        variantOutcomeFigures(db, sequence.id),
        abDecisionsOf(db, [sequence.id]),
        replyClassFiguresByStep(db, sequence.id),
      ]);
      const classesOf = (stepId: string | null) => {
        const counts = zeroClasses();
        for (const r of classRows) {
          if (stepId === null ? !r.total : r.total || r.stepId !== stepId) continue;
          if (r.replyClass in counts) counts[r.replyClass as (typeof REPLY_CLASSES)[number]] += r.n;
          counts.corrected += r.corrected;
        }
        return counts;
      };
      const parsed = sequenceDefinitionSchema.safeParse(stored);
      const stepsOf = new Map<string, Step>(parsed.success ? parsed.data.steps.map((s) => [s.id, s]) : []);
      const typeOf = new Map(parsed.success ? parsed.data.steps.map((s) => [s.id, s.type as string]) : []);
      const steps = new Map<string, Counts & { branch: { then: number; else: number } | null }>();
      const totals = zeroCounts();
      const row = (stepId: string) => {
        let stats = steps.get(stepId);
        if (!stats) {
          stats = { ...zeroCounts(), branch: typeOf.get(stepId) === 'branch' ? { then: 0, else: 0 } : null };
          steps.set(stepId, stats);
        }
        return stats;
      };
      for (const stepId of typeOf.keys()) row(stepId);
      for (const e of executions) {
        const target = e.stepId === null ? totals : row(e.stepId);
        target.executed += e.executed;
        target.reached += e.reached;
        target.sent += e.sent;
        target.failed += e.failed;
        target.skipped += e.skipped;
        if (e.stepId !== null && (e.branchThen > 0 || e.branchElse > 0)) {
          const stats = row(e.stepId);
          stats.branch = { then: e.branchThen, else: e.branchElse };
        }
      }
      for (const e of events) {
        if (e.total) totals[e.measure] += e.n;
        else if (e.stepId) row(e.stepId)[e.measure] += e.n;
      }
      for (const o of outcomes) {
        if (o.total) totals[o.outcome] += o.n;
        else if (o.stepId) row(o.stepId)[o.outcome] += o.n;
      }
      const enrollments = Object.fromEntries(ENROLLMENT_STATUSES.map((s) => [s, statuses.find((r) => r.status === s)?.n ?? 0]));
      return {
        sequenceId: sequence.id,
        steps: [...steps.entries()].map(([stepId, s]) => ({
          stepId,
          type: typeOf.get(stepId) ?? null,
          ...s,
          rates: ratesOf(s),
          abTest: abTestOf(stepsOf.get(stepId), stepId, variantRows, variantOutcomes, decisions),
          replyClasses: classesOf(stepId),
        })),
        enrollments: enrollments as Record<(typeof ENROLLMENT_STATUSES)[number], number>,
        totals: { ...totals, rates: ratesOf(totals), replyClasses: classesOf(null) },
      };
    },
  );
}
