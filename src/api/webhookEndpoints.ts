/**
 * Outbound webhook endpoints (docs/INTEGRATIONS.md, "Webhooks out"; docs/API.md): create one
 * (its signing secret shown once), list, read, change, rotate the secret, delete; an endpoint's
 * delivery log, a replay of one delivery, and a test event. Admins manage endpoints; operators
 * may read them and their logs. The signing secret is never shown again after creation or rotation.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isSubscription, SUBSCRIPTION_MESSAGE } from '../core/webhookCatalogue.ts';
import type { Db } from '../db/db.ts';
import { deliveryCounts, getDelivery, insertTestDelivery, listDeliveries, replayDelivery, type WebhookDelivery } from '../db/webhookDeliveries.ts';
import {
  endpointSecretContext,
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
  type WebhookEndpoint,
} from '../db/webhookEndpoints.ts';
import type { Engine } from '../engine/engine.ts';
import { PrivateAddressError, resolveChecked, UnresolvableHostError } from '../outbound/addresses.ts';
import { newSecret } from '../outbound/signing.ts';
import type { KeyRing } from '../secrets/keyRing.ts';
import { callerOf } from './auth.ts';
import { commonErrors, decodeCursor, errorSchema, fail, id, iso, page, pageOf, pageQuery, type Api } from './wire.ts';

/** How long the secret before a rotation keeps signing beside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;
export const MAX_ENDPOINTS_PER_WORKSPACE = 50;

const url = z
  .string()
  .trim()
  .max(2000)
  .refine((value) => {
    try {
      const parsed = new URL(value);
      return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.hostname !== '' && !parsed.username && !parsed.password;
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL without credentials, e.g. https://hooks.example.com/touchpoint')
  .describe('Where deliveries are POSTed');
const events = z
  .array(z.string().refine(isSubscription, SUBSCRIPTION_MESSAGE))
  .min(1)
  .max(100)
  .transform((list) => [...new Set(list)])
  .describe('What it receives: "*", catalogue events ("email.replied"), families ("email.*", "custom.*") or custom events');
const description = z.string().trim().max(500).describe('A note for people: what receives these');

const endpointSchema = z
  .object({
    id,
    url: z.string(),
    description: z.string(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.enum(['operator', 'gone', 'failing']).nullable().describe('Why it is off: an operator, a 410 from the receiver, or a day of failures'),
    disabledAt: z.string().nullable(),
    failingSince: z.string().nullable().describe('The first failed attempt since the last success'),
    previousSecretExpiresAt: z.string().nullable().describe('After a rotation: when the old secret stops signing'),
    deliveries: z.object({ pending: z.number(), delivered: z.number(), failed: z.number() }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });
const withSecret = endpointSchema
  .extend({ secret: z.string().describe('The signing secret (whsec_…): shown this once, store it now') })
  .meta({ id: 'WebhookEndpointWithSecret' });

const deliverySchema = z
  .object({
    id,
    endpointId: id,
    messageId: z.string().describe('The webhook-id header: the same across retries and replays'),
    eventType: z.string(),
    leadId: id.nullable(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number(),
    nextAttemptAt: z.string().nullable(),
    lastAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().nullable(),
    lastResponse: z.string().nullable().describe("The first KiB of the receiver's last answer"),
    lastError: z.string().nullable().describe('Why the last attempt got no answer (timeout, refused address, …)'),
    lastLatencyMs: z.number().nullable(),
    deliveredAt: z.string().nullable(),
    replayOf: id.nullable(),
    payload: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
  })
  .meta({ id: 'WebhookDelivery' });

const endpointParams = z.object({ id });
const deliveryParams = z.object({ id, deliveryId: id });

function endpointToWire(endpoint: WebhookEndpoint, counts = { pending: 0, delivered: 0, failed: 0 }) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.events,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    disabledAt: iso(endpoint.disabledAt),
    failingSince: iso(endpoint.failingSince),
    previousSecretExpiresAt: iso(endpoint.previousSecretExpiresAt),
    deliveries: counts,
    createdAt: iso(endpoint.createdAt)!,
    updatedAt: iso(endpoint.updatedAt)!,
  };
}

function deliveryToWire(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    endpointId: delivery.endpointId,
    messageId: delivery.messageId,
    eventType: delivery.eventType,
    leadId: delivery.leadId,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.status === 'pending' ? iso(delivery.nextAttemptAt) : null,
    lastAttemptAt: iso(delivery.lastAttemptAt),
    lastStatusCode: delivery.lastStatusCode,
    lastResponse: delivery.lastResponse,
    lastError: delivery.lastError,
    lastLatencyMs: delivery.lastLatencyMs,
    deliveredAt: iso(delivery.deliveredAt),
    replayOf: delivery.replayOf,
    payload: delivery.payload,
    createdAt: iso(delivery.createdAt)!,
  };
}

export function webhookEndpointRoutes(
  api: Api,
  db: Db,
  engine: Engine,
  options: { allowPrivate: boolean; /** Seals signing secrets at rest (docs/SECURITY.md); absent: stored as they are. */ keyRing?: KeyRing },
) {
  const now = () => engine.deps.clock.now();
  /** What is stored for a new signing secret: sealed under the key ring when there is one. */
  const stored = (endpointId: string, secret: string) => (options.keyRing ? options.keyRing.seal(secret, endpointSecretContext(endpointId)) : secret);

  /** The URL's host must resolve to public addresses only (unless allowed): a sentence if not. */
  async function addressProblem(value: string): Promise<string | undefined> {
    if (options.allowPrivate) return undefined;
    try {
      await resolveChecked(new URL(value).hostname, false);
      return undefined;
    } catch (error) {
      if (error instanceof PrivateAddressError || error instanceof UnresolvableHostError) return error.message;
      throw error;
    }
  }

  async function withCounts(endpoint: WebhookEndpoint) {
    return endpointToWire(endpoint, (await deliveryCounts(db, [endpoint.id])).get(endpoint.id));
  }

  api.post(
    '/webhook-endpoints',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Create a webhook endpoint; answers its signing secret, shown this once',
        tags: ['webhooks'],
        body: z.strictObject({ url, events, description: description.default('') }),
        response: { 201: withSecret, 409: errorSchema, 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const problem = await addressProblem(request.body.url);
      if (problem) return fail(reply, 422, 'private_address', problem);
      if ((await listEndpoints(db, workspaceId)).length >= MAX_ENDPOINTS_PER_WORKSPACE) {
        return fail(reply, 409, 'too_many_endpoints', `A workspace has at most ${MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints; delete one first.`);
      }
      const secret = newSecret();
      const endpointId = randomUUID();
      const endpoint = await createEndpoint(db, { id: endpointId, workspaceId, ...request.body, secret: stored(endpointId, secret), now: now() });
      return reply.status(201).send({ ...endpointToWire(endpoint), secret });
    },
  );

  api.get(
    '/webhook-endpoints',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: "The workspace's webhook endpoints (without secrets), oldest first",
        tags: ['webhooks'],
        response: { 200: z.object({ items: z.array(endpointSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const endpoints = await listEndpoints(db, callerOf(request).workspaceId);
      const counts = await deliveryCounts(db, endpoints.map((e) => e.id));
      return { items: endpoints.map((e) => endpointToWire(e, counts.get(e.id))) };
    },
  );

  api.get(
    '/webhook-endpoints/:id',
    {
      config: { minRole: 'operator' },
      schema: { summary: 'One webhook endpoint', tags: ['webhooks'], params: endpointParams, response: { 200: endpointSchema, ...commonErrors } },
    },
    async (request, reply) => {
      const endpoint = await getEndpoint(db, callerOf(request).workspaceId, request.params.id);
      if (!endpoint) return fail(reply, 404, 'not_found', `Webhook endpoint ${request.params.id} does not exist.`);
      return withCounts(endpoint);
    },
  );

  api.patch(
    '/webhook-endpoints/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Change an endpoint: url, events, description, or enabled (true also ends a failing streak)',
        tags: ['webhooks'],
        params: endpointParams,
        body: z
          .strictObject({ url: url.optional(), events: events.optional(), description: description.optional(), enabled: z.boolean().optional() })
          .refine((b) => Object.keys(b).length > 0, 'name at least one of url, events, description, enabled'),
        response: { 200: endpointSchema, 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      if (request.body.url) {
        const problem = await addressProblem(request.body.url);
        if (problem) return fail(reply, 422, 'private_address', problem);
      }
      const endpoint = await updateEndpoint(db, workspaceId, request.params.id, request.body, now());
      if (!endpoint) return fail(reply, 404, 'not_found', `Webhook endpoint ${request.params.id} does not exist.`);
      return withCounts(endpoint);
    },
  );

  api.post(
    '/webhook-endpoints/:id/rotate-secret',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'A new signing secret (shown this once); the old one keeps signing beside it for 24 hours',
        tags: ['webhooks'],
        params: endpointParams,
        response: { 200: withSecret, ...commonErrors },
      },
    },
    async (request, reply) => {
      const at = now();
      const secret = newSecret();
      const endpoint = await rotateSecret(db, {
        workspaceId: callerOf(request).workspaceId,
        id: request.params.id,
        secret: stored(request.params.id, secret),
        previousUntil: new Date(at.getTime() + ROTATION_OVERLAP_MS),
        now: at,
      });
      if (!endpoint) return fail(reply, 404, 'not_found', `Webhook endpoint ${request.params.id} does not exist.`);
      return { ...(await withCounts(endpoint)), secret };
    },
  );

  api.delete(
    '/webhook-endpoints/:id',
    {
      config: { minRole: 'admin' },
      schema: { summary: 'Delete an endpoint and its delivery log', tags: ['webhooks'], params: endpointParams, response: { 204: z.null(), ...commonErrors } },
    },
    async (request, reply) => {
      const deleted = await deleteEndpoint(db, callerOf(request).workspaceId, request.params.id);
      if (!deleted) return fail(reply, 404, 'not_found', `Webhook endpoint ${request.params.id} does not exist.`);
      return reply.status(204).send(null);
    },
  );

  api.get(
    '/webhook-endpoints/:id/deliveries',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: "An endpoint's delivery log, newest first",
        tags: ['webhooks'],
        params: endpointParams,
        querystring: z.object({ ...pageQuery, status: z.enum(['pending', 'delivered', 'failed']).optional() }),
        response: { 200: page(deliverySchema), ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const after = decodeCursor(request.query.cursor);
      if (after === 'invalid') return fail(reply, 400, 'invalid_cursor', 'The cursor is not one this API gave out.');
      if (!(await getEndpoint(db, workspaceId, request.params.id))) {
        return fail(reply, 404, 'not_found', `Webhook endpoint ${request.params.id} does not exist.`);
      }
      const rows = await listDeliveries(db, {
        workspaceId,
        endpointId: request.params.id,
        status: request.query.status,
        after,
        limit: request.query.limit + 1,
      });
      const { items, nextCursor } = pageOf(rows, request.query.limit, (row) => row.createdAt);
      return { items: items.map(deliveryToWire), nextCursor };
    },
  );

  api.get(
    '/webhook-endpoints/:id/deliveries/:deliveryId',
    {
      config: { minRole: 'operator' },
      schema: { summary: 'One delivery', tags: ['webhooks'], params: deliveryParams, response: { 200: deliverySchema, ...commonErrors } },
    },
    async (request, reply) => {
      const delivery = await getDelivery(db, callerOf(request).workspaceId, request.params.id, request.params.deliveryId);
      if (!delivery) return fail(reply, 404, 'not_found', `Delivery ${request.params.deliveryId} does not exist on this endpoint.`);
      return deliveryToWire(delivery);
    },
  );

  api.post(
    '/webhook-endpoints/:id/deliveries/:deliveryId/replay',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Send a delivery again: a new delivery of the same event (same webhook-id), due at once',
        tags: ['webhooks'],
        params: deliveryParams,
        response: { 202: deliverySchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const replay = await replayDelivery(db, callerOf(request).workspaceId, request.params.id, request.params.deliveryId, now());
      if (!replay) return fail(reply, 404, 'not_found', `Delivery ${request.params.deliveryId} does not exist on this endpoint.`);
      return reply.status(202).send(deliveryToWire(replay));
    },
  );

  api.post(
    '/webhook-endpoints/:id/test',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Send a test event (webhook.test) to this endpoint now, whatever it subscribes to',
        tags: ['webhooks'],
        params: endpointParams,
        response: { 202: deliverySchema, 409: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const endpoint = await getEndpoint(db, workspaceId, request.params.id);
      if (!endpoint) return fail(reply, 404, 'not_found', `Webhook endpoint ${request.params.id} does not exist.`);
      if (!endpoint.enabled) return fail(reply, 409, 'endpoint_disabled', 'The endpoint is disabled; enable it (PATCH {"enabled": true}) to send it a test event.');
      const at = now();
      const delivery = await insertTestDelivery(db, {
        workspaceId,
        endpointId: endpoint.id,
        messageId: `msg_${randomUUID().replaceAll('-', '')}`,
        payload: {
          type: 'webhook.test',
          timestamp: at.toISOString(),
          data: { endpointId: endpoint.id, message: 'A test event from Touchpoint: your endpoint receives and verifies webhooks.' },
        },
        now: at,
      });
      return reply.status(202).send(deliveryToWire(delivery));
    },
  );
}
