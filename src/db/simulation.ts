/**
 * The SQL of the deterministic simulator (src/devtools/sim, docs/SIMULATION.md): its throwaway
 * store's set-up and reset, the port wrapper through which it watches (and cuts) every
 * statement, the questions its scheduler asks, and the reads of its final checks. Nothing here
 * runs in production.
 */
import type { Db, Queryable } from './db.ts';

/**
 * Sees every statement one simulated process runs. `before`/`after` may throw to cut the
 * process there (the statement then never runs, or its result is never seen); `alive` throws
 * when the process is dead, before a transaction begins and before one commits, so a
 * transaction whose code swallowed the death is rolled back as a dying connection's would be.
 */
export interface StatementObserver {
  alive(): void;
  before(sql: string, inTransaction: boolean): Promise<void>;
  after(sql: string, inTransaction: boolean, rows: readonly unknown[]): Promise<void>;
  transactionOpened(): void;
  transactionClosed(): void;
}

/** `base` as one simulated process sees it: every statement passes `observer`. */
export function observedDb(base: Db, observer: StatementObserver): Db {
  const run = async <Row>(q: Queryable, sql: string, params: readonly unknown[] | undefined, inTransaction: boolean): Promise<Row[]> => {
    observer.alive();
    await observer.before(sql, inTransaction);
    observer.alive();
    const rows = await q.query<Row>(sql, params);
    await observer.after(sql, inTransaction, rows);
    observer.alive();
    return rows;
  };
  const db: Db = {
    kind: base.kind,
    query: (sql, params) => run(base, sql, params, false),
    transaction: async (fn) => {
      observer.alive();
      observer.transactionOpened();
      try {
        return await base.transaction(async (tx) => {
          const result = await fn({ query: (sql, params) => run(tx, sql, params, true) });
          observer.alive();
          return result;
        });
      } finally {
        observer.transactionClosed();
      }
    },
    exec: (sql) => base.exec(sql),
    withAdvisoryLock: (key, fn) => base.withAdvisoryLock(key, () => fn(db)),
    close: async () => undefined,
  };
  return db;
}

/** The tables a history writes: all but the migrations' bookkeeping, quoted, in a stable order. */
export async function simulationTables(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `select quote_ident(tablename) as name from pg_tables where schemaname = 'public' and tablename <> 'schema_migrations' order by tablename`,
  );
  return rows.map((r) => r.name);
}

/**
 * A throwaway store needs no write-ahead log: every table is made UNLOGGED (no WAL, nothing
 * to replay — the store dies with its process anyway). Tables referenced by foreign keys can
 * only turn once no logged table references them, so this goes round until all have.
 */
export async function makeTablesUnlogged(db: Db, tables: readonly string[]): Promise<void> {
  let left = [...tables];
  for (let round = 0; left.length > 0; round++) {
    const failed: string[] = [];
    for (const table of left) {
      try {
        await db.exec(`alter table ${table} set unlogged`);
      } catch (error) {
        if (round >= tables.length) throw error;
        failed.push(table);
      }
    }
    left = failed;
  }
}

/**
 * Empties `tables` (already quoted) for the next history. DELETE, not TRUNCATE: a TRUNCATE of
 * every table costs more than half a history. Rows are appended after the dead ones until a
 * vacuum (PGlite has no autovacuum), so a history's rows still sit in the order it wrote them.
 */
export async function emptyTables(db: Db, tables: readonly string[]): Promise<void> {
  await db.exec(
    `set session_replication_role = replica; ${tables.map((t) => `delete from ${t};`).join(' ')} set session_replication_role = origin;`,
  );
}

/**
 * Reclaims the dead rows of earlier histories. Without it every index and table grows with each
 * history a process runs (PGlite has no autovacuum) and the last of 5,000 histories pays for the
 * first 4,999. Tables with only dead rows shrink to nothing, as a fresh store's are.
 */
export async function vacuumTables(db: Db, tables: readonly string[]): Promise<void> {
  await db.exec(`vacuum ${tables.join(', ')}`);
}

