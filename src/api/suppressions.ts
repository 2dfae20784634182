/**
 * The suppression list (docs/ACCOUNTS.md, "Suppression list"; docs/API.md): the workspace's
 * suppressed emails, phone numbers and email domains, per channel — the ones webhooks made
 * (STOP, bounces, unsubscribes) and the ones people added. Viewers read and export it;
 * operators add, import and delete. Enrollment and every send check it (src/db/enrollments.ts,
 * engine_run_contexts), a domain matching every lead email at that domain.
 */
import { Readable, Transform } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { z } from 'zod';
import { normaliseDomain, normaliseEmail, normalisePhone } from '../core/contact.ts';
import type { Db } from '../db/db.ts';
import {
  addSuppressionRows,
  addSuppressions,
  deleteSuppression,
  listSuppressions,
  type Suppression,
  type SuppressionChannel,
  type SuppressionKind,
} from '../db/suppressions.ts';
import { callerOf } from './auth.ts';
import { csvAnswer, csvRow, EXPORT_PAGE, pages, stamp } from './exports.ts';
import { csvStreamOf } from './leadImport.ts';
import { commonErrors, decodeCursor, errorSchema, fail, id, idParams, iso, page, pageOf, pageQuery, type Api } from './wire.ts';

const CHANNELS = ['email', 'sms', 'voice'] as const;
const KINDS = ['email', 'phone', 'domain'] as const;
/** The channels each kind of address can be suppressed on, and the default (all of them). */
const CHANNELS_OF: Record<SuppressionKind, SuppressionChannel[]> = { email: ['email'], domain: ['email'], phone: ['sms', 'voice'] };

export const MAX_SUPPRESSION_IMPORT_ROWS = 5_000;
export const MAX_SUPPRESSION_IMPORT_BYTES = 1024 * 1024;
const MAX_REPORTED_ERRORS = 200;
/** What a row imported without a reason column says. */
const IMPORTED_REASON = 'Imported';

const suppressionSchema = z
  .object({
    id,
    kind: z.enum(KINDS).describe('phone: sms or voice; domain: every email address at it (stored as "@domain")'),
    channel: z.enum(CHANNELS),
    address: z.string().describe('Lower-cased email, "@domain", or an E.164 number'),
    reason: z.string().describe('A person\'s reason, or the event that made it (email.bounced, sms.opted_out, …)'),
    source: z.string().describe('"manual" (the API or the dashboard), "import" (CSV), or the provider that reported it'),
    addedBy: z.string().nullable().describe('Who added it by hand (a person\'s email or a token\'s name); null when a provider reported it'),
    createdAt: z.string(),
  })
  .meta({ id: 'Suppression' });

function toWire(s: Suppression) {
  return { id: s.id, kind: s.kind, channel: s.channel, address: s.address, reason: s.reason, source: s.source, addedBy: s.addedBy, createdAt: iso(s.createdAt)! };
}

/** One address as a person writes it → its kind and stored form, or a sentence saying why not. */
export function parseAddress(raw: { email?: string; phone?: string; domain?: string }): { kind: SuppressionKind; address: string } | string {
  if (raw.email !== undefined) {
    const address = normaliseEmail(raw.email);
    return address ? { kind: 'email', address } : `"${raw.email}" is not an email address.`;
  }
  if (raw.phone !== undefined) {
    const address = normalisePhone(raw.phone);
    return address ? { kind: 'phone', address } : `"${raw.phone}" is not a valid phone number; write it in E.164, e.g. +14155550123.`;
  }
  const address = normaliseDomain(raw.domain ?? '');
  return address ? { kind: 'domain', address } : `"${raw.domain ?? ''}" is not a domain such as example.com.`;
}

/** The channels asked for, checked against the kind; none asked: every channel the kind has. */
function channelsFor(kind: SuppressionKind, asked: SuppressionChannel[] | undefined): SuppressionChannel[] | string {
  if (!asked || asked.length === 0) return CHANNELS_OF[kind];
  const wrong = asked.filter((c) => !CHANNELS_OF[kind].includes(c));
  if (wrong.length > 0) return `A ${kind} can be suppressed on ${CHANNELS_OF[kind].join(' or ')}, not ${wrong.join(', ')}.`;
  return [...new Set(asked)];
}

const reasonField = z.string().trim().min(1, 'says why, e.g. "Asked not to be contacted"').max(500);

const postBody = z
  .object({
    email: z.string().max(320).optional(),
    phone: z.string().max(40).optional(),
    domain: z.string().max(254).optional().describe('Every email address at it, e.g. example.com'),
    channels: z.array(z.enum(CHANNELS)).max(3).optional().describe('Default: every channel the address has (email → email; phone → sms and voice; domain → email)'),
    reason: reasonField,
  })
  .refine((b) => [b.email, b.phone, b.domain].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of email, phone or domain',
  });

