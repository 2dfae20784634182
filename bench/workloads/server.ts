/**
 * A on the PostgreSQL server: Touchpoint's inline dispatcher in worker processes sharing one
 * database (SKIP LOCKED claims), timed from `go` until every step is recorded.
 */
import { openPostgresBench } from '../lib/databases.ts';
import { countExecutions, STEPS_PER_ENROLLMENT } from '../lib/fixture.ts';
import { startWorkers, waitForCount } from '../lib/processes.ts';
import { seedDueNow, type ThroughputRun } from './throughput.ts';

export async function engineOnPostgres(args: { leads: number; processes: number; concurrency: number; timeoutMs: number }): Promise<ThroughputRun> {
  const store = await openPostgresBench(4);
  try {
    await seedDueNow(store.db, args.leads);
    const workers = await startWorkers(args.processes, 'engine', [store.url!, args.concurrency]);
    const started = performance.now();
    workers.go();
    const target = args.leads * STEPS_PER_ENROLLMENT;
    try {
      await waitForCount(() => countExecutions(store.db), target, args.timeoutMs);
      // Every execution row exists; wait for the last outcomes to be recorded too.
      await waitForCount(
        async () => Number((await store.db.query<{ n: number }>(`select count(*)::int as n from enrollments where status = 'completed'`))[0]!.n),
        args.leads,
        args.timeoutMs,
      );
    } finally {
      await workers.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    return { steps: target, seconds, stepsPerSecond: target / seconds };
  } finally {
    await store.close();
  }
}
