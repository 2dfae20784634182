/**
 * Peer: a bare BullMQ worker chain on the same Redis — three no-op steps per chain, each
 * queueing the next. A new queue per run (removed afterwards); the worker processes live
 * for the whole workload and make a new BullMQ Worker for each run.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { runWorkersTo, type ChildRun, type Session, type Workers } from '../lib/processes.ts';
import { REDIS_URL } from '../lib/databases.ts';
import type { ThroughputRun } from '../workloads/throughput.ts';

const STEPS = 3;

function connection(url: string) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
}

export async function bullmqSession(args: { chains: number; workers: Workers; concurrency: number; timeoutMs: number }): Promise<Session<ThroughputRun>> {
  const { workers } = args;
  return {
    run: async () => {
      const name = `bench-chain-${randomBytes(4).toString('hex')}`;
      const queue = new Queue(name, { connection: connection(REDIS_URL) });
      try {
        for (let i = 0; i < args.chains; i += 1000) {
          const jobs = [];
          for (let c = i; c < Math.min(args.chains, i + 1000); c++) jobs.push({ name: 'step', data: { chain: c, step: 1 } });
          await queue.addBulk(jobs);
        }
        await workers.prepare([REDIS_URL, name, args.concurrency]);
        const seconds = await runWorkersTo(workers, () => queue.getCompletedCount(), args.chains * STEPS, args.timeoutMs);
        return { steps: args.chains * STEPS, seconds, stepsPerSecond: (args.chains * STEPS) / seconds };
      } finally {
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
    },
    close: async () => undefined,
  };
}

export async function prepareBullmqChild(url: string, name: string, concurrency: number): Promise<ChildRun> {
  const queue = new Queue(name, { connection: connection(url) });
  const worker = new Worker(
    name,
    async (job) => {
      const { chain, step } = job.data as { chain: number; step: number };
      if (step < STEPS) await queue.add('step', { chain, step: step + 1 });
    },
    { connection: connection(url), concurrency, autorun: false },
  );
  await worker.waitUntilReady();
  await queue.waitUntilReady();
  return {
    start: () => {
      void worker.run();
    },
    stop: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
