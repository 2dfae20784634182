/**
 * Peer: graphile-worker on the same PostgreSQL doing the equivalent chain — each job writes a
 * step row and queues the next step in one statement (one commit), three steps per chain.
 */
import { Logger, run, runMigrations, type Runner, type Task } from 'graphile-worker';
import pg from 'pg';
import { adminQuery, POSTGRES_URL } from '../lib/databases.ts';
import { startWorkers, waitForCount } from '../lib/processes.ts';
import { randomBytes } from 'node:crypto';
import type { ThroughputRun } from '../workloads/throughput.ts';

const STEPS = 3;

export async function graphileChain(args: { chains: number; processes: number; concurrency: number; timeoutMs: number }): Promise<ThroughputRun> {
  const schema = `gw_${randomBytes(5).toString('hex')}`;
  await runMigrations({ connectionString: POSTGRES_URL, schema, logger: quietLogger() });
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`create table ${schema}.bench_steps (chain int not null, step int not null, at timestamptz not null default now())`);
    await client.query(
      `select count(*) from ${schema}.add_jobs(array(
         select row('step', json_build_object('chain', g, 'step', 1), null, null, null, null, null, null)::${schema}.job_spec
         from generate_series(1, $1::int) g))`,
      [args.chains],
    );
    const workers = await startWorkers(args.processes, 'graphile', [POSTGRES_URL, schema, args.concurrency]);
    const started = performance.now();
    workers.go();
    try {
      await waitForCount(
        async () => Number((await client.query<{ n: string }>(`select count(*) as n from ${schema}.bench_steps`)).rows[0]!.n),
        args.chains * STEPS,
        args.timeoutMs,
      );
    } finally {
      await workers.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    return { steps: args.chains * STEPS, seconds, stepsPerSecond: (args.chains * STEPS) / seconds };
  } finally {
    await client.end();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  }
}

export async function runGraphileChild(url: string, schema: string, concurrency: number, go: () => Promise<void>): Promise<() => Promise<void>> {
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
  process.stdout.write('ready\n');
  await go();
  const runner: Runner = await run({
    connectionString: url,
    schema,
    concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: quietLogger(),
    taskList: { step },
  });
  return () => runner.stop();
}

/** graphile-worker logs every job at info; a benchmark wants only errors. */
function quietLogger(): Logger {
  return new Logger(() => (level, message) => {
    if (level === 'error') console.error(`graphile-worker: ${message}`);
  });
}
