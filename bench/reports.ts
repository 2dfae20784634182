/**
 * `node --import tsx bench/reports.ts [--executions 1000000] [--store pglite,postgres] [--queries 60]`
 * — `GET /api/reports` on a workspace with a million executions (issue 19; figures in
 * docs/BENCHMARKS.md, "Reports").
 *
 * Seeds, in SQL, one workspace with 10 sequences, executions/4 leads and enrollments (five in six
 * owned by one of 5 members, each execution stamped with its lead's owner), 4 message
 * steps per enrollment (the first with variants a/b; three emails and one SMS) started over the
 * 365 days to now, and events about them: half delivered, 15 % opened, 3 % clicked, 3 %
 * replied, 1 % bounced. "Now" is today at 23:59 UTC (the runtime's clock), the worst moment of
 * the day for a report: today, read live, holds a whole day of rows. Then, through the real
 * server assembly in-process (`app.inject`):
 *
 * 1. the worker's upkeep builds the rollups of the closed days (a day per transaction), timed;
 * 2. the first report over the whole year (nothing left to build);
 * 3. `--queries` reports of nine shapes in turn (day over 30 and 365 days, week, step, variant,
 *    channel, one sequence by day, owner over the year, one owner by day over 30 days), timed one
 *    by one: p50, p95, p99, max.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { LIVE_CACHE_MS } from '../src/api/reports.ts';
import { createRuntime } from '../src/app/runtime.ts';
import { parseConfig } from '../src/config.ts';
import type { Db } from '../src/db/db.ts';
import { explainLiveReport, PREFIX_CLOSE_AFTER_MS } from '../src/db/reports.ts';
import { createToken, ensureWorkspace } from '../src/db/workspaces.ts';
import { openPgliteBench, openPostgresBench } from './lib/databases.ts';

const { values } = parseArgs({
  options: { uncached: { type: 'boolean', default: false }, explain: { type: 'boolean', default: false }, executions: { type: 'string', default: '1000000' }, store: { type: 'string', default: 'pglite,postgres' }, queries: { type: 'string', default: '70' } },
});
const EXECUTIONS = Number(values.executions);
const ENROLLMENTS = Math.ceil(EXECUTIONS / 4);
const QUERIES = Number(values.queries);
const SEQUENCES = 10;
const OWNERS = 5;
/** The owner of lead `i` (and of its executions): one of the members, none for one lead in six. */
const OWNER_OF_I = `case when i % 6 = 0 then null else ($7::uuid[])[1 + i % ${OWNERS}] end`;
const CHUNK = 50_000;

const log = (message: string) => console.error(`[${(performance.now() / 1000).toFixed(0)} s] ${message}`);

