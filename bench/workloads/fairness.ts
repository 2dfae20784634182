/**
 * F. Fairness across workspaces (issue 21): workspace A has N enrollments (× 3 steps) due at one
 * instant; workspace B, in the same second, 10 due, then 5 per second for as long as A's solo
 * drain lasted. Measured: B's lag (its first step's start − its due time) and A's drain rate,
 * against A draining alone in the same invocation. Embedded: the dispatcher loop on the real
 * clock, as in B. Distributed: PostgreSQL + BullMQ, the worker processes of A distributed
 * (bench/workloads/distributed.ts), their leader started before the due instant.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/db.ts';
import { latency, sleep, type Latency } from '../lib/stats.ts';
import { openPostgresBench, REDIS_URL } from '../lib/databases.ts';
import { benchEngine, createFixture, enrollSql, insertLeadsSql, leadInMs, STEPS_PER_ENROLLMENT, type Fixture } from '../lib/fixture.ts';
import type { Workers } from '../lib/processes.ts';
import { resetStore } from '../lib/reset.ts';
import { deleteKeys, DISTRIBUTED_CONCURRENCY } from './distributed.ts';

export interface FairnessRun {
  /** A's steps per second, from the due instant to its last step. */
  aStepsPerSecond: number;
  aDrainSeconds: number;
  /** B's lag (absent in a solo run). */
  bLagMs?: Latency;
  bEnrollments?: number;
}

export interface FairnessArgs {
  a: number;
  /** B's trickle lasts this long (A's solo drain); null: A alone. */
  bSeconds: number | null;
  timeoutMs: number;
}

/** B: 10 due at the instant, then this many per second. */
const B_FIRST = 10;
const B_PER_SECOND = 5;

/** What runs the engine for one run: made ready before the seeding, started after it. */
interface Runner {
  ready(): Promise<void>;
  go(): void | Promise<void>;
  stop(): Promise<void>;
  /** Throws if the engine died (worker processes). */
  check?(): void;
}

/** Embedded: the inline dispatcher loop in this process. */
export async function fairnessRun(db: Db, args: FairnessArgs): Promise<FairnessRun> {
  const { engine } = benchEngine(db, { batchSize: 100 });
  return fairness(db, args, {
    ready: async () => {
      engine.dispatcher.start();
      await sleep(50);
    },
    go: () => engine.wake(),
    stop: () => engine.dispatcher.stop(),
  });
}

/**
 * Distributed: one schema for the workload (truncated before each run), a new Redis prefix per
 * run; the worker processes are prepared before the seeding and started after it, so the leader
 * is elected and asleep until the due instant when it comes.
 */
export async function distributedFairnessSession(workers: Workers): Promise<{ run(args: FairnessArgs): Promise<FairnessRun>; close(): Promise<void> }> {
  const store = await openPostgresBench(4);
  const runWith = async (args: FairnessArgs) => {
    const prefix = `bench-${randomBytes(4).toString('hex')}`;
    try {
      await resetStore(store.db);
      return await fairness(store.db, args, {
        ready: () => workers.prepare([store.url!, REDIS_URL, prefix, DISTRIBUTED_CONCURRENCY]),
        go: () => workers.go(),
        stop: () => workers.stop(),
        check: () => workers.check(),
      });
    } finally {
      await deleteKeys(`${prefix}*`);
    }
  };
  return { run: runWith, close: () => store.close() };
}

async function fairness(db: Db, args: FairnessArgs, runner: Runner): Promise<FairnessRun> {
  const a = await createFixture(db, 'workspace-a');
  const inserting = performance.now();
  const aLeads = await insertLeadsSql(db, a, args.a);
  const insertMs = performance.now() - inserting;
  let b: { fixture: Fixture; leads: string[] } | undefined;
  const bCount = args.bSeconds === null ? 0 : B_FIRST + Math.ceil(args.bSeconds * B_PER_SECOND);
  if (bCount > 0) {
    const fixture = await createFixture(db, 'workspace-b');
    b = { fixture, leads: await insertLeadsSql(db, fixture, bCount, 10_000_000) };
  }
  await runner.ready();
  let stopped = false;
  try {
    const dueAt = new Date(Date.now() + leadInMs(args.a, insertMs));
    await enrollSql(db, a, aLeads, dueAt);
    if (b) {
      await enrollSql(db, b.fixture, b.leads.slice(0, B_FIRST), dueAt);
      const rest = b.leads.slice(B_FIRST);
      // 5 per second from the next fifth of a second on: the i-th of them at dueAt + (i + 1) / 5 s.
      await enrollSql(db, b.fixture, rest, new Date(dueAt.getTime() + 1000 / B_PER_SECOND), (rest.length * 1000) / B_PER_SECOND);
    }
    if (Date.now() >= dueAt.getTime()) throw new Error('fairness run: the inserts outlasted the lead-in');
    await runner.go();
    const deadline = Date.now() + args.timeoutMs;
    for (;;) {
      runner.check?.();
      const [row] = await db.query<{ left: boolean }>(
        `select exists (select 1 from enrollments where status in ('active', 'waiting') and next_execution_at is not null) as left`,
      );
      if (!row?.left) break;
      if (Date.now() > deadline) throw new Error('fairness run timed out');
      await sleep(args.a >= 10_000 ? 500 : 50);
    }
    stopped = true;
    await runner.stop();
    return await measured(db, { a, b, bCount, dueAt, enrollments: args.a });
  } finally {
    if (!stopped) await runner.stop().catch(() => undefined);
  }
}

async function measured(
  db: Db,
  run: { a: Fixture; b?: { fixture: Fixture }; bCount: number; dueAt: Date; enrollments: number },
): Promise<FairnessRun> {
  const [last] = await db.query<{ at: Date }>(
    `select max(coalesce(x.completed_at, x.started_at)) as at from sequence_executions x
     join enrollments e on e.id = x.enrollment_id where e.workspace_id = $1`,
    [run.a.workspaceId],
  );
  const aDrainSeconds = (last!.at.getTime() - run.dueAt.getTime()) / 1000;
  const result: FairnessRun = { aDrainSeconds, aStepsPerSecond: (run.enrollments * STEPS_PER_ENROLLMENT) / aDrainSeconds };
  if (run.b) {
    const lags = await db.query<{ ms: number }>(
      `select extract(epoch from (x.started_at - e.enrolled_at)) * 1000 as ms
       from enrollments e join sequence_executions x on x.enrollment_id = e.id and x.step_id = 'intro'
       where e.workspace_id = $1`,
      [run.b.fixture.workspaceId],
    );
    if (lags.length !== run.bCount) throw new Error(`fairness run: ${lags.length} of B's ${run.bCount} enrollments ran`);
    result.bLagMs = latency(lags.map((r) => Number(r.ms)));
    result.bEnrollments = run.bCount;
  }
  return result;
}
