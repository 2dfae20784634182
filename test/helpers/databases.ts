/**
 * The databases integration suites run on: PGlite always; PostgreSQL whenever one answers at
 * TEST_DATABASE_URL (default: the local server). Under CI=true an unreachable PostgreSQL is a
 * failure, not a skip. Each call gets a fresh, migrated database (a new schema on PostgreSQL).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/db/db.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { openDatabase } from '../../src/db/open.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | undefined;

export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

export type DatabaseKind = 'pglite' | 'postgres';

/** The kinds to run on; throws under CI when PostgreSQL cannot be reached. */
export async function databaseKinds(): Promise<DatabaseKind[]> {
  if (await postgresReachable()) return ['pglite', 'postgres'];
  if (process.env.CI === 'true') {
    throw new Error(`PostgreSQL is not reachable at ${TEST_DATABASE_URL}; under CI=true that fails the run.`);
  }
  console.warn(`PostgreSQL is not reachable at ${TEST_DATABASE_URL}; running on PGlite only.`);
  return ['pglite'];
}

/** A connection string whose search_path is a brand-new schema. */
export async function freshSchemaUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

export interface TestDatabase {
  db: Db;
  url?: string;
  close(): Promise<void>;
}

export async function openTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const db = await openMemoryDatabase();
    return { db, close: () => db.close() };
  }
  const { url, drop } = await freshSchemaUrl();
  const db = await openDatabase({ databaseUrl: url, poolSize: 8 });
  return {
    db,
    url,
    close: async () => {
      await db.close();
      await drop();
    },
  };
}
