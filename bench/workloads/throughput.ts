/**
 * A. Throughput: N leads × the 3-step sequence, all due now; step executions per second
 * until every enrollment has completed. The engine's in-process dispatcher (`drain()`), on
 * PGlite (the embedded default) or on the PostgreSQL server.
 */
import type { Db } from '../../src/db/db.ts';
import { benchEngine, countExecutions, createFixture, enrollSql, insertLeadsSql, STEPS_PER_ENROLLMENT } from '../lib/fixture.ts';

export interface ThroughputRun {
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  /**
   * Steps per second of this process's CPU time (user + system), embedded runs only. The
   * embedded engine is one thread, so on an idle machine this is what wall time would give;
   * on a shared machine it is the figure other processes cannot steal.
   */
  stepsPerCpuSecond?: number;
}

/** Times `fn` in wall and process CPU seconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const value = await fn();
  const cpu = process.cpuUsage(cpu0);
  return { value, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

export async function seedDueNow(db: Db, leads: number): Promise<void> {
  const fixture = await createFixture(db);
  const ids = await insertLeadsSql(db, fixture, leads);
  await enrollSql(db, fixture, ids, new Date(Date.now() - 1000));
}

/** Runs the engine's dispatcher on a seeded database until nothing is due. */
export async function engineThroughput(db: Db, leads: number, options: { batchSize?: number } = {}): Promise<ThroughputRun> {
  await seedDueNow(db, leads);
  const { engine } = benchEngine(db, { batchSize: options.batchSize ?? 100 });
  const { seconds, cpuSeconds } = await timed(() => engine.dispatcher.drain());
  const steps = await countExecutions(db);
  if (steps !== leads * STEPS_PER_ENROLLMENT) throw new Error(`expected ${leads * STEPS_PER_ENROLLMENT} executions, found ${steps}`);
  return { steps, seconds, stepsPerSecond: steps / seconds, stepsPerCpuSecond: steps / cpuSeconds };
}
