/**
 * `POST /api/leads/import`: a CSV file with a header row. Known columns map to lead fields
 * (several spellings each); every other column lands in `customFields` under its header.
 * Each row is validated on its own: good rows are imported, bad rows come back with their
 * line number and a sentence, and a lead whose email the workspace already has is skipped.
 */
import { Transform, type Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { isValidZone } from '../core/definition.ts';
import type { Db } from '../db/db.ts';
import { memberIdsByEmail, recordInitialOwners } from '../db/leadOwners.ts';
import { insertNewLeads, type NewLead } from '../db/leads.ts';
import { callerOf } from './auth.ts';
import { COUNTRIES, DEFAULT_COUNTRY, customFields, normaliseEmail, normalisePhone } from './leadFields.ts';
import { commonErrors, errorSchema, fail, type Api } from './wire.ts';

export const MAX_IMPORT_ROWS = 50_000;
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;
const INSERT_BATCH = 5_000;
const MAX_REPORTED_ERRORS = 1000;
const PARSE_SLICE_BYTES = 16 * 1024;

class BodyTooLarge extends Error {}

/**
 * The import reads its body as a stream: the content-type parser hands the request's stream
 * over untouched (the route's `body` stays the empty string its schema documents) and the
 * handler parses it record by record.
 */
const csvStreams = new WeakMap<FastifyRequest, Readable>();

/** The request's CSV body as a stream (for the other CSV imports: the suppression list's). */
export function csvStreamOf(request: FastifyRequest): Readable | undefined {
  return csvStreams.get(request);
}

export function csvStreamParser(request: FastifyRequest, payload: Readable, done: (error: Error | null, body?: unknown) => void): void {
  csvStreams.set(request, payload);
  done(null, '');
}

/** Answers before the body is read to its end: the rest is drained unread, or cut off past the limit. */
function discardRest(stream: Readable): void {
  stream.unpipe();
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_IMPORT_BYTES) stream.destroy();
  });
  stream.resume();
}

function refuse(reply: FastifyReply, stream: Readable, code: string, message: string) {
  discardRest(stream);
  return fail(reply, 400, code, message);
}

function tooLarge(reply: FastifyReply, stream: Readable) {
  discardRest(stream);
  return reply
    .status(413)
    .header('connection', 'close')
    .send({ error: { code: 'payload_too_large', message: `An import takes up to ${MAX_IMPORT_BYTES / 1024 / 1024} MB of CSV; split the file.` } } as never);
}

// No `status`: a lead's status follows what happens to it; a `status` column is a custom field.
type Field = 'email' | 'phone' | 'timezone' | 'firstName' | 'lastName' | 'company' | 'title' | 'externalId' | 'owner';

/** Header spellings, compared without case, spaces, dashes or underscores. */
const ALIASES: Record<string, Field> = {
  email: 'email',
  emailaddress: 'email',
  mail: 'email',
  phone: 'phone',
  phonenumber: 'phone',
  mobile: 'phone',
  mobilephone: 'phone',
  cell: 'phone',
  timezone: 'timezone',
  tz: 'timezone',
  firstname: 'firstName',
  givenname: 'firstName',
  lastname: 'lastName',
  surname: 'lastName',
  familyname: 'lastName',
  company: 'company',
  companyname: 'company',
  organization: 'company',
  organisation: 'company',
  account: 'company',
  title: 'title',
  jobtitle: 'title',
  // The CRM's id for the lead (unique per workspace: a second row with it is a duplicate).
  externalid: 'externalId',
  crmid: 'externalId',
  // The lead's owner: a member's email (docs/ACCOUNTS.md, "Owners and working hours").
  owner: 'owner',
  owneremail: 'owner',
  leadowner: 'owner',
};

export function fieldForHeader(header: string): Field | undefined {
  return ALIASES[header.toLowerCase().replace(/[\s_-]+/g, '')];
}

interface RowError {
  line: number;
  field?: string;
  message: string;
}

