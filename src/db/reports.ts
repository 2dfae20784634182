/**
 * Reports over time (docs/ANALYTICS.md, "Reports"): a workspace's message figures per UTC day,
 * grouped by a dimension. Closed days are read from the rollups — `report_days` (per sequence,
 * step, variant, channel and mailbox), its sums `report_day_totals` (per sequence and channel) and
 * `report_day_owners` (per sequence, channel and owner), built per workspace and day by the same
 * aggregate that answers the live day — so a report over
 * a year of a million executions reads a few hundred or thousand rollup rows plus today's rows.
 *
 * Every figure counts **messages** (an enrollment at a step), dated by when it happened: reached
 * and sent/failed/skipped by the execution's start, an event measure by when its first event of
 * that measure about the message was received (so each message counts once per measure, and
 * summing days gives the same count as one long period).
 */
import type { Db, Queryable } from './db.ts';
import { CREDITED_MESSAGE, EVENT_MEASURES, MESSAGE_STEP_TYPES, outcomesOf } from './stats.ts';

/**
 * A UTC day closes (is built into the rollup, no longer read live) this long after its end:
 * today is always live, and yesterday for the first hour of today, so the sends that started
 * just before midnight finish before their day is built. A later change to a closed day's
 * executions marks the day dirty (src/db/functions/report_days_touched.sql) and it is built
 * again before it is read.
 */
export const CLOSE_AFTER_MS = 60 * 60 * 1000;

/**
 * An hour of a live day is kept aggregated (`report_day_prefixes`) once it ended this long ago, so
 * a report reads live only the rows since the last such hour (at most an hour and five minutes of
 * them). The trigger that marks late changes (src/db/functions/report_days_touched.sql) marks the
 * day of a change to an execution that started before the last whole hour that ended four minutes
 * ago (one less, for a database clock a little behind), so every kept hour is covered.
 */
export const PREFIX_CLOSE_AFTER_MS = 5 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** The longest period one report covers, two years of days; the upkeep builds that far back. */
export const MAX_REPORT_DAYS = 731;

export const REPORT_MEASURES = [
  'reached', 'sent', 'failed', 'skipped', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'optedOut', 'converted', 'meetingBooked',
] as const;
export type ReportMeasure = (typeof REPORT_MEASURES)[number];

