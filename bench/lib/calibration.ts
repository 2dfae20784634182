/**
 * How fast this machine is at the two things the embedded figures are made of: JavaScript and
 * Postgres inside PGlite's WASM. The same host has measured 2.4× apart between sessions (a
 * shared machine, another CPU under the same name), and every embedded figure moved with it
 * while the ratios to peers did not. Two fixed pieces of work, timed here, let a reader scale
 * a figure from another machine before comparing it with an absolute target.
 */
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { summarize } from './stats.ts';

export interface Calibration {
  /** Milliseconds for a fixed piece of JavaScript (objects, strings, JSON), median of 3. */
  javascriptMs: number;
  /** Milliseconds for 2,000 parameterised round trips and 20,000 inserted rows on in-memory PGlite, median of 3. */
  pgliteMs: number;
}

export async function calibrate(): Promise<Calibration> {
  const javascript = [javascriptWork(), javascriptWork(), javascriptWork()];
  const db = await openMemoryDatabase();
  try {
    await db.query('create table calibration (id int primary key, name text not null, at timestamptz not null)');
    await pgliteWork(db); // warm-up: plans, JIT of PGlite's glue
    const pglite: number[] = [];
    for (let i = 0; i < 3; i++) pglite.push(await pgliteWork(db));
    return { javascriptMs: median(javascript), pgliteMs: median(pglite) };
  } finally {
    await db.close();
  }
}

function javascriptWork(): number {
  const started = performance.now();
  let checksum = 0;
  for (let i = 0; i < 200_000; i++) {
    const row = { id: i, email: `lead${i}@example.test`, tags: ['a', 'b', String(i % 7)], at: i * 1000 };
    checksum += JSON.parse(JSON.stringify(row)).email.length;
  }
  if (checksum === 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return performance.now() - started;
}

async function pgliteWork(db: Awaited<ReturnType<typeof openMemoryDatabase>>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < 2000; i++) await db.query('select $1::int + 1 as n', [i]);
  await db.query(`insert into calibration select g, 'row ' || g, now() from generate_series(1, 20000) g`);
  await db.query('truncate calibration');
  return performance.now() - started;
}

function median(values: number[]): number {
  return Math.round(summarize(values).median);
}
