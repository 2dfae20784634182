/**
 * The lead list's filter, one zod schema for every route that takes it: GET /api/leads and
 * GET /api/leads/count (as query parameters), the CSV export, POST /api/leads/bulk (`filter`)
 * and saved filters (`filter`). A new filter key is added here and in `matchWhere`
 * (src/db/leads.ts), and every one of them takes it.
 */
import { z } from 'zod';
import type { LeadMatch } from '../db/leads.ts';
import { leadStatusField } from './leadFields.ts';

export const leadFilterFields = {
  q: z.string().trim().min(1).max(200).optional().describe('Search in name, email and company'),
  status: leadStatusField.optional(),
};

/** The filter as a JSON object (a bulk action's `filter`, a saved filter's `filter`); unknown keys are refused. */
export const leadFilterSchema = z.strictObject(leadFilterFields).meta({ id: 'LeadFilter' });
export type LeadFilterInput = z.infer<typeof leadFilterSchema>;

/** The filter as the database reads it. */
export function leadMatchOf(filter: LeadFilterInput): LeadMatch {
  return { search: filter.q, status: filter.status };
}
