/** Whether a lead has what the channels need: an email, an E.164 phone, a known time zone. */
import type { Lead } from '../api/types.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;

export function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export interface Completeness {
  score: number;
  missing: string[];
}

export function completeness(lead: Pick<Lead, 'email' | 'phone' | 'timezone'>): Completeness {
  const missing: string[] = [];
  if (!lead.email) missing.push('email missing');
  else if (!EMAIL.test(lead.email)) missing.push('email invalid');
  if (!lead.phone) missing.push('phone missing');
  else if (!E164.test(lead.phone)) missing.push('phone not E.164');
  if (!lead.timezone) missing.push('time zone missing');
  else if (!isValidZone(lead.timezone)) missing.push('time zone unknown');
  return { score: 3 - missing.length, missing };
}
