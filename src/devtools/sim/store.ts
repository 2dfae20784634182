/**
 * The store every simulated process shares, and the port each process sees it through.
 *
 * One migrated in-memory PGlite per simulator process (opening one costs ~0.5 s, a history far
 * less), emptied between histories with one TRUNCATE: a new relation file per table, so the
 * physical row order a history sees (ties in the due index) never depends on the histories
 * run before it, and a seed replays alone exactly as it ran in a batch.
 *
 * `processDb` wraps the `Db` port for one simulated process. Before and after every statement
 * it asks the scheduler what happens now: nothing, something else runs first (an operator, a
 * webhook, another worker, the clock), or the process dies. A dead process's transaction is
 * rolled back (the throw leaves PGlite's transaction callback), a statement it ran outside one
 * stays committed, and from then on it can touch nothing: every later statement throws.
 */
import type { Db, Queryable } from '../../db/db.ts';
import { openMemoryDatabase } from '../../db/memoryStore.ts';

/** One simulated OS process: an engine (worker) or the API serving operators and webhooks. */
export interface SimProcess {
  readonly name: string;
  readonly role: 'worker' | 'api';
  dead: boolean;
}

/** The process died here; whatever runs on it afterwards fails the same way. */
export class ProcessDied extends Error {
  constructor(readonly process: string) {
    super(`simulated process ${process} died`);
  }
}

export interface Statement {
  process: SimProcess;
  sql: string;
  phase: 'before' | 'after';
  /** Inside a transaction: nothing else may touch the store (PGlite has one connection). */
  inTransaction: boolean;
  rows?: readonly unknown[];
}

/** Decides what happens at a statement boundary; throws ProcessDied to cut the process there. */
export type StatementHook = (statement: Statement) => Promise<void>;

export class SimStore {
  /** Transactions open on any process: interventions wait until none is (one connection). */
  openTransactions = 0;
  statements = 0;

  private constructor(
    readonly db: Db,
    private readonly tables: string[],
  ) {}

  static async open(options: { breakage?: Breakage } = {}): Promise<SimStore> {
    const db = await openMemoryDatabase();
    if (options.breakage === 'no-lease-fence') await removeLeaseFence(db);
    const rows = await db.query<{ name: string }>(
      `select quote_ident(tablename) as name from pg_tables where schemaname = 'public' and tablename <> 'schema_migrations' order by tablename`,
    );
    return new SimStore(db, rows.map((r) => r.name));
  }

  /**
   * Empties every table (migrations' bookkeeping aside) for the next history. DELETE, not
   * TRUNCATE: a TRUNCATE of the thirteen tables costs ~170 ms here, a history ~300 ms. Rows are
   * appended after the dead ones until a vacuum (PGlite has no autovacuum), so a history's rows
   * still sit in the order it wrote them whatever ran before it.
   */
  async reset(): Promise<void> {
    this.openTransactions = 0;
    await this.db.exec(
      `set session_replication_role = replica; ${this.tables.map((t) => `delete from ${t};`).join(' ')} set session_replication_role = origin;`,
    );
  }

  /** The port as one simulated process sees it. */
  processDb(process: SimProcess, hook: StatementHook): Db {
    const store = this;
    const run = async <Row>(q: Queryable, sql: string, params: readonly unknown[] | undefined, inTransaction: boolean): Promise<Row[]> => {
      if (process.dead) throw new ProcessDied(process.name);
      await hook({ process, sql, phase: 'before', inTransaction });
      if (process.dead) throw new ProcessDied(process.name);
      store.statements += 1;
      const rows = await q.query<Row>(sql, params);
      await hook({ process, sql, phase: 'after', inTransaction, rows });
      if (process.dead) throw new ProcessDied(process.name);
      return rows;
    };
    const base = this.db;
    const db: Db = {
      kind: base.kind,
      query: (sql, params) => run(base, sql, params, false),
      transaction: async (fn) => {
        if (process.dead) throw new ProcessDied(process.name);
        store.openTransactions += 1;
        try {
          return await base.transaction(async (tx) => {
            const result = await fn({ query: (sql, params) => run(tx, sql, params, true) });
            // Code that swallowed the death must not commit what the dead connection began.
            if (process.dead) throw new ProcessDied(process.name);
            return result;
          });
        } finally {
          store.openTransactions -= 1;
        }
      },
      exec: (sql) => base.exec(sql),
      withAdvisoryLock: (key, fn) => base.withAdvisoryLock(key, () => fn(db)),
      close: async () => undefined,
    };
    return db;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Deliberately broken engines, to prove the simulator can fail (test/sim/sim.test.ts):
 * - `no-lease-fence`: the engine's intent and step-end statements stop checking that the
 *   worker still holds the enrollment's lease, so a stalled worker whose lease was taken over
 *   writes and moves anyway;
 * - `blind-resend`: after a crash the engine takes an interrupted send for one that never left
 *   and sends it again (its provider lookup always answers "not sent").
 */
export type Breakage = 'no-lease-fence' | 'blind-resend';
export const BREAKAGES: readonly Breakage[] = ['no-lease-fence', 'blind-resend'];

async function removeLeaseFence(db: Db): Promise<void> {
  for (const name of ['engine_write_intents', 'engine_apply_steps']) {
    const [row] = await db.query<{ def: string }>(`select pg_get_functiondef(p.oid) as def from pg_proc p where p.proname = $1`, [name]);
    const broken = row!.def.replaceAll('e.lease_id = i.lease_id', 'true');
    if (broken === row!.def) throw new Error(`${name} has no lease fence to remove`);
    await db.exec(broken);
  }
}
