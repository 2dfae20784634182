/**
 * A distributed: PostgreSQL + BullMQ with worker processes. Filled in once src/engine/bullmq
 * has landed; until then `distributedAvailable()` answers false and the row says so.
 */
import type { ThroughputRun } from './throughput.ts';

export async function distributedAvailable(): Promise<boolean> {
  return false;
}

export async function distributedThroughput(_args: { leads: number; processes: number; concurrency: number; timeoutMs: number }): Promise<ThroughputRun> {
  throw new Error('distributed mode is not available yet');
}