/** The `create or replace` text of a database function (to install a deliberately broken one). */
export async function functionDefinition(db: Queryable, name: string): Promise<string> {
  const [row] = await db.query<{ def: string }>(`select pg_get_functiondef(p.oid) as def from pg_proc p where p.proname = $1`, [name]);
  if (!row) throw new Error(`no database function ${name}`);
  return row.def;
}

/** Installs a function's new text (a `create or replace function` statement). */
export async function replaceFunction(db: Db, definition: string): Promise<void> {
  await db.exec(definition);
}

/** When the next live enrollment is due (null: nothing is). */
export async function earliestDue(db: Queryable): Promise<Date | null> {
  const [row] = await db.query<{ at: Date | null }>(
    `select min(next_execution_at) as at from enrollments where status in ('active', 'waiting')`,
  );
  return row?.at ?? null;
}

/**
 * The enrollments whose liveness differs from what the caller last saw: live ones among
 * `stopped`, and stopped ones outside it. Only the changes cross the port, not every row.
 */
export async function changedLiveness(db: Queryable, stopped: readonly string[]): Promise<Array<{ id: string; status: string }>> {
  return db.query<{ id: string; status: string }>(
    `select id, status from enrollments where (status in ('active', 'waiting')) = (id = any($1::uuid[]))`,
    [stopped],
  );
}

/** The status of each execution named by its idempotency key. */
export async function executionStatusesByKey(db: Queryable, keys: readonly string[]): Promise<Map<string, string>> {
  const rows = await db.query<{ key: string; status: string }>(
    `select idempotency_key as key, status from sequence_executions where idempotency_key = any($1::text[])`,
    [keys],
  );
  return new Map(rows.map((r) => [r.key, r.status]));
}

/** One live enrollment with no next run that is not waiting for a task's outcome, if any. */
export async function firstStuckEnrollment(db: Queryable): Promise<{ id: string; status: string } | undefined> {
  const [row] = await db.query<{ id: string; status: string }>(
    `select id, status from enrollments where status in ('active', 'waiting') and next_execution_at is null
       and not (status = 'waiting' and waiting_for = 'task') limit 1`,
  );
  return row;
}

export async function enrollmentsAtEnd(db: Queryable): Promise<Array<{ id: string; status: string; waitingFor: string | null; next: Date | null }>> {
  return db.query(`select id, status, waiting_for as "waitingFor", next_execution_at as next from enrollments`);
}

/** A delivery step's execution with what the final checks judge it by. */
export interface DeliveryExecutionRow {
  id: string;
  key: string;
  enrollmentId: string;
  stepId: string;
  status: string;
  startedAt: Date;
  providerMessageId: string | null;
  channel: string | null;
  enrollmentStatus: string;
  definition: unknown;
  leadZone: string | null;
  workspaceZone: string;
}

export async function deliveryExecutions(db: Queryable): Promise<DeliveryExecutionRow[]> {
  return db.query<DeliveryExecutionRow>(
    `select x.id, x.idempotency_key as key, x.enrollment_id as "enrollmentId", x.step_id as "stepId", x.status,
       x.started_at as "startedAt", x.provider_message_id as "providerMessageId", x.channel, e.status as "enrollmentStatus",
       v.definition, l.timezone as "leadZone", w.timezone as "workspaceZone"
     from sequence_executions x
     join enrollments e on e.id = x.enrollment_id
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     join leads l on l.id = x.lead_id
     join workspaces w on w.id = x.workspace_id
     where x.channel is not null`,
  );
}

/** `unknown` sends whose sequence says `onUnknownDelivery: pause` that nobody held for an operator. */
export async function unheldUnknownDeliveries(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ key: string }>(
    `select x.idempotency_key as key from sequence_executions x
     join enrollments e on e.id = x.enrollment_id
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     where x.status = 'unknown' and coalesce(v.definition->>'onUnknownDelivery', 'continue') = 'pause'
       and not exists (select 1 from enrollment_changes c where c.enrollment_id = e.id and c.reason = 'unknown_delivery')`,
  );
  return rows.map((r) => r.key);
}
