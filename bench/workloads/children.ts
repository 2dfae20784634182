/** The engine as a worker process: Touchpoint's inline dispatcher on PostgreSQL (see bench/child.ts). */
import { openDatabase } from '../../src/db/open.ts';
import { benchEngine } from '../lib/fixture.ts';

export async function runEngineChild(url: string, concurrency: number, go: () => Promise<void>): Promise<() => Promise<void>> {
  const db = await openDatabase({ databaseUrl: url, poolSize: concurrency + 2, migrate: false });
  // Across processes nothing wakes a sleeping dispatcher; a short idle cap stands in for it.
  const { engine } = benchEngine(db, { batchSize: 100, maxIdleMs: 50 });
  process.stdout.write('ready\n');
  await go();
  engine.dispatcher.start();
  return async () => {
    await engine.dispatcher.stop();
    await db.close();
  };
}