export const REPORT_GROUPS = ['day', 'week', 'sequence', 'step', 'variant', 'channel', 'mailbox', 'owner'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

export type ReportRow = {
  /** The group: a day or a week's Monday (YYYY-MM-DD), a sequence id, a channel, a mailbox id, an owner's user id or ''. */
  key: string;
  sequenceId: string | null;
  stepId: string | null;
  variant: string | null;
} & Record<ReportMeasure, number>;

const COLUMN: Record<ReportMeasure, string> = {
  reached: 'reached', sent: 'sent', failed: 'failed', skipped: 'skipped', delivered: 'delivered',
  opened: 'opened', clicked: 'clicked', replied: 'replied', bounced: 'bounced', optedOut: 'opted_out',
  converted: 'converted', meetingBooked: 'meeting_booked',
};

const EVENT_MEASURE_COLUMNS = Object.keys(EVENT_MEASURES) as Array<keyof typeof EVENT_MEASURES>;
const MEASURED_TYPES = EVENT_MEASURE_COLUMNS.flatMap((m) => [...EVENT_MEASURES[m]]);
/** `(values ('delivered', array[…]), …)`: each measure with its event types; literals from our own table. */
const MEASURE_TYPES_SQL = `(values ${EVENT_MEASURE_COLUMNS.map((m) => `('${m}', array[${EVENT_MEASURES[m].map((t) => `'${t}'`).join(', ')}])`).join(', ')}) as mt(measure, types)`;
/** The aggregate's key, every dimension: today's kept hours (`report_day_prefixes`) and the live rows. */
const KEY = 'workspace_id, day, sequence_id, step_id, variant, channel, mailbox, owner';
/** The fine rollup's key: every dimension but the owner (the owner would multiply its rows by the reps who sent that day). */
const FINE_KEY = 'workspace_id, day, sequence_id, step_id, variant, channel, mailbox';
/** The coarse rollup's key: what the day, week, sequence and channel reports group and filter by. */
const TOTALS_KEY = 'workspace_id, day, sequence_id, channel';
/** The owners' rollup's key: what owner reports, and reports filtered by owner, group and filter by. */
const OWNERS_KEY = 'workspace_id, day, sequence_id, channel, owner';

/**
 * The figures of one workspace (`$1`) in [`$2`, `$3`) per day and dimension key: executions by
 * `started_at`, events by `received_at`, each (enrollment, step, measure) once, on its first
 * event; conversions and meetings (the stats' definitions, src/db/stats.ts) on the day
 * Touchpoint learned of them, under the message they are credited to. The owner is the one
 * stamped on the execution when it was written (migration 034): an event's is its message's.
 */
const AGGREGATE = `
  with ex as (
    select x.workspace_id, (x.started_at at time zone 'UTC')::date as day, x.sequence_id, x.step_id,
      coalesce(x.variant, '') as variant, coalesce(x.channel, '') as channel,
      -- A subquery per execution, not a join: the planner joined a day's few thousand rows to a
      -- hash of every enrollment of the workspace (a scan of 250,000 rows on every live report).
      coalesce((select e.mailbox_id::text from enrollments e where e.id = x.enrollment_id), '') as mailbox,
      coalesce(x.owner_id::text, '') as owner,
      -- The enrollment's first visit of the step: visit counts every step the enrollment entered
      -- (waits included), so only the first step's first visit is 1; a later step's first visit
      -- is the one with no earlier visit of that step (one probe of (enrollment, step, visit)).
      count(*) filter (where x.visit = 1 or not exists (
        select 1 from sequence_executions p where p.enrollment_id = x.enrollment_id and p.step_id = x.step_id and p.visit < x.visit)) as reached,
      count(*) filter (where x.status = 'succeeded' and x.step_type in ${MESSAGE_STEP_TYPES}) as sent,
      count(*) filter (where x.status = 'failed') as failed,
      count(*) filter (where x.status = 'skipped') as skipped
    from sequence_executions x
    where x.workspace_id = $1 and x.started_at >= $2 and x.started_at < $3
    group by 1, 2, 3, 4, 5, 6, 7, 8
  ), firsts as (
    select v.workspace_id, (v.received_at at time zone 'UTC')::date as day, en.sequence_id, v.step_id,
      coalesce(x.variant, '') as variant, coalesce(v.channel, x.channel, '') as channel, coalesce(en.mailbox_id::text, '') as mailbox,
      -- The owner stamped on the message the event is about; an event that names its step but not
      -- its execution (none the engine writes today) takes the step's last visit's.
      coalesce(case when v.execution_id is null
        then (select y.owner_id from sequence_executions y where y.enrollment_id = v.enrollment_id and y.step_id = v.step_id order by y.visit desc limit 1)
        else x.owner_id end::text, '') as owner,
      mt.measure
    from events v
    join ${MEASURE_TYPES_SQL} on v.type = any(mt.types)
    -- Not flattened into a join (offset 0), for the same reason as above: one probe per event.
    join lateral (select en.sequence_id, en.mailbox_id from enrollments en where en.id = v.enrollment_id offset 0) en on true
    left join sequence_executions x on x.id = v.execution_id
    where v.workspace_id = $1 and v.received_at >= $2 and v.received_at < $3 and v.step_id is not null
      and v.type = any(array[${MEASURED_TYPES.map((t) => `'${t}'`).join(', ')}])
      and not exists (
        select 1 from events p
        where p.enrollment_id = v.enrollment_id and p.type = any(mt.types) and p.step_id = v.step_id
          and (p.received_at, p.id) < (v.received_at, v.id))
  ), outcomes as (${outcomesOf('e.workspace_id = $1', { from: '$2', to: '$3' })}
  ), credited as (
    -- An outcome before any message was sent has no message to count under: not in reports.
    select en.workspace_id, (o.received_at at time zone 'UTC')::date as day, en.sequence_id, c.step_id,
      coalesce(c.variant, '') as variant, coalesce(c.channel, '') as channel, coalesce(en.mailbox_id::text, '') as mailbox,
      coalesce(c.owner_id::text, '') as owner,
      count(*) filter (where o.outcome = 'converted') as converted, count(*) filter (where o.outcome = 'meetingBooked') as meeting_booked
    from outcomes o join enrollments en on en.id = o.enrollment_id
    cross join lateral (${CREDITED_MESSAGE}) c
    group by 1, 2, 3, 4, 5, 6, 7, 8
  ), ev as (
    select ${KEY}, ${EVENT_MEASURE_COLUMNS.map((m) => `count(*) filter (where measure = '${m}') as ${COLUMN[m]}`).join(', ')}
    from firsts group by ${KEY}
  )
  select ${KEY},
    coalesce(ex.reached, 0)::int as reached, coalesce(ex.sent, 0)::int as sent, coalesce(ex.failed, 0)::int as failed, coalesce(ex.skipped, 0)::int as skipped,
    ${EVENT_MEASURE_COLUMNS.map((m) => `coalesce(ev.${COLUMN[m]}, 0)::int as ${COLUMN[m]}`).join(', ')},
    coalesce(credited.converted, 0)::int as converted, coalesce(credited.meeting_booked, 0)::int as meeting_booked
  from ex full join ev using (${KEY}) full join credited using (${KEY})`;

const ALL_COLUMNS = REPORT_MEASURES.map((m) => COLUMN[m]).join(', ');
const SUM_COLUMNS = REPORT_MEASURES.map((m) => `sum(${COLUMN[m]})::int as ${COLUMN[m]}`).join(', ');

function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function addDays(day: string, n: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000));
}

