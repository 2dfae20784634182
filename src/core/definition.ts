/**
 * The sequence definition: the JSON document the API and the CLI take (DESIGN.md, "Sequence
 * definition"). This file is the single source of its shape; types come from `z.infer`.
 *
 * Terminology:
 * - step: one node of the sequence (`email`, `sms`, `voice`, `wait`, `branch`, `task`, `end`).
 * - delivery step: a step that reaches the lead through a channel (`email`, `sms`, `voice`).
 * - schedule: the local-time window in which delivery steps and task creation may happen.
 * - quiet hours: a local-time range in which some channels (default `sms`, `voice`) never fire.
 */
import { Duration } from 'luxon';
import { z } from 'zod';
import { isValidZone } from './contact.ts';
import { canonicalEventName, CUSTOM_EVENT_PATTERN, EVENT_TYPES, isCustomEventType, type EventType } from './events.ts';
import { EMAIL_FORMATS } from './emailFormats.ts';
import { REPLY_CLASSES, type ReplyClass } from './sentiment.ts';
import { closest, listOf } from './validateFormat.ts';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const CHANNELS = ['email', 'sms', 'voice'] as const;
export type Channel = (typeof CHANNELS)[number];

export const STEP_TYPES = ['email', 'sms', 'voice', 'wait', 'branch', 'task', 'end'] as const;
export type StepType = (typeof STEP_TYPES)[number];

/**
 * A reply of one class as an exit trigger: `reply.not_interested` ends the enrollment when a reply
 * is classified (or corrected) so (docs/SEQUENCES.md, "Reply classes").
 */
export const REPLY_EXIT_TRIGGERS = REPLY_CLASSES.map((c) => `reply.${c}` as const);
export type ReplyExitTrigger = `reply.${ReplyClass}`;

export function replyExitTrigger(replyClass: ReplyClass): ReplyExitTrigger {
  return `reply.${replyClass}`;
}

/**
 * `exitOn` takes event types (custom ones too), `converted` (an operator marking the lead
 * converted) and `reply.<class>` (a reply of that class).
 */
export const EXIT_TRIGGERS = [...EVENT_TYPES, 'converted', ...REPLY_EXIT_TRIGGERS] as const;
export type ExitTrigger = (typeof EXIT_TRIGGERS)[number] | EventType;

/**
 * A name from a closed list, or a custom event (`custom.<name>`, docs/SEQUENCES.md, "Custom
 * events"); the message keeps the "did you mean" of an enum for a typo of a catalogue name.
 */
function eventName<T extends string>(known: readonly T[], options: { aliases?: boolean } = {}) {
  const allowed = [...known, 'custom.<name>'];
  // In a sequence's rules `meeting_booked` reads as `meeting.booked` (EVENT_ALIASES); the stored
  // definition keeps what was written, and every parse of it gives the engine the dotted name.
  const text = options.aliases ? z.string().transform(canonicalEventName) : z.string();
  return text
    .refine((value) => (known as readonly string[]).includes(value) || isCustomEventType(value), {
      error: (issue) => {
        const value = String(issue.input);
        if (value.startsWith('custom.')) return `must be "custom." then 1–100 letters, digits, "_", "-", "." or ":" (pattern ${CUSTOM_EVENT_PATTERN.source})`;
        const guess = closest(value, known);
        return `is not known; ${guess ? `did you mean "${guess}"? Use` : 'use'} one of ${listOf(allowed)}`;
      },
    }) as unknown as z.ZodType<T | EventType, string>;
}

export const STEP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** `HH:MM` on a 24-hour clock; `24:00` is allowed as the end of a window that runs to midnight. */
export const LOCAL_TIME_PATTERN = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;
export const LOCAL_DATE_PATTERN = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;

// The zone rule lives with the other contact rules, which the dashboard loads without zod.
export { isValidZone, MAX_REMEMBERED_ZONES } from './contact.ts';

/** The longest a wait or a branch's `within` may last: nothing in outreach waits longer. */
export const MAX_DURATION = 'P10Y';
/** Every loop through a delivery step must wait at least this long in total (one hour). */
export const MIN_LOOP_PAUSE_MS = 3_600_000;

export function isIsoDuration(value: string): boolean {
  const duration = Duration.fromISO(value);
  return duration.isValid && duration.toMillis() >= 0;
}

