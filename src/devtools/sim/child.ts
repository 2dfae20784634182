/**
 * A simulator child process: asks its parent for seeds a batch at a time, runs them on its one
 * store, and prints one JSON line per history (then its CPU time once the parent has no more).
 */
import { runInProcess } from './runner.ts';
import type { Breakage } from './store.ts';

interface Start {
  quick?: boolean;
  breakage?: Breakage;
  stopAtFirst?: boolean;
}

/** The next batch from the parent (empty: no seeds left). */
function nextBatch(): Promise<number[]> {
  return new Promise((resolve) => {
    process.once('message', (message: { seeds: number[] }) => resolve(message.seeds));
    process.send!({ want: true });
  });
}

process.once('message', (options: Start) => {
  runInProcess(nextBatch, options, (result) => process.stdout.write(`${JSON.stringify(result)}\n`)).then(
    // The CPU this process used, start-up included: the rate the machine's load cannot skew.
    () => process.stdout.write(`${JSON.stringify({ cpuUsage: process.cpuUsage() })}\n`, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
