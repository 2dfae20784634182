/**
 * The simulator's store (docs/SIMULATION.md, "Speed"): one PGlite per simulator process, reused
 * by every history after a reset, spoken to through named prepared statements. A history after
 * a reset must see no row of the one before, and the prepared-statement port must answer as
 * PGlite's own `query` does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import type { PgliteDb } from '../../src/db/pglite.ts';
import { preparedStatementsDb, simulationTables } from '../../src/db/simulation.ts';
import { runHistory } from '../../src/devtools/sim/history.ts';
import { SimStore } from '../../src/devtools/sim/store.ts';

async function rowCounts(store: SimStore): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await simulationTables(store.db)) {
    const [row] = await store.db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    counts[table] = row!.n;
  }
  return counts;
}

describe('the simulator store', () => {
  it('a history after a reset sees no row of the previous one, and runs as on a fresh store', async () => {
    const fresh = await SimStore.open();
    const reused = await SimStore.open();
    try {
      const alone = await runHistory(fresh, { seed: 12, quick: true });
      await runHistory(reused, { seed: 11, quick: true });
      expect(Object.values(await rowCounts(reused)).some((n) => n > 0)).toBe(true);
      await reused.reset();
      expect(Object.entries(await rowCounts(reused)).filter(([, n]) => n > 0)).toEqual([]);
      const after = await runHistory(reused, { seed: 12, quick: true });
      // Only its own rows: one workspace, its own.
      expect(await reused.db.query('select name from workspaces')).toEqual([{ name: 'sim-12' }]);
      expect(after.fingerprint).toBe(alone.fingerprint);
      expect(after.stats).toEqual(alone.stats);
    } finally {
      await fresh.close();
      await reused.close();
    }
  }, 120_000);
});

describe('the prepared-statement port', () => {
  let plain: PgliteDb;
  let prepared: ReturnType<typeof preparedStatementsDb>;

  beforeAll(async () => {
    plain = await openMemoryDatabase();
    prepared = preparedStatementsDb((await openMemoryDatabase()).pglite);
  }, 60_000);
  afterAll(async () => {
    await plain.close();
    await prepared.close();
  });

  it('answers as PGlite query does, for every kind of parameter and column', async () => {
    const sql = `select $1::uuid[] as ids, $2::jsonb as doc, $3::timestamptz as at, $4::int as n, $5::text as nothing,
      $6::boolean as yes, 12::bigint as big, array['a', 'b'] as letters, now() - now() as gap`;
    const params = [['018f2f5e-0000-7000-8000-000000000001'], { steps: [1, 'two', { three: null }] }, new Date('2026-03-29T01:30:00Z'), 7, null, true];
    const expected = await plain.query(sql, params);
    expect(await prepared.query(sql, params)).toEqual(expected);
    // Again, from the prepared statement.
    expect(await prepared.query(sql, params)).toEqual(expected);
    expect(prepared.statementsPrepared()).toBe(1);
  });

  it('keeps a failed statement\'s error code, and the statement after it works', async () => {
    await prepared.exec('create table sim_port_test (id int primary key)');
    await prepared.query('insert into sim_port_test values ($1)', [1]);
    await expect(prepared.query('insert into sim_port_test values ($1)', [1])).rejects.toMatchObject({ code: '23505' });
    expect(await prepared.query('select count(*)::int as n from sim_port_test')).toEqual([{ n: 1 }]);
  });

  it('commits a transaction, rolls one back on a throw, and refuses to commit one an error aborted', async () => {
    await prepared.exec('create table sim_tx_test (id int primary key)');
    await prepared.transaction(async (tx) => {
      await tx.query('insert into sim_tx_test values ($1)', [1]);
    });
    await expect(
      prepared.transaction(async (tx) => {
        await tx.query('insert into sim_tx_test values ($1)', [2]);
        throw new Error('cut');
      }),
    ).rejects.toThrow('cut');
    await expect(
      prepared.transaction(async (tx) => {
        await tx.query('insert into sim_tx_test values ($1)', [3]);
        await tx.query('insert into sim_tx_test values ($1)', [1]).catch(() => undefined);
      }),
    ).rejects.toThrow(/aborted/);
    expect(await prepared.query('select id from sim_tx_test order by id')).toEqual([{ id: 1 }]);
  });

  it('holds a statement outside a transaction until the transaction ends (one connection)', async () => {
    await prepared.exec('create table sim_gate_test (id int)');
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    let finish!: () => void;
    const transaction = prepared.transaction(async (tx) => {
      await tx.query('insert into sim_gate_test values (1)');
      inside();
      await new Promise<void>((resolve) => (finish = resolve));
      throw new Error('rolled back');
    });
    await entered;
    const outside = prepared.query<{ n: number }>('select count(*)::int as n from sim_gate_test');
    finish();
    await expect(transaction).rejects.toThrow('rolled back');
    // Had it run inside the transaction it would have seen the row, and been rolled back with it.
    expect(await outside).toEqual([{ n: 0 }]);
  });
});
