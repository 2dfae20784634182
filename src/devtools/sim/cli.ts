/**
 * `npm run sim -- --seeds 10000`: explores seeded histories of the real engine (docs/SIMULATION.md).
 *   --seeds N        how many histories (default 200), from --from S (default 1)
 *   --seed S         replay one history exactly (with --shape, as a failure prints it)
 *   --shape JSON     override the history's knobs (leads, steps, workers, crash, faults, …)
 *   --quick          smaller histories (what `npm test` runs)
 *   --processes K    child processes (default: the machine's cores)
 *   --break NAME     run a deliberately broken engine: no-lease-fence | blind-resend
 *   --no-shrink      report the first failure as found
 * Exits 1 when any history broke an invariant.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { runHistory } from './history.ts';
import { runSeeds } from './runner.ts';
import { replayCommand, shrink } from './shrink.ts';
import { BREAKAGES, SimStore, type Breakage } from './store.ts';
import type { HistoryResult } from './history.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    from: { type: 'string' },
    seed: { type: 'string' },
    shape: { type: 'string' },
    quick: { type: 'boolean' },
    processes: { type: 'string' },
    break: { type: 'string' },
    'no-shrink': { type: 'boolean' },
  },
});

const breakage = values.break as Breakage | undefined;
if (breakage && !BREAKAGES.includes(breakage)) {
  console.error(`--break takes one of: ${BREAKAGES.join(', ')}`);
  process.exit(2);
}
const common = { quick: values.quick, breakage };

function describe(result: HistoryResult): string {
  const v = result.violation!;
  return `seed ${result.seed}: ${v.invariant} — ${v.message} (step ${v.step}, simulated ${v.at})`;
}

async function main(): Promise<number> {
  if (values.seed !== undefined) {
    const store = await SimStore.open({ breakage });
    const result = await runHistory(store, { ...common, seed: Number(values.seed), shape: values.shape ? JSON.parse(values.shape) : undefined });
    await store.close();
    console.log(JSON.stringify(result.stats), result.fingerprint);
    if (!result.violation) return console.log(`seed ${result.seed}: every invariant held`), 0;
    console.log(describe(result));
    return 1;
  }
  const count = Number(values.seeds ?? 200);
  const started = Date.now();
  let done = 0;
  const summary = await runSeeds({
    ...common,
    from: Number(values.from ?? 1),
    count,
    processes: Number(values.processes ?? availableParallelism()),
    onResult: (r) => {
      if (r.violation) console.log(`FAIL ${describe(r)}`);
      // A long run says how far it is (stderr: stdout stays the failures and the summary).
      if (++done % 1000 === 0 && done < count) console.error(`${done} of ${count} histories, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    },
  });
  const rate = summary.histories / summary.seconds;
  const perCpu = summary.histories / summary.cpuSeconds;
  // What the machine's load cannot skew: the CPU the histories took. 10,000 on two idle cores
  // take 10,000 / (2 × that rate) seconds.
  console.log(
    `${summary.histories} histories in ${summary.seconds.toFixed(1)} s (${rate.toFixed(1)}/s), ` +
      `${summary.cpuSeconds.toFixed(1)} CPU s (${perCpu.toFixed(2)} histories per CPU second; 10,000 on 2 idle cores ≈ ${(10_000 / (2 * perCpu) / 60).toFixed(1)} min): ` +
      `${summary.crashes} crashes injected, ${summary.takeovers} lease take-overs, ${summary.checks} invariant checks, ${summary.deliveries} deliveries, ` +
      `${summary.statements} statements, ${summary.failures.length} failing`,
  );
  const first = summary.failures[0];
  if (!first) return 0;
  if (values['no-shrink']) {
    console.log(`replay: ${replayCommand(first, { breakage })}`);
    return 1;
  }
  const store = await SimStore.open({ breakage });
  const { result, runs } = await shrink(store, first, common);
  await store.close();
  console.log(`shrunk in ${runs} runs to: ${describe(result)}`);
  console.log(`replay: ${replayCommand(result, { breakage })}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