export function suppressionRoutes(api: Api, db: Db, now: () => Date) {
  api.get(
    '/suppressions',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "List the workspace's suppressions, newest first",
        tags: ['suppressions'],
        querystring: z.object({
          channel: z.enum(CHANNELS).optional(),
          kind: z.enum(KINDS).optional(),
          q: z.string().trim().min(1).max(200).optional().describe('A part of the address'),
          ...pageQuery,
        }),
        response: { 200: page(suppressionSchema), ...commonErrors },
      },
    },
    async (request, reply) => {
      const after = decodeCursor(request.query.cursor);
      if (after === 'invalid') return fail(reply, 400, 'invalid_cursor', 'The cursor is not one this API gave out.');
      const { channel, kind, q, limit } = request.query;
      const rows = await listSuppressions(db, { workspaceId: callerOf(request).workspaceId, channel, kind, search: q, after, limit: limit + 1 });
      const result = pageOf(rows, limit, (s) => s.createdAt);
      return { items: result.items.map(toWire), nextCursor: result.nextCursor };
    },
  );

  api.post(
    '/suppressions',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Suppress an email, a phone number or an email domain (idempotent: 200 with the existing rows)',
        tags: ['suppressions'],
        body: postBody,
        response: { 200: z.object({ items: z.array(suppressionSchema) }), 201: z.object({ items: z.array(suppressionSchema) }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const parsed = parseAddress(request.body);
      if (typeof parsed === 'string') return fail(reply, 400, 'invalid_address', parsed);
      const channels = channelsFor(parsed.kind, request.body.channels);
      if (typeof channels === 'string') return fail(reply, 400, 'invalid_channel', channels);
      const { workspaceId, actor } = callerOf(request);
      const rows = await addSuppressions(db, { workspaceId, channels, address: parsed.address, reason: request.body.reason, source: 'manual', actor, now: now() });
      return reply.status(rows.some((r) => r.created) ? 201 : 200).send({ items: rows.map(toWire) });
    },
  );

  api.delete(
    '/suppressions/:id',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Lift a suppression (any: hand-made or reported by a provider); the change names who made it',
        tags: ['suppressions'],
        params: idParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId, actor } = callerOf(request);
      const removed = await deleteSuppression(db, { workspaceId, id: request.params.id, actor, now: now() });
      if (!removed) return fail(reply, 404, 'not_found', `Suppression ${request.params.id} does not exist.`);
      return reply.status(204).send(null);
    },
  );

  const EXPORT_COLUMNS = ['address', 'channel', 'reason', 'kind', 'source', 'addedBy', 'createdAt'] as const;
  api.get(
    '/suppressions/export',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Export the suppressions as CSV (streamed), filtered like the list; re-importable as it is',
        tags: ['suppressions'],
        querystring: z.object({ channel: z.enum(CHANNELS).optional(), kind: z.enum(KINDS).optional(), q: z.string().trim().min(1).max(200).optional() }),
        response: { 200: csvAnswer, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const { channel, kind, q } = request.query;
      async function* csv() {
        yield csvRow(EXPORT_COLUMNS);
        const fetchPage = (after: { at: Date; id: string } | undefined) => listSuppressions(db, { workspaceId, channel, kind, search: q, after, limit: EXPORT_PAGE });
        for await (const rows of pages(fetchPage, (s) => s.createdAt)) {
          yield rows.map((s) => { const wire = toWire(s); return csvRow(EXPORT_COLUMNS.map((c) => wire[c])); }).join('');
        }
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="suppressions-${stamp()}.csv"`)
        .send(Readable.from(csv(), { objectMode: false }) as never);
    },
  );

  api.post(
    '/suppressions/import',
    {
      config: { minRole: 'operator' },
      bodyLimit: MAX_SUPPRESSION_IMPORT_BYTES,
      schema: {
        summary: 'Import suppressions from CSV (Content-Type: text/csv; columns address, channel?, reason?)',
        tags: ['suppressions'],
        consumes: ['text/csv'],
        body: z.string().describe('The CSV text: a header row naming address (required), channel and reason'),
        response: {
          200: z.object({
            rows: z.number().int().describe('Data rows read (the header excluded)'),
            added: z.number().int().describe('Suppressions made (one per channel)'),
            existing: z.number().int().describe('Suppressions the workspace already had (or the file repeated); kept as they were'),
            failed: z.number().int(),
            errors: z.array(z.object({ line: z.number().int(), message: z.string() })),
          }),
          413: errorSchema,
          415: errorSchema,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const stream = csvStreamOf(request);
      if (!stream) return fail(reply, 400, 'invalid_csv', 'Send the CSV as the body with Content-Type: text/csv.');
      const refuse = (status: 400 | 413, code: string, message: string) => {
        // The rest of the body is drained unread (cut off past the limit), as the leads import does.
        stream.unpipe();
        let bytes = 0;
        stream.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_SUPPRESSION_IMPORT_BYTES) stream.destroy();
        });
        stream.resume();
        if (status === 413) reply.header('connection', 'close');
        return reply.status(status).send({ error: { code, message } } as never);
      };
      const tooLarge = () => refuse(413, 'payload_too_large', `A suppression import takes up to ${MAX_SUPPRESSION_IMPORT_BYTES / 1024 / 1024} MB of CSV; split the file.`);
      if (Number(request.headers['content-length']) > MAX_SUPPRESSION_IMPORT_BYTES) return tooLarge();

      let bytes = 0;
      class TooLarge extends Error {}
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          callback(bytes > MAX_SUPPRESSION_IMPORT_BYTES ? new TooLarge() : null, chunk);
        },
      });
      const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 4096, info: true });
      stream.on('error', (error) => parser.destroy(error));
      counter.on('error', (error) => parser.destroy(error));
      stream.pipe(counter).pipe(parser);

      let columns: { address: number; channel: number; reason: number } | undefined;
      let headerText = '';
      let rows = 0;
      let failed = 0;
      const errors: Array<{ line: number; message: string }> = [];
      const wanted: Array<{ line: number; address: string; channels: SuppressionChannel[]; reason: string }> = [];
      const problem = (line: number, message: string) => {
        failed++;
        if (errors.length < MAX_REPORTED_ERRORS) errors.push({ line, message });
      };
      try {
        for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
          if (!columns) {
            const names = record.map((h) => h.trim().toLowerCase());
            headerText = record.join(', ').slice(0, 300);
            columns = { address: names.indexOf('address'), channel: names.indexOf('channel'), reason: names.indexOf('reason') };
            if (columns.address < 0) break;
            continue;
          }
          if (++rows > MAX_SUPPRESSION_IMPORT_ROWS) {
            return refuse(400, 'too_many_rows', `An import takes up to ${MAX_SUPPRESSION_IMPORT_ROWS} rows; this file has more (stopped at line ${info.lines}). Nothing was imported: split the file.`);
          }
          const line = info.lines;
          // The export writes "@domain" as "'@domain" (a spreadsheet would run a cell starting with @).
          const cell = (record[columns.address] ?? '').trim().replace(/^'(?=[=+\-@])/, '');
          const parsed = parseAddress(cell.startsWith('@') ? { domain: cell } : cell.includes('@') ? { email: cell } : { phone: cell });
          if (typeof parsed === 'string') {
            problem(line, cell === '' ? 'The row has no address.' : parsed);
            continue;
          }
          const channelCell = columns.channel >= 0 ? (record[columns.channel] ?? '').trim().toLowerCase() : '';
          if (channelCell !== '' && !(CHANNELS as readonly string[]).includes(channelCell)) {
            problem(line, `"${channelCell}" is not a channel: email, sms or voice (or leave it empty for every channel the address has).`);
            continue;
          }
          const channels = channelsFor(parsed.kind, channelCell === '' ? undefined : [channelCell as SuppressionChannel]);
          if (typeof channels === 'string') {
            problem(line, channels);
            continue;
          }
          const reason = (columns.reason >= 0 ? (record[columns.reason] ?? '').trim() : '').slice(0, 500) || IMPORTED_REASON;
          wanted.push({ line, address: parsed.address, channels, reason });
        }
      } catch (error) {
        if (error instanceof TooLarge) return tooLarge();
        if (error instanceof CsvError) return refuse(400, 'invalid_csv', `The CSV cannot be read: ${error.message}`);
        throw error;
      }
      if (!columns) return refuse(400, 'invalid_csv', 'The CSV is empty; the first line must name the columns: address,channel,reason.');
      if (columns.address < 0) return refuse(400, 'invalid_csv', `The header row (${headerText}) has no address column; the columns are address,channel,reason.`);

      const { workspaceId, actor } = callerOf(request);
      // One statement for the whole file (at most 5,000 rows × 2 channels).
      const entries = wanted.flatMap((w) => w.channels.map((channel) => ({ channel, address: w.address, reason: w.reason })));
      const added = await addSuppressionRows(db, { workspaceId, rows: entries, source: 'import', actor, now: now() });
      return { rows, added, existing: entries.length - added, failed, errors };
    },
  );
}
