/**
 * The route modules mounted on the HTTP app. Each room (REST API, webhooks, dashboard) adds
 * its plugin here.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './db/db.ts';
import type { Engine } from './engine/engine.ts';
import { restApi } from './api/api.ts';
import { webPlugin } from './web/plugin.ts';
import { webhookRoutes } from './webhooks/routes.ts';

export interface RouteDeps {
  config: Config;
  db: Db;
  engine: Engine;
  logger?: Logger;
}

export function routePlugins(_deps: RouteDeps): Array<(app: FastifyInstance) => Promise<void> | void> {
  return [restApi(_deps), webPlugin(), webhookRoutes(_deps)]; // restApi serves /metrics too, behind a token
}
