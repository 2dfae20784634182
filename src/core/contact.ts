/**
 * How a lead can be reached: what makes an email address, a phone number and a time zone
 * usable. One home for these rules: the API normalises with them (src/api/leadFields.ts, the
 * CSV import), and the dashboard grades a lead's completeness with the same functions.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod';

export { isValidZone } from './definition.ts';

/** Numbers written without `+country` are read as this country's. */
export const DEFAULT_COUNTRY: CountryCode = 'US';

/** The address trimmed and lower-cased, or undefined when it is not one (RFC-ish, at most 320 characters). */
export function normaliseEmail(value: string): string | undefined {
  const email = value.trim().toLowerCase();
  return z.email().safeParse(email).success && email.length <= 320 ? email : undefined;
}

/** The number in E.164 (libphonenumber-js), or undefined when it is no valid number. */
export function normalisePhone(value: string, country: CountryCode = DEFAULT_COUNTRY): string | undefined {
  const phone = parsePhoneNumberFromString(value.trim(), country);
  return phone?.isValid() ? phone.number : undefined;
}
