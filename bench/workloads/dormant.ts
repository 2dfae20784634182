/**
 * C. Dormant scale: many enrollments waiting days ahead plus some due now. Measured in a fresh
 * process on the embedded on-disk store (the default), so RSS is the worker's own: the due
 * ones' step rate, then the idle CPU of the dispatcher loop with only dormant ones left.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Db } from '../../src/db/db.ts';
import { loadMigrations } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open.ts';
import { runChild, startStagedChild, type StagedChild } from '../lib/processes.ts';
import { benchEngine, countExecutions, createFixture, STEPS_PER_ENROLLMENT, type Fixture } from '../lib/fixture.ts';
import { sleep } from '../lib/stats.ts';
import { timed } from './throughput.ts';

/** Enrollments run in each measuring process before the measured ones. */
const WARM_UP = 100;

export interface DormantRun {
  dormant: number;
  due: number;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  stepsPerCpuSecond: number;
  idleCpuPercent: number;
  /** Seconds from the loop's sleep after the drain to the idle window and the RSS reading. */
  settleSeconds: number;
  idleSeconds: number;
  rssMiB: number;
  claimsWhileIdle: number;
}

/** Leads and enrollments straight from generate_series, due `daysAhead` days from now and later. */
export async function insertEnrollmentsSeries(
  db: Db,
  fixture: Fixture,
  args: { count: number; from: number; dueAt: Date; spreadSeconds: number },
): Promise<void> {
  const chunk = 100_000;
  for (let start = args.from; start < args.from + args.count; start += chunk) {
    const end = Math.min(args.from + args.count, start + chunk) - 1;
    await db.query(
      `with l as (
         insert into leads (workspace_id, email, phone, timezone, first_name)
         select $1, 'lead' || g || '@bench.test', '+1' || lpad(g::text, 10, '0'), 'America/New_York', 'Lee' || g
         from generate_series($3::int, $4::int) g
         returning id)
       insert into enrollments (workspace_id, sequence_id, sequence_version, lead_id, status, current_step_id,
         step_seq, step_entered_at, next_execution_at, enrolled_at, updated_at)
       select $1, $2, 1, l.id, 'active', 'intro', 1, $5,
              $5::timestamptz + make_interval(secs => random() * $6::float8), $5, $5
       from l`,
      [fixture.workspaceId, fixture.sequenceId, start, end, args.dueAt, args.spreadSeconds],
    );
  }
}

/**
 * C's two stores: one with only the fixture (the peer: none dormant) and one with `dormant`
 * enrollments due in 3–10 days; answers their data directories. Seeding a million rows takes
 * minutes, so the seeded stores are kept in the temp folder, keyed by size and schema, and
 * reused by later invocations (the runs work on copies; the seed is never measured); seeding
 * for a new schema removes the stores of the others. Both are
 * made in one process: the empty store first, then a copy of it gets the dormant rows.
 */
export async function seedDormantStores(dormant: number): Promise<{ empty: string; dormant: string; seededSeconds: number | null }> {
  const fingerprint = createHash('sha256')
    .update(loadMigrations().map((m) => m.sql).join('\n'))
    .digest('hex')
    .slice(0, 10);
  const dirFor = (n: number) => join(tmpdir(), 'touchpoint-bench-cache', `dormant-${n}-${fingerprint}`);
  const empty = dirFor(0);
  const full = dirFor(dormant);
  const todo = [empty, full].filter((dir) => !existsSync(join(dir, '.complete')));
  if (todo.length === 0) return { empty, dormant: full, seededSeconds: null };
  for (const dir of todo) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(empty), { recursive: true });
  // Stores seeded for an older schema are never read again, and the million-row one is 2 GB.
  for (const name of readdirSync(dirname(empty))) {
    if (name.startsWith('dormant-') && !name.endsWith(`-${fingerprint}`)) rmSync(join(dirname(empty), name), { recursive: true, force: true });
  }
  const { seconds } = await runChild<{ seconds: number }>('dormant-seed', [todo.includes(empty) ? empty : '-', empty, todo.includes(full) ? full : '-', dormant]);
  for (const dir of todo) writeFileSync(join(dir, '.complete'), new Date().toISOString());
  return { empty, dormant: full, seededSeconds: seconds };
}

/** `seedEmpty`/`seedDormant` are '-' when that store is already seeded. */
export async function seedDormantChild(seedEmpty: string, emptyDir: string, seedDormant: string, dormant: number): Promise<{ seconds: number }> {
  const started = performance.now();
  if (seedEmpty !== '-') {
    const db = await openDatabase({ dataDir: emptyDir });
    await createFixture(db);
    await db.query('vacuum analyze');
    await db.close();
  }
  if (seedDormant !== '-' && seedDormant !== emptyDir) {
    cpSync(emptyDir, seedDormant, { recursive: true, filter: (source) => !source.endsWith('.complete') });
    const db = await openDatabase({ dataDir: seedDormant });
    const [row] = await db.query<{ id: string; workspaceId: string }>(
      `select s.id, s.workspace_id as "workspaceId" from sequences s order by created_at limit 1`,
    );
    await insertEnrollmentsSeries(db, { sequenceId: row!.id, workspaceId: row!.workspaceId }, {
      count: dormant,
      from: 1_000_000_000,
      dueAt: new Date(Date.now() + 3 * 86_400_000),
      spreadSeconds: 7 * 86_400,
    });
    await db.query('vacuum analyze');
    await db.close();
  }
  return { seconds: (performance.now() - started) / 1000 };
}

