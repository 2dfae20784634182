/**
 * The outbound webhook catalogue (docs/INTEGRATIONS.md, "Webhooks out"): every event an
 * endpoint can subscribe to and the one zod schema of its payload. The outbox triggers
 * (src/db/functions/webhook_outbox_*.sql) build these payloads; the OpenAPI document's
 * `webhooks` section, the API's validation of subscriptions and the dashboard's picker all read
 * them from here. Every payload is the Standard Webhooks envelope `{type, timestamp, data}`.
 */
import { z } from 'zod';
import { CUSTOM_EVENT_PATTERN } from './events.ts';

const uuid = z.string().describe('A uuid');
const time = z.string().describe('ISO-8601, UTC, with milliseconds');

/** The lead as every payload names it; null for an event about no lead. */
export const leadRefSchema = z
  .object({
    id: uuid,
    email: z.string().nullable(),
    phone: z.string().nullable(),
    externalId: z.string().nullable().describe("The CRM's id for the lead"),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    company: z.string().nullable(),
  })
  .describe('The lead the event is about');

const enrollmentData = z.object({
  enrollmentId: uuid,
  sequenceId: uuid,
  lead: leadRefSchema.nullable(),
  status: z.string().describe('The enrollment status it moved to'),
  previousStatus: z.string().nullable(),
  reason: z.string().nullable(),
  actor: z.string().describe('`system`, `engine`, or who acted (a token name)'),
  occurredAt: time,
});

const sendData = z.object({
  executionId: uuid,
  enrollmentId: uuid,
  sequenceId: uuid,
  stepId: z.string(),
  lead: leadRefSchema.nullable(),
  channel: z.enum(['email', 'sms']),
  providerMessageId: z.string().nullable(),
  adapter: z.string().nullable(),
  occurredAt: time,
});

const eventBase = z.object({
  eventId: uuid,
  lead: leadRefSchema.nullable(),
  enrollmentId: uuid.nullable(),
  sequenceId: uuid.nullable(),
  executionId: uuid.nullable(),
  stepId: z.string().nullable(),
  channel: z.string().nullable(),
  provider: z.string().describe('Who reported it: sendgrid, postmark, telnyx, calcom, calendly, api, operator, mock…'),
  occurredAt: time,
});
const providerEventData = eventBase.extend({ details: z.record(z.string(), z.unknown()).describe("What the provider told us (translated)") });

