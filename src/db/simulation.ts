/**
 * The SQL of the deterministic simulator (src/devtools/sim, docs/SIMULATION.md): its throwaway
 * store's set-up and reset, the port wrapper through which it watches (and cuts) every
 * statement, the questions its scheduler asks, and the reads of its final checks. Nothing here
 * runs in production.
 */
import { protocol, types, type PGlite } from '@electric-sql/pglite';
import type { Db, Queryable } from './db.ts';
import { RUNNABLE_STATUSES } from '../core/transitions.ts';
import { statusList } from './enrollmentChanges.ts';

const wire = protocol.serialize;

/** A statement prepared once per store: its name, its parameters' types, its result's columns. */
interface Prepared {
  name: string;
  paramTypes: number[];
  fields: Array<{ name: string; dataTypeID: number }>;
}

interface WireMessage {
  name: string;
  dataTypeIDs?: number[];
  fields?: Array<{ name: string; dataTypeID: number }> | Array<string | null>;
  text?: string;
}

/**
 * The simulator's port to its PGlite: the same SQL as `openPglite`'s, run as named prepared
 * statements, each in one round trip. PGlite's `query` makes six (parse, describe, bind,
 * describe, execute, sync) and parses, analyses and plans the statement every time; a history
 * runs a few hundred statements from a few dozen texts, so each text is parsed and described
 * once per store (`prepare`), and every later run is one bind-execute-sync. Parameters are
 * serialized and rows parsed exactly as PGlite's `query` does (by the types Postgres inferred).
 *
 * One connection: a transaction holds `gate` from BEGIN to COMMIT or ROLLBACK, and a statement
 * outside it waits for the gate (as PGlite's own transaction mutex makes it).
 */
export function preparedStatementsDb(pg: PGlite): Db & { statementsPrepared(): number } {
  const statements = new Map<string, Prepared>();
  let gate: Promise<void> = Promise.resolve();
  const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
    const previous = gate;
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  };
  const send = async (...messages: Uint8Array[]): Promise<WireMessage[]> => {
    let length = 0;
    for (const m of messages) length += m.length;
    const buffer = new Uint8Array(length);
    let offset = 0;
    for (const m of messages) buffer.set(m, (offset += m.length) - m.length);
    // In memory: nothing to sync to a file system. Throws the statement's DatabaseError (after the sync).
    return (await pg.execProtocol(buffer, { syncToFs: false })).messages as WireMessage[];
  };
  const prepare = async (sql: string): Promise<Prepared> => {
    const known = statements.get(sql);
    if (known) return known;
    const name = `sim_${statements.size + 1}`;
    const answer = await send(wire.parse({ name, text: sql }), wire.describe({ type: 'S', name }), wire.sync());
    const params = answer.find((m) => m.name === 'parameterDescription');
    const row = answer.find((m) => m.name === 'rowDescription');
    const prepared: Prepared = {
      name,
      paramTypes: params?.dataTypeIDs ?? [],
      fields: ((row?.fields ?? []) as Array<{ name: string; dataTypeID: number }>).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
    };
    statements.set(sql, prepared);
    return prepared;
  };
  const run = async <Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> => {
    const statement = await prepare(sql);
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const serializer = pg.serializers[statement.paramTypes[i]!];
      return serializer ? serializer(value) : String(value);
    });
    const answer = await send(wire.bind({ statement: statement.name, values }), wire.execute({}), wire.sync());
    const rows: Row[] = [];
    for (const m of answer) {
      if (m.name !== 'dataRow') continue;
      const row: Record<string, unknown> = {};
      (m.fields as Array<string | null>).forEach((value, i) => {
        const field = statement.fields[i]!;
        row[field.name] = types.parseType(value, field.dataTypeID, pg.parsers);
      });
      rows.push(row as Row);
    }
    return rows;
  };
  const script = async (sql: string): Promise<string | undefined> => {
    const answer = await send(wire.query(sql));
    return answer.filter((m) => m.name === 'commandComplete').at(-1)?.text;
  };
  const db = {
    kind: 'pglite' as const,
    query: <Row>(sql: string, params?: readonly unknown[]) => exclusive(() => run<Row>(sql, params)),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      exclusive(async () => {
        await script('begin');
        let closed = false;
        const tx: Queryable = {
          query: <Row>(sql: string, params?: readonly unknown[]) => {
            if (closed) throw new Error('Transaction is closed');
            return run<Row>(sql, params);
          },
        };
        try {
          const result = await fn(tx);
          closed = true;
          // A failed statement whose error the code swallowed leaves the transaction aborted: COMMIT rolls back.
          if ((await script('commit')) === 'ROLLBACK') throw new Error('the transaction was aborted by an earlier error and rolled back');
          return result;
        } catch (error) {
          if (!closed) {
            closed = true;
            await script('rollback');
          }
          throw error;
        }
      }),
    exec: (sql: string) => exclusive(async () => void (await script(sql))),
    // One connection: the lock is trivially held by us; take it anyway so the SQL is the same.
    withAdvisoryLock: async <T>(key: number, fn: (conn: Queryable) => Promise<T>) => {
      await db.query('select pg_advisory_lock($1)', [key]);
      try {
        return await fn(db);
      } finally {
        await db.query('select pg_advisory_unlock($1)', [key]);
      }
    },
    close: () => pg.close(),
    statementsPrepared: () => statements.size,
  };
  return db;
}

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