/** One CSV record → a lead, or the reasons it is not one. */
function toLead(
  headers: string[],
  record: string[],
  country: CountryCode,
  members: ReadonlyMap<string, string>,
): { lead?: NewLead; problems: Omit<RowError, 'line'>[] } {
  const lead: NewLead = { customFields: {} };
  const problems: Omit<RowError, 'line'>[] = [];
  headers.forEach((header, i) => {
    const value = record[i]?.trim() ?? '';
    if (value === '' || header === '') return;
    const field = fieldForHeader(header);
    if (!field) {
      lead.customFields![header] = value;
      return;
    }
    switch (field) {
      case 'email': {
        const email = normaliseEmail(value);
        if (email) lead.email = email;
        else problems.push({ field: header, message: `"${value}" is not an email address.` });
        return;
      }
      case 'phone': {
        const phone = normalisePhone(value, country);
        if (phone) lead.phone = phone;
        else problems.push({ field: header, message: `"${value}" is not a valid phone number (default country ${country}).` });
        return;
      }
      case 'owner': {
        const ownerId = members.get(value.toLowerCase());
        if (ownerId) lead.ownerId = ownerId;
        else problems.push({ field: header, message: `"${value}" is not the email of a member of this workspace; owners are members (see Members), or leave the cell empty.` });
        return;
      }
      case 'timezone':
        if (isValidZone(value)) lead.timezone = value;
        else problems.push({ field: header, message: `"${value}" is not an IANA time zone such as America/New_York.` });
        return;
      default:
        lead[field] = value.slice(0, 200);
    }
  });
  // The JSON API's limits on custom fields (key length, total size) hold for CSV columns too.
  const custom = customFields.safeParse(lead.customFields);
  if (!custom.success) {
    const longKeys = Object.keys(lead.customFields ?? {}).filter((key) => key.length > 100);
    for (const key of longKeys) {
      problems.push({ field: key.slice(0, 100), message: `The column name "${key.slice(0, 40)}…" is longer than 100 characters; custom field names are limited to 100.` });
    }
    if (longKeys.length === 0) problems.push({ message: `The row's custom fields are over a limit: ${custom.error.issues[0]?.message ?? 'too large'}.` });
  }
  if (problems.length === 0 && !lead.email && !lead.phone) problems.push({ message: 'The row has neither an email nor a phone number.' });
  return problems.length > 0 ? { problems } : { lead, problems };
}

const importResult = z.object({
  rows: z.number().int().describe('Data rows read (the header excluded)'),
  imported: z.number().int(),
  duplicates: z.number().int().describe('Rows whose email the workspace (or an earlier row) already has; skipped'),
  failed: z.number().int(),
  errors: z.array(z.object({ line: z.number().int(), field: z.string().optional(), message: z.string() })),
  leadIds: z.array(z.string()).describe('Ids of the imported leads, in file order'),
  dryRun: z.boolean(),
});

