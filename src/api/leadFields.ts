/**
 * A lead's fields as the API takes them, and their normalisation: emails trimmed and
 * lower-cased, phone numbers in E.164 (libphonenumber-js, with a default country for numbers
 * written without one), time zones checked against IANA. The JSON routes and the CSV import
 * share these rules, so a lead is the same whichever way it came in.
 */
import { type CountryCode, getCountries } from 'libphonenumber-js';
import { z } from 'zod';
import { isValidZone, normaliseEmail, normalisePhone } from '../core/contact.ts';
import { LEAD_STATUSES } from '../core/leadStatus.ts';
import type { LeadRecord } from '../db/leads.ts';
import { id, iso, isoTime } from './wire.ts';

export const COUNTRIES = getCountries() as [CountryCode, ...CountryCode[]];
// The rules themselves live in the core, where the dashboard reads them too.
export { DEFAULT_COUNTRY, normaliseEmail, normalisePhone } from '../core/contact.ts';

const text = (max: number) => z.string().trim().max(max);
export const emailField = z
  .string()
  .max(320)
  .transform((value, ctx) => normaliseEmail(value) ?? (ctx.addIssue({ code: 'custom', message: `"${value}" is not an email address.` }), z.NEVER));
export const phoneField = z
  .string()
  .max(40)
  .transform(
    (value, ctx) =>
      normalisePhone(value) ??
      (ctx.addIssue({ code: 'custom', message: `"${value}" is not a valid phone number; write it in E.164, e.g. +14155550123.` }), z.NEVER),
  )
  .describe('E.164, or a US number; stored as E.164');
const timezoneField = z
  .string()
  .max(64)
  .refine(isValidZone, { message: 'is not a known IANA time zone such as "America/New_York"' });
/** The lifecycle (src/core/leadStatus.ts): read and filtered on, never written by a client. */
export const leadStatusField = z.enum(LEAD_STATUSES).describe('new < contacted < replied < bounced < opted_out < converted');
/**
 * `status` in a body is refused with the way to do what the caller meant: it follows what
 * happens to the lead, so a typed-in value would be overwritten or, worse, hide an opt-out.
 */
const statusRefused = z
  .unknown()
  .refine(() => false, {
    message:
      'status follows what happens to the lead (new, contacted, replied, bounced, opted_out, converted) and cannot be set; ' +
      'to mark a lead converted, POST /api/leads/{id}/convert; keep your own stage in customFields, e.g. {"customFields": {"stage": "qualified"}}.',
  })
  .transform(() => undefined)
  .optional()
  .describe('Read-only: refused when sent');
export const customFields = z.record(z.string().max(100), z.unknown()).refine((v) => JSON.stringify(v).length <= 32_768, {
  message: 'custom fields are limited to 32 KB of JSON',
});

const leadFields = {
  email: emailField.nullable(),
  phone: phoneField.nullable(),
  timezone: timezoneField.nullable(),
  firstName: text(200).nullable(),
  lastName: text(200).nullable(),
  company: text(200).nullable(),
  title: text(200).nullable(),
  customFields,
  externalId: text(200).min(1).nullable().describe("The lead's id in your CRM; unique per workspace"),
  ownerId: id.nullable().describe('The member who owns the lead (a user id from GET /api/members); null: unowned'),
};

/** A lead's owner on the wire: the member's account, or null. */
export const leadOwnerSchema = z.object({ id, name: z.string().nullable(), email: z.string() }).meta({ id: 'LeadOwner' });

export const newLeadSchema = z
  .strictObject({
    email: leadFields.email.optional(),
    phone: leadFields.phone.optional(),
    timezone: leadFields.timezone.optional(),
    firstName: leadFields.firstName.optional(),
    lastName: leadFields.lastName.optional(),
    company: leadFields.company.optional(),
    title: leadFields.title.optional(),
    status: statusRefused,
    customFields: customFields.optional(),
    externalId: leadFields.externalId.optional(),
    ownerId: leadFields.ownerId.optional(),
  })
  .refine((lead) => lead.email || lead.phone, { message: 'A lead needs an email or a phone number.' });

/** A patch: only the fields sent change; `null` clears one. */
export const leadPatchSchema = z.strictObject({
  email: leadFields.email.optional(),
  phone: leadFields.phone.optional(),
  timezone: leadFields.timezone.optional(),
  firstName: leadFields.firstName.optional(),
  lastName: leadFields.lastName.optional(),
  company: leadFields.company.optional(),
  title: leadFields.title.optional(),
  status: statusRefused,
  customFields: customFields.optional().describe('Replaces the whole object'),
  externalId: leadFields.externalId.optional(),
  ownerId: leadFields.ownerId.optional(),
});

export const leadSchema = z
  .object({
    id,
    externalId: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    timezone: z.string().nullable(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    company: z.string().nullable(),
    title: z.string().nullable(),
    status: leadStatusField,
    customFields: z.record(z.string(), z.unknown()),
    owner: leadOwnerSchema.nullable().describe('The member who owns the lead; null: unowned'),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Lead' });

/** A lead in the list: the lead, and where each of its running sequences stands. */
export const leadListItemSchema = leadSchema
  .extend({
    liveEnrollments: z
      .array(
        z.object({
          id,
          sequenceId: id,
          sequenceName: z.string(),
          status: z.string(),
          currentStepId: z.string().nullable(),
          nextRunAt: isoTime.nullable().describe('When it next acts; null while paused'),
        }),
      )
      .describe('Its active, waiting and paused enrollments, newest first'),
  })
  .meta({ id: 'LeadListItem' });

export function leadToWire(lead: LeadRecord): z.infer<typeof leadSchema> {
  return {
    id: lead.id,
    externalId: lead.externalId ?? null,
    email: lead.email ?? null,
    phone: lead.phone ?? null,
    timezone: lead.timezone ?? null,
    firstName: lead.firstName ?? null,
    lastName: lead.lastName ?? null,
    company: lead.company ?? null,
    title: lead.title ?? null,
    status: lead.status,
    customFields: lead.customFields ?? {},
    owner: lead.owner ?? null,
    createdAt: iso(lead.createdAt)!,
    updatedAt: iso(lead.updatedAt)!,
  };
}