const stepId = z
  .string()
  .regex(STEP_ID_PATTERN, 'must be 1–64 letters, digits, "-" or "_", starting with a letter or digit');
const isoDuration = z
  .string()
  .refine(isIsoDuration, { message: 'is not a non-negative ISO-8601 duration such as "PT30S", "PT4H" or "P2D"' });
const ianaZone = z
  .string()
  .refine(isValidZone, { message: 'is not a known IANA time zone such as "America/New_York"' });
const localTime = z.string().regex(LOCAL_TIME_PATTERN, 'must be a 24-hour local time "HH:MM", e.g. "09:00"');
const localDate = z.string().regex(LOCAL_DATE_PATTERN, 'must be a date "YYYY-MM-DD"');
const template = z.string().max(20_000);

export const scheduleSchema = z.strictObject({
  /** `lead` = the lead's own zone (falling back to `fallbackTimezone`, then the workspace's). */
  timezone: z.union([z.literal('lead'), ianaZone]).default('lead'),
  fallbackTimezone: ianaZone.optional(),
  days: z.array(z.enum(WEEKDAYS)).min(1).default([...WEEKDAYS]),
  start: localTime.default('08:00'),
  end: localTime.default('21:00'),
  holidays: z.array(localDate).default([]),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export const quietHoursSchema = z.strictObject({
  start: localTime.default('21:00'),
  end: localTime.default('08:00'),
  channels: z.array(z.enum(CHANNELS)).default(['sms', 'voice']),
});
export type QuietHours = z.infer<typeof quietHoursSchema>;

export const leadConditionSchema = z.strictObject({
  field: z.string().min(1),
  op: z.enum(['eq', 'neq', 'exists', 'missing', 'contains', 'in', 'gt', 'lt']),
  value: z.unknown().optional(),
});

/** An event type of the catalogue or a custom one, with the sentences validation gives. */
export const eventTypeSchema = eventName(EVENT_TYPES);
/** The same in a sequence's rules (a branch's `when.event`, `exitOn`): underscore spellings read as their event. */
const ruleEventSchema = eventName(EVENT_TYPES, { aliases: true });

/** A test on one property of a custom event (`where` of an event condition). */
export const propertyConditionSchema = z.strictObject({
  property: z.string().min(1).max(200),
  op: leadConditionSchema.shape.op,
  value: z.unknown().optional(),
});

export const eventConditionSchema = z
  .strictObject({ event: ruleEventSchema, step: stepId.optional(), where: propertyConditionSchema.optional() })
  .superRefine((condition, ctx) => {
    // Custom events are about the lead, never one of our messages; only they carry properties.
    const custom = isCustomEventType(condition.event);
    if (custom && condition.step !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['step'], message: 'must be left out: a custom event is about the lead, not one step\'s message' });
    }
    if (!custom && condition.where !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['where'], message: 'is only for custom events ("custom.<name>"), whose properties the caller sends; remove it' });
    }
  });

const replyClassSchema = z.enum(REPLY_CLASSES, { error: () => `is not a reply class; use one of ${listOf(REPLY_CLASSES)}` });

/**
 * The class of the enrollment's latest reply (optionally a reply to one step's message) is one of
 * these (docs/SEQUENCES.md, "Reply classes").
 */
export const replyConditionSchema = z.strictObject({
  reply: z.union([replyClassSchema, z.array(replyClassSchema).min(1).max(REPLY_CLASSES.length)]),
  step: stepId.optional(),
});
export type ReplyCondition = z.infer<typeof replyConditionSchema>;

/** The classes a reply condition accepts, as a list whichever way it was written. */
export function replyClassesOf(condition: ReplyCondition): ReplyClass[] {
  return typeof condition.reply === 'string' ? [condition.reply] : condition.reply;
}

export const conditionSchema = z.union([
  eventConditionSchema,
  z.strictObject({ outcome: z.array(z.string().min(1)).min(1) }),
  z.strictObject({ lead: leadConditionSchema }),
  replyConditionSchema,
]);
export type Condition = z.infer<typeof conditionSchema>;

const common = { id: stepId, name: z.string().max(200).optional(), next: stepId.optional() };

/** A variant's share of the assignments is its weight over the step's total (absent: 1). */
const variantWeight = z.number().positive('must be greater than 0').max(1_000_000).optional();

