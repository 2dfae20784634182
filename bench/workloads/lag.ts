/**
 * B. Lag: enrollments coming due at a steady rate while the dispatcher loop runs on the real
 * clock, and a burst all due at one instant. Lag = the first step's execution start − its due
 * time; the burst's drain time runs from the due instant to the last step recorded.
 */
import type { Db } from '../../src/db/db.ts';
import { latency, sleep, type Latency } from '../lib/stats.ts';
import { benchEngine, countCompleted, createFixture, enrollSql, insertLeadsSql, leadInMs, STEPS_PER_ENROLLMENT } from '../lib/fixture.ts';

export interface LagRun {
  enrollments: number;
  /** Enrollments per second coming due (steady runs). */
  ratePerSecond?: number;
  lagMs: Latency;
  /** From the due instant to the last step recorded. */
  drainSeconds: number;
  stepsPerSecond: number;
}

export async function lagRun(db: Db, args: { enrollments: number; spreadMs: number; timeoutMs: number }): Promise<LagRun> {
  const fixture = await createFixture(db);
  const inserting = performance.now();
  const ids = await insertLeadsSql(db, fixture, args.enrollments);
  const insertMs = performance.now() - inserting;
  const { engine } = benchEngine(db, { batchSize: 100 });
  engine.dispatcher.start();
  await sleep(50); // the loop has looked, found nothing, and sleeps
  const dueAt = new Date(Date.now() + leadInMs(args.enrollments, insertMs));
  await enrollSql(db, fixture, ids, dueAt, args.spreadMs);
  if (Date.now() >= dueAt.getTime()) throw new Error(`lag run: inserting ${args.enrollments} enrollments outlasted the lead-in (bench/lib/fixture.ts, leadInMs)`);
  engine.wake(); // as the engine's own enroll() does: the earliest due time changed
  const deadline = Date.now() + args.timeoutMs;
  for (;;) {
    // Anything left to run (one probe of the due index): the poll shares the engine's single
    // PGlite connection, where a count over a large table would take time from the engine.
    const [row] = await db.query<{ left: boolean }>(
      `select exists (select 1 from enrollments where status in ('active', 'waiting') and next_execution_at is not null) as left`,
    );
    if (!row?.left) break;
    if (Date.now() > deadline) throw new Error(`lag run timed out with enrollments still to run`);
    // The figures come from the rows' own timestamps, so a coarse poll costs no accuracy.
    await sleep(args.enrollments >= 10_000 ? 1000 : 100);
  }
  const completed = await countCompleted(db);
  if (completed !== args.enrollments) throw new Error(`lag run: ${completed} of ${args.enrollments} enrollments completed`);
  await engine.dispatcher.stop();
  const lags = await db.query<{ ms: number }>(
    `select extract(epoch from (x.started_at - e.enrolled_at)) * 1000 as ms
     from enrollments e join sequence_executions x on x.enrollment_id = e.id and x.step_id = 'intro'`,
  );
  const [last] = await db.query<{ at: Date }>(`select max(coalesce(completed_at, started_at)) as at from sequence_executions`);
  const drainSeconds = (last!.at.getTime() - dueAt.getTime()) / 1000;
  return {
    enrollments: args.enrollments,
    ratePerSecond: args.spreadMs > 0 ? args.enrollments / (args.spreadMs / 1000) : undefined,
    lagMs: latency(lags.map((r) => Number(r.ms))),
    drainSeconds,
    stepsPerSecond: (args.enrollments * STEPS_PER_ENROLLMENT) / drainSeconds,
  };
}
