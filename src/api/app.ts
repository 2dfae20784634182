/**
 * The HTTP surface: health and readiness here; the REST API, webhooks and the dashboard are
 * registered by their own modules. Errors are `{error: {code, message, details?}}`; a client's
 * bad input is a 4xx with a sentence, never a 500.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import type { Engine } from '../engine/engine.ts';

export interface AppDeps {
  db: Db;
  engine: Engine;
  logger?: Logger;
  /** Extra route modules (REST API, webhooks, dashboard), each a Fastify plugin. */
  plugins?: Array<(app: FastifyInstance) => Promise<void> | void>;
  bodyLimitBytes?: number;
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimitBytes ?? 5 * 1024 * 1024,
  }) as unknown as FastifyInstance; // pino's Logger is a FastifyBaseLogger; erase the generic

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string; validation?: unknown }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send(errorBody('internal', 'Something went wrong on our side; it has been logged.'));
    }
    const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 429 ? 'rate_limited' : 'bad_request';
    return reply.status(status).send(errorBody(code, error.message));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await deps.db.query('select 1');
      return { status: 'ready', database: deps.db.kind };
    } catch (error) {
      return reply.status(503).send(errorBody('not_ready', `The database does not answer: ${(error as Error).message}`));
    }
  });

  for (const plugin of deps.plugins ?? []) await plugin(app);
  return app;
}