/**
 * One measured run: a fresh process on a copy of each seeded store, the one with the dormant
 * enrollments and the one with none. The two processes start, open their store and warm up
 * together (not measured), then measure one after the other, each alone: the other waits on
 * its stdin, asleep. Starting them together saves one process's start-up and warm-up of wall
 * time (~3 s on an idle machine at `--quick`).
 */
export async function dormantPair(
  seeded: { dormant: string; empty: string },
  args: { dormant: number; due: number; settleSeconds: number; idleSeconds: number },
): Promise<{ withDormant: DormantRun; without: DormantRun }> {
  const dirs: string[] = [];
  const children: StagedChild<DormantRun>[] = [];
  try {
    const start = (seededDir: string, dormant: number) => {
      const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-run-'));
      dirs.push(dir);
      cpSync(seededDir, dir, { recursive: true, filter: (source) => !source.endsWith('.complete') });
      const child = startStagedChild<DormantRun>('dormant-run', [dir, dormant, args.due, args.settleSeconds, args.idleSeconds]);
      children.push(child);
      return child;
    };
    const full = start(seeded.dormant, args.dormant);
    const empty = start(seeded.empty, 0);
    await Promise.all([full.ready, empty.ready]);
    const withDormant = await full.go();
    const without = await empty.go();
    return { withDormant, without };
  } finally {
    for (const child of children) child.kill();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * C's measured run in this fresh process: a warm-up (not measured), then `ready()` (the parent
 * answers when it is this process's turn to measure alone), then the due ones' drain, the
 * settle, the idle window and the RSS reading.
 */
export async function dormantRunChild(
  dir: string,
  dormant: number,
  due: number,
  settleSeconds: number,
  idleSeconds: number,
  ready: () => Promise<void> = async () => undefined,
): Promise<DormantRun> {
  const db = await openDatabase({ dataDir: dir });
  const [row] = await db.query<{ id: string; workspaceId: string }>(
    `select s.id, s.workspace_id as "workspaceId" from sequences s order by created_at limit 1`,
  );
  const fixture: Fixture = { sequenceId: row!.id, workspaceId: row!.workspaceId };
  const { engine } = benchEngine(db, { batchSize: 100 });
  // Warm-up in this process (JIT, the store's hot pages), not measured.
  await insertEnrollmentsSeries(db, fixture, { count: WARM_UP, from: 0, dueAt: new Date(Date.now() - 1000), spreadSeconds: 0 });
  await engine.dispatcher.drain();
  const before = await countExecutions(db);
  await ready();

  await insertEnrollmentsSeries(db, fixture, { count: due, from: WARM_UP, dueAt: new Date(Date.now() - 1000), spreadSeconds: 0 });
  const { seconds, cpuSeconds } = await timed(() => engine.dispatcher.drain());
  const steps = (await countExecutions(db)) - before;
  if (steps !== due * STEPS_PER_ENROLLMENT) throw new Error(`dormant run: expected ${due * STEPS_PER_ENROLLMENT} executions, found ${steps}`);

  // Idle: the started loop with only dormant enrollments (due days from now) — it should sleep.
  const claimedBefore = engine.dispatcher.claimsTaken;
  engine.dispatcher.start();
  // Settle first: idle means the loop asleep, and after a large drain V8's memory reducer
  // runs its full collections some seconds after the allocations stop. Sampled second by
  // second after a drain of 10,000: 0.06–0.1 % of a core throughout, except 3–4 % for two
  // seconds at ~25 s, when RSS fell from 325 to 270 MiB; a 5 s window from 12 s caught that
  // collection in some runs and not in others (0.01–1.7 %). The full run's 35 s is past it;
  // `--quick` waits 1 s, and its RSS is then reported but not judged (bench/lib/plan.ts, rssJudged).
  const settleBy = Date.now() + 600_000;
  while (!engine.dispatcher.asleep && Date.now() < settleBy) await sleep(50);
  await sleep(settleSeconds * 1000);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await sleep(idleSeconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - wall0) / 1000;
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  await engine.dispatcher.stop();
  await db.close();
  return {
    dormant,
    due,
    steps,
    seconds,
    stepsPerSecond: steps / seconds,
    stepsPerCpuSecond: steps / cpuSeconds,
    idleCpuPercent: ((cpu.user + cpu.system) / 1e6 / wall) * 100,
    settleSeconds,
    idleSeconds: wall,
    rssMiB,
    claimsWhileIdle: engine.dispatcher.claimsTaken - claimedBefore,
  };
}
