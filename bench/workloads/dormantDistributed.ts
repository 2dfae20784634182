/**
 * C distributed ("C dist."): C on PostgreSQL + BullMQ. N dormant enrollments (due in 3–10 days)
 * in a PostgreSQL database of their own, seeded once and kept between invocations, plus the
 * due ones inserted for each run and deleted after it, so the seed stays as it was. The due
 * ones are drained by the distributed worker processes (`touchpoint worker`'s assembly, see
 * ./distributed.ts); then, with only the dormant ones left, the idle CPU of those processes and
 * of PostgreSQL (read from /proc), the workers' RSS, and the tables' and indexes' sizes.
 * The peer is the same run on a database seeded with none dormant.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/db/db.ts';
import { loadFunctions, loadMigrations } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open.ts';
import { POSTGRES_URL, REDIS_URL } from '../lib/databases.ts';
import { createFixture, STEPS_PER_ENROLLMENT, type Fixture } from '../lib/fixture.ts';
import { cpuOf, parentOf, cpuSeconds, rssMiB, spent } from '../lib/procStats.ts';
import { waitForCount, type Workers } from '../lib/processes.ts';
import { sleep } from '../lib/stats.ts';
import { deleteKeys, DISTRIBUTED_CONCURRENCY } from './distributed.ts';

/** The dormant ones are numbered from here (their leads' e-mail and phone); the due ones from 0. */
const DORMANT_FROM = 1_000_000_000;
const DATABASE_PREFIX = 'bench_c_';
/** Leads and enrollments per seeding statement. */
const SEED_CHUNK = 500_000;

export interface DormantStore {
  dormant: number;
  database: string;
  url: string;
  db: Db;
  fixture: Fixture;
  /**
   * Emptied after each run: every table empty once seeded, except those a seeded table refers
   * to (users, mailboxes: a run writes none, and they cannot be truncated without the tables
   * that refer to them).
   */
  runTables: string[];
}

export interface DormantDistributedRun {
  dormant: number;
  due: number;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  /** CPU of the worker processes together, and of PostgreSQL, over the idle window (% of one core). */
  idleWorkersCpuPercent: number;
  /** The backends connected to this run's database (the workers' pools, the leader's connection, the harness's). */
  idlePostgresBackendsCpuPercent: number;
  /** The server's own processes (postmaster, checkpointer, writers): shared with every database on the server. */
  idlePostgresServerCpuPercent: number;
  idleSeconds: number;
  /** The larger of the workers' RSS at the end of the idle window. */
  rssMiB: number;
  /** Scans of `enrollments` from before the drain to the end of the idle window. */
  enrollmentSeqScans: number;
  enrollmentIndexScans: number;
}

export interface RelationSize {
  table: string;
  name: string;
  kind: 'table' | 'index' | 'total';
  bytes: number;
}

/**
 * A time-ordered id (UUID version 7: Unix milliseconds first, then random bits), made in SQL as
 * the app makes its lead and enrollment ids in src/db/ids.ts on a server without `uuidv7()`
 * (PostgreSQL before 18, like the bench's): rows created together sort together, so the due ones
 * a run inserts share the right edge of each id-keyed index instead of landing on random leaves
 * of a ten-million-entry one. Until 2026-12-03 the harness took the column default, a random
 * id there, which no lead or enrollment the app creates has (docs/BENCHMARKS.md, "Issue 21, part 7").
 */
const TIME_ORDERED_ID = `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
  placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid`;

/** What the seeded rows look like beyond the schema: a change to it must not reuse older databases. */
const SEED_SHAPE = 'ids: time-ordered (v7)';

/** Migrations, database functions and the seed's shape: a seeded database is kept while they are unchanged. */
function schemaFingerprint(): string {
  const hash = createHash('sha256');
  hash.update(SEED_SHAPE);
  for (const m of loadMigrations()) hash.update(m.sql);
  for (const f of loadFunctions()) hash.update(f.sql);
  return hash.digest('hex').slice(0, 10);
}