/** Days from `first` to `last`, both counted. */
function spanDays(first: string, last: string): number {
  return (Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000 + 1;
}

/** The first day still read live at `now` (today, or yesterday within CLOSE_AFTER_MS of midnight). */
export function firstLiveDay(now: Date): string {
  return utcDay(new Date(now.getTime() - CLOSE_AFTER_MS));
}

/**
 * Builds the rollups of the closed days in [from, to] that are not built yet or were marked
 * dirty since, in one pass per run of such days; answers how many passes. Idempotent and safe to
 * race: a pass deletes its days' marks and rows, writes them again and marks them built in one
 * transaction; a second builder's rows conflict and are dropped (they are the same figures).
 */
export async function buildReportDays(
  db: Db,
  args: { workspaceId: string; from: string; to: string; now: Date; /** Longest run of days built in one transaction. */ maxDaysPerPass?: number },
): Promise<number> {
  const maxDays = args.maxDaysPerPass ?? Infinity;
  const lastClosed = addDays(firstLiveDay(args.now), -1);
  const to = args.to < lastClosed ? args.to : lastClosed;
  if (args.from > to) return 0;
  const fresh = `from report_days_built b
      where b.workspace_id = $1 and b.day between $2::date and $3::date
        and not exists (select 1 from report_days_dirty d where d.workspace_id = b.workspace_id and d.day = b.day)`;
  // The usual answer, every day built, in one number rather than a year of rows.
  const [count] = await db.query<{ n: number }>(`select count(*)::int as n ${fresh}`, [args.workspaceId, args.from, to]);
  if (count!.n === spanDays(args.from, to)) return 0;
  const done = await db.query<{ day: string }>(`select to_char(b.day, 'YYYY-MM-DD') as day ${fresh}`, [args.workspaceId, args.from, to]);
  const built = new Set(done.map((b) => b.day));
  // Consecutive missing days become one range: a year never built is one aggregate, not 365.
  const ranges: Array<[string, string]> = [];
  for (let day = args.from; day <= to; day = addDays(day, 1)) {
    if (built.has(day)) continue;
    const last = ranges[ranges.length - 1];
    if (last && addDays(last[1], 1) === day && spanDays(last[0], day) <= maxDays) last[1] = day;
    else ranges.push([day, day]);
  }
  let days = 0;
  for (const [first, last] of ranges) {
    days += spanDays(first, last);
    await db.transaction(async (tx) => {
      const range = [args.workspaceId, first, last];
      // The marks go first: a change being written now either is seen by the aggregate below
      // (the delete waited for it) or marks the day again once this commits.
      await tx.query(`delete from report_days_dirty where workspace_id = $1 and day between $2::date and $3::date`, range);
      await tx.query(`delete from report_days where workspace_id = $1 and day between $2::date and $3::date`, range);
      await tx.query(`delete from report_day_totals where workspace_id = $1 and day between $2::date and $3::date`, range);
      await tx.query(`delete from report_day_owners where workspace_id = $1 and day between $2::date and $3::date`, range);
      // A built day is read from the rollups: its kept hours are no longer needed.
      await tx.query(`delete from report_day_prefixes where workspace_id = $1 and day between $2::date and $3::date`, range);
      await tx.query(`delete from report_day_prefixes_built where workspace_id = $1 and day between $2::date and $3::date`, range);
      // One aggregate, summed into the fine rollup (over owners) and the owners' (over step,
      // variant and mailbox) in one statement.
      await tx.query(
        `with a as materialized (${AGGREGATE}),
         fine as (
           insert into report_days (${FINE_KEY}, ${ALL_COLUMNS})
           select ${FINE_KEY}, ${SUM_COLUMNS} from a group by ${FINE_KEY}
           on conflict do nothing)
         insert into report_day_owners (${OWNERS_KEY}, ${ALL_COLUMNS})
         select ${OWNERS_KEY}, ${SUM_COLUMNS} from a group by ${OWNERS_KEY}
         on conflict do nothing`,
        [args.workspaceId, `${first}T00:00:00Z`, `${addDays(last, 1)}T00:00:00Z`],
      );
      await tx.query(
        `insert into report_day_totals (${TOTALS_KEY}, ${ALL_COLUMNS})
         select ${TOTALS_KEY}, ${SUM_COLUMNS} from report_days
          where workspace_id = $1 and day between $2::date and $3::date
          group by ${TOTALS_KEY}
         on conflict do nothing`,
        range,
      );
      await tx.query(
        `insert into report_days_built (workspace_id, day, built_at)
         select $1, d::date, $4 from generate_series($2::date, $3::date, interval '1 day') d
         on conflict (workspace_id, day) do update set built_at = excluded.built_at`,
        [...range, args.now],
      );
    });
  }
  // PGlite has no autovacuum: without statistics the planner takes the rollups for empty and
  // groups a year's rows by sorting them. A month or more of new days is worth an analyze.
  if (days >= ANALYZE_AFTER_DAYS) await db.query('analyze report_days, report_day_totals, report_day_owners');
  return ranges.length;
}

const ANALYZE_AFTER_DAYS = 28;

/**
 * The worker's upkeep: builds every workspace's closed days not built yet (or dirty) since its
 * first activity, at most `maxDays` back, so no report pays the build of a period nobody read
 * before; `maxDaysPerPass` bounds each transaction (the embedded engine waits for it). Answers
 * the passes made.
 */
export async function buildClosedReportDays(db: Db, args: { now: Date; maxDays: number; maxDaysPerPass?: number }): Promise<number> {
  const oldest = addDays(utcDay(args.now), -(args.maxDays - 1));
  const workspaces = await db.query<{ id: string; first: string | null }>(
    `select w.id, to_char(least(
        (select min(x.started_at) from sequence_executions x where x.workspace_id = w.id),
        (select min(v.received_at) from events v where v.workspace_id = w.id)) at time zone 'UTC', 'YYYY-MM-DD') as first
     from workspaces w`,
  );
  let passes = 0;
  for (const w of workspaces) {
    if (w.first === null) continue;
    passes += await buildReportDays(db, { workspaceId: w.id, from: w.first > oldest ? w.first : oldest, to: utcDay(args.now), now: args.now, maxDaysPerPass: args.maxDaysPerPass });
  }
  return passes;
}

/** Groupings the coarse rollup can answer (no step, variant, mailbox or owner in their key). */
const FROM_TOTALS: ReadonlySet<ReportGroup> = new Set(['day', 'week', 'sequence', 'channel']);
/** Groupings the owners' rollup can answer, and so the ones an owner filter goes with. */
export const OWNER_FILTER_GROUPS: ReadonlySet<ReportGroup> = new Set(['day', 'week', 'sequence', 'channel', 'owner']);

const GROUP_KEY: Record<ReportGroup, { select: string; group: string }> = {
  day: { select: `to_char(day, 'YYYY-MM-DD') as key, null::uuid as "sequenceId", null::text as "stepId", null::text as variant`, group: 'day' },
  week: {
    select: `to_char(date_trunc('week', day), 'YYYY-MM-DD') as key, null::uuid as "sequenceId", null::text as "stepId", null::text as variant`,
    group: `date_trunc('week', day)`,
  },
  sequence: { select: `sequence_id::text as key, sequence_id as "sequenceId", null::text as "stepId", null::text as variant`, group: 'sequence_id' },
  step: { select: `sequence_id::text || '/' || step_id as key, sequence_id as "sequenceId", step_id as "stepId", null::text as variant`, group: 'sequence_id, step_id' },
  variant: {
    select: `sequence_id::text || '/' || step_id || '/' || variant as key, sequence_id as "sequenceId", step_id as "stepId", variant`,
    group: 'sequence_id, step_id, variant',
  },
  channel: { select: `channel as key, null::uuid as "sequenceId", null::text as "stepId", null::text as variant`, group: 'channel' },
  mailbox: { select: `mailbox as key, null::uuid as "sequenceId", null::text as "stepId", null::text as variant`, group: 'mailbox' },
  owner: { select: `owner as key, null::uuid as "sequenceId", null::text as "stepId", null::text as variant`, group: 'owner' },
};

/** The live part of a report: the rows (every dimension) of the days it reads live, as JSON. */
export type LiveReportRows = { from: string; to: string; json: string };

/** The live period of a report over [from, to] at `now`: today (and yesterday in its first hour), within the period. */
export function livePeriod(args: { from: string; to: string; now: Date }): { from: string; to: string } | null {
  const liveFrom = firstLiveDay(args.now);
  const from = args.from > liveFrom ? args.from : liveFrom;
  return from <= args.to ? { from, to: args.to } : null;
}

const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);
const iso = (ms: number) => new Date(ms).toISOString();
const clamp = (ms: number, low: number, high: number) => Math.min(high, Math.max(low, ms));

