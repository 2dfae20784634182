/**
 * PGlite runs Postgres without autovacuum, so the embedded dispatcher does autovacuum's two
 * chores itself (src/engine/dispatcher.ts); on a PostgreSQL server autovacuum does them.
 */
import type { Queryable } from './db.ts';

/**
 * The tables whose statistics steer the engine's plans: the claim and the run contexts go
 * through enrollments and join leads. `sequence_executions` is left alone on purpose: it is
 * only ever reached by key, and statistics on it without a vacuum (which on a large store
 * would cost more than it saves) made the planner prefer the partial index of open
 * executions, which then holds a dead entry for every execution ever started: −20 % (measured).
 */
const PLANNED_TABLES = ['enrollments', 'leads'];

/** Reclaims dead rows and index entries, and refreshes the planner's statistics. */
export async function vacuumEnrollments(db: Queryable): Promise<void> {
  await db.query('vacuum (analyze) enrollments');
}

/** The enrollments table's row count as of its last vacuum or analyze (0 before either). */
export async function estimatedEnrollments(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select greatest(reltuples, 0)::float8 as n from pg_class where oid = 'enrollments'::regclass`,
  );
  return row?.n ?? 0;
}

/**
 * Analyzes each of those tables once more rows changed since its last analyze than it had
 * then (plus 50): its size has moved by a factor, the kind of change that turns a plan over.
 * Answers the tables analyzed. (Autovacuum's default, 10 %, would analyze a growing table
 * dozens of times, and here each analyze holds up the engine's only thread.)
 *
 * Fresh statistics matter more than for estimates: the engine's statements are PL/pgSQL
 * functions whose plans are kept for the connection's life, and a plan made while a table was
 * nearly empty (a new store) goes on scanning it whole once it is large — 10,000 due
 * enrollments on a fresh on-disk store ran at ~1,600 steps/s, ~4,500 with this check. An
 * analyze invalidates those plans, so the next call plans again with the table's real size.
 */
export async function analyzeChangedTables(db: Queryable): Promise<string[]> {
  // Statistics reach the shared counters at most once a second unless asked.
  await db.query('select pg_stat_force_next_flush()');
  const rows = await db.query<{ table: string }>(
    `select s.relname as table from pg_stat_user_tables s join pg_class c on c.oid = s.relid
     where s.schemaname = current_schema() and s.relname = any($1::text[])
       and s.n_mod_since_analyze > 50 + greatest(c.reltuples, 0)
     order by s.relname`,
    [PLANNED_TABLES],
  );
  // The names come from PLANNED_TABLES above, never from input.
  for (const { table } of rows) await db.query(`analyze ${table}`);
  return rows.map((r) => r.table);
}
