/**
 * The one seam to the database. Everything above it speaks Postgres SQL through `query`; the
 * embedded default (PGlite) and a PostgreSQL server (pg) are two implementations of it.
 */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` while holding a session-level advisory lock, on one connection (a pool would
   * otherwise take and release the lock on different connections).
   */
  withAdvisoryLock<T>(key: number, fn: (conn: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
