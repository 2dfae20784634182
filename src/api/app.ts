/**
 * The HTTP surface: health and readiness here; the REST API, webhooks and the dashboard are
 * registered by their own modules. Errors are `{error: {code, message, details?}}`
 * (src/http/errors.ts); a client's bad input is a 4xx with a sentence, never a 500.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import { pingDatabase } from '../db/health.ts';
import type { Engine } from '../engine/engine.ts';
import { errorBody } from '../http/errors.ts';

export interface AppDeps {
  db: Db;
  engine: Engine;
  logger?: Logger;
  /** Extra route modules (REST API, webhooks, dashboard), each a Fastify plugin. */
  plugins?: Array<(app: FastifyInstance) => Promise<void> | void>;
  bodyLimitBytes?: number;
  /** Fastify's trustProxy (TRUST_PROXY): which proxies may name the client's address. */
  trustProxy?: boolean | string[];
}

/** JSON deeper than this is refused before it is parsed: no wire shape of ours nests past a dozen. */
export const MAX_JSON_DEPTH = 32;

/**
 * The first byte offset where `text` opens its `max + 1`th level of objects or arrays, or -1.
 * One pass over the bytes, skipping string contents, so the check costs less than the parse.
 */
export function jsonTooDeepAt(text: string, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return i;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return -1;
}

/**
 * Unsubscribe links carry a capability token in the path, and the single sign-on callback an
 * authorization code and state in its query: neither may reach a log line.
 */
export function redactUrl(url: string): string {
  return url.replace(/^(\/unsubscribe\/)[^/?#]*/, '$1[redacted]').replace(/^(\/api\/auth\/oidc\/callback)\?.*/, '$1?[redacted]');
}

/** Fastify's own request serializer, with the path's secrets blanked out. */
const requestSerializer = (request: FastifyRequest) => ({
  method: request.method,
  url: redactUrl(request.url),
  host: request.host,
  remoteAddress: request.ip,
  remotePort: request.socket ? request.socket.remotePort : undefined,
});

/** Sent with every answer; the dashboard and the unsubscribe pages set their own policies. */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};
/** For answers that set no policy of their own (JSON, errors): nothing may load, nothing may frame. */
const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger?.child({}, { serializers: { req: requestSerializer } }),
    bodyLimit: deps.bodyLimitBytes ?? 5 * 1024 * 1024,
    trustProxy: deps.trustProxy ?? false,
    // One line per request (below) instead of Fastify's two, at a level that fits what it was.
    disableRequestLogging: true,
  }) as unknown as FastifyInstance; // pino's Logger is a FastifyBaseLogger; erase the generic

  // A successful read (the dashboard polls timelines, tasks and /metrics every few seconds) is
  // logged at debug, so an open dashboard does not fill the log at info; writes and refusals
  // stay at info (a failure at 500 is also logged as an error by the error handler).
  app.addHook('onResponse', async (request, reply) => {
    const read = (request.method === 'GET' || request.method === 'HEAD') && reply.statusCode < 400;
    request.log[read ? 'debug' : 'info']({ req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string; validation?: unknown }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send(errorBody('internal', 'Something went wrong on our side; it has been logged.'));
    }
    const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 429 ? 'rate_limited' : error.code === 'json_too_deep' ? 'json_too_deep' : 'bad_request';
    return reply.status(status).send(errorBody(code, error.message));
  });
  // JSON bodies everywhere (the webhooks keep their raw bytes in their own scope): refuse a body
  // nested past MAX_JSON_DEPTH before parsing, so nothing downstream recurses through it.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const at = jsonTooDeepAt(body as string);
    if (at >= 0) {
      const error = Object.assign(
        new Error(`The JSON body nests deeper than ${MAX_JSON_DEPTH} levels (at byte ${at}); flatten it (custom fields, for example, take plain values).`),
        { statusCode: 400, code: 'json_too_deep' },
      );
      return done(error, undefined);
    }
    parseJson(request, body as string, done);
  });
  app.addHook('onSend', async (request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    // Swagger UI (/api/docs) runs its own scripts and styles; every other page states its own policy.
    if (!reply.hasHeader('content-security-policy') && !request.url.startsWith('/api/docs')) reply.header('content-security-policy', DEFAULT_CSP);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await pingDatabase(deps.db);
      return { status: 'ready', database: deps.db.kind };
    } catch (error) {
      return reply.status(503).send(errorBody('not_ready', `The database does not answer: ${(error as Error).message}`));
    }
  });

  for (const plugin of deps.plugins ?? []) await plugin(app);
  return app;
}
