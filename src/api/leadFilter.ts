/**
 * The lead list's filter, one zod schema for every route that takes it: GET /api/leads and
 * GET /api/leads/count (as query parameters), the CSV export, POST /api/leads/bulk (`filter`)
 * and saved filters (`filter`). A new filter key is added here and in `matchWhere`
 * (src/db/leads.ts), and every one of them takes it.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { LeadMatch } from '../db/leads.ts';
import { leadStatusField } from './leadFields.ts';
import { id } from './wire.ts';

/** The owner filter: a member's id, `me` (the signed-in person) or `none`. */
export const ownerFilter = z
  .union([z.literal('me'), z.literal('none'), id])
  .describe("A member's user id, `me` (a signed-in person; a token has no leads of its own) or `none` (unowned)");

export const leadFilterFields = {
  q: z.string().trim().min(1).max(200).optional().describe('Search in name, email and company'),
  status: leadStatusField.optional(),
  owner: ownerFilter.optional(),
};

/** The filter as a JSON object (a bulk action's `filter`, a saved filter's `filter`); unknown keys are refused. */
export const leadFilterSchema = z.strictObject(leadFilterFields).meta({ id: 'LeadFilter' });
export type LeadFilterInput = z.infer<typeof leadFilterSchema>;

export const tokenHasNoMe = "A token is nobody: `me` needs a signed-in person; pass a member's user id (GET /api/members) instead.";

/**
 * The filter as the database reads it, for this caller: `owner: "me"` is the signed-in person
 * (a saved filter keeps `me`, so a shared "my leads" is each person's own). A token has no `me`:
 * the answer is `token_me`, which routes refuse with `tokenHasNoMe`.
 */
export function leadMatchOf(filter: LeadFilterInput, request: FastifyRequest): LeadMatch | 'token_me' {
  let owner = filter.owner;
  if (owner === 'me') {
    owner = request.person?.userId;
    if (!owner) return 'token_me';
  }
  return { search: filter.q, status: filter.status, owner };
}
