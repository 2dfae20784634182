/**
 * Whether a lead has what the channels need: an email, an E.164 phone, a known time zone,
 * judged by the rules the API normalises with (src/core/contact.ts), not a copy of them.
 */
import { isValidZone, normaliseEmail, normalisePhone } from '../../../src/core/contact.ts';
import type { Lead } from '../api/types.ts';

export interface Completeness {
  score: number;
  missing: string[];
}

export function completeness(lead: Pick<Lead, 'email' | 'phone' | 'timezone'>): Completeness {
  const missing: string[] = [];
  if (!lead.email) missing.push('email missing');
  else if (normaliseEmail(lead.email) === undefined) missing.push('email invalid');
  if (!lead.phone) missing.push('phone missing');
  // Stored numbers are E.164 already; one that is not, or that is no valid number, is flagged.
  else if (normalisePhone(lead.phone) !== lead.phone) missing.push('phone not E.164');
  if (!lead.timezone) missing.push('time zone missing');
  else if (!isValidZone(lead.timezone)) missing.push('time zone unknown');
  return { score: 3 - missing.length, missing };
}
