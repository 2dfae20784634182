import pg from 'pg';
import type { Db, Queryable } from './db.ts';

// bigint (count, bigserial) as a JS number: our counts stay far below 2^53.
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));

export interface PostgresOptions {
  connectionString: string;
  max?: number;
  onError?: (error: Error) => void;
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its server (restart, pg_terminate_backend) must not crash the
  // process; the pool drops it and the next query opens a new connection.
  pool.on('error', (error) => options.onError?.(error));
  const run = async <Row>(q: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) =>
    (await q.query(sql, params as unknown[] | undefined)).rows as Row[];
  const onClient = async <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors only on idle clients; a session killed while checked out
    // (between two statements of a transaction) would otherwise crash the process.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  };
  const db: Db = {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    transaction: (fn) =>
      onClient(async (client) => {
        await client.query('begin');
        try {
          const result = await fn({ query: (sql, params) => run(client, sql, params) } satisfies Queryable);
          await client.query('commit');
          return result;
        } catch (error) {
          await client.query('rollback').catch(() => undefined);
          throw error;
        }
      }),
    exec: async (sql) => {
      await pool.query(sql);
    },
    withAdvisoryLock: (key, fn) =>
      onClient(async (client) => {
        const conn: Queryable = { query: (sql, params) => run(client, sql, params) };
        await client.query('select pg_advisory_lock($1)', [key]);
        try {
          return await fn(conn);
        } finally {
          await client.query('select pg_advisory_unlock($1)', [key]).catch(() => undefined);
        }
      }),
    close: () => pool.end(),
  };
  return db;
}
