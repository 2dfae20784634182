/**
 * The deterministic simulator (docs/SIMULATION.md): a quick run of 200 seeded histories of the
 * real engine must keep every invariant; a deliberately broken engine must be caught within
 * that run; a seed replays exactly.
 */
import { describe, expect, it } from 'vitest';
import { runHistory } from '../../src/devtools/sim/history.ts';
import { runSeeds } from '../../src/devtools/sim/runner.ts';
import { replayCommand } from '../../src/devtools/sim/shrink.ts';
import { SimStore } from '../../src/devtools/sim/store.ts';

/**
 * Bugs the simulator found that are not fixed yet (docs/SIMULATION.md, "Findings"): each seed
 * must keep failing the same way until its fix lands, then move to REGRESSIONS. Nothing else
 * may fail.
 */
const KNOWN_FINDINGS: Record<number, string> = {};

/**
 * Seeds that found a bug now fixed: each must keep every invariant (docs/SIMULATION.md,
 * "Findings"), whatever the quick run's range covers.
 */
const REGRESSIONS: Record<number, string> = {
  // A worker stalled between its intent and its send lost its lease; the next asked the
  // provider's ledger, heard "not sent", and sent; the stalled one woke and sent too. Fixed by
  // the send fence: every call ends before its lease does (docs/ENGINE.md, "Crashes: at most once").
  88: 'once-per-visit',
};

describe('deterministic simulation', () => {
  it('keeps every invariant over 200 quick seeded histories (known findings aside)', async () => {
    const summary = await runSeeds({ from: 1, count: 200, processes: 2, quick: true });
    const failures = summary.failures
      .filter((f) => KNOWN_FINDINGS[f.seed] !== f.violation!.invariant)
      .map((f) => `${f.violation!.invariant}: ${f.violation!.message}\n  ${replayCommand(f)}`);
    expect(failures).toEqual([]);
    expect(summary.histories).toBe(200);
    expect(summary.crashes).toBeGreaterThan(100);
    expect(summary.deliveries).toBeGreaterThan(1000);
  }, 600_000);

  it('catches an engine that resends an interrupted send after a crash, within the quick run', async () => {
    const summary = await runSeeds({ from: 1, count: 200, processes: 2, quick: true, breakage: 'blind-resend', stopAtFirst: true });
    expect(summary.failures.length).toBeGreaterThan(0);
    expect(summary.failures[0]!.violation!.invariant).toBe('once-per-visit');
  });

  it('still finds each known finding at its seed', async () => {
    const store = await SimStore.open();
    try {
      for (const [seed, invariant] of Object.entries(KNOWN_FINDINGS)) {
        const result = await runHistory(store, { seed: Number(seed), quick: true });
        expect(result.violation?.invariant, `seed ${seed}`).toBe(invariant);
      }
    } finally {
      await store.close();
    }
  });

  it('keeps every invariant at the seeds of fixed findings', async () => {
    const store = await SimStore.open();
    try {
      for (const [seed, was] of Object.entries(REGRESSIONS)) {
        const result = await runHistory(store, { seed: Number(seed), quick: true });
        expect(result.violation, `seed ${seed} (was ${was}): ${replayCommand(result)}`).toBeUndefined();
      }
    } finally {
      await store.close();
    }
  });

  it('replays a seed exactly', async () => {
    const store = await SimStore.open();
    try {
      const first = await runHistory(store, { seed: 7, quick: true });
      await runHistory(store, { seed: 8, quick: true });
      const again = await runHistory(store, { seed: 7, quick: true });
      expect(again.fingerprint).toBe(first.fingerprint);
      expect(again.stats).toEqual(first.stats);
    } finally {
      await store.close();
    }
  });
});
