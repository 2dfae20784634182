/** Fresh databases for one run: an in-memory PGlite, or a new schema on the PostgreSQL server. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Db } from '../../src/db/db.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { openDatabase } from '../../src/db/open.ts';

export const POSTGRES_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface BenchDatabase {
  db: Db;
  /** Connection string with the schema on its search_path (PostgreSQL only). */
  url?: string;
  schema?: string;
  close(): Promise<void>;
}

export async function openPgliteBench(): Promise<BenchDatabase> {
  const db = await openMemoryDatabase();
  return { db, close: () => db.close() };
}

/**
 * A fresh PGlite store on disk (the embedded default of `npm start`), in a temporary directory
 * that `close` removes. For the runs too big for memory: an in-memory store keeps every data
 * and WAL file in the process (H at a million enrollments passed 10 GiB before its first zone).
 */
export async function openPgliteOnDisk(): Promise<BenchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-store-'));
  const db = await openDatabase({ dataDir: dir });
  return {
    db,
    close: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A brand-new schema; `close` drops it. */
export async function freshSchema(prefix = 'bench'): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  await adminQuery(`create schema ${schema}`);
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), schema, drop: () => adminQuery(`drop schema if exists ${schema} cascade`) };
}

export async function openPostgresBench(poolSize = 10): Promise<BenchDatabase> {
  const { url, schema, drop } = await freshSchema();
  const db = await openDatabase({ databaseUrl: url, poolSize });
  return {
    db,
    url,
    schema,
    close: async () => {
      await db.close();
      await drop();
    },
  };
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
