/**
 * Custom events in (docs/INTEGRATIONS.md, "Custom events in"): `POST /api/events` takes one
 * event another system saw happen to a lead (`custom.<name>`), `POST /api/events/batch` up to
 * 1,000 in one call and one transaction. The lead is named by our id, the CRM's id
 * (`externalId`), its email or its phone; `upsertLead` creates an unknown one. An
 * `idempotencyKey` sent twice records one event, and the second answer says `duplicate`.
 */
import { z } from 'zod';
import { CUSTOM_EVENT_MESSAGE, CUSTOM_EVENT_PATTERN, type CustomEventType } from '../core/events.ts';
import type { Engine } from '../engine/engine.ts';
import type { CustomEventInput, CustomEventResult } from '../engine/customEvents.ts';
import { callerOf } from './auth.ts';
import { emailField, phoneField } from './leadFields.ts';
import { commonErrors, fail, id, isoTime, type Api } from './wire.ts';

/** The most events one batch call takes: 1,000 small events stay well under the 1 MB body limit. */
export const MAX_EVENTS_PER_BATCH = 1000;

const properties = z
  .record(z.string().max(100), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 16_384, { message: 'properties are limited to 16 KB of JSON' })
  .describe('Anything the event carries; a branch may test one with `where`');

export const customEventSchema = z
  .strictObject({
    leadId: id.optional(),
    externalId: z.string().trim().min(1).max(200).optional().describe("The lead's id in your CRM"),
    email: emailField.optional(),
    phone: phoneField.optional(),
    type: z
      .string()
      .regex(CUSTOM_EVENT_PATTERN, `type ${CUSTOM_EVENT_MESSAGE}`)
      .transform((value) => value as CustomEventType)
      .describe('custom.<name>, e.g. custom.demo_booked'),
    properties: properties.optional(),
    occurredAt: isoTime.optional().describe('When it happened (default: now); a time in the future counts as now'),
    idempotencyKey: z.string().min(1).max(200).optional().describe('The same key twice (per workspace) records one event'),
    upsertLead: z.boolean().optional().describe('Create the lead when none matches (needs an email or a phone)'),
  })
  .refine((event) => event.leadId || event.externalId || event.email || event.phone, {
    message: 'An event names its lead: send one of leadId, externalId, email or phone.',
  });

const resultSchema = z
  .object({
    status: z.enum(['recorded', 'duplicate', 'unknown_lead']),
    eventId: id.optional(),
    leadId: id.optional(),
    leadCreated: z.boolean().optional(),
    exited: z.array(id).optional().describe('Enrollments the event ended through their exitOn'),
    enrolled: z.array(id).optional().describe('Enrollments it started in sequences whose trigger it is'),
    message: z.string().optional(),
  })
  .meta({ id: 'CustomEventResult' });

type ParsedEvent = z.output<typeof customEventSchema>;

function toInput(event: ParsedEvent): CustomEventInput {
  return {
    ...event,
    properties: event.properties ?? {},
    occurredAt: event.occurredAt ? new Date(event.occurredAt) : undefined,
  };
}

function toWire(result: CustomEventResult): z.infer<typeof resultSchema> {
  return result;
}

export function eventRoutes(api: Api, engine: Engine) {
  api.post(
    '/events',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Record a custom event for a lead',
        description:
          'Lands on the lead timeline, wakes branches waiting for it and applies exitOn. 201 recorded; 200 when the idempotencyKey was seen (`duplicate`); 404 when no lead matches and upsertLead is not set.',
        tags: ['events'],
        body: customEventSchema,
        response: { 200: resultSchema, 201: resultSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const [result] = await engine.ingestCustom({ workspaceId: caller.workspaceId, actor: caller.actor, events: [toInput(request.body)] });
      if (!result || result.status === 'unknown_lead') return fail(reply, 404, 'unknown_lead', result?.message ?? 'No lead matches.');
      return reply.status(result.status === 'recorded' ? 201 : 200).send(toWire(result));
    },
  );

  api.post(
    '/events/batch',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: `Record up to ${MAX_EVENTS_PER_BATCH} custom events in one call`,
        description:
          'One transaction. Each event gets a result in the order sent; an event whose lead is unknown is `unknown_lead` (with a sentence) and the others are still recorded.',
        tags: ['events'],
        body: z.strictObject({ events: z.array(customEventSchema).min(1).max(MAX_EVENTS_PER_BATCH) }),
        response: {
          200: z.object({
            recorded: z.number().int(),
            duplicates: z.number().int(),
            unknownLeads: z.number().int(),
            results: z.array(resultSchema),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const results = await engine.ingestCustom({ workspaceId: caller.workspaceId, actor: caller.actor, events: request.body.events.map(toInput) });
      const count = (status: CustomEventResult['status']) => results.filter((r) => r.status === status).length;
      return { recorded: count('recorded'), duplicates: count('duplicate'), unknownLeads: count('unknown_lead'), results: results.map(toWire) };
    },
  );
}