const CATALOGUE = {
  'enrollment.started': [enrollmentData, 'A lead was enrolled in a sequence.'],
  'enrollment.paused': [enrollmentData, 'An enrollment was paused (by an operator, or its sequence was paused).'],
  'enrollment.resumed': [enrollmentData, 'A paused enrollment was resumed.'],
  'enrollment.completed': [enrollmentData, 'An enrollment ran past its last step.'],
  'enrollment.exited': [enrollmentData, 'An enrollment ended early: `status` is exited (an exit rule; `reason` names it), cancelled, converted or failed.'],
  'email.sent': [sendData, 'The email provider accepted an email of a sequence.'],
  'email.delivered': [providerEventData, 'The email provider delivered an email.'],
  'email.opened': [providerEventData, 'An email was opened.'],
  'email.clicked': [providerEventData, 'A link in an email was clicked.'],
  'email.replied': [providerEventData, 'The lead replied to an email.'],
  'email.bounced': [providerEventData, 'An email bounced (`details.bounceType`: hard, or soft for a temporary failure read from a mailbox).'],
  'email.auto_replied': [providerEventData, 'An out-of-office or other automatic answer arrived in a mailbox (`details.pauseUntil`: when the lead\'s enrollments resume).'],
  'sms.sent': [sendData, 'The SMS provider accepted a text of a sequence.'],
  'sms.delivered': [providerEventData, 'A text was delivered.'],
  'sms.replied': [providerEventData, 'The lead replied to a text.'],
  'sms.opted_out': [providerEventData, 'The lead opted out of texts (STOP).'],
  'call.completed': [
    providerEventData.extend({
      outcome: z.enum(['answered', 'voicemail', 'no_answer', 'unknown']).describe('What the call came to, from answering-machine detection and the hangup cause'),
    }),
    'A call of a sequence ended.',
  ],
  'task.created': [
    enrollmentData.extend({
      stepId: z.string().describe('The task step'),
      sequenceVersion: z.number().int().describe('The version of the sequence the enrollment runs'),
      title: z.string().describe("The task's title rendered for the lead, as the task inbox shows it"),
      description: z.string().nullable().describe("The task's description rendered for the lead; null when the step has none"),
      assignee: z
        .object({ id: uuid, name: z.string().nullable(), email: z.string() })
        .nullable()
        .describe("Who the task is for: the member the step names, else the lead's owner; null: unassigned"),
    }),
    'An enrollment arrived at a task step, which now waits for an operator (once per visit of the step).',
  ],
  'task.completed': [
    eventBase.extend({ outcome: z.string().nullable(), note: z.string().nullable(), actor: z.string().nullable() }),
    'An operator recorded the outcome of a task.',
  ],
  'lead.converted': [
    z.object({ lead: leadRefSchema, previousStatus: z.string(), occurredAt: time }),
    "A lead's status became converted.",
  ],
  'meeting.booked': [providerEventData, 'The lead booked a meeting (Cal.com or Calendly).'],
  'meeting.cancelled': [providerEventData, 'The lead cancelled a meeting.'],
  'custom.*': [
    eventBase.extend({ properties: z.record(z.string(), z.unknown()) }),
    'A custom event posted to /api/events; `type` is its own name, e.g. custom.demo_booked.',
  ],
  'webhook.test': [
    z.object({ endpointId: uuid, message: z.string() }),
    'Sent by "send test event" (POST /api/webhook-endpoints/{id}/test) only, whatever the subscription.',
  ],
} as const satisfies Record<string, readonly [z.ZodObject, string]>;

export type WebhookCatalogueEntry = keyof typeof CATALOGUE;

/** Every catalogue entry (`custom.*` stands for every custom event), in the documented order. */
export const WEBHOOK_EVENTS = Object.keys(CATALOGUE) as WebhookCatalogueEntry[];

/** The events a subscription can name one by one (the test event is never subscribed to). */
export const SUBSCRIBABLE_EVENTS = WEBHOOK_EVENTS.filter((e) => e !== 'webhook.test' && e !== 'custom.*');

const FAMILIES = [...new Set(SUBSCRIBABLE_EVENTS.map((e) => e.split('.')[0]!)), 'custom'];

/** The payload of one catalogue entry: `{type, timestamp, data}`. */
export function webhookPayloadSchema(entry: WebhookCatalogueEntry) {
  const [data, description] = CATALOGUE[entry];
  const type = entry === 'custom.*' ? z.string().regex(CUSTOM_EVENT_PATTERN) : z.literal(entry);
  return z.object({ type, timestamp: time, data }).describe(description);
}

/** The catalogue entry a delivered type belongs to (`custom.demo_booked` → `custom.*`). */
export function catalogueEntryOf(type: string): WebhookCatalogueEntry | undefined {
  if (CUSTOM_EVENT_PATTERN.test(type)) return 'custom.*';
  return type in CATALOGUE ? (type as WebhookCatalogueEntry) : undefined;
}

export const SUBSCRIPTION_MESSAGE =
  'must be "*", an event of the catalogue (e.g. "email.replied"), a family ("email.*", "custom.*") or a custom event ("custom.demo_booked")';

/** Whether an endpoint may subscribe to `name`: `*`, a catalogue event, `<family>.*`, a custom type. */
export function isSubscription(name: string): boolean {
  if (name === '*') return true;
  if ((SUBSCRIBABLE_EVENTS as string[]).includes(name)) return true;
  if (name.endsWith('.*')) return FAMILIES.includes(name.slice(0, -2));
  return CUSTOM_EVENT_PATTERN.test(name);
}

/** Whether a subscription list receives `type` (the SQL twin is in webhook_enqueue.sql). */
export function subscribesTo(events: readonly string[], type: string): boolean {
  return events.includes('*') || events.includes(type) || events.includes(`${type.split('.')[0]}.*`);
}