/**
 * Extends the kept aggregate of the live days [from, to] (`report_day_prefixes`) to the last hour
 * that closed `PREFIX_CLOSE_AFTER_MS` ago, adding the hours since it was last extended (usually
 * none, or one), or building it again from midnight when a late change marked the day dirty.
 * Answers the moment the live days are kept to: the rows from then on are read live.
 */
export async function buildReportPrefixes(db: Db, args: { workspaceId: string; from: string; to: string; now: Date }): Promise<number> {
  const closed = args.now.getTime() - PREFIX_CLOSE_AFTER_MS;
  const end = closed - (closed % HOUR_MS);
  const days = await db.query<{ day: string; until: number | null; dirty: boolean }>(
    `select to_char(d, 'YYYY-MM-DD') as day, (extract(epoch from p.until) * 1000)::float8 as until,
       exists (select 1 from report_days_dirty x where x.workspace_id = $1 and x.day = d::date) as dirty
     from generate_series($2::date, $3::date, interval '1 day') d
     left join report_day_prefixes_built p on p.workspace_id = $1 and p.day = d::date
     order by d`,
    [args.workspaceId, args.from, args.to],
  );
  let since = dayStart(args.from);
  for (const { day, until, dirty } of days) {
    const target = clamp(end, dayStart(day), dayStart(day) + DAY_MS);
    const reach = !dirty && until !== null && until >= target ? until : target > dayStart(day) || until !== null ? await extendPrefix(db, args.workspaceId, day, target) : null;
    if (reach !== null && reach > since) since = reach;
  }
  return since;
}

