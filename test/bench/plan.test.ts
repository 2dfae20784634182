/**
 * The benchmark's plan and its budget line: pure logic, no benchmark run. `--quick` measures
 * each figure once (its 60 s budget) and the full run three times; RSS is judged only when read
 * after V8's post-drain collections, as the full run reads it.
 */
import { describe, expect, it } from 'vitest';
import { Budget, budgetLine } from '../../bench/lib/budget.ts';
import { plan, POST_DRAIN_SETTLE_SECONDS, rssJudged } from '../../bench/lib/plan.ts';

describe('plan', () => {
  it('measures each figure once at --quick and three times at full size, unless --runs says otherwise', () => {
    expect(plan('quick').runs).toBe(1);
    expect(plan('full').runs).toBe(3);
    expect(plan('quick', 3).runs).toBe(3);
    expect(plan('full', 5).runs).toBe(5);
  });

  it('waits past the post-drain collections before C reads RSS at full size, and not at --quick', () => {
    const full = plan('full');
    const quick = plan('quick');
    expect(full.dormantSettleSeconds).toBe(POST_DRAIN_SETTLE_SECONDS);
    expect(full.dormantPgSettleSeconds).toBe(POST_DRAIN_SETTLE_SECONDS);
    expect(rssJudged(full.dormantSettleSeconds)).toBe(true);
    expect(rssJudged(full.dormantPgSettleSeconds)).toBe(true);
    expect(rssJudged(quick.dormantSettleSeconds)).toBe(false);
    expect(rssJudged(quick.dormantPgSettleSeconds)).toBe(false);
  });
});

describe('budget', () => {
  it('sums a part timed in pieces and names what no part covers', async () => {
    let now = 0;
    const budget = new Budget(() => now);
    budget.add('start-up', 2);
    const stop = budget.start('A');
    now += 1500;
    stop();
    await budget.time('A', async () => {
      now += 500;
    });
    await expect(
      budget.time('B', async () => {
        now += 250;
        throw new Error('failed run');
      }),
    ).rejects.toThrow('failed run');
    expect(budget.entries()).toEqual([
      { name: 'start-up', seconds: 2 },
      { name: 'A', seconds: 2 },
      { name: 'B', seconds: 0.25 },
    ]);
    expect(budgetLine(budget.entries(), 5)).toBe('seconds: start-up 2.0, A 2.0, B 0.3, other 0.8; total 5.0');
    expect(budgetLine([{ name: 'A', seconds: 1 }], 1.01)).toBe('seconds: A 1.0; total 1.0');
  });
});
