/**
 * Each database function's live text is one file of `src/db/functions/`, applied after the
 * migrations (docs/ENGINE.md, "Database functions"): a migrated store runs exactly that text,
 * a changed file is applied again (and only it), and a store kept at an older migration on
 * purpose keeps what its migrations gave it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { loadFunctions, loadMigrations, migrate } from '../../src/db/migrate.ts';
import { openPglite } from '../../src/db/pglite.ts';

/** The body between the dollar quotes, as Postgres keeps it in `prosrc`. */
const bodyOf = (sql: string) => sql.slice(sql.indexOf('$$') + 2, sql.lastIndexOf('$$'));

describe('database functions, one file each', () => {
  let db: Db;

  beforeAll(async () => {
    db = await openMemoryDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  const liveBody = async (name: string) =>
    (await db.query<{ src: string }>('select prosrc as src from pg_proc where proname = $1', [name])).map((r) => r.src);

  it('a migrated store runs the text of every function file, and records which', async () => {
    const functions = loadFunctions();
    expect(functions.map((f) => f.name)).toContain('engine_apply_steps');
    for (const f of functions) expect(await liveBody(f.name), f.name).toEqual([bodyOf(f.sql)]);
    const recorded = await db.query<{ name: string; hash: string }>('select name, hash from schema_functions order by name');
    expect(recorded).toEqual(functions.map((f) => ({ name: f.name, hash: f.hash })));
  });

  it('applies a changed file again, and only that one', async () => {
    const functions = loadFunctions();
    const changed = functions.map((f) =>
      f.name === 'engine_claim_due' ? { ...f, sql: f.sql.replace('begin\n', 'begin\n  -- changed\n'), hash: `${f.hash}-changed` } : f,
    );
    const before = await db.query<{ name: string; at: Date }>('select name, applied_at as at from schema_functions order by name');
    expect(await migrate(db, undefined, changed)).toEqual([]);
    expect((await liveBody('engine_claim_due'))[0]).toContain('-- changed');
    const after = await db.query<{ name: string; at: Date }>('select name, applied_at as at from schema_functions order by name');
    for (const row of after) {
      const was = before.find((b) => b.name === row.name)!;
      if (row.name === 'engine_claim_due') expect(row.at.getTime()).toBeGreaterThanOrEqual(was.at.getTime());
      else expect(row.at).toEqual(was.at);
    }
    await migrate(db);
    expect(await liveBody('engine_claim_due')).toEqual([bodyOf(functions.find((f) => f.name === 'engine_claim_due')!.sql)]);
  });

  it('leaves a store kept at an older migration with the text its migrations gave it', async () => {
    const old = await openPglite();
    try {
      await migrate(old, loadMigrations().filter((m) => m.version < 8));
      const [table] = await old.query<{ t: string | null }>(`select to_regclass('schema_functions')::text as t`);
      expect(table?.t).toBeNull();
      const [history] = await old.query<{ n: number }>(`select count(*)::int as n from pg_proc where proname = 'lead_status_from_history'`);
      expect(history?.n).toBe(0);
      await migrate(old);
      const [applied] = await old.query<{ n: number }>('select count(*)::int as n from schema_functions');
      expect(applied?.n).toBe(loadFunctions().length);
    } finally {
      await old.close();
    }
  });
});
