/**
 * The REST API under `/api`: zod-typed routes, bearer-token or session-cookie auth with roles, per-caller rate
 * limits, body limits, and errors in one shape. Each resource module adds its routes.
 */
import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { frequencyCapsOf, type Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { Role } from '../db/workspaces.ts';
import type { Engine } from '../engine/engine.ts';
import type { Accounts } from '../accounts/accounts.ts';
import { authHook, bearerToken, createAuthenticator, meRoutes, type Authenticator } from './auth.ts';
import { authRoutes } from './authRoutes.ts';
import { oidcRoutes } from './oidcRoutes.ts';
import { createSso, SSO_START_PATH } from '../accounts/sso.ts';
import { ssoSettingsOf } from '../accounts/settings.ts';
import { sessionCookieOf } from './sessionCookie.ts';
import { workspaceRoutes } from './workspaces.ts';
import { enrollmentRoutes } from './enrollments.ts';
import { eventRoutes } from './events.ts';
import { replyClassRoutes } from './replyClasses.ts';
import { demoRoutes } from './demo.ts';
import { replyRoutes } from './replies.ts';
import { replyRespondRoutes } from './replyRespond.ts';
import { reportRoutes } from './reports.ts';
import { apiErrorHandler } from './errors.ts';
import { csvStreamParser, leadImportRoutes } from './leadImport.ts';
import { editorRoutes } from './editor.ts';
import { leadRoutes } from './leads.ts';
import { bulkRoutes } from './bulk.ts';
import { savedFilterRoutes } from './savedFilters.ts';
import { registerOpenApi } from './openapi.ts';
import { sequenceToolRoutes } from './sequenceTools.ts';
import { historyRoutes } from './history.ts';
import { sequenceRoutes } from './sequences.ts';
import { taskRoutes } from './tasks.ts';
import { timelineRoutes } from './timeline.ts';
import { tokenRoutes } from './tokens.ts';
import { exportRoutes } from './exports.ts';
import { webhookEndpointRoutes } from './webhookEndpoints.ts';
import { suppressionRoutes } from './suppressions.ts';
import { workspaceSettingsRoutes } from './workspaceSettings.ts';
import { mailboxRoutes, type MailboxRouteDeps } from './mailboxes.ts';
import { connectionRoutes, type ConnectionRouteDeps } from './connections.ts';
import { metricsTokenMatches } from '../telemetry/metrics.ts';
import { errorBody } from '../http/errors.ts';
import type { LiveBus } from '../engine/liveBus.ts';
import { announceApiWrites, streamRoutes } from './stream.ts';

/** A JSON body larger than this is a mistake (10,000 lead ids are ~400 KB); the CSV import takes more. */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

export interface ApiRoute {
  method: string;
  url: string;
  minRole?: Role;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the REST API as registered, for tests and tools that must cover them all. */
    apiRoutes: ApiRoute[];
  }
}

/** `?scope=cluster` (the dashboard): every process's figures; otherwise this process's (Prometheus). */
type MetricsText = (scope: 'process' | 'cluster') => Promise<{ contentType: string; body: string }>;

