/**
 * A on the PostgreSQL server: Touchpoint's inline dispatcher in worker processes sharing one
 * database (SKIP LOCKED claims), timed from `go` until every step is recorded. One schema per
 * workload (migrated once, truncated before each run); the worker processes live for the
 * whole workload and keep their connection pool.
 */
import { openPostgresBench } from '../lib/databases.ts';
import { countCompleted, STEPS_PER_ENROLLMENT } from '../lib/fixture.ts';
import { runWorkersTo, type Session, type Workers } from '../lib/processes.ts';
import { resetStore } from '../lib/reset.ts';
import { seedDueNow, type ThroughputRun } from './throughput.ts';

export async function engineOnPostgresSession(args: { leads: number; workers: Workers; concurrency: number; timeoutMs: number }): Promise<Session<ThroughputRun>> {
  const { workers } = args;
  const store = await openPostgresBench(4);
  return {
    run: async () => {
      await resetStore(store.db);
      await seedDueNow(store.db, args.leads);
      await workers.prepare([store.url!, args.concurrency]);
      // Completed enrollments: every execution row exists and its outcome is recorded.
      const seconds = await runWorkersTo(workers, () => countCompleted(store.db), args.leads, args.timeoutMs);
      const target = args.leads * STEPS_PER_ENROLLMENT;
      return { steps: target, seconds, stepsPerSecond: target / seconds };
    },
    close: async () => {
      await store.close();
    },
  };
}