/**
 * Session settings for a throwaway store: each statement (and each statement inside the
 * engine's PL/pgSQL functions) is planned once per store rather than on every run (a plan built
 * for one history's parameters serves every other: the tables stay a few dozen rows), and a
 * commit does not wait for its WAL to be flushed (nothing survives the process anyway). The
 * SQL and its results are the same; only the work of getting them is less.
 */
export async function tuneForSimulation(db: Db): Promise<void> {
  await db.exec(`set plan_cache_mode = force_generic_plan; set synchronous_commit = off`);
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

/** An `unknown` send the final checks find not held, with what its enrollment says. */
export interface UnheldUnknown {
  key: string;
  status: string;
  reason: string | null;
}

/**
 * `unknown` sends whose sequence says `onUnknownDelivery: pause` that nobody held for an
 * operator. Held means the enrollment never went past the visit without an operator's word:
 * - the hold is recorded (an audit row, reason `unknown_delivery`); or
 * - the enrollment is still on that visit and does not run: paused by anyone (whoever resumes
 *   or releases it, the visit meets its `unknown` row again and is held then) or ended there (an
 *   exit rule, a conversion or a cancel that came while the send was in flight: nothing follows),
 *   with the reason that pause or end gave — a status reason `unknown_delivery` no audit row
 *   gave is a hold's step end written over it (Findings 8); or
 * - an operator skipped it after the send was settled (the skip is the operator's word on the
 *   visit; a skip is refused while the send is in flight, and the generated sequences never
 *   loop, so a skip since names this visit).
 */
export async function unheldUnknownDeliveries(db: Queryable): Promise<UnheldUnknown[]> {
  return db.query<UnheldUnknown>(
    `select x.idempotency_key as key, e.status, e.status_reason as reason from sequence_executions x
     join enrollments e on e.id = x.enrollment_id
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     where x.status = 'unknown' and coalesce(v.definition->>'onUnknownDelivery', 'continue') = 'pause'
       and not exists (select 1 from enrollment_changes c where c.enrollment_id = e.id and c.reason = 'unknown_delivery')
       and not (e.current_step_id = x.step_id and e.step_seq = x.visit and e.status not in ${statusList(RUNNABLE_STATUSES)}
         and e.status_reason is distinct from 'unknown_delivery')
       and not exists (select 1 from enrollment_changes c where c.enrollment_id = e.id and c.action = 'skip' and c.at >= x.completed_at)`,
  );
}