export function leadImportRoutes(api: Api, db: Db) {
  api.post(
    '/leads/import',
    {
      config: { minRole: 'admin' },
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        summary: 'Import leads from CSV (Content-Type: text/csv, header row)',
        tags: ['leads'],
        consumes: ['text/csv'],
        querystring: z.object({
          defaultCountry: z.enum(COUNTRIES).default(DEFAULT_COUNTRY).describe('For phone numbers written without +country'),
          dryRun: z.stringbool().default(false).describe('Validate and count, import nothing'),
        }),
        body: z.string().describe('The CSV text'),
        response: { 200: importResult, 413: errorSchema, 415: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const stream = csvStreams.get(request);
      if (!stream) return fail(reply, 400, 'invalid_csv', 'Send the CSV as the body with Content-Type: text/csv.');
      const declared = Number(request.headers['content-length']);
      if (declared > MAX_IMPORT_BYTES) return tooLarge(reply, stream);

      // Before the body flows: an await between piping into the parser and iterating it would leave
      // a parse error with no listener (an uncaught exception: the process would die of a bad CSV).
      const members = await memberIdsByEmail(db, callerOf(request).workspaceId);

      // Read record by record and stop at the cap: a file of tiny rows costs at most the cap's
      // worth of parsing, never the whole body in memory.
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          if (bytes > MAX_IMPORT_BYTES) return callback(new BodyTooLarge());
          // The parser turns a whole chunk into records at once: hand it slices, so that
          // stopping at the cap leaves the rest of a large chunk unparsed.
          for (let at = 0; at < chunk.length; at += PARSE_SLICE_BYTES) this.push(chunk.subarray(at, at + PARSE_SLICE_BYTES));
          callback();
        },
      });
      const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 65_536, info: true });
      stream.on('error', (error) => parser.destroy(error));
      counter.on('error', (error) => parser.destroy(error));
      stream.pipe(counter).pipe(parser);

      let headers: string[] | undefined;
      let rows = 0;
      let overCapAt: number | undefined;
      const errors: RowError[] = [];
      const candidates: Array<{ line: number; lead: NewLead }> = [];
      const seenEmails = new Set<string>();
      let duplicates = 0;
      let failed = 0;
      try {
        for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
          if (!headers) {
            headers = record.map((h) => h.trim());
            if (!headers.some((h) => fieldForHeader(h) === 'email' || fieldForHeader(h) === 'phone')) break;
            continue;
          }
          if (++rows > MAX_IMPORT_ROWS) {
            overCapAt = info.lines;
            break;
          }
          const line = info.lines;
          const { lead, problems } = toLead(headers, record, request.query.defaultCountry, members);
          if (!lead) {
            failed++;
            if (errors.length < MAX_REPORTED_ERRORS) errors.push(...problems.map((p) => ({ line, ...p })));
            continue;
          }
          if (lead.email && seenEmails.has(lead.email)) {
            duplicates++;
            continue;
          }
          if (lead.email) seenEmails.add(lead.email);
          candidates.push({ line, lead });
        }
      } catch (error) {
        if (error instanceof BodyTooLarge) return tooLarge(reply, stream);
        if (error instanceof CsvError) return refuse(reply, stream, 'invalid_csv', `The CSV cannot be read: ${error.message}`);
        throw error;
      }
      if (!headers) return refuse(reply, stream, 'invalid_csv', 'The CSV is empty; the first line must name the columns, e.g. email,first_name,company.');
      if (!headers.some((h) => fieldForHeader(h) === 'email' || fieldForHeader(h) === 'phone')) {
        return refuse(reply, stream, 'invalid_csv', `The header row (${headers.join(', ').slice(0, 500)}) has no email or phone column.`);
      }
      if (overCapAt !== undefined) {
        return refuse(
          reply,
          stream,
          'too_many_rows',
          `An import takes up to ${MAX_IMPORT_ROWS} rows; this file has more (stopped reading at line ${overCapAt}). Nothing was imported: split the file and import each part.`,
        );
      }
      const leadIds: string[] = [];
      if (!request.query.dryRun) {
        const { workspaceId, actor } = callerOf(request);
        const at = new Date();
        await db.transaction(async (tx) => {
          for (let start = 0; start < candidates.length; start += INSERT_BATCH) {
            const batch = candidates.slice(start, start + INSERT_BATCH);
            const inserted = await insertNewLeads(tx, workspaceId, batch.map((c) => c.lead));
            await recordInitialOwners(tx, { workspaceId, leads: inserted, actor, at });
            duplicates += batch.length - inserted.length;
            leadIds.push(...inserted.sort((a, b) => a.index - b.index).map((r) => r.id));
          }
        });
      }
      return {
        rows,
        imported: request.query.dryRun ? candidates.length : leadIds.length,
        duplicates,
        failed,
        errors: errors.slice(0, MAX_REPORTED_ERRORS),
        leadIds,
        dryRun: request.query.dryRun,
      };
    },
  );
}
