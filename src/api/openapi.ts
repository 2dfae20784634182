/**
 * The OpenAPI document, generated from the routes' zod schemas (one source for validation,
 * types and docs), at `/api/openapi.json`, and Swagger UI at `/api/docs`. Both are public: they
 * describe the API and hold no workspace's data.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WEBHOOK_EVENTS, webhookPayloadSchema } from '../core/webhookCatalogue.ts';

/**
 * The outbound webhook catalogue as OpenAPI 3.1 `webhooks`: one POST per event, its body the
 * event's payload schema (src/core/webhookCatalogue.ts), signed per Standard Webhooks.
 */
export function outboundWebhooks(): Record<string, unknown> {
  return Object.fromEntries(
    WEBHOOK_EVENTS.map((event) => {
      const schema = webhookPayloadSchema(event);
      const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
      return [
        event,
        {
          post: {
            summary: schema.description,
            description:
              'Signed per Standard Webhooks: headers `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64 HMAC-SHA256>`). ' +
              'Answer 2xx to acknowledge; see docs/INTEGRATIONS.md, "Webhooks out".',
            requestBody: { required: true, content: { 'application/json': { schema: jsonSchema } } },
            responses: { '200': { description: 'Acknowledged (any 2xx)' }, '410': { description: 'Gone: the endpoint is disabled' } },
          },
        },
      ];
    }),
  );
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Touchpoint REST API',
        version: '1',
        description:
          'Leads, sequences, enrollments, operator controls and timelines. Every route takes `Authorization: Bearer <token>` ' +
          '(create one with `npx touchpoint tokens create --role admin`) or a session cookie from `POST /api/auth/login` ' +
          '(writes then need a same-origin `Origin`; `X-Touchpoint-Workspace` picks the workspace). Errors are `{"error": {"code", "message", "details"}}`. See docs/API.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'tp_session' } } },
      security: [{ bearer: [] }, { session: [] }],
    },
    // Only the REST API is documented here; health, metrics and webhooks have their own docs.
    transform: (document) =>
      document.url.startsWith('/api/') ? jsonSchemaTransform(document) : { schema: { hide: true }, url: document.url },
    transformObject: (input) => ({ ...jsonSchemaTransformObject(input), webhooks: outboundWebhooks() }) as ReturnType<typeof jsonSchemaTransformObject>,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
