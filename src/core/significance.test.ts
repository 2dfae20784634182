import { describe, expect, it } from 'vitest';
import { normalCdf, replyRateVerdict, twoProportionZ, twoSidedP } from './significance.ts';

describe('the two-proportion z-test', () => {
  it('matches the standard normal table', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1)).toBeCloseTo(0.8413447, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-2.326348)).toBeCloseTo(0.01, 6);
    expect(normalCdf(3)).toBeCloseTo(0.9986501, 6);
  });

  it("matches R's prop.test(c(45, 30), c(100, 100), correct = FALSE): X² = 4.8, p = 0.02846", () => {
    const z = twoProportionZ({ successes: 45, trials: 100 }, { successes: 30, trials: 100 });
    expect(z * z).toBeCloseTo(4.8, 6);
    expect(twoSidedP(z)).toBeCloseTo(0.02846, 5);
  });

  it('gives z = 0, not NaN, when nobody (or everybody) replied', () => {
    expect(twoProportionZ({ successes: 0, trials: 50 }, { successes: 0, trials: 80 })).toBe(0);
    expect(twoProportionZ({ successes: 50, trials: 50 }, { successes: 80, trials: 80 })).toBe(0);
    expect(twoProportionZ({ successes: 0, trials: 0 }, { successes: 3, trials: 80 })).toBe(0);
  });
});

describe('the reply-rate verdict', () => {
  it('calls nothing before every variant has the minimum deliveries', () => {
    const verdict = replyRateVerdict([{ id: 'a', successes: 40, trials: 100 }, { id: 'b', successes: 1, trials: 99 }]);
    expect(verdict).toMatchObject({ status: 'insufficient_data', leader: 'a', winner: null });
    expect(verdict.summary).toContain('b has fewer than 100');
  });

  it('names the winner when the leader is confident against every other variant', () => {
    // 45/100 vs 30/100: one-sided p = 0.01423, one comparison → confidence 98.6 %.
    const verdict = replyRateVerdict([{ id: 'a', successes: 30, trials: 100 }, { id: 'b', successes: 45, trials: 100 }]);
    expect(verdict).toMatchObject({ status: 'winner', leader: 'b', winner: 'b' });
    expect(verdict.comparisons[0]!.confidence).toBeCloseTo(1 - 0.02846 / 2, 4);
  });

  it('adjusts for several comparisons (Bonferroni): the same gap may not be enough among three', () => {
    // b vs a alone: 98.6 %; b vs a and c, with c close to b: p doubled and c too close.
    const two = replyRateVerdict([{ id: 'a', successes: 30, trials: 100 }, { id: 'b', successes: 45, trials: 100 }], { confidence: 0.98 });
    expect(two.status).toBe('winner');
    const three = replyRateVerdict(
      [{ id: 'a', successes: 30, trials: 100 }, { id: 'b', successes: 45, trials: 100 }, { id: 'c', successes: 30, trials: 100 }],
      { confidence: 0.98 },
    );
    expect(three.status).toBe('no_winner_yet');
    expect(three.comparisons.find((c) => c.against === 'a')!.pAdjusted).toBeCloseTo(0.02846, 4);
  });

  it('says no winner yet on a small gap, and nothing delivered on nothing', () => {
    expect(replyRateVerdict([{ id: 'a', successes: 30, trials: 200 }, { id: 'b', successes: 33, trials: 200 }]).status).toBe('no_winner_yet');
    expect(replyRateVerdict([{ id: 'a', successes: 0, trials: 0 }, { id: 'b', successes: 0, trials: 0 }])).toMatchObject({ status: 'insufficient_data', leader: null });
  });
});
