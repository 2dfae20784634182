/**
 * F. Fairness across workspaces (issue 21): workspace A has N enrollments (× 3 steps) due at one
 * instant; workspace B, in the same second, 10 due, then 5 per second for as long as A's solo
 * drain lasted. Measured: B's lag (its first step's start − its due time) and A's drain rate,
 * against A draining alone in the same invocation. Embedded: the dispatcher loop on the real
 * clock, as in B.
 */
import type { Db } from '../../src/db/db.ts';
import { latency, sleep, type Latency } from '../lib/stats.ts';
import { benchEngine, createFixture, enrollSql, insertLeadsSql, STEPS_PER_ENROLLMENT, type Fixture } from '../lib/fixture.ts';

export interface FairnessRun {
  /** A's steps per second, from the due instant to its last step. */
  aStepsPerSecond: number;
  aDrainSeconds: number;
  /** B's lag (absent in a solo run). */
  bLagMs?: Latency;
  bEnrollments?: number;
}

/** B: 10 due at the instant, then this many per second. */
const B_FIRST = 10;
const B_PER_SECOND = 5;

export async function fairnessRun(db: Db, args: { a: number; bSeconds: number | null; timeoutMs: number }): Promise<FairnessRun> {
  const a = await createFixture(db, 'workspace-a');
  const aLeads = await insertLeadsSql(db, a, args.a);
  let b: { fixture: Fixture; leads: string[] } | undefined;
  const bCount = args.bSeconds === null ? 0 : B_FIRST + Math.ceil(args.bSeconds * B_PER_SECOND);
  if (bCount > 0) {
    const fixture = await createFixture(db, 'workspace-b');
    b = { fixture, leads: await insertLeadsSql(db, fixture, bCount, 10_000_000) };
  }
  const { engine } = benchEngine(db, { batchSize: 100 });
  engine.dispatcher.start();
  await sleep(50);
  const dueAt = new Date(Date.now() + 300 + Math.ceil(args.a / 4));
  await enrollSql(db, a, aLeads, dueAt);
  if (b) {
    await enrollSql(db, b.fixture, b.leads.slice(0, B_FIRST), dueAt);
    const rest = b.leads.slice(B_FIRST);
    // 5 per second from the next fifth of a second on: the i-th of them at dueAt + (i + 1) / 5 s.
    await enrollSql(db, b.fixture, rest, new Date(dueAt.getTime() + 1000 / B_PER_SECOND), (rest.length * 1000) / B_PER_SECOND);
  }
  if (Date.now() >= dueAt.getTime()) throw new Error('fairness run: the inserts outlasted the lead-in');
  engine.wake();
  const deadline = Date.now() + args.timeoutMs;
  for (;;) {
    const [row] = await db.query<{ left: boolean }>(
      `select exists (select 1 from enrollments where status in ('active', 'waiting') and next_execution_at is not null) as left`,
    );
    if (!row?.left) break;
    if (Date.now() > deadline) throw new Error('fairness run timed out');
    await sleep(args.a >= 10_000 ? 500 : 50);
  }
  await engine.dispatcher.stop();
  const [last] = await db.query<{ at: Date }>(
    `select max(coalesce(x.completed_at, x.started_at)) as at from sequence_executions x
     join enrollments e on e.id = x.enrollment_id where e.workspace_id = $1`,
    [a.workspaceId],
  );
  const aDrainSeconds = (last!.at.getTime() - dueAt.getTime()) / 1000;
  const run: FairnessRun = { aDrainSeconds, aStepsPerSecond: (args.a * STEPS_PER_ENROLLMENT) / aDrainSeconds };
  if (b) {
    const lags = await db.query<{ ms: number }>(
      `select extract(epoch from (x.started_at - e.enrolled_at)) * 1000 as ms
       from enrollments e join sequence_executions x on x.enrollment_id = e.id and x.step_id = 'intro'
       where e.workspace_id = $1`,
      [b.fixture.workspaceId],
    );
    if (lags.length !== bCount) throw new Error(`fairness run: ${lags.length} of B's ${bCount} enrollments ran`);
    run.bLagMs = latency(lags.map((r) => Number(r.ms)));
    run.bEnrollments = bCount;
  }
  return run;
}
