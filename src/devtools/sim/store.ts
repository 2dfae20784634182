/**
 * The store every simulated process shares, and the port each process sees it through.
 *
 * One migrated in-memory PGlite per simulator process (opening one costs ~0.5 s, a history far
 * less), its tables UNLOGGED (a throwaway store needs no WAL), emptied between histories
 * (`emptyTables`), so a seed replays alone exactly as it ran in a batch. All its SQL lives in
 * src/db/simulation.ts.
 *
 * `processDb` wraps the `Db` port for one simulated process. Before and after every statement
 * it asks the scheduler what happens now: nothing, something else runs first (an operator, a
 * webhook, another worker, the clock), or the process dies. A dead process's transaction is
 * rolled back (the throw leaves PGlite's transaction callback), a statement it ran outside one
 * stays committed, and from then on it can touch nothing: every later statement throws.
 */
import type { Db } from '../../db/db.ts';
import { openMemoryDatabase } from '../../db/memoryStore.ts';
import { emptyTables, functionDefinition, makeTablesUnlogged, observedDb, preparedStatementsDb, replaceFunction, simulationTables, tuneForSimulation, vacuumTables } from '../../db/simulation.ts';

/** Histories between two vacuums of the store (see `reset`). */
const VACUUM_EVERY = 25;

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
  private resets = 0;

  private constructor(
    readonly db: Db,
    private readonly tables: string[],
  ) {}

  static async open(options: { breakage?: Breakage } = {}): Promise<SimStore> {
    const db = preparedStatementsDb((await openMemoryDatabase()).pglite);
    await tuneForSimulation(db);
    if (options.breakage === 'no-lease-fence') await removeLeaseFence(db);
    const tables = await simulationTables(db);
    await makeTablesUnlogged(db, tables);
    return new SimStore(db, tables);
  }

  /**
   * Empties every table for the next history (`emptyTables`: rows keep the order a history
   * writes them), and every `VACUUM_EVERY` histories reclaims the dead rows: an emptied,
   * vacuumed table is as a fresh one, so a history sees its rows in the same order either way.
   */
  async reset(): Promise<void> {
    this.openTransactions = 0;
    await emptyTables(this.db, this.tables);
    if (++this.resets % VACUUM_EVERY === 0) await vacuumTables(this.db, this.tables);
  }

  /** The port as one simulated process sees it. */
  processDb(process: SimProcess, hook: StatementHook): Db {
    const alive = () => {
      if (process.dead) throw new ProcessDied(process.name);
    };
    return observedDb(this.db, {
      alive,
      before: async (sql, inTransaction) => {
        await hook({ process, sql, phase: 'before', inTransaction });
        alive();
        this.statements += 1; // the commit-order counter the invariants compare (docs/SIMULATION.md)
      },
      after: (sql, inTransaction, rows) => hook({ process, sql, phase: 'after', inTransaction, rows }),
      transactionOpened: () => (this.openTransactions += 1),
      transactionClosed: () => (this.openTransactions -= 1),
    });
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
    const definition = await functionDefinition(db, name);
    const broken = definition.replaceAll('e.lease_id = i.lease_id', 'true');
    if (broken === definition) throw new Error(`${name} has no lease fence to remove`);
    await replaceFunction(db, broken);
  }
}