/** One live day's prefix to `target` (or beyond, if it already reaches further), in one transaction; answers its reach. */
function extendPrefix(db: Db, workspaceId: string, day: string, target: number): Promise<number> {
  return db.transaction(async (tx) => {
    const key = [workspaceId, day];
    // The marker's row lock makes two builders take turns: the second finds the hours added.
    await tx.query(`insert into report_day_prefixes_built (workspace_id, day, until) values ($1, $2::date, $3) on conflict do nothing`, [...key, iso(dayStart(day))]);
    const [marker] = await tx.query<{ until: number }>(
      `select (extract(epoch from until) * 1000)::float8 as until from report_day_prefixes_built where workspace_id = $1 and day = $2::date for update`,
      key,
    );
    // The mark goes first, as in buildReportDays: a change being written now is either seen below or marks the day again.
    const [mark] = await tx.query<{ dirty: boolean }>(`select exists (select 1 from report_days_dirty where workspace_id = $1 and day = $2::date) as dirty`, key);
    let from = marker!.until;
    if (mark!.dirty) {
      // A day already built keeps its mark for the rollup's rebuild (only a clock moved back reads a built day live).
      await tx.query(
        `delete from report_days_dirty d where workspace_id = $1 and day = $2::date
           and not exists (select 1 from report_days_built b where b.workspace_id = d.workspace_id and b.day = d.day)`,
        key,
      );
      await tx.query(`delete from report_day_prefixes where workspace_id = $1 and day = $2::date`, key);
      from = dayStart(day);
    }
    if (from >= target) {
      if (from !== marker!.until) await tx.query(`update report_day_prefixes_built set until = $3 where workspace_id = $1 and day = $2::date`, [...key, iso(from)]);
      return from;
    }
    // The aggregate is additive over time (each message counts once per measure, on the moment
    // of its first event), so the new hours' figures add to the kept ones.
    await tx.query(
      `insert into report_day_prefixes (${KEY}, ${ALL_COLUMNS})
       select ${KEY}, ${ALL_COLUMNS} from (${AGGREGATE}) a
       on conflict (${KEY}) do update set ${ALL_COLUMNS.split(', ').map((c) => `${c} = report_day_prefixes.${c} + excluded.${c}`).join(', ')}`,
      [workspaceId, iso(from), iso(target)],
    );
    await tx.query(`update report_day_prefixes_built set until = $3 where workspace_id = $1 and day = $2::date`, [...key, iso(target)]);
    return target;
  });
}

