/**
 * A simulator child process: runs the seeds its parent hands out, a batch at a time (it asks
 * for the next when it has run the last), and prints one JSON line per history.
 */
import { runInProcess } from './runner.ts';
import type { Breakage } from './store.ts';

/** The next batch of seeds from the parent; an empty one means there are no more. */
function nextBatch(): Promise<number[]> {
  return new Promise((resolve) => {
    process.once('message', (message: { seeds: number[] }) => resolve(message.seeds));
    process.send!({ want: true });
  });
}

process.once('message', (options: { quick?: boolean; breakage?: Breakage; stopAtFirst?: boolean }) => {
  runInProcess(nextBatch, options, (result) => process.stdout.write(`${JSON.stringify(result)}\n`)).then(
    // The CPU this process used, start-up included: the rate the machine's load cannot skew.
    () => process.stdout.write(`${JSON.stringify({ cpuUsage: process.cpuUsage() })}\n`, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