/** Variant ids must be unique within their step: stats and the stored assignment go by them. */
function uniqueVariantIds<T extends { id: string }>(variants: T[], ctx: z.core.$RefinementCtx<T[]>) {
  const seen = new Set<string>();
  variants.forEach((variant, index) => {
    if (seen.has(variant.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `must be unique within the step; "${variant.id}" is used twice` });
    seen.add(variant.id);
  });
}

/**
 * An A/B variant of an email step (docs/SEQUENCES.md, "A/B variants"): what it leaves out comes
 * from the step (a variant of the subject alone keeps the step's body, and the reverse).
 */
export const emailVariantSchema = z.strictObject({ id: stepId, weight: variantWeight, subject: template.optional(), body: template.optional() });
export const smsVariantSchema = z.strictObject({ id: stepId, weight: variantWeight, text: template.optional() });
export const MIN_VARIANTS = 2;
export const MAX_VARIANTS = 10;

/** The automatic winner of a step's test (docs/ANALYTICS.md, "Automatic winner"). */
export const abTestSchema = z.strictObject({
  autoWinner: z
    .strictObject({
      /** No verdict before every variant has this many delivered enrollments. */
      minDeliveriesPerVariant: z.number().int().min(10).max(1_000_000).default(100),
      /** The confidence (1 − adjusted one-sided p) the leader must reach against every other variant. */
      confidence: z.number().min(0.8).max(0.999).default(0.95),
    })
    .optional(),
});
export type AbTest = z.infer<typeof abTestSchema>;

export const emailStepSchema = z.strictObject({
  ...common,
  type: z.literal('email'),
  /** Absent (or blank): a reply in the thread of the enrollment's previous email (`Re: …`). */
  subject: template.optional(),
  body: template,
  /** `text` (absent) sends the body as written; `markdown` and `html` send text + HTML. */
  format: z.enum(EMAIL_FORMATS).optional(),
  useAiWriter: z.boolean().default(false),
  variants: z.array(emailVariantSchema).min(MIN_VARIANTS).max(MAX_VARIANTS).superRefine(uniqueVariantIds).optional(),
  abTest: abTestSchema.optional(),
});
export const smsStepSchema = z.strictObject({
  ...common,
  type: z.literal('sms'),
  text: template,
  useAiWriter: z.boolean().default(false),
  variants: z.array(smsVariantSchema).min(MIN_VARIANTS).max(MAX_VARIANTS).superRefine(uniqueVariantIds).optional(),
  abTest: abTestSchema.optional(),
});
export const voiceStepSchema = z.strictObject({
  ...common,
  type: z.literal('voice'),
  script: template,
  voicemail: template.optional(),
});
export const waitStepSchema = z.strictObject({
  ...common,
  type: z.literal('wait'),
  duration: isoDuration,
  /** Count the duration's days in business days: the schedule's days, minus holidays. */
  businessDays: z.boolean().default(false),
});
export const branchStepSchema = z.strictObject({
  ...common,
  type: z.literal('branch'),
  when: conditionSchema,
  within: isoDuration,
  then: stepId,
  else: stepId,
});
export const taskStepSchema = z.strictObject({
  ...common,
  type: z.literal('task'),
  title: template,
  description: template.optional(),
  outcomes: z.array(z.string().min(1)).min(1).default(['done', 'skipped']),
  /** Optional jumps per recorded outcome; an outcome without a route continues in order. */
  routes: z.record(z.string(), stepId).optional(),
  /**
   * Who the task is for (docs/SEQUENCES.md, "Who a task is for"): `owner` (absent: the same), the
   * lead's owner when the task is read; or a member's email, that member whoever owns the lead.
   */
  assignee: z
    .union([z.literal('owner'), z.email({ message: 'must be "owner" or a member\'s email address' }).max(320)])
    .optional(),
  /** How long the assignee has, in their working time, counted from the task's first working moment. */
  dueWithin: isoDuration.optional(),
});
export const endStepSchema = z.strictObject({ ...common, type: z.literal('end') });

