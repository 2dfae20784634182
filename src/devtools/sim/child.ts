/** A simulator child process: runs the seeds its parent sends and prints one JSON line per history. */
import { runInProcess } from './runner.ts';
import type { Breakage } from './store.ts';

process.once('message', (message: { seeds: number[]; quick?: boolean; breakage?: Breakage; stopAtFirst?: boolean }) => {
  const { seeds, ...options } = message;
  runInProcess(seeds, options, (result) => process.stdout.write(`${JSON.stringify(result)}\n`)).then(
    // The CPU this process used, start-up included: the rate the machine's load cannot skew.
    () => process.stdout.write(`${JSON.stringify({ cpuUsage: process.cpuUsage() })}\n`, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
