import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable } from './db.ts';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
const FUNCTIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'functions');
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

/** A database function whose live text is one file of `functions/` (docs/ENGINE.md, "Database functions"). */
export interface DatabaseFunction {
  name: string;
  sql: string;
  hash: string;
}

export function loadFunctions(dir = FUNCTIONS_DIR): DatabaseFunction[] {
  return readdirSync(dir)
    .filter((file) => /^[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return { name: file.slice(0, -4), sql, hash: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies the numbered migrations not yet applied, each in its own transaction, then the
 * database functions, all under an advisory lock so that several processes starting at once
 * apply each exactly once. Returns the versions it applied.
 *
 * Functions come after the migrations because their text is written for the latest schema:
 * they are applied only once the store has every migration of `migrations/` (a store kept at
 * an older version on purpose, as a test of an upgrade does, keeps the text its migrations
 * gave it), and then each whose file changed since it was last applied — or every one, when a
 * migration ran just now (a migration may have dropped or re-created one).
 */
export async function migrate(db: Db, migrations = loadMigrations(), functions = loadFunctions()): Promise<number[]> {
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
      done.add(migration.version);
    }
    if (loadMigrations().every((m) => done.has(m.version))) await applyFunctions(db, conn, functions, applied.length > 0);
    return applied;
  });
}

/** The function files not yet applied in their present text (`all`: every one), in one transaction. */
async function applyFunctions(db: Db, conn: Queryable, functions: DatabaseFunction[], all: boolean): Promise<void> {
  await conn.query(`create table if not exists schema_functions (
    name text primary key, hash text not null, applied_at timestamptz not null default now())`);
  const live = new Map(
    (await conn.query<{ name: string; hash: string }>('select name, hash from schema_functions')).map((r) => [r.name, r.hash]),
  );
  const stale = functions.filter((f) => all || live.get(f.name) !== f.hash);
  if (stale.length === 0) return;
  await conn.query('begin');
  try {
    for (const f of stale) {
      await runScript(db, conn, f.sql);
      await conn.query(
        `insert into schema_functions (name, hash) values ($1, $2)
         on conflict (name) do update set hash = excluded.hash, applied_at = now()`,
        [f.name, f.hash],
      );
    }
    await conn.query('commit');
  } catch (error) {
    await conn.query('rollback');
    throw new Error(`Database function ${stale.map((f) => f.name).join(', ')} failed: ${(error as Error).message}`);
  }
}

async function runScript(db: Db, conn: { query: Db['query'] }, sql: string): Promise<void> {
  // PGlite's `query` takes one statement; its `exec` takes a script on the same connection.
  if (db.kind === 'pglite') await db.exec(sql);
  else await conn.query(sql);
}
