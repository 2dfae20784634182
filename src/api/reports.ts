/**
 * `GET /api/reports`: the workspace's message figures over time, grouped by day, week, sequence,
 * step, variant, channel, mailbox or owner, as JSON or CSV (docs/ANALYTICS.md, "Reports"). Closed days
 * come from the daily rollups (built by the worker's upkeep, or here on first use), today from its
 * kept closed hours and the rows since.
 */
import { z } from 'zod';
import { CHANNELS } from '../core/definition.ts';
import type { Db } from '../db/db.ts';
import { buildReportDays, livePeriod, liveReportRows, MAX_REPORT_DAYS, REPORT_GROUPS, type LiveReportRows, ownerNames, OWNER_FILTER_GROUPS, REPORT_MEASURES, reportNames, reportRows, type ReportMeasure, type ReportRow } from '../db/reports.ts';
import type { Engine } from '../engine/engine.ts';
import { callerOf } from './auth.ts';
import { csvRow } from './exports.ts';
import { ownerFilter, tokenHasNoMe } from './leadFilter.ts';
import { ratesOf, ratesSchema } from './stats.ts';
import { commonErrors, fail, id, type Api } from './wire.ts';

const DAY_MS = 86_400_000;
/**
 * How long (on the engine's clock) a workspace's live aggregate — today's figures — answers
 * reports before it is read again: the dashboard's charts, filters and groupings in a row cost
 * one aggregate of today's rows, not one each. Today's figures may be this far behind.
 */
export const LIVE_CACHE_MS = 10_000;

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC day "YYYY-MM-DD"')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), { message: 'is not a calendar day' });

const reportQuery = z.object({
  from: day.optional().describe('First UTC day, inclusive; default 29 days before `to`'),
  to: day.optional().describe('Last UTC day, inclusive; default today'),
  groupBy: z.enum(REPORT_GROUPS).default('day'),
  sequenceId: id.optional().describe('Only this sequence'),
  channel: z.enum(CHANNELS).optional().describe('Only messages on this channel'),
  owner: ownerFilter
    .optional()
    .describe("Only the messages credited to this owner (the lead's owner when the message was written): a member's user id, `me` (a signed-in person) or `none` (unowned leads). With groupBy day, week, sequence, channel or owner"),
  format: z.enum(['json', 'csv']).default('json'),
});

const count = z.number().int();
const counts = Object.fromEntries(REPORT_MEASURES.map((m) => [m, count])) as Record<ReportMeasure, typeof count>;

const reportRowSchema = z.object({
  key: z.string().describe('The group: a day, a week (its Monday), a sequence id, "sequence/step", "sequence/step/variant", a channel, a mailbox id, an owner\'s user id; "" = none'),
  label: z.string().describe('The key for a person: a sequence or mailbox name, an owner as "Name <email>" (or the email), "(none)", "(no owner)"'),
  sequenceId: id.nullable(),
  stepId: z.string().nullable(),
  variant: z.string().nullable(),
  ...counts,
  rates: ratesSchema,
});

const reportSchema = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.enum(REPORT_GROUPS),
  rows: z.array(reportRowSchema),
  totals: z.object({ ...counts, rates: ratesSchema }),
});
type ReportWire = z.infer<typeof reportSchema>;

const utcDay = (date: Date) => date.toISOString().slice(0, 10);
const shift = (d: string, days: number) => utcDay(new Date(Date.parse(`${d}T00:00:00Z`) + days * DAY_MS));
const zero = (): Record<ReportMeasure, number> => Object.fromEntries(REPORT_MEASURES.map((m) => [m, 0])) as Record<ReportMeasure, number>;

