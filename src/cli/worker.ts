/**
 * `touchpoint worker [--concurrency N]`: one distributed worker process (assembled in
 * src/app/worker.ts). SIGTERM: stop claiming, finish in-flight steps, give back leases not
 * started, exit; past SHUTDOWN_TIMEOUT_SECONDS, or on a second signal, exit anyway
 * (src/cli/shutdown.ts).
 */
import { parseArgs } from 'node:util';
import { createWorker } from '../app/worker.ts';
import type { Config } from '../config.ts';
import { createLogger } from '../telemetry/logger.ts';
import { CliError } from './errors.ts';
import { handleSignals } from './shutdown.ts';

class WorkerCommandError extends CliError {}

export async function runWorker(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { concurrency: { type: 'string' } } });
  const concurrency = values.concurrency === undefined ? config.WORKER_CONCURRENCY : Number.parseInt(values.concurrency, 10);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new WorkerCommandError('--concurrency must be a whole number of at least 1.');
  const { DATABASE_URL, REDIS_URL } = config;
  if (!DATABASE_URL || !REDIS_URL) {
    throw new WorkerCommandError('touchpoint worker needs DATABASE_URL (PostgreSQL) and REDIS_URL; the embedded default runs its worker inside `touchpoint serve`.');
  }
  const logger = createLogger(config.LOG_LEVEL).child({ role: 'worker', pid: process.pid });
  const worker = await createWorker({ ...config, DATABASE_URL, REDIS_URL }, { logger, concurrency });
  worker.start();
  handleSignals({
    logger,
    timeoutMs: config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    graceful: () => worker.stop(),
    // Past the deadline: queued jobs nobody started go back at once; steps still running keep
    // their lease and run again when it runs out (LEASE_SECONDS), each guarded by its intent row.
    forced: async () => {
      const released = await worker.releaseLeases();
      if (released > 0) logger.warn({ released }, 'gave back the leases of queued jobs');
    },
  });
  return -1; // keep running
}