/**
 * The live days [from, to] of a workspace, every dimension kept, as JSON for `reportRows`: their
 * kept hours (`buildReportPrefixes`, extended first) plus the rows since, aggregated — in one
 * statement, which also checks the prefix still reaches where this report starts reading rows
 * (another report may have extended it in between; then it is read again). A caller may keep the
 * answer a few seconds and answer several reports with it (the API does, docs/ANALYTICS.md, "Reports").
 */
export async function liveReportRows(db: Db, args: { workspaceId: string; from: string; to: string; now: Date }): Promise<LiveReportRows> {
  for (let attempt = 1; ; attempt += 1) {
    const since = await buildReportPrefixes(db, args);
    const [row] = await db.query<{ json: string; kept: boolean }>(LIVE_SQL, [...liveParams({ ...args, since }), args.from, args.to]);
    if (row!.kept || attempt === 3) return { from: args.from, to: args.to, json: row!.json };
  }
}

const liveParams = (args: { workspaceId: string; to: string; since: number }) => [args.workspaceId, iso(args.since), `${addDays(args.to, 1)}T00:00:00Z`];

/** The plan of the live rows' aggregate over [since, the end of `to`), timed (EXPLAIN ANALYZE), for the benchmark's `--explain`. */
export async function explainLiveReport(db: Queryable, args: { workspaceId: string; to: string; since: number }): Promise<string> {
  const rows = await db.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) select count(*) from (${AGGREGATE}) a`, liveParams(args));
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

const LIVE_SQL = `with kept as (
       select ${KEY}, ${ALL_COLUMNS} from report_day_prefixes where workspace_id = $1 and day between $4::date and $5::date
     ), reach as (
       select coalesce(max(until), $4::date::timestamp at time zone 'UTC') as until
       from report_day_prefixes_built where workspace_id = $1 and day between $4::date and $5::date
     )
     select (select until from reach) = $2::timestamptz as kept,
       coalesce(json_agg(json_build_object(${[...KEY.split(', '), ...REPORT_MEASURES.map((m) => COLUMN[m])]
      .map((c) => `'${c}', ${c === 'day' ? `to_char(day, 'YYYY-MM-DD')` : c}`)
      .join(', ')}))::text, '[]') as json
     from (select * from kept union all select ${KEY}, ${ALL_COLUMNS} from (${AGGREGATE}) a) r`;

const LIVE_RECORD = `${KEY.split(', ').map((c) => `${c} ${c === 'workspace_id' || c === 'sequence_id' ? 'uuid' : c === 'day' ? 'date' : 'text'}`).join(', ')}, ${REPORT_MEASURES.map((m) => `${COLUMN[m]} int`).join(', ')}`;

/**
 * The report: closed days from a rollup (the coarse one when the grouping allows), the live
 * days from `live` (liveReportRows over `livePeriod`; null when the period has no live day),
 * grouped. `from`/`to` are UTC days, inclusive. `owner`: a user id, or '' for the messages of
 * unowned leads; only with the groupings of OWNER_FILTER_GROUPS. Call `buildReportDays` first (the API does).
 */
export async function reportRows(
  db: Queryable,
  args: { workspaceId: string; from: string; to: string; groupBy: ReportGroup; sequenceId?: string; channel?: string; owner?: string; now: Date; live: LiveReportRows | null },
): Promise<ReportRow[]> {
  const liveFrom = firstLiveDay(args.now);
  const rollupTo = args.to < liveFrom ? args.to : addDays(liveFrom, -1);
  const { select, group } = GROUP_KEY[args.groupBy];
  if (args.owner !== undefined && !OWNER_FILTER_GROUPS.has(args.groupBy)) throw new Error(`An owner filter does not go with groupBy=${args.groupBy}.`);
  const [rollup, key] =
    args.groupBy === 'owner' || args.owner !== undefined
      ? ['report_day_owners', OWNERS_KEY]
      : FROM_TOTALS.has(args.groupBy)
        ? ['report_day_totals', TOTALS_KEY]
        : ['report_days', FINE_KEY];
  const sums = REPORT_MEASURES.map((m) => `sum(${COLUMN[m]})::int as "${m}"`).join(', ');
  return db.query<ReportRow>(
    `with rows as (
       select ${key}, ${ALL_COLUMNS} from ${rollup}
        where workspace_id = $1 and day between $2::date and $3::date
       union all
       select ${key}, ${ALL_COLUMNS} from jsonb_to_recordset($4::jsonb) as live(${LIVE_RECORD})
     )
     select ${select}, ${sums}
     from rows
     where ($5::uuid is null or sequence_id = $5::uuid) and ($6::text is null or channel = $6::text)${args.owner === undefined ? '' : ' and owner = $7::text'}
     group by ${group}
     order by 1`,
    [args.workspaceId, args.from, rollupTo, args.live?.json ?? '[]', args.sequenceId ?? null, args.channel ?? null, ...(args.owner === undefined ? [] : [args.owner])],
  );
}

/** Names for the keys a report shows: its sequences and mailboxes in the workspace. */
export async function reportNames(db: Queryable, workspaceId: string): Promise<{ sequences: Map<string, string>; mailboxes: Map<string, string> }> {
  const [sequences, mailboxes] = await Promise.all([
    db.query<{ id: string; name: string }>(`select id, name from sequences where workspace_id = $1`, [workspaceId]),
    db.query<{ id: string; name: string }>(`select id::text as id, from_email as name from mailboxes where workspace_id = $1`, [workspaceId]),
  ]);
  return { sequences: new Map(sequences.map((s) => [s.id, s.name])), mailboxes: new Map(mailboxes.map((m) => [m.id, m.name])) };
}

/**
 * Names for an owner report's keys (user ids stamped on the workspace's own messages: members
 * then, perhaps not now), as "Name <email>", or the email when the person has no name. An id
 * whose account is gone has no name here.
 */
export async function ownerNames(db: Queryable, userIds: readonly string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db.query<{ id: string; name: string }>(
    `select id::text as id, case when coalesce(name, '') = '' then email else name || ' <' || email || '>' end as name from users where id = any($1::uuid[])`,
    [userIds],
  );
  return new Map(rows.map((o) => [o.id, o.name]));
}
