/** The facts a reader needs to compare figures across machines. */
import { cpus, freemem, totalmem } from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';
import { calibrate, type Calibration } from './calibration.ts';

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  freeMemoryGiB: number;
  node: string;
  pglite: string;
  postgres: string | null;
  postgresDurability: Record<string, string> | null;
  redis: string | null;
  redisDurability: Record<string, string> | null;
  /** This machine's speed at fixed work (bench/lib/calibration.ts): scales figures across machines. */
  speed: Calibration;
}

export async function machineFacts(postgresUrl: string, redisUrl: string, pgliteVersion: string): Promise<MachineFacts> {
  const facts: MachineFacts = {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30),
    freeMemoryGiB: round(freemem() / 2 ** 30),
    node: process.version,
    pglite: pgliteVersion,
    postgres: null,
    postgresDurability: null,
    redis: null,
    redisDurability: null,
    speed: await calibrate(),
  };
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    facts.postgres = ((await client.query('show server_version')).rows[0] as { server_version: string }).server_version;
    const settings = await client.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers', 'max_connections')`,
    );
    facts.postgresDurability = Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
  } catch {
    // Reported as null: the PostgreSQL workloads are then skipped.
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    const info = await redis.info('server');
    facts.redis = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const appendonly = (await redis.config('GET', 'appendonly')) as string[];
    const appendfsync = (await redis.config('GET', 'appendfsync')) as string[];
    const save = (await redis.config('GET', 'save')) as string[];
    facts.redisDurability = { appendonly: appendonly[1] ?? '?', appendfsync: appendfsync[1] ?? '?', save: save[1] ?? '' };
  } catch {
    // null: the Redis workloads are skipped.
  } finally {
    redis.disconnect();
  }
  return facts;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
