/**
 * Distributed-mode test harness: a fresh PostgreSQL schema and a private Redis key prefix per
 * suite, real `touchpoint worker` processes spawned from bin/, and helpers to seed work and
 * read what happened. Under CI=true an unreachable PostgreSQL or Redis fails the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { Db } from '../../src/db/db.ts';
import { openDatabase } from '../../src/db/open.ts';
import { freshSchemaUrl, postgresReachable, TEST_DATABASE_URL } from '../helpers/databases.ts';
import { createEngineKit, type EngineKit, lead } from '../helpers/engineKit.ts';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when both servers answer; throws under CI when either does not. */
export async function distributedAvailable(): Promise<boolean> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  const redisUp = await redis
    .connect()
    .then(() => redis.ping())
    .then(() => true)
    .catch(() => false);
  redis.disconnect();
  const pgUp = await postgresReachable();
  if (redisUp && pgUp) return true;
  const missing = [!pgUp && `PostgreSQL at ${TEST_DATABASE_URL}`, !redisUp && `Redis at ${TEST_REDIS_URL}`].filter(Boolean).join(' and ');
  if (process.env.CI === 'true') throw new Error(`${missing} not reachable; under CI=true the distributed suites must run.`);
  console.warn(`${missing} not reachable; skipping the distributed suites.`);
  return false;
}

export interface Cluster {
  db: Db;
  prefix: string;
  databaseUrl: string;
  redisUrl: string;
  redis: Redis;
  kit: EngineKit;
  /** Starts `touchpoint worker`; resolves once it has started (its log says so). */
  spawnWorker(env?: Record<string, string>): Promise<WorkerProcess>;
  workers: WorkerProcess[];
  close(): Promise<void>;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  output(): string;
}

export async function startCluster(options: { env?: Record<string, string>; redisDb?: number } = {}): Promise<Cluster> {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const schema = await freshSchemaUrl();
  const named = (name: string) => {
    const url = new URL(schema.url);
    url.searchParams.set('application_name', name);
    return url.toString();
  };
  // Workers' connections are named, so a test can terminate exactly theirs.
  const databaseUrl = named(`touchpoint-worker:${prefix}`);
  const db = await openDatabase({ databaseUrl: named(`touchpoint-test:${prefix}`), poolSize: 8 });
  const redisUrl = options.redisDb === undefined ? TEST_REDIS_URL : `${TEST_REDIS_URL}/${options.redisDb}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const kit = await createEngineKit(db, { start: new Date().toISOString(), workspace: prefix });
  const workers: WorkerProcess[] = [];
  const baseEnv: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    LEASE_SECONDS: '5',
    WORKER_METRICS_PORT: '0',
    USE_MOCK_SEQUENCE_DELIVERY: 'true',
    MOCK_CALL_OUTCOME: 'none',
    ...options.env,
  };
  const spawnWorker = async (env: Record<string, string> = {}): Promise<WorkerProcess> => {
    // The default concurrency (batches of up to 100) unless a test asks for another.
    const args = env.CONCURRENCY ? ['--concurrency', env.CONCURRENCY] : [];
    const child = spawn(process.execPath, ['bin/touchpoint.mjs', 'worker', ...args], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, ...baseEnv, LOG_LEVEL: 'info', ...env, CI: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
    child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const worker: WorkerProcess = { child, pid: child.pid!, exited, output: () => log };
    workers.push(worker);
    await Promise.race([
      new Promise<void>((resolve) => {
        const check = () => (log.includes('worker started') ? resolve() : setTimeout(check, 20));
        check();
      }),
      exited.then((code) => {
        throw new Error(`worker exited with ${code} before starting:\n${log}`);
      }),
    ]);
    return worker;
  };
  return {
    db,
    prefix,
    databaseUrl,
    redisUrl,
    redis,
    kit,
    spawnWorker,
    workers,
    close: async () => {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await deleteKeys(redis, `${prefix}*`);
      redis.disconnect();
      await db.close();
      await schema.drop();
    },
  };
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Always open, no quiet hours: the runs are about the engine, not about windows. */
export function threeSteps(name: string, sender?: { phone?: string }) {
  return {
    name,
    schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
    quietHours: { start: '00:00', end: '00:00', channels: [] },
    ...(sender ? { sender } : {}),
    steps: [
      { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello from us' },
      { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName }}' },
      { id: 'bye', type: 'email', subject: 'Bye', body: 'Bye {{ lead.firstName }}' },
    ],
  };
}

/** Enrolls `n` new leads in a new sequence; answers the sequence id. */
let seeded = 0;

export async function seed(cluster: Cluster, n: number, definition: unknown = threeSteps('Chaos')): Promise<string> {
  const first = seeded;
  seeded += n;
  const leadIds = await cluster.kit.addLeads(Array.from({ length: n }, (_, i) => lead(first + i)));
  const sequenceId = await cluster.kit.addSequence(definition);
  for (let i = 0; i < leadIds.length; i += 500) await cluster.kit.enrollAll(sequenceId, leadIds.slice(i, i + 500));
  return sequenceId;
}

export async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<{ n: number }>(sql, params);
  return row?.n ?? 0;
}

export interface RunAudit {
  completed: number;
  executions: number;
  distinctKeys: number;
  succeeded: number;
  unknown: number;
  other: number;
  sends: number;
  duplicateSends: number;
  succeededWithoutOneSend: number;
}

/** What a run left behind, across every process: enrollments, executions and mock sends. */
export async function audit(db: Db, sequenceId: string): Promise<RunAudit> {
  const [row] = await db.query<RunAudit>(
    `select
       (select count(*)::int from enrollments where sequence_id = $1 and status = 'completed') as completed,
       (select count(*)::int from sequence_executions where sequence_id = $1) as executions,
       (select count(distinct idempotency_key)::int from sequence_executions where sequence_id = $1) as "distinctKeys",
       (select count(*)::int from sequence_executions where sequence_id = $1 and status = 'succeeded') as succeeded,
       (select count(*)::int from sequence_executions where sequence_id = $1 and status = 'unknown') as unknown,
       (select count(*)::int from sequence_executions where sequence_id = $1 and status not in ('succeeded', 'unknown')) as other,
       (select count(*)::int from mock_outbox o join sequence_executions x on x.idempotency_key = o.idempotency_key
         where x.sequence_id = $1) as sends,
       (select count(*)::int from (select o.idempotency_key from mock_outbox o
         join sequence_executions x on x.idempotency_key = o.idempotency_key
         where x.sequence_id = $1 group by o.idempotency_key having count(*) > 1) d) as "duplicateSends",
       (select count(*)::int from sequence_executions x where x.sequence_id = $1 and x.status = 'succeeded'
         and (select count(*) from mock_outbox o where o.idempotency_key = x.idempotency_key) <> 1) as "succeededWithoutOneSend"`,
    [sequenceId],
  );
  return row!;
}

/** Scrapes a worker's /metrics. */
export async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  return response.text();
}

export function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}
