/**
 * Is one variant's reply rate really higher? A two-proportion z-test (pooled standard error)
 * of the leader against every other variant, one-sided, Bonferroni-adjusted for the number of
 * comparisons, and no verdict before every variant has a minimum number of deliveries.
 * docs/ANALYTICS.md, "A/B variants: the test", says how to read the answer.
 */

/** Defaults when a step asks for no automatic winner: the same bar the dashboard's verdict uses. */
export const DEFAULT_MIN_DELIVERIES = 100;
export const DEFAULT_CONFIDENCE = 0.95;

/**
 * The standard normal CDF through erfc (the Chebyshev fit of Numerical Recipes' `erfcc`,
 * fractional error < 1.2e-7 everywhere): plenty for p-values.
 */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

export interface Proportion {
  /** Replies. */
  successes: number;
  /** Deliveries. */
  trials: number;
}

/**
 * z of `a` over `b` with the pooled standard error; z = 0 when the pool has no variance (both
 * 0 % or both 100 %), which says "no evidence" rather than dividing by zero.
 */
export function twoProportionZ(a: Proportion, b: Proportion): number {
  if (a.trials === 0 || b.trials === 0) return 0;
  const pa = a.successes / a.trials;
  const pb = b.successes / b.trials;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  return se === 0 ? 0 : (pa - pb) / se;
}

/** Two-sided p of a z score. */
export function twoSidedP(z: number): number {
  return Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
}

export interface VariantFigures extends Proportion {
  id: string;
}

export interface Comparison {
  /** The variant the leader is compared with. */
  against: string;
  z: number;
  /** One-sided p of "the leader's rate is higher", times the number of comparisons (capped at 1). */
  pAdjusted: number;
  /** 1 − pAdjusted. */
  confidence: number;
}

export type VerdictStatus = 'insufficient_data' | 'no_winner_yet' | 'winner';

export interface Verdict {
  status: VerdictStatus;
  /** The variant with the highest reply rate (ties: the first listed); null without deliveries. */
  leader: string | null;
  /** Set only when status is `winner`: the leader, confident against every other variant. */
  winner: string | null;
  comparisons: Comparison[];
  minDeliveries: number;
  confidence: number;
  /** One sentence for people. */
  summary: string;
}

/** The verdict on a step's variants' reply rates (replied / delivered). */
export function replyRateVerdict(
  variants: readonly VariantFigures[],
  options: { minDeliveries?: number; confidence?: number } = {},
): Verdict {
  const minDeliveries = options.minDeliveries ?? DEFAULT_MIN_DELIVERIES;
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const rate = (v: VariantFigures) => (v.trials > 0 ? v.successes / v.trials : -1);
  const leader = variants.reduce<VariantFigures | undefined>((best, v) => (!best || rate(v) > rate(best) ? v : best), undefined);
  const base = { minDeliveries, confidence, winner: null };
  if (!leader || leader.trials === 0 || variants.length < 2) {
    return { ...base, status: 'insufficient_data', leader: null, comparisons: [], summary: 'Nothing delivered yet.' };
  }
  const others = variants.filter((v) => v !== leader);
  const comparisons = others.map((other) => {
    const z = twoProportionZ(leader, other);
    const pAdjusted = Math.min(1, (1 - normalCdf(z)) * others.length);
    return { against: other.id, z, pAdjusted, confidence: 1 - pAdjusted };
  });
  const short = variants.filter((v) => v.trials < minDeliveries);
  if (short.length > 0) {
    return {
      ...base,
      status: 'insufficient_data',
      leader: leader.id,
      comparisons,
      summary: `Too early to call: ${short.map((v) => v.id).join(', ')} ${short.length === 1 ? 'has' : 'have'} fewer than ${minDeliveries} deliveries.`,
    };
  }
  const weakest = comparisons.reduce((low, c) => (c.confidence < low.confidence ? c : low));
  if (weakest.confidence >= confidence) {
    return {
      ...base,
      status: 'winner',
      leader: leader.id,
      winner: leader.id,
      comparisons,
      summary: `${leader.id} has the best reply rate with ${percent(weakest.confidence)} confidence (at least ${percent(confidence)} asked).`,
    };
  }
  return {
    ...base,
    status: 'no_winner_yet',
    leader: leader.id,
    comparisons,
    summary: `${leader.id} leads, but against ${weakest.against} only with ${percent(weakest.confidence)} confidence (${percent(confidence)} needed).`,
  };
}

function percent(fraction: number): string {
  return `${Math.floor(fraction * 1000) / 10} %`;
}
