/**
 * `POST /api/leads/import`: a CSV file with a header row. Known columns map to lead fields
 * (several spellings each); every other column lands in `customFields` under its header.
 * Each row is validated on its own: good rows are imported, bad rows come back with their
 * line number and a sentence, and a lead whose email the workspace already has is skipped.
 */
import { CsvError, parse } from 'csv-parse/sync';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { isValidZone } from '../core/definition.ts';
import type { Db } from '../db/db.ts';
import { insertNewLeads, type NewLead } from '../db/leads.ts';
import { callerOf } from './auth.ts';
import { COUNTRIES, DEFAULT_COUNTRY, normaliseEmail, normalisePhone } from './leadFields.ts';
import { commonErrors, errorSchema, fail, type Api } from './wire.ts';

export const MAX_IMPORT_ROWS = 50_000;
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;
const INSERT_BATCH = 5_000;

// No `status`: a lead's status follows what happens to it; a `status` column is a custom field.
type Field = 'email' | 'phone' | 'timezone' | 'firstName' | 'lastName' | 'company' | 'title';

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
function toLead(headers: string[], record: string[], country: CountryCode): { lead?: NewLead; problems: Omit<RowError, 'line'>[] } {
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
      case 'timezone':
        if (isValidZone(value)) lead.timezone = value;
        else problems.push({ field: header, message: `"${value}" is not an IANA time zone such as America/New_York.` });
        return;
      default:
        lead[field] = value.slice(0, 200);
    }
  });
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
      let records: string[][];
      try {
        records = parse(request.body, { bom: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 65_536 }) as string[][];
      } catch (error) {
        if (error instanceof CsvError) return fail(reply, 400, 'invalid_csv', `The CSV cannot be read: ${error.message}`);
        throw error;
      }
      const [headers, ...data] = records;
      if (!headers) return fail(reply, 400, 'invalid_csv', 'The CSV is empty; the first line must name the columns, e.g. email,first_name,company.');
      if (data.length > MAX_IMPORT_ROWS) {
        return fail(reply, 400, 'too_many_rows', `An import takes up to ${MAX_IMPORT_ROWS} rows; split the file (it has ${data.length}).`);
      }
      const trimmedHeaders = headers.map((h) => h.trim());
      if (!trimmedHeaders.some((h) => fieldForHeader(h) === 'email' || fieldForHeader(h) === 'phone')) {
        return fail(reply, 400, 'invalid_csv', `The header row (${trimmedHeaders.join(', ')}) has no email or phone column.`);
      }

      const errors: RowError[] = [];
      const candidates: Array<{ line: number; lead: NewLead }> = [];
      const seenEmails = new Set<string>();
      let duplicates = 0;
      let failed = 0;
      data.forEach((record, i) => {
        const line = i + 2; // line 1 is the header
        const { lead, problems } = toLead(trimmedHeaders, record, request.query.defaultCountry);
        if (!lead) {
          failed++;
          return errors.push(...problems.map((p) => ({ line, ...p })));
        }
        if (lead.email && seenEmails.has(lead.email)) return duplicates++;
        if (lead.email) seenEmails.add(lead.email);
        candidates.push({ line, lead });
      });

      const leadIds: string[] = [];
      if (!request.query.dryRun) {
        await db.transaction(async (tx) => {
          for (let start = 0; start < candidates.length; start += INSERT_BATCH) {
            const batch = candidates.slice(start, start + INSERT_BATCH);
            const inserted = await insertNewLeads(tx, callerOf(request).workspaceId, batch.map((c) => c.lead));
            duplicates += batch.length - inserted.length;
            leadIds.push(...inserted.sort((a, b) => a.index - b.index).map((r) => r.id));
          }
        });
      }
      return {
        rows: data.length,
        imported: request.query.dryRun ? candidates.length : leadIds.length,
        duplicates,
        failed,
        errors: errors.slice(0, 1000),
        leadIds,
        dryRun: request.query.dryRun,
      };
    },
  );
}
