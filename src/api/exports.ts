/**
 * Exports (docs/API.md, "Exports"): leads and a sequence's enrollments as CSV, a lead's timeline
 * as JSON. Each answer is streamed page by page (keyset pages of PAGE rows through the same
 * queries as the lists, so the same filters), so a 100,000-lead workspace starts downloading at
 * once and the process never holds more than one page. Viewer role, the caller's workspace only.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { ENROLLMENT_STATUSES } from '../core/enrollmentStatus.ts';
import { CHANNELS } from '../core/definition.ts';
import type { Db } from '../db/db.ts';
import { listSequenceEnrollments } from '../db/enrollmentLists.ts';
import { getLead, listLeads } from '../db/leads.ts';
import { getSequence } from '../db/sequences.ts';
import { TIMELINE_KINDS, timelinePage } from '../db/timeline.ts';
import { callerOf } from './auth.ts';
import { enrollmentToWire } from './enrollmentWire.ts';
import { leadSchema, leadToWire } from './leadFields.ts';
import { leadFilterFields, leadMatchOf, tokenHasNoMe } from './leadFilter.ts';
import { timelineItemSchema } from './timeline.ts';
import { commonErrors, fail, idParams, iso, isoTime, type Api } from './wire.ts';

/** Rows per query: large enough that a 20,000-row export is 20 round trips, small enough to hold. */
export const EXPORT_PAGE = 1000;

// A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(…), =cmd|…):
// OWASP's "CSV injection". Tab and CR start formulas in some programs too.
const FORMULA_START = /^[=+\-@\t\r]/;
// An E.164 number is only digits after its '+': no function can hide in it, and a quote would
// break re-importing the file, so phone numbers are left as they are.
const PHONE = /^\+\d{1,15}$/;

/** One CSV cell (RFC 4180): formula-safe, quoted when it holds a comma, quote or line break. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA_START.test(text) && !PHONE.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(cells: readonly unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** Keyset pages until one comes back short; each page becomes one chunk. */
export async function* pages<T extends { id: string }>(
  fetchPage: (after: { at: Date; id: string } | undefined) => Promise<T[]>,
  atOf: (row: T) => Date,
): AsyncGenerator<T[]> {
  let after: { at: Date; id: string } | undefined;
  for (;;) {
    const rows = await fetchPage(after);
    if (rows.length > 0) yield rows;
    const last = rows[rows.length - 1];
    if (rows.length < EXPORT_PAGE || !last) return;
    after = { at: atOf(last), id: last.id };
  }
}

const LEAD_COLUMNS = ['id', 'email', 'phone', 'firstName', 'lastName', 'company', 'title', 'timezone', 'status', 'customFields', 'createdAt', 'updatedAt', 'externalId', 'owner'] as const;
const ENROLLMENT_COLUMNS = [
  'id', 'leadId', 'leadEmail', 'leadPhone', 'leadFirstName', 'leadLastName', 'leadCompany', 'status', 'statusReason',
  'currentStepId', 'waitingFor', 'sequenceVersion', 'enrolledAt', 'nextRunAt', 'finishedAt',
] as const;

export const csvAnswer = z.string().describe(`text/csv (UTF-8, CRLF, RFC 4180), streamed; cells starting with = + - @ are prefixed with '`);

export function stamp(): string {
  return new Date().toISOString().slice(0, 10);
}

export function exportRoutes(api: Api, db: Db) {
  api.get(
    '/leads/export',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Export leads as CSV (streamed), filtered like the list',
        tags: ['leads'],
        querystring: z.object(leadFilterFields),
        response: { 200: csvAnswer, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const resolved = leadMatchOf(request.query, request);
      if (resolved === 'token_me') return fail(reply, 400, 'bad_request', tokenHasNoMe);
      const match = resolved;
      async function* csv() {
        yield csvRow(LEAD_COLUMNS);
        for await (const rows of pages((after) => listLeads(db, { workspaceId, ...match, after, limit: EXPORT_PAGE }), (l) => l.createdAt)) {
          yield rows.map((lead) => { const wire = leadToWire(lead); return csvRow(LEAD_COLUMNS.map((c) => (c === 'owner' ? wire.owner?.email : wire[c]))); }).join('');
        }
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="leads-${stamp()}.csv"`)
        .send(Readable.from(csv(), { objectMode: false }) as never);
    },
  );

  api.get(
    '/sequences/:id/enrollments/export',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "Export a sequence's enrollments as CSV (streamed), filtered like the list",
        tags: ['enrollments'],
        params: idParams,
        querystring: z.object({ status: z.enum(ENROLLMENT_STATUSES).optional() }),
        response: { 200: csvAnswer, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const sequenceId = request.params.id;
      if (!(await getSequence(db, workspaceId, sequenceId))) return fail(reply, 404, 'not_found', `Sequence ${sequenceId} does not exist.`);
      const status = request.query.status;
      async function* csv() {
        yield csvRow(ENROLLMENT_COLUMNS);
        const fetchPage = (after: { at: Date; id: string } | undefined) => listSequenceEnrollments(db, { workspaceId, sequenceId, status, after, limit: EXPORT_PAGE });
        for await (const rows of pages(fetchPage, (e) => e.enrolledAt)) {
          yield rows
            .map((row) => {
              const e = enrollmentToWire(row);
              return csvRow([
                e.id, e.lead.id, e.lead.email, e.lead.phone, e.lead.firstName, e.lead.lastName, e.lead.company, e.status, e.statusReason,
                e.currentStep?.id, e.waitingFor, e.sequenceVersion, e.enrolledAt, e.nextRunAt, e.finishedAt,
              ]);
            })
            .join('');
        }
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="enrollments-${sequenceId}-${stamp()}.csv"`)
        .send(Readable.from(csv(), { objectMode: false }) as never);
    },
  );

  api.get(
    '/leads/:id/timeline/export',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "Export a lead's whole timeline as JSON (streamed), oldest last like the timeline",
        tags: ['timeline'],
        params: idParams,
        querystring: z.object({ channel: z.enum(CHANNELS).optional().describe('Only items on this channel (enrollment changes have none)') }),
        response: {
          200: z.object({ lead: leadSchema, exportedAt: isoTime, items: z.array(timelineItemSchema.omit({ summary: true })) }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const lead = await getLead(db, workspaceId, request.params.id);
      if (!lead) return fail(reply, 404, 'not_found', `Lead ${request.params.id} does not exist.`);
      const channel = request.query.channel;
      async function* json() {
        yield `{"lead":${JSON.stringify(leadToWire(lead!))},"exportedAt":${JSON.stringify(new Date().toISOString())},"items":[`;
        let first = true;
        const fetchPage = (before: { at: Date; id: string } | undefined) =>
          timelinePage(db, { workspaceId, leadId: lead!.id, kinds: TIMELINE_KINDS, channel, before, limit: EXPORT_PAGE });
        for await (const rows of pages(fetchPage, (r) => r.at)) {
          const items = rows.map((r) => JSON.stringify({ id: r.id, kind: r.kind, at: iso(r.at), enrollmentId: r.enrollmentId, channel: r.channel, threadId: r.threadId, data: r.data }));
          yield `${first ? '' : ','}${items.join(',')}`;
          first = false;
        }
        yield ']}';
      }
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="timeline-${lead.id}.json"`)
        .send(Readable.from(json(), { objectMode: false }) as never);
    },
  );
}
