/**
 * The OpenAPI document, generated from the routes' zod schemas (one source for validation,
 * types and docs), at `/api/openapi.json`, and Swagger UI at `/api/docs`. Both are public: they
 * describe the API and hold no workspace's data.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

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
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
