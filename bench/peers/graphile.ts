/**
 * Peer: graphile-worker on the same PostgreSQL doing the equivalent chain — each job writes a
 * step row and queues the next step in one statement (one commit), three steps per chain.
 *
 * One graphile-worker schema per workload (migrated once); the step rows and any job left
 * over are truncated before each run. The worker processes keep one connection pool each
 * across runs; every run starts a new runner on it at `go` and stops it at the end.
 */
import { Logger, run, runMigrations, type Runner, type Task } from 'graphile-worker';
import pg from 'pg';
import { adminQuery, POSTGRES_URL } from '../lib/databases.ts';
import { runWorkersTo, type ChildRun, type Session, type Workers } from '../lib/processes.ts';
import { randomBytes } from 'node:crypto';
import type { ThroughputRun } from '../workloads/throughput.ts';

const STEPS = 3;

/** graphile-worker's own knobs beyond concurrency (all off by default in 0.17). */
export interface GraphileOptions {
  /** `worker.localQueue.size`: jobs fetched per query and held locally (-1: off). */
  localQueueSize?: number;
  /** `worker.completeJobBatchDelay`: ms to gather completions into one statement (-1: off). */
  completeJobBatchDelay?: number;
}

export async function graphileSession(args: {
  chains: number;
  workers: Workers;
  concurrency: number;
  timeoutMs: number;
  options?: GraphileOptions;
}): Promise<Session<ThroughputRun>> {
  const { workers } = args;
  const schema = `gw_${randomBytes(5).toString('hex')}`;
  await runMigrations({ connectionString: POSTGRES_URL, schema, logger: quietLogger() });
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`create table ${schema}.bench_steps (chain int not null, step int not null, at timestamptz not null default now())`);
  return {
    run: async () => {
      await client.query(`truncate ${schema}.bench_steps, ${schema}._private_jobs`);
      await client.query(
        `select count(*) from ${schema}.add_jobs(array(
           select row('step', json_build_object('chain', g, 'step', 1), null, null, null, null, null, null)::${schema}.job_spec
           from generate_series(1, $1::int) g))`,
        [args.chains],
      );
      await workers.prepare([POSTGRES_URL, schema, args.concurrency, JSON.stringify(args.options ?? {})]);
      const seconds = await runWorkersTo(
        workers,
        async () => Number((await client.query<{ n: string }>(`select count(*) as n from ${schema}.bench_steps`)).rows[0]!.n),
        args.chains * STEPS,
        args.timeoutMs,
      );
      return { steps: args.chains * STEPS, seconds, stepsPerSecond: (args.chains * STEPS) / seconds };
    },
    close: async () => {
      await client.end();
      await adminQuery(`drop schema if exists ${schema} cascade`);
    },
  };
}

/** This process's pool, kept across runs (a run's runner is started on it at `go`). */
let pool: pg.Pool | null = null;

export async function prepareGraphileChild(url: string, schema: string, concurrency: number, options: GraphileOptions): Promise<ChildRun> {
  // graphile-worker's default pool is 10; never fewer connections than jobs at once.
  const max = Math.max(10, concurrency + 2);
  if (!pool || pool.options.max !== max) {
    await pool?.end();
    pool = new pg.Pool({ connectionString: url, max });
    // The handlers graphile-worker asks a pool it is given to have (it warns otherwise).
    pool.on('error', (error) => console.error(`graphile-worker pool: ${error.message}`));
    pool.on('connect', (client) => client.on('error', (error) => console.error(`graphile-worker client: ${error.message}`)));
  }
  const pgPool = pool;
  const step: Task = async (payload, helpers) => {
    const { chain, step: n } = payload as { chain: number; step: number };
    await helpers.withPgClient((pgClient) =>
      pgClient.query(
        `with row as (insert into ${schema}.bench_steps (chain, step) values ($1, $2))
         select ${schema}.add_job('step', json_build_object('chain', $1::int, 'step', $2::int + 1)) where $2::int < ${STEPS}`,
        [chain, n],
      ),
    );
  };
  let runner: Runner | null = null;
  return {
    start: async () => {
      runner = await run({
        pgPool,
        schema,
        concurrency,
        noHandleSignals: true,
        pollInterval: 1000,
        logger: quietLogger(),
        taskList: { step },
        preset: {
          worker: {
            ...(options.localQueueSize ? { localQueue: { size: options.localQueueSize } } : {}),
            ...(options.completeJobBatchDelay !== undefined ? { completeJobBatchDelay: options.completeJobBatchDelay } : {}),
          },
        },
      });
    },
    stop: async () => {
      await runner?.stop();
    },
  };
}

export async function closeGraphileChild(): Promise<void> {
  await pool?.end();
  pool = null;
}

/** graphile-worker logs every job at info; a benchmark wants only errors. */
function quietLogger(): Logger {
  return new Logger(() => (level, message) => {
    if (level === 'error') console.error(`graphile-worker: ${message}`);
  });
}
