/**
 * How a lead can be reached: what makes an email address, a phone number and a time zone
 * usable. One home for these rules: the API normalises with them (src/api/leadFields.ts, the
 * CSV import), and the dashboard grades a lead's completeness with the same functions.
 */
import { IANAZone } from 'luxon';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
// The pattern `z.email()` checks, without the rest of zod: the dashboard's first page loads this.
import { regexes } from 'zod/v4/core';

/**
 * Whether a zone is known, remembered per name. luxon's `IANAZone.isValidZone` builds an
 * `Intl.DateTimeFormat` on every call, which cost more than all the zone math of enrolling a
 * lead; a name's validity never changes while the process runs. Names come from lead data
 * (CSV imports, CRMs), so the memo is bounded: when full it starts over.
 */
const zoneValidity = new Map<string, boolean>();
export const MAX_REMEMBERED_ZONES = 2_000;

export function isValidZone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (zoneValidity.size >= MAX_REMEMBERED_ZONES) zoneValidity.clear();
    zoneValidity.set(zone, valid);
  }
  return valid;
}

/** Numbers written without `+country` are read as this country's. */
export const DEFAULT_COUNTRY: CountryCode = 'US';

/** The address trimmed and lower-cased, or undefined when it is not one (RFC-ish, at most 320 characters). */
export function normaliseEmail(value: string): string | undefined {
  const email = value.trim().toLowerCase();
  return regexes.email.test(email) && email.length <= 320 ? email : undefined;
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/**
 * A whole email domain as the suppression list stores it: `@example.com`, lower-cased (written
 * with or without the `@`), or undefined when it is no host name. Stored so that the lead's
 * `'@' || split_part(lower(email), '@', 2)` finds it with the same index probe as an address.
 */
export function normaliseDomain(value: string): string | undefined {
  const domain = value.trim().toLowerCase().replace(/^@/, '');
  return DOMAIN.test(domain) ? `@${domain}` : undefined;
}

/** The number in E.164 (libphonenumber-js), or undefined when it is no valid number. */
export function normalisePhone(value: string, country: CountryCode = DEFAULT_COUNTRY): string | undefined {
  const phone = parsePhoneNumberFromString(value.trim(), country);
  return phone?.isValid() ? phone.number : undefined;
}
