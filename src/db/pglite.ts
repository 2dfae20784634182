import { mkdirSync } from 'node:fs';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import type { Db, Queryable } from './db.ts';

/** A compiled pglite.wasm (a `WebAssembly.Module`; the project's type libraries don't name it). */
export type PgliteWasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;

export interface OpenPgliteOptions {
  /** A data directory dumped by `dumpDataDir('none')` to start from instead of running initdb. */
  loadDataDir?: Blob;
  /** PGlite's WebAssembly, compiled once and shared by every store of a process. */
  wasmModule?: PgliteWasmModule;
}

export interface PgliteDb extends Db {
  /** The whole data directory as one uncompressed tarball (a template for `loadDataDir`). */
  dumpDataDir(): Promise<Blob>;
  /** The PGlite underneath (the simulator speaks its wire protocol directly: src/db/simulation.ts). */
  readonly pglite: PGlite;
}

/**
 * The embedded default: real Postgres compiled to WASM, one connection, data in `dataDir`
 * (in memory when `dataDir` is undefined, which tests use).
 */
export async function openPglite(dataDir?: string, options: OpenPgliteOptions = {}): Promise<PgliteDb> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // PGlite's default 128 MB of shared buffers live inside the WASM heap, so they count in full
  // towards the process's memory; data files still sit in the OS page cache. 16 MB keeps a
  // worker near 280 MB RSS instead of 500 (docs/BENCHMARKS.md, workload C).
  const pgliteOptions = {
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    ...(options.wasmModule ? { pgliteWasmModule: options.wasmModule } : {}),
  };
  const pg = dataDir ? new PGlite(dataDir, pgliteOptions) : new PGlite(pgliteOptions);
  await pg.waitReady;
  const run = async <Row>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]) =>
    (await q.query<Row>(sql, params as unknown[] | undefined)).rows;
  const db: PgliteDb = {
    kind: 'pglite',
    query: (sql, params) => run(pg, sql, params),
    transaction: (fn) =>
      pg.transaction((tx) => fn({ query: (sql, params) => run(tx, sql, params) } satisfies Queryable)),
    exec: async (sql) => {
      await pg.exec(sql);
    },
    // One connection: the lock is trivially held by us; take it anyway so the SQL is the same.
    withAdvisoryLock: async (key, fn) => {
      await pg.query('select pg_advisory_lock($1)', [key]);
      try {
        return await fn(db);
      } finally {
        await pg.query('select pg_advisory_unlock($1)', [key]);
      }
    },
    dumpDataDir: async () => (await pg.dumpDataDir('none')) as Blob,
    pglite: pg,
    close: () => pg.close(),
  };
  return db;
}