/** Days and weeks with nothing in them are rows of zeros, so a chart's axis has no holes. */
function withEmptyPeriods(rows: ReportRow[], groupBy: string, from: string, to: string): ReportRow[] {
  if (groupBy !== 'day' && groupBy !== 'week') return rows;
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const keys: string[] = [];
  if (groupBy === 'day') for (let d = from; d <= to; d = shift(d, 1)) keys.push(d);
  else {
    const weekday = (new Date(`${from}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
    for (let d = shift(from, -weekday); d <= to; d = shift(d, 7)) keys.push(d);
  }
  return keys.map((key) => byKey.get(key) ?? { key, sequenceId: null, stepId: null, variant: null, ...zero() });
}

const RATES = ['delivery', 'open', 'click', 'reply', 'bounce', 'optOut', 'conversion', 'meeting'] as const satisfies ReadonlyArray<keyof z.infer<typeof ratesSchema>>;
const CSV_COLUMNS = ['key', 'label', 'sequenceId', 'stepId', 'variant', ...REPORT_MEASURES, ...RATES.map((r) => `${r}Rate`)];

function toCsv(report: ReportWire): string {
  const lines = [csvRow(CSV_COLUMNS)];
  for (const row of report.rows) {
    lines.push(csvRow([row.key, row.label, row.sequenceId, row.stepId, row.variant, ...REPORT_MEASURES.map((m) => row[m]), ...RATES.map((r) => row.rates[r])]));
  }
  return lines.join('');
}

export function reportRoutes(api: Api, db: Db, engine: Engine) {
  const liveCache = new Map<string, { at: number; live: LiveReportRows }>();
  const liveOf = async (workspaceId: string, period: { from: string; to: string }, now: Date): Promise<LiveReportRows> => {
    const key = `${workspaceId}/${period.from}/${period.to}`;
    const at = now.getTime();
    const kept = liveCache.get(key);
    if (kept && at >= kept.at && at - kept.at < LIVE_CACHE_MS) return kept.live;
    const live = await liveReportRows(db, { workspaceId, ...period, now });
    for (const [k, v] of liveCache) if (!(at >= v.at && at - v.at < LIVE_CACHE_MS)) liveCache.delete(k);
    liveCache.set(key, { at, live });
    return live;
  };

  api.get(
    '/reports',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Message figures over time, grouped by day, week, sequence, step, variant, channel, mailbox or owner (JSON or CSV)',
        description:
          'Counts messages (an enrollment at a step), each dated by when it happened, in UTC days. `format=csv` answers text/csv with one row per group. Definitions: docs/ANALYTICS.md, "Reports".',
        tags: ['sequences'],
        querystring: reportQuery,
        response: { 200: reportSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const query = request.query;
      // The owner filter as the rollup keys it: a user id, '' for unowned leads (docs/ANALYTICS.md, "Reports").
      let owner: string | undefined;
      if (query.owner === 'me') {
        owner = request.person?.userId;
        if (!owner) return fail(reply, 400, 'invalid_request', tokenHasNoMe);
      } else if (query.owner === 'none') owner = '';
      else owner = query.owner?.toLowerCase();
      const now = engine.deps.clock.now();
      const to = query.to ?? utcDay(now);
      const from = query.from ?? shift(to, -29);
      if (from > to) return fail(reply, 400, 'invalid_request', `"from" (${from}) is after "to" (${to}).`);
      if (owner !== undefined && !OWNER_FILTER_GROUPS.has(query.groupBy)) {
        return fail(reply, 400, 'invalid_request', `"owner" filters reports grouped by ${[...OWNER_FILTER_GROUPS].join(', ')}, not by ${query.groupBy} (docs/ANALYTICS.md, "Reports").`);
      }
      const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
      if (span > MAX_REPORT_DAYS) return fail(reply, 400, 'invalid_request', `A report covers at most ${MAX_REPORT_DAYS} days; this one asks for ${span}. Narrow "from" and "to".`);

      await buildReportDays(db, { workspaceId, from, to, now });
      const period = livePeriod({ from, to, now });
      const live = period ? await liveOf(workspaceId, period, now) : null;
      const [rows, names] = await Promise.all([
        reportRows(db, { workspaceId, from, to, groupBy: query.groupBy, sequenceId: query.sequenceId, channel: query.channel, owner, now, live }),
        reportNames(db, workspaceId),
      ]);
      const owners = query.groupBy === 'owner' ? await ownerNames(db, rows.flatMap((r) => (r.key === '' ? [] : [r.key]))) : new Map<string, string>();
      const totals = zero();
      for (const row of rows) for (const m of REPORT_MEASURES) totals[m] += row[m];
      const labelOf = (row: ReportRow): string => {
        if (query.groupBy === 'mailbox') return row.key === '' ? '(no mailbox: the deployment’s provider)' : (names.mailboxes.get(row.key) ?? row.key);
        if (query.groupBy === 'channel') return row.key === '' ? '(none)' : row.key;
        // An account deleted since keeps its messages, labelled by its id.
        if (query.groupBy === 'owner') return row.key === '' ? '(no owner)' : (owners.get(row.key) ?? row.key);
        if (row.sequenceId) {
          const name = names.sequences.get(row.sequenceId) ?? row.sequenceId;
          return [name, row.stepId, row.variant === '' ? '(no variant)' : row.variant].filter((p) => p !== null && p !== undefined).join(' / ');
        }
        return row.key;
      };
      const report: ReportWire = {
        from,
        to,
        groupBy: query.groupBy,
        rows: withEmptyPeriods(rows, query.groupBy, from, to).map((row) => ({
          ...row,
          variant: row.variant,
          label: labelOf(row),
          rates: ratesOf(row),
        })),
        totals: { ...totals, rates: ratesOf(totals) },
      };
      if (query.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="report-${query.groupBy}-${from}-${to}.csv"`)
          .send(toCsv(report) as never);
      }
      return report;
    },
  );
}