export const stepSchema = z.discriminatedUnion('type', [
  emailStepSchema,
  smsStepSchema,
  voiceStepSchema,
  waitStepSchema,
  branchStepSchema,
  taskStepSchema,
  endStepSchema,
]);
export type Step = z.infer<typeof stepSchema>;
export type EmailStep = z.infer<typeof emailStepSchema>;
export type SmsStep = z.infer<typeof smsStepSchema>;
export type VoiceStep = z.infer<typeof voiceStepSchema>;
export type WaitStep = z.infer<typeof waitStepSchema>;
export type BranchStep = z.infer<typeof branchStepSchema>;
export type TaskStep = z.infer<typeof taskStepSchema>;
export type DeliveryStep = EmailStep | SmsStep | VoiceStep;
export type EmailVariant = z.infer<typeof emailVariantSchema>;
export type SmsVariant = z.infer<typeof smsVariantSchema>;

export const senderSchema = z.strictObject({
  name: z.string().max(200).optional(),
  email: z.string().email().optional(),
  phone: z.string().max(32).optional(),
});

export const DEFAULT_EXIT_ON: ExitTrigger[] = [
  'email.replied',
  'sms.replied',
  'email.bounced',
  'email.unsubscribed',
  'email.spam_reported',
  'sms.opted_out',
  'converted',
];

export const sequenceDefinitionSchema = z.strictObject({
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  /** Absent: every day 08:00–21:00 in the lead's zone, so nothing goes out at 3 a.m. */
  schedule: scheduleSchema.default(() => scheduleSchema.parse({})),
  quietHours: quietHoursSchema.default(() => quietHoursSchema.parse({})),
  exitOn: z.array(eventName(EXIT_TRIGGERS, { aliases: true })).default(DEFAULT_EXIT_ON),
  /** After a permanent delivery failure: go on with the next step, or exit the enrollment. */
  onError: z.enum(['continue', 'exit']).default('continue'),
  /** After a crash left a send's outcome unknown: never resend; go on, or pause for an operator. */
  onUnknownDelivery: z.enum(['continue', 'pause']).default('continue'),
  /** Attempts per step for retryable failures (first try included). */
  maxAttempts: z.number().int().min(1).max(20).default(5),
  sender: senderSchema.optional(),
  /**
   * Touchpoint's own open pixel and click redirects (docs/SEQUENCES.md, "Tracking"), for emails
   * with an HTML part. Absent or false: off — outreach that looks like personal mail carries none.
   */
  tracking: z.strictObject({ opens: z.boolean().default(false), clicks: z.boolean().default(false) }).optional(),
  /**
   * The workspace's mailboxes its emails go out from (docs/MAILBOXES.md): an enrollment sticks to
   * the mailbox of its first email; new enrollments rotate across those with room left today.
   * Absent: the deployment's email provider and `sender`.
   */
  mailboxes: z
    .array(z.uuid({ message: 'must be a mailbox id (a UUID from GET /api/mailboxes)' }))
    .min(1, 'must name at least one mailbox (or leave mailboxes out)')
    .max(50)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'names a mailbox twice' })
    .optional(),
  /**
   * A lead that lacks the address of a channel the sequence uses (no phone for its SMS step):
   * true (the default) enrolls it and skips the steps it cannot receive, as the engine always
   * does for a step without an address; false refuses it (`missing_address`). A lead with no
   * address for any of the sequence's channels is refused either way.
   */
  skipMissingChannels: z.boolean().default(true),
  /**
   * A custom event that enrolls its lead in this (active) sequence when it arrives
   * (docs/SEQUENCES.md, "Custom events"): once per lead, unless `reentry` lets a lead whose
   * enrollment ended come in again.
   */
  trigger: z
    .strictObject({
      event: z.string().regex(CUSTOM_EVENT_PATTERN, 'must be a custom event, "custom." then 1–100 letters, digits, "_", "-", "." or ":"'),
      reentry: z.boolean().default(false),
    })
    .optional(),
  steps: z.array(stepSchema).min(1).max(200),
});
export type SequenceDefinition = z.infer<typeof sequenceDefinitionSchema>;
/** The document as a user writes it, before defaults are filled in. */
export type SequenceDefinitionInput = z.input<typeof sequenceDefinitionSchema>;

export function isDeliveryStep(step: Step): step is DeliveryStep {
  return step.type === 'email' || step.type === 'sms' || step.type === 'voice';
}

/** The lead as the core sees it: what templates, conditions and time zones need. */
export interface Lead {
  id: string;
  email?: string | null;
  phone?: string | null;
  timezone?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  company?: string | null;
  title?: string | null;
  customFields?: Record<string, unknown>;
}
