import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
/** Any fixed number works; it only has to be the same in every process of one deployment. */
const MIGRATION_LOCK_KEY = 7_020_417;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number.parseInt(file.slice(0, 3), 10),
      name: file.slice(4, -4),
      sql: readFileSync(join(dir, file), 'utf8'),
    }));
  // Versions are recorded by number: two files with one number would silently skip one.
  const seen = new Map<number, string>();
  for (const m of migrations) {
    const other = seen.get(m.version);
    if (other) throw new Error(`Migrations ${other} and ${m.name} share the number ${m.version}; renumber one.`);
    seen.set(m.version, m.name);
  }
  return migrations;
}

/**
 * Applies the numbered migrations not yet applied, each in its own transaction, under an
 * advisory lock so that several processes starting at once apply each exactly once.
 * Returns the versions it applied.
 */
export async function migrate(db: Db, migrations = loadMigrations()): Promise<number[]> {
  return db.withAdvisoryLock(MIGRATION_LOCK_KEY, async (conn) => {
    await conn.query(`create table if not exists schema_migrations (
      version int primary key, name text not null, applied_at timestamptz not null default now())`);
    const done = new Set(
      (await conn.query<{ version: number }>('select version from schema_migrations')).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await conn.query('begin');
      try {
        await runScript(db, conn, migration.sql);
        await conn.query('insert into schema_migrations (version, name) values ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await conn.query('commit');
      } catch (error) {
        await conn.query('rollback');
        throw new Error(`Migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`);
      }
      applied.push(migration.version);
    }
    return applied;
  });
}

async function runScript(db: Db, conn: { query: Db['query'] }, sql: string): Promise<void> {
  // PGlite's `query` takes one statement; its `exec` takes a script on the same connection.
  if (db.kind === 'pglite') await db.exec(sql);
  else await conn.query(sql);
}