/** Deterministic ids (md5 of a tag and a number) so the rows can name each other without lookups. */
async function seed(db: Db, workspaceId: string, now: Date): Promise<{ sequenceIds: string[]; ownerIds: string[] }> {
  const sequenceIds: string[] = [];
  const ownerIds: string[] = [];
  for (let o = 0; o < OWNERS; o += 1) {
    const [user] = await db.query<{ id: string }>(`insert into users (email, name) values ($1, $2) returning id`, [`rep${o + 1}-${workspaceId}@bench.test`, `Rep ${o + 1}`]);
    await db.query(`insert into memberships (workspace_id, user_id, role) values ($1, $2, 'operator')`, [workspaceId, user!.id]);
    ownerIds.push(user!.id);
  }
  for (let s = 0; s < SEQUENCES; s += 1) {
    const [row] = await db.query<{ id: string }>(`insert into sequences (workspace_id, name, status) values ($1, $2, 'active') returning id`, [workspaceId, `Bench sequence ${s + 1}`]);
    sequenceIds.push(row!.id);
  }
  const yearAgo = new Date(now.getTime() - 365 * 86_400_000);
  for (let first = 1; first <= ENROLLMENTS; first += CHUNK) {
    const last = Math.min(ENROLLMENTS, first + CHUNK - 1);
    const args = [workspaceId, first, last, sequenceIds, yearAgo];
    await db.transaction(async (tx) => {
      await tx.query(
        `insert into leads (id, workspace_id, email, owner_id) select md5('l' || i)::uuid, $1, 'lead' || i || '@bench.test', ${OWNER_OF_I.replace('$7', '$4')}
         from generate_series($2::int, $3::int) i`,
        [...args.slice(0, 3), ownerIds],
      );
      // Enrollment i starts at a point of the year spread evenly; its steps run 0, 2, 4 and 6 days
      // later, up to now: every day, today included, has a day's share of all four steps.
      await tx.query(
        `insert into enrollments (id, workspace_id, sequence_id, sequence_version, lead_id, status, current_step_id, step_entered_at, enrolled_at, updated_at)
         select md5('e' || i)::uuid, $1, ($4::uuid[])[1 + i % ${SEQUENCES}], 1, md5('l' || i)::uuid, 'completed', null, t, t, t
         from (select i, $5::timestamptz + (i::float8 / ${ENROLLMENTS}) * interval '365 days' as t from generate_series($2::int, $3::int) i) s`,
        args,
      );
      await tx.query(
        `insert into sequence_executions (id, workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel, visit, idempotency_key, status, started_at, completed_at, variant, owner_id)
         select md5('x' || i || '-' || k)::uuid, $1, md5('e' || i)::uuid, md5('l' || i)::uuid, ($4::uuid[])[1 + i % ${SEQUENCES}],
           (array['intro', 'follow', 'nudge', 'last'])[k], case when k = 3 then 'sms' else 'email' end, case when k = 3 then 'sms' else 'email' end,
           1, md5('e' || i) || ':' || k, case when i % 50 = 0 then 'failed' else 'succeeded' end, t, t,
           case when k = 1 then (array['a', 'b'])[1 + (i / 7) % 2] end, ${OWNER_OF_I}
         from (select i, k, $5::timestamptz + (i::float8 / ${ENROLLMENTS}) * interval '365 days' + (k - 1) * interval '2 days' as t
               from generate_series($2::int, $3::int) i, generate_series(1, 4) k) s
         where t <= $6`,
        [...args, now, ownerIds],
      );
      // Events about those messages, a few minutes to a day after the send.
      await tx.query(
        `insert into events (workspace_id, lead_id, enrollment_id, execution_id, step_id, type, channel, provider, occurred_at, received_at)
         select $1, md5('l' || i)::uuid, md5('e' || i)::uuid, md5('x' || i || '-' || k)::uuid, (array['intro', 'follow', 'nudge', 'last'])[k],
           m.type, case when k = 3 then 'sms' else 'email' end, 'bench', t + m.after, t + m.after
         from (select i, k, $4::timestamptz + (i::float8 / ${ENROLLMENTS}) * interval '365 days' + (k - 1) * interval '2 days' as t
               from generate_series($2::int, $3::int) i, generate_series(1, 4) k where i % 50 <> 0) s
         join (values ('email.delivered', 2, 0, interval '5 minutes'), ('email.opened', 20, 3, interval '3 hours'),
                      ('email.clicked', 100, 3, interval '4 hours'), ('email.replied', 100, 7, interval '1 day'),
                      ('email.bounced', 100, 11, interval '1 minute')) as m(type, every, offset_, after)
           on (i * 4 + k) % m.every = m.offset_ and (k <> 3 or m.type in ('email.delivered', 'email.replied'))
         where t + m.after <= $5`,
        [workspaceId, first, last, yearAgo, now],
      );
    });
    log(`seeded ${last.toLocaleString('en')} / ${ENROLLMENTS.toLocaleString('en')} enrollments`);
  }
  // Delivered/replied on the SMS step are named as SMS events.
  await db.query(`update events set type = replace(type, 'email.', 'sms.') where workspace_id = $1 and channel = 'sms'`, [workspaceId]);
  await db.query('analyze');
  return { sequenceIds, ownerIds };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function run(store: string, db: Db): Promise<void> {
  // --uncached: the clock moves on by the live aggregate's keeping time before each report, so
  // every one reads today's rows (starting at 23:45 so that 80 reports stay within the day).
  const now = new Date(`${new Date().toISOString().slice(0, 10)}T${values.uncached ? '23:45' : '23:59'}:00Z`);
  let clockAt = now.getTime();
  const runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent' }), { db, worker: false, clock: { now: () => new Date(clockAt) } });
  await runtime.app.ready();
  const workspace = await ensureWorkspace(db, `bench-${Date.now()}`);
  const { token } = await createToken(db, workspace.id, 'viewer', 'bench');
  const started = performance.now();
  const { sequenceIds, ownerIds } = await seed(db, workspace.id, now);
  const [counts] = await db.query<{ executions: number; events: number }>(
    `select (select count(*) from sequence_executions where workspace_id = $1)::int as executions, (select count(*) from events where workspace_id = $1)::int as events`,
    [workspace.id],
  );
  log(`${store}: seeded ${counts!.executions.toLocaleString('en')} executions and ${counts!.events.toLocaleString('en')} events in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  const day = (offset: number) => new Date(now.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
  const get = async (query: string) => {
    if (values.uncached) clockAt += LIVE_CACHE_MS;
    const t0 = performance.now();
    const answer = await runtime.app.inject({ method: 'GET', url: `/api/reports?${query}`, headers: { authorization: `Bearer ${token}` } });
    const ms = performance.now() - t0;
    if (answer.statusCode !== 200) throw new Error(`${query}: ${answer.statusCode} ${answer.body}`);
    return { ms, body: JSON.parse(answer.body) as { totals: { sent: number } } };
  };

  const [live] = await db.query<{ executions: number }>(
    `select count(*)::int as executions from sequence_executions where workspace_id = $1 and started_at >= $2`,
    [workspace.id, `${day(0)}T00:00:00Z`],
  );
  const upkeepStarted = performance.now();
  await runtime.reports.tick();
  const [built] = await db.query<{ days: number; rows: number; totals: number; owners: number }>(
    `select (select count(*) from report_days_built where workspace_id = $1)::int as days, (select count(*) from report_days where workspace_id = $1)::int as rows,
       (select count(*) from report_day_totals where workspace_id = $1)::int as totals, (select count(*) from report_day_owners where workspace_id = $1)::int as owners`,
    [workspace.id],
  );
  console.log(
    `${store}: upkeep built ${built!.days} closed days (${built!.rows.toLocaleString('en')} rollup rows, ${built!.totals.toLocaleString('en')} coarse rows, ${built!.owners.toLocaleString('en')} owner rows) in ${((performance.now() - upkeepStarted) / 1000).toFixed(1)} s; today (live) has ${live!.executions.toLocaleString('en')} executions`,
  );
  if (values.explain) {
    // The live aggregate's plan, timed (the third run, so caches are warm).
    // Over the whole day (what every live report read before the kept hours), then over the last hour.
    for (const [what, since] of [['the whole of today', Date.parse(`${day(0)}T00:00:00Z`)], ['the rows since the last kept hour', Math.floor((now.getTime() - PREFIX_CLOSE_AFTER_MS) / 3_600_000) * 3_600_000]] as const) {
      let plan = '';
      for (let i = 0; i < 3; i += 1) plan = await explainLiveReport(db, { workspaceId: workspace.id, to: day(0), since });
      console.log(`${store}: the live aggregate over ${what}, EXPLAIN ANALYZE (load ${loadavg()[0]!.toFixed(1)}):\n${plan}`);
    }
  }
  const year = `from=${day(-364)}&to=${day(0)}`;
  const cold = await get(`${year}&groupBy=day`);
  console.log(`${store}: first report over the year: ${cold.ms.toFixed(0)} ms; ${cold.body.totals.sent.toLocaleString('en')} messages sent`);

  const shapes = [
    `from=${day(-29)}&to=${day(0)}&groupBy=day`,
    `${year}&groupBy=day`,
    `${year}&groupBy=week`,
    `${year}&groupBy=step`,
    `from=${day(-89)}&to=${day(0)}&groupBy=variant`,
    `${year}&groupBy=channel`,
    `${year}&groupBy=day&sequenceId=${sequenceIds[3]}`,
    `${year}&groupBy=owner`,
    `from=${day(-29)}&to=${day(0)}&groupBy=day&owner=${ownerIds[1]}`,
  ];
  for (const shape of shapes) await get(shape); // warm-up: one of each
  const times: number[] = [];
  const perShape = new Map<string, number[]>();
  for (let q = 0; q < QUERIES; q += 1) {
    const shape = shapes[q % shapes.length]!;
    const { ms } = await get(shape);
    times.push(ms);
    perShape.set(shape, [...(perShape.get(shape) ?? []), ms]);
  }
  times.sort((a, b) => a - b);
  console.log(`${store}: load average at the end of the timed reports: ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1 / 5 / 15 min)`);
  console.log(`${store}: ${QUERIES} reports: p50 ${percentile(times, 50).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms, p99 ${percentile(times, 99).toFixed(0)} ms, max ${times[times.length - 1]!.toFixed(0)} ms`);
  for (const [shape, ms] of perShape) {
    ms.sort((a, b) => a - b);
    console.log(`${store}:   ${shape.replace(/from=[\d-]+&to=[\d-]+/, (m) => (m.includes(day(-364)) ? 'year' : m.includes(day(-29)) ? '30 days' : '90 days'))}: median ${percentile(ms, 50).toFixed(0)} ms, max ${ms[ms.length - 1]!.toFixed(0)} ms`);
  }
  await runtime.close();
}

for (const store of values.store!.split(',')) {
  const database = store === 'postgres' ? await openPostgresBench() : await openPgliteBench();
  try {
    await run(store, database.db);
  } finally {
    await database.close();
  }
}
