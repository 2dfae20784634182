/**
 * The route modules mounted on the HTTP app. Each room (REST API, webhooks, dashboard) adds
 * its plugin here; the webhook counter watches every webhook's answer.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Accounts } from '../accounts/accounts.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { Engine } from '../engine/engine.ts';
import { restApi } from '../api/api.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { countWebhooks } from '../telemetry/webhookMetrics.ts';
import { webPlugin } from '../web/plugin.ts';
import { webhookRoutes } from '../webhooks/routes.ts';
import type { MailboxRouteDeps } from '../api/mailboxes.ts';
import type { ConnectionRouteDeps } from '../api/connections.ts';
import type { MetricsScope } from './parts.ts';
import type { LiveBus } from '../engine/liveBus.ts';

export interface RouteDeps {
  config: Config;
  accounts: Accounts;
  now: () => Date;
  db: Db;
  engine: Engine;
  logger?: Logger;
  metrics: Metrics;
  metricsText: (scope: MetricsScope) => Promise<{ contentType: string; body: string }>;
  /** The key ring, login checks and pool closing the mailbox routes use. */
  mailboxes: Omit<MailboxRouteDeps, 'db'>;
  /** The key ring and cache forgetting the connection routes use. */
  connections: Omit<ConnectionRouteDeps, 'db'>;
  /** Opens a connection's sealed credentials for its webhook routes. */
  openSecret?: (sealed: string, context: string) => string;
  /** The live notices' bus (GET /api/stream). */
  live: LiveBus;
}

export function routePlugins(deps: RouteDeps): Array<(app: FastifyInstance) => Promise<void> | void> {
  // The counter's hook comes first, so the webhook scope registered after it inherits it.
  // restApi serves /metrics too, behind a token.
  return [countWebhooks(deps.metrics), restApi(deps), webPlugin(), webhookRoutes(deps)];
}
