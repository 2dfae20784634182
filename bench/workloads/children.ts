/** The engine as a worker process: Touchpoint's inline dispatcher on PostgreSQL (see bench/child.ts). */
import type { Db } from '../../src/db/db.ts';
import { openDatabase } from '../../src/db/open.ts';
import { benchEngine } from '../lib/fixture.ts';
import type { ChildRun } from '../lib/processes.ts';

/** This process's connection pool, kept across runs (one schema per workload). */
let open: { url: string; poolSize: number; db: Db } | null = null;

export async function keptDatabase(url: string, poolSize?: number): Promise<Db> {
  if (open && open.url === url && open.poolSize === (poolSize ?? 0)) return open.db;
  await open?.db.close();
  const db = await openDatabase({ databaseUrl: url, poolSize, migrate: false });
  open = { url, poolSize: poolSize ?? 0, db };
  return db;
}

export async function closeKeptDatabase(): Promise<void> {
  await open?.db.close();
  open = null;
}

/** One run: a new engine on the kept pool; its dispatcher starts at `go`. */
export async function prepareEngineChild(url: string, concurrency: number): Promise<ChildRun> {
  const db = await keptDatabase(url, concurrency + 2);
  // Across processes nothing wakes a sleeping dispatcher; a short idle cap stands in for it.
  const { engine } = benchEngine(db, { batchSize: 100, maxIdleMs: 50 });
  return {
    start: () => engine.dispatcher.start(),
    stop: () => engine.dispatcher.stop(),
  };
}

export const closeEngineChild = closeKeptDatabase;