function urlOf(database: string): string {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * C dist.'s two databases, `bench_c_<n>_<fingerprint>`: one with none dormant (the peer) and one
 * with `dormant`. A database is reused when it is marked complete (a comment on it, written
 * last); seeding for a new fingerprint drops the databases of the others (at ten million one is
 * ~10 GB) that nobody is connected to. One in use (another invocation, on another branch's
 * schema, seeding or running on it) is kept: dropping it with `force` killed that invocation.
 * Answers them open (a pool of 4 for the harness's inserts and polls).
 */
export async function openDormantStores(
  dormant: number,
  log: (message: string) => void,
): Promise<{ empty: DormantStore; full: DormantStore; seededSeconds: Record<string, number> }> {
  const fingerprint = schemaFingerprint();
  const existing = await admin<{ datname: string; complete: string | null }>(
    `select datname, shobj_description(oid, 'pg_database') as complete from pg_database where datname like $1`,
    [`${DATABASE_PREFIX}%`],
  );
  const mine = (n: number) => existing.find((d) => d.datname === `${DATABASE_PREFIX}${n}_${fingerprint}`);
  const seeding = [0, dormant].some((n) => !mine(n)?.complete?.startsWith('complete'));
  for (const { datname } of seeding ? existing : []) {
    if (datname.endsWith(`_${fingerprint}`)) continue;
    try {
      // Without `force`: PostgreSQL refuses while anyone is connected.
      await admin(`drop database if exists ${datname}`);
      log(`  dropped ${datname} (seeded for another schema)`);
    } catch (error) {
      log(`  kept ${datname} (seeded for another schema, in use: ${(error as Error).message})`);
    }
  }
  const seededSeconds: Record<string, number> = {};
  const open = async (n: number): Promise<DormantStore> => {
    const database = `${DATABASE_PREFIX}${n}_${fingerprint}`;
    const found = existing.find((d) => d.datname === database);
    if (!found?.complete?.startsWith('complete')) {
      if (found) await admin(`drop database if exists ${database} with (force)`);
      await admin(`create database ${database}`);
      log(`  seeding ${database}: ${n.toLocaleString('en-US')} dormant`);
      const started = performance.now();
      await seed(urlOf(database), n, log);
      seededSeconds[database] = (performance.now() - started) / 1000;
      await admin(`comment on database ${database} is 'complete ${new Date().toISOString()} in ${seededSeconds[database]!.toFixed(0)} s'`);
      log(`  seeded ${database} in ${seededSeconds[database]!.toFixed(1)} s`);
    } else {
      log(`  reusing ${database} (${found.complete})`);
    }
    const url = urlOf(database);
    const db = await openDatabase({ databaseUrl: url, poolSize: 4, migrate: false });
    const [row] = await db.query<{ id: string; workspaceId: string }>(
      `select s.id, s.workspace_id as "workspaceId" from sequences s order by created_at limit 1`,
    );
    return { dormant: n, database, url, db, fixture: { sequenceId: row!.id, workspaceId: row!.workspaceId }, runTables: await runTables(db) };
  };
  const empty = await open(0);
  const full = await open(dormant);
  return { empty, full, seededSeconds };
}

/**
 * A table is seeded when it has pages: reading a row of each would count as a sequential scan
 * of `enrollments` and land in a run's count (a backend reports its statistics up to seconds
 * late). Seeding ends with a vacuum, and each run truncates what it wrote, so an empty table
 * has none.
 */
async function runTables(db: Db): Promise<string[]> {
  const tables = await db.query<{ name: string; pages: boolean }>(
    `select tablename as name, pg_relation_size(format('%I', tablename)) > 0 as pages
     from pg_tables where schemaname = current_schema() order by 1`,
  );
  const seeded = tables.filter((t) => t.pages).map((t) => t.name);
  const empty = tables.filter((t) => !t.pages).map((t) => t.name);
  const referenced = await db.query<{ name: string }>(
    `select distinct c.confrelid::regclass::text as name from pg_constraint c
     where c.contype = 'f' and c.conrelid::regclass::text = any($1::text[])`,
    [seeded],
  );
  return empty.filter((t) => !referenced.some((r) => r.name === t));
}

/**
 * Migrates the new database, creates the fixture and inserts `n` dormant enrollments with their
 * leads, straight from generate_series in chunks, in one session with triggers and foreign-key
 * checks off (`session_replication_role = replica`: the rows are generated to be valid) and the
 * secondary indexes dropped for the load and built after it; then VACUUM (FREEZE, ANALYZE), so
 * the rows are all-visible and nothing is left for a vacuum to do during a run.
 */
async function seed(url: string, n: number, log: (message: string) => void): Promise<void> {
  const db = await openDatabase({ databaseUrl: url, poolSize: 1 });
  const fixture = await createFixture(db);
  await db.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (n > 0) {
      await client.query(`set session_replication_role = replica`);
      await client.query(`set maintenance_work_mem = '512MB'`);
      const indexes = (
        await client.query<{ name: string; definition: string }>(
          `select i.indexname as name, i.indexdef as definition from pg_indexes i
           where i.schemaname = current_schema() and i.tablename in ('leads', 'enrollments')
             and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`,
        )
      ).rows;
      for (const index of indexes) await client.query(`drop index ${index.name}`);
      const dueAt = new Date(Date.now() + 3 * 86_400_000);
      let started = performance.now();
      for (let from = DORMANT_FROM; from < DORMANT_FROM + n; from += SEED_CHUNK) {
        const to = Math.min(DORMANT_FROM + n, from + SEED_CHUNK) - 1;
        await client.query(
          `with l as (
             insert into leads (id, workspace_id, email, phone, timezone, first_name)
             select ${TIME_ORDERED_ID}, $1, 'lead' || g || '@bench.test', '+1' || lpad(g::text, 10, '0'), 'America/New_York', 'Lee' || g
             from generate_series($3::int, $4::int) g
             returning id)
           insert into enrollments (id, workspace_id, sequence_id, sequence_version, lead_id, status, current_step_id,
             step_seq, step_entered_at, next_execution_at, enrolled_at, updated_at)
           select ${TIME_ORDERED_ID}, $1, $2, 1, l.id, 'active', 'intro', 1, $5,
                  $5::timestamptz + make_interval(secs => random() * $6::float8), $5, $5
           from l`,
          [fixture.workspaceId, fixture.sequenceId, from, to, dueAt, 7 * 86_400],
        );
        if ((to + 1 - DORMANT_FROM) % 2_000_000 === 0 || to + 1 === DORMANT_FROM + n) {
          log(`    ${(to + 1 - DORMANT_FROM).toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(0)} s`);
        }
      }
      started = performance.now();
      for (const index of indexes) await client.query(index.definition);
      log(`    ${indexes.length} secondary indexes built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      await client.query(`reset session_replication_role`);
    }
    const started = performance.now();
    await client.query('vacuum (freeze, analyze)');
    log(`    vacuum (freeze, analyze) in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await client.end();
  }
}

/** The due ones of a run: leads numbered from 0 (phones +10000000000…), due a second ago. */
async function insertDue(store: DormantStore, due: number): Promise<void> {
  await store.db.query(
    `with l as (
       insert into leads (id, workspace_id, email, phone, timezone, first_name)
       select ${TIME_ORDERED_ID}, $1, 'lead' || g || '@bench.test', '+1' || lpad(g::text, 10, '0'), 'America/New_York', 'Lee' || g
       from generate_series(0, $3::int - 1) g
       returning id)
     insert into enrollments (id, workspace_id, sequence_id, sequence_version, lead_id, status, current_step_id,
       step_seq, step_entered_at, next_execution_at, enrolled_at, updated_at)
     select ${TIME_ORDERED_ID}, $1, $2, 1, l.id, 'active', 'intro', 1, $4, $4, $4, $4 from l`,
    [store.fixture.workspaceId, store.fixture.sequenceId, due, new Date(Date.now() - 1000)],
  );
  // This server runs with autovacuum off; autovacuum would analyze a table that grew by 10 %
  // (the store with none dormant), and the engine's plans follow the statistics.
  await store.db.query('analyze enrollments, leads');
}

/**
 * Puts the store back as seeded: the run's due leads (and by cascade their enrollments) deleted
 * by their phone range (an index range, not a scan), every table that was empty at seeding
 * emptied, then a vacuum of the two tables (it visits only the pages the run touched).
 */
async function removeDue(store: DormantStore): Promise<void> {
  if (store.runTables.length > 0) await store.db.query(`truncate ${store.runTables.join(', ')}`);
  await store.db.query(`delete from leads where workspace_id = $1 and phone >= '+10000000000' and phone < '+1${String(DORMANT_FROM).padStart(10, '0')}'`, [
    store.fixture.workspaceId,
  ]);
  await store.db.query('vacuum enrollments, leads');
}

/** Live enrollments due within a day: the due ones not finished yet (the dormant are 3+ days out). One range of the due index. */
async function unfinished(store: DormantStore): Promise<number> {
  const [row] = await store.db.query<{ n: number }>(
    `select count(*)::int as n from enrollments
     where workspace_id = $1 and status in ('active', 'waiting') and next_execution_at is not null
       and next_execution_at < now() + interval '1 day'`,
    [store.fixture.workspaceId],
  );
  return row!.n;
}

async function executions(store: DormantStore): Promise<number> {
  const [row] = await store.db.query<{ n: number }>(`select count(*)::int as n from sequence_executions`);
  return row!.n;
}

async function scans(store: DormantStore): Promise<{ seq: number; idx: number }> {
  const [row] = await store.db.query<{ seq: string; idx: string }>(
    `select seq_scan as seq, coalesce(idx_scan, 0) as idx from pg_stat_user_tables where relname = 'enrollments'`,
  );
  return { seq: Number(row!.seq), idx: Number(row!.idx) };
}

/**
 * PostgreSQL's processes, split: the backends connected to `database` (and autovacuum workers
 * on it), and the server's own (the postmaster and its children with no database: checkpointer,
 * background writer, WAL writer, launchers). Other databases' backends are left out: the server
 * is shared with other work. Needs the server on this machine (/proc); answers null otherwise.
 */
async function postgresProcesses(database: string): Promise<{ backends: number[]; server: number[] } | null> {
  const rows = await admin<{ pid: number; datname: string | null }>(`select pid, datname from pg_stat_activity where pid <> pg_backend_pid()`);
  const backends = rows.filter((r) => r.datname === database).map((r) => r.pid);
  const server = rows.filter((r) => r.datname === null).map((r) => r.pid);
  const postmaster = server.length > 0 ? parentOf(server[0]!) : backends.length > 0 ? parentOf(backends[0]!) : null;
  if (postmaster === null || cpuSeconds(postmaster) === null) return null;
  return { backends, server: [postmaster, ...server] };
}

/**
 * One run on `store` in the distributed worker processes: the due ones drained (timed from `go`
 * until none is left unfinished), then `settleSeconds` for the workers to go quiet (the leader
 * asleep, V8's post-drain collections done: see ./dormant.ts), then `idleSeconds` measured.
 */
export async function dormantDistributedRun(
  store: DormantStore,
  workers: Workers,
  args: { due: number; settleSeconds: number; idleSeconds: number; timeoutMs: number },
): Promise<DormantDistributedRun> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  try {
    // An interrupted invocation may have left its due ones behind.
    if ((await unfinished(store)) > 0) await removeDue(store);
    await insertDue(store, args.due);
    const executed0 = await executions(store);
    await workers.prepare([store.url, REDIS_URL, prefix, DISTRIBUTED_CONCURRENCY]);
    const scans0 = await scans(store);
    const started = performance.now();
    workers.go();
    let seconds: number;
    try {
      await waitForCount(
        async () => {
          workers.check();
          return args.due - (await unfinished(store));
        },
        args.due,
        args.timeoutMs,
      );
      seconds = (performance.now() - started) / 1000;
      await sleep(args.settleSeconds * 1000);
      const processes = await postgresProcesses(store.database);
      const workerPids = workers.pids();
      const w0 = cpuOf(workerPids);
      const b0 = cpuOf(processes?.backends ?? []);
      const s0 = cpuOf(processes?.server ?? []);
      const wall0 = performance.now();
      await sleep(args.idleSeconds * 1000);
      const wall = (performance.now() - wall0) / 1000;
      const w1 = cpuOf(workerPids);
      const b1 = cpuOf(processes?.backends ?? []);
      const s1 = cpuOf(processes?.server ?? []);
      const rss = Math.max(...workerPids.map(rssMiB));
      const scans1 = await scans(store);
      const steps = (await executions(store)) - executed0;
      if (steps !== args.due * STEPS_PER_ENROLLMENT) throw new Error(`C dist.: expected ${args.due * STEPS_PER_ENROLLMENT} executions, found ${steps}`);
      const percent = (cpu: number) => (processes === null && cpu === 0 ? NaN : (cpu / wall) * 100);
      return {
        dormant: store.dormant,
        due: args.due,
        steps,
        seconds,
        stepsPerSecond: steps / seconds,
        idleWorkersCpuPercent: (spent(w0, w1) / wall) * 100,
        idlePostgresBackendsCpuPercent: percent(spent(b0, b1)),
        idlePostgresServerCpuPercent: percent(spent(s0, s1)),
        idleSeconds: wall,
        rssMiB: rss,
        enrollmentSeqScans: scans1.seq - scans0.seq,
        enrollmentIndexScans: scans1.idx - scans0.idx,
      };
    } finally {
      await workers.stop();
    }
  } finally {
    await deleteKeys(`${prefix}*`);
    await removeDue(store);
  }
}

/** Sizes of `enrollments` and `leads`: each table's heap, each of its indexes, and its total (with TOAST). */
export async function relationSizes(store: DormantStore): Promise<RelationSize[]> {
  const rows = await store.db.query<{ table: string; name: string; kind: RelationSize['kind']; bytes: string }>(
    `select t.relname as table, t.relname as name, 'total' as kind, pg_total_relation_size(t.oid) as bytes
       from pg_class t where t.relname in ('enrollments', 'leads') and t.relkind = 'r'
     union all
     select t.relname, t.relname, 'table', pg_relation_size(t.oid)
       from pg_class t where t.relname in ('enrollments', 'leads') and t.relkind = 'r'
     union all
     select t.relname, i.relname, 'index', pg_relation_size(i.oid)
       from pg_index x join pg_class t on t.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
      where t.relname in ('enrollments', 'leads')
     order by 1, 3 desc, 4 desc`,
  );
  return rows.map((r) => ({ ...r, bytes: Number(r.bytes) }));
}

export async function closeDormantStores(stores: { empty: DormantStore; full: DormantStore }): Promise<void> {
  await Promise.all([stores.empty.db.close(), stores.full.db.close()]);
}