export function restApi(deps: {
  config: Config;
  db: Db;
  engine: Engine;
  metricsText: MetricsText;
  mailboxes: Omit<MailboxRouteDeps, 'db'>;
  connections: Omit<ConnectionRouteDeps, 'db'>;
  accounts: Accounts;
  now: () => Date;
  /** Where live notices are published and the streams subscribe (docs/DASHBOARD.md, "Live updates"). */
  live: LiveBus;
}) {
  return async (app: FastifyInstance) => {
    // One per-address count of failed authentications for the REST API and /metrics.
    const authenticate = createAuthenticator(deps.db, { failureLimit: deps.config.AUTH_FAILURE_LIMIT });
    metricsRoute(app, { token: deps.config.METRICS_TOKEN, authenticate, text: deps.metricsText });
    await registerOpenApi(app);
    app.decorate('apiRoutes', [] as ApiRoute[]);
    const sessions = { accounts: deps.accounts, publicUrl: deps.config.PUBLIC_URL };
    const ssoSettings = ssoSettingsOf(deps.config);
    const sso = ssoSettings && createSso(deps.db, ssoSettings, deps.now);
    // Sign-in and one-time links: the only /api routes without credentials, so outside the auth hook.
    await app.register(
      async (scope) => {
        const api = scope.withTypeProvider<ZodTypeProvider>();
        api.setValidatorCompiler(validatorCompiler);
        api.setSerializerCompiler(serializerCompiler);
        api.setErrorHandler(apiErrorHandler);
        authRoutes(api, { ...sessions, loginAddressLimit: deps.config.LOGIN_ADDRESS_LIMIT, now: deps.now, ssoStartUrl: sso ? SSO_START_PATH : null });
        oidcRoutes(api, { ...sessions, sso, now: deps.now });
      },
      { prefix: '/api' },
    );
    await app.register(
      async (scope) => {
        const api = scope.withTypeProvider<ZodTypeProvider>();
        api.setValidatorCompiler(validatorCompiler);
        api.setSerializerCompiler(serializerCompiler);
        api.setErrorHandler(apiErrorHandler);
        api.addHook('onRoute', (route) => {
          // Fail closed: a route that forgets to name its role must not start up public.
          if (!route.config?.minRole && route.method !== 'HEAD') throw new Error(`${String(route.method)} ${route.url} names no minRole.`);
          route.bodyLimit ??= JSON_BODY_LIMIT_BYTES;
          const methods = Array.isArray(route.method) ? route.method : [route.method];
          for (const method of methods) {
            if (method !== 'HEAD') app.apiRoutes.push({ method, url: route.url, minRole: route.config?.minRole });
          }
        });
        // CSV is streamed by the import itself (record by record, stopping at its caps).
        api.addContentTypeParser(['text/csv', 'text/plain'], csvStreamParser);
        await api.register(rateLimit, {
          max: deps.config.API_RATE_LIMIT,
          timeWindow: 60_000,
          // One bucket per token (hashed: the limiter's memory never holds a usable token). The
          // limiter's hook is per route, so it runs after the auth hook: only valid tokens count.
          keyGenerator: (request) => {
            const token = bearerToken(request) ?? sessionCookieOf(request);
            return token ? `t:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}` : `ip:${request.ip}`;
          },
          errorResponseBuilder: (_request, context) => ({
            statusCode: 429,
            code: 'rate_limited',
            message: `Too many requests: this token may make ${context.max} per minute; retry in ${Math.ceil(context.ttl / 1000)} s.`,
          }),
        });
        // Before the per-token limiter and the lookup: failed authentications are limited per address.
        api.addHook('onRequest', authHook(deps.db, authenticate, sessions));
        announceApiWrites(api, deps.live);

        meRoutes(api, deps.db);
        streamRoutes(api, {
          bus: deps.live,
          heartbeatMs: deps.config.LIVE_HEARTBEAT_MS,
          streamsPerCaller: deps.config.LIVE_STREAMS_PER_CALLER,
          credentials: { db: deps.db, accounts: deps.accounts },
        });
        workspaceRoutes(api, deps.db, deps.accounts, deps.now);
        tokenRoutes(api, deps.db);
        exportRoutes(api, deps.db);
        leadRoutes(api, deps.db, deps.engine);
        bulkRoutes(api, deps.db, deps.engine);
        savedFilterRoutes(api, deps.db, deps.now);
        leadImportRoutes(api, deps.db);
        sequenceRoutes(api, deps.db, deps.engine);
        sequenceToolRoutes(api, deps.db, deps.engine);
        editorRoutes(api, deps.db);
        enrollmentRoutes(api, deps.db, deps.engine);
        timelineRoutes(api, deps.db, deps.engine);
        taskRoutes(api, deps.db);
        eventRoutes(api, deps.engine);
        replyClassRoutes(api, deps.engine);
        replyRoutes(api, deps.db, deps.engine);
        replyRespondRoutes(api, deps.db, deps.engine);
        demoRoutes(api, deps.db, deps.engine, { mockDelivery: deps.config.USE_MOCK_SEQUENCE_DELIVERY });
        reportRoutes(api, deps.db, deps.engine);
        historyRoutes(api, deps.db);
        workspaceSettingsRoutes(api, deps.db, frequencyCapsOf(deps.config));
        mailboxRoutes(api, { db: deps.db, now: () => deps.engine.deps.clock.now(), ...deps.mailboxes });
        connectionRoutes(api, { db: deps.db, now: () => deps.engine.deps.clock.now(), ...deps.connections });
        suppressionRoutes(api, deps.db, () => deps.engine.deps.clock.now());
        webhookEndpointRoutes(api, deps.db, deps.engine, { allowPrivate: deps.config.WEBHOOKS_ALLOW_PRIVATE, keyRing: deps.connections.keyRing });
      },
      { prefix: '/api' },
    );
  };
}

/**
 * `GET /metrics` on the API's port: Prometheus sends `Authorization: Bearer $METRICS_TOKEN`;
 * the dashboard's monitoring page sends its API token (any role: the figures are this process's
 * totals, no lead or workspace data). Anyone else gets 401, and failures count toward the
 * address's limit like the REST API's.
 */
function metricsRoute(app: FastifyInstance, options: { token?: string; authenticate: Authenticator; text: MetricsText }) {
  app.get('/metrics', async (request, reply) => {
    if (!(options.token && metricsTokenMatches(bearerToken(request), options.token))) {
      const result = await options.authenticate(request);
      if (!result.ok) {
        if (result.retryAfterSeconds) reply.header('retry-after', String(result.retryAfterSeconds));
        const hint = result.status === 401 ? ' /metrics takes `Authorization: Bearer <METRICS_TOKEN or an API token>`.' : '';
        return reply.status(result.status).send(errorBody(result.status === 429 ? 'rate_limited' : 'unauthorized', `${result.message}${hint}`));
      }
    }
    const { contentType, body } = await options.text((request.query as { scope?: string }).scope === 'cluster' ? 'cluster' : 'process');
    return reply.header('content-type', contentType).send(body);
  });
}
