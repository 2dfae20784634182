/**
 * The provider webhook endpoints, the unsubscribe page and the tracking links (DESIGN.md, "Webhooks"). They live in
 * their own encapsulated scope whose only body parser keeps the raw bytes: signatures are over
 * bytes, and re-serialised JSON differs. The REST API outside keeps Fastify's JSON parsing.
 *
 * Status policy: 200 once every event is recorded (or known, or unmatched: a retry would not
 * match either); 401 for a failed check; 400 for a body we cannot read; 413 above the route's
 * cap; 429 for an address that keeps failing; 503 when a key is not configured or the store is
 * down, so the provider retries later and nothing is lost. Never 500. What can be judged from
 * the headers is judged before the body is read (guard.ts).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { errorBody } from '../http/errors.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { connectionSecretContext, findConnection, type ConnectionRecord } from '../db/connections.ts';
import { findVoiceExecution } from '../db/executionLeads.ts';
import { CallFlow } from '../delivery/voice/callFlow.ts';
import { TelnyxCallControl } from '../delivery/voice/telnyx.ts';
import type { Engine } from '../engine/engine.ts';
import { translatePostmarkEvent, translatePostmarkInbound } from './postmark.ts';
import { firstHeader, parseHeaderBlock } from './mailHeaders.ts';
import { isRecord, type TranslateResult } from './parse.ts';
import { translateSendGridEvents, translateSendGridInbound } from './sendgrid.ts';
import { translateTelnyxEvent } from './telnyx.ts';
import { type Check, countFailures, FailureLimiter, frontDoor, refuse, tooLarge, UnverifiedBudget } from './guard.ts';
import { storableEvent } from './storable.ts';
import { linkSecret, registerUnsubscribeRoutes, unsubscribeTokens } from './unsubscribe.ts';
import { registerTrackingRoutes, TrackingTokens } from './tracking.ts';
import {
  checkSignatureHeaders,
  type SignatureScheme,
  verifyBasicAuth,
  verifyCalcomSignature,
  verifyCalendlySignature,
  verifySendGridSignature,
  verifyTelnyxSignature,
} from './verify.ts';
import { translateCalcomEvent } from './calcom.ts';
import { translateCalendlyEvent } from './calendly.ts';

/** How a route is authenticated: from its headers before the body is read, then (if signed) from the body. */
interface Auth {
  headers: (request: FastifyRequest) => Check;
  /** Signed routes: checked once the body is read, which therefore counts against the unverified budget. */
  body?: (request: FastifyRequest, raw: Buffer) => Check;
}

export interface WebhookDeps {
  config: Config;
  db: Db;
  engine: Engine;
  logger?: Logger;
  /** Overrides the Call Control client built from config (tests). */
  callFlow?: CallFlow;
  /** Opens a connection's sealed credentials (the key ring); absent: a connection's Postmark route and call commands cannot work. */
  openSecret?: (sealed: string, context: string) => string;
}

/** A provider connection as its webhook routes need it: the row, and its credentials when they open. */
interface LoadedConnection {
  record: ConnectionRecord;
  secrets?: Record<string, string>;
}

export function webhookRoutes(deps: WebhookDeps): (app: FastifyInstance) => Promise<void> {
  const { config } = deps;
  const clock = deps.engine.deps.clock;
  const callFlow = deps.callFlow ?? defaultCallFlow(deps);
  const limiter = new FailureLimiter({ perMinute: config.WEBHOOK_AUTH_FAILURES_PER_MINUTE, now: () => clock.now() });
  const budget = new UnverifiedBudget(config.WEBHOOK_UNVERIFIED_BYTES_IN_FLIGHT);

  /**
   * A connection's routes (`/webhooks/<provider>/{connectionId}`): the connection is loaded
   * before anything else, and its own keys judge the request (docs/PROVIDERS.md).
   */
  const loaded = new WeakMap<FastifyRequest, LoadedConnection>();
  const connectionOf = (request: FastifyRequest) => loaded.get(request);
  /** A key: the deployment's (a string from config), or one the request's connection holds. */
  type KeyOf = string | undefined | ((request: FastifyRequest) => string | undefined);
  const keyFor = (key: KeyOf, request: FastifyRequest) => (typeof key === 'function' ? key(request) : key);

  /** A signed route: its headers are judged before the body is read, the signature after. */
  const signed = (scheme: SignatureScheme, key: KeyOf, setting: string, sig: string, ts: string): Auth => {
    const verify = scheme === 'telnyx' ? verifyTelnyxSignature : verifySendGridSignature;
    const parts = (request: FastifyRequest) => ({ publicKeyBase64: keyFor(key, request) ?? '', signature: header(request, sig), timestamp: header(request, ts), now: clock.now() });
    return {
      headers: (request) => (keyFor(key, request) ? checkSignatureHeaders({ scheme, ...parts(request) }) : { ok: false, reason: 'unconfigured', setting }),
      body: (request, raw) => verify({ ...parts(request), rawBody: raw }),
    };
  };
  const sendgrid = (key: KeyOf, setting: string) =>
    signed('sendgrid', key, setting, 'x-twilio-email-event-webhook-signature', 'x-twilio-email-event-webhook-timestamp');
  // Basic auth is all in the headers: nothing is left to check once the body arrives.
  const basicAuth = (credentials: (request: FastifyRequest) => { user?: string; password?: string }, setting: string): Auth => ({
    headers: (request) => {
      const { user, password } = credentials(request);
      return user && password ? verifyBasicAuth({ header: header(request, 'authorization'), user, password }) : { ok: false, reason: 'unconfigured', setting };
    },
  });
  const postmark = basicAuth(() => ({ user: config.POSTMARK_WEBHOOK_USER, password: config.POSTMARK_WEBHOOK_PASSWORD }), 'POSTMARK_WEBHOOK_USER and POSTMARK_WEBHOOK_PASSWORD');
  const connectionPostmark = basicAuth(
    (request) => ({ user: connectionOf(request)?.record.settings.webhookUser, password: connectionOf(request)?.secrets?.webhookPassword }),
    "the connection's webhookUser and webhookPassword",
  );
  const setting = (name: string) => (request: FastifyRequest) => connectionOf(request)?.record.settings[name];
  // Meetings (HMAC over the body): the header's shape is judged first, the digest once the body is read.
  const calcom: Auth = {
    headers: (request) => {
      if (!config.CALCOM_WEBHOOK_SECRET) return { ok: false, reason: 'unconfigured', setting: 'CALCOM_WEBHOOK_SECRET' };
      const signature = header(request, 'x-cal-signature-256');
      if (!signature?.trim()) return { ok: false, reason: 'missing_headers' };
      return /^[0-9a-f]{64}$/i.test(signature.trim()) ? { ok: true } : { ok: false, reason: 'bad_signature' };
    },
    body: (request, raw) => verifyCalcomSignature({ secret: config.CALCOM_WEBHOOK_SECRET ?? '', signature: header(request, 'x-cal-signature-256'), rawBody: raw }),
  };
  const calendlyCheck = (request: FastifyRequest, raw?: Buffer): Check =>
    config.CALENDLY_WEBHOOK_SIGNING_KEY
      ? verifyCalendlySignature({ signingKey: config.CALENDLY_WEBHOOK_SIGNING_KEY, header: header(request, 'calendly-webhook-signature'), rawBody: raw, now: clock.now() })
      : { ok: false, reason: 'unconfigured', setting: 'CALENDLY_WEBHOOK_SIGNING_KEY' };
  const calendly: Auth = { headers: (request) => calendlyCheck(request), body: (request, raw) => calendlyCheck(request, raw) };
  const telnyx = signed('telnyx', config.TELNYX_PUBLIC_KEY, 'TELNYX_PUBLIC_KEY', 'telnyx-signature-ed25519', 'telnyx-timestamp');
  const connectionTelnyx = signed('telnyx', setting('publicKey'), "the connection's publicKey", 'telnyx-signature-ed25519', 'telnyx-timestamp');

  /** Loads the connection the path names; an unknown one is a 404, a store that is down a 503. */
  const loadConnection =
    (provider: ConnectionRecord['provider']) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      const id = (request.params as { connectionId?: string }).connectionId ?? '';
      let record: ConnectionRecord | undefined;
      try {
        record = await findConnection(deps.db, id);
      } catch (error) {
        request.log.error({ err: error }, 'webhook connection could not be read');
        // Returning the reply ends the request here: the hooks after this one do not run.
        return reply.status(503).send(errorBody('unavailable', 'The connection could not be read now; deliver it again later.'));
      }
      if (!record || record.provider !== provider) {
        return reply.header('connection', 'close').status(404).send(errorBody('not_found', `No ${provider} connection ${id}.`));
      }
      let secrets: Record<string, string> | undefined;
      try {
        secrets = deps.openSecret ? (JSON.parse(deps.openSecret(record.secretSealed, connectionSecretContext(record.id))) as Record<string, string>) : undefined;
      } catch (error) {
        request.log.warn({ connectionId: record.id, err: error }, 'a connection’s credentials do not open');
      }
      loaded.set(request, { record, secrets });
      return undefined;
    };
  // Call commands for a connection's calls go out with its own API key (one client per version).
  const callFlows = new Map<string, { version: string; flow: CallFlow | undefined }>();
  const connectionCallFlow = (c: LoadedConnection): CallFlow | undefined => {
    if (deps.callFlow) return deps.callFlow;
    const version = connectionVersion(c.record);
    const known = callFlows.get(c.record.id);
    if (known?.version === version) return known.flow;
    const apiKey = c.secrets?.apiKey;
    const flow = config.USE_MOCK_SEQUENCE_DELIVERY || !apiKey ? undefined : buildCallFlow(deps, apiKey);
    callFlows.set(c.record.id, { version, flow });
    return flow;
  };

  return async (app) => {
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
      // A chunked body (no Content-Length) that outgrows its route's cap stops here, mid-read.
      scope.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
        if (error.statusCode !== 413) throw error;
        const limit = request.routeOptions.bodyLimit ?? 0;
        return reply.header('connection', 'close').status(413).send(tooLarge(request.routeOptions.url ?? request.url, limit));
      });

      const route = (
        path: string,
        auth: Auth,
        translate: (request: FastifyRequest, raw: Buffer) => Promise<TranslateResult> | TranslateResult,
        options: {
          bodyLimit: number;
          after?: (request: FastifyRequest, raw: Buffer) => Promise<boolean>;
          /** A connection's route: which provider's connection the path names. */
          connection?: ConnectionRecord['provider'];
        },
      ) => {
        const door = frontDoor({ path, bodyLimit: options.bodyLimit, limiter, headers: auth.headers, budget: auth.body ? budget : undefined });
        return scope.post(
          path,
          {
            bodyLimit: options.bodyLimit,
            onRequest: options.connection ? [loadConnection(options.connection), door] : door,
            onResponse: countFailures(limiter),
          },
          async (request, reply) => {
            const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
            const verdict = auth.body ? auth.body(request, raw) : { ok: true as const };
            if (!verdict.ok) return refuse(reply, verdict, path);
            // Translators are total; the guard keeps a future bug a 400 rather than a retry storm of 500s.
            const translated = await Promise.resolve()
              .then(() => translate(request, raw))
              .catch((error: unknown): TranslateResult => {
                request.log.error({ err: error, path }, 'webhook translator threw');
                return { ok: false, error: 'The body could not be read.' };
              });
            if (!translated.ok) return reply.status(400).send(errorBody('bad_request', translated.error));
            const counts = { received: translated.events.length, recorded: 0, duplicate: 0, unmatched: 0 };
            // A workspace's own account speaks for that workspace only.
            const workspaceId = connectionOf(request)?.record.workspaceId;
            try {
              for (const event of translated.events) {
                counts[(await deps.engine.ingest(storableEvent(workspaceId ? { ...event, workspaceId } : event))).status] += 1;
              }
              if (options.after && !(await options.after(request, raw))) {
                return reply.status(503).send(errorBody('retry_later', 'A follow-up command failed; deliver this webhook again.'));
              }
            } catch (error) {
              request.log.error({ err: error, path }, 'webhook could not be recorded');
              return reply.status(503).send(errorBody('unavailable', 'The event could not be recorded now; deliver it again later.'));
            }
            return reply.status(200).send(counts);
          },
        );
      };

      const now = () => clock.now();
      const events = { bodyLimit: config.WEBHOOK_EVENT_BODY_LIMIT_BYTES };
      route(
        '/webhooks/sendgrid',
        sendgrid(config.SENDGRID_WEBHOOK_PUBLIC_KEY, 'SENDGRID_WEBHOOK_PUBLIC_KEY'),
        (_r, raw) => withJson(raw, (body) => translateSendGridEvents(body, { now: now() })),
        events,
      );
      route(
        '/webhooks/sendgrid/inbound',
        sendgrid(config.SENDGRID_INBOUND_PUBLIC_KEY, 'SENDGRID_INBOUND_PUBLIC_KEY'),
        async (request, raw) => {
          const fields = await formFields(raw, header(request, 'content-type'));
          return fields ? translateSendGridInbound(fields, { now: now() }) : { ok: false, error: 'The body is not multipart/form-data.' };
        },
        { bodyLimit: config.SENDGRID_INBOUND_BODY_LIMIT_BYTES },
      );
      route(
        '/webhooks/postmark',
        postmark,
        (request, raw) => withJson(raw, (body) => translatePostmarkEvent(body, { now: now(), traceId: header(request, 'x-pm-webhook-trace-id') })),
        events,
      );
      route('/webhooks/postmark/inbound', postmark, (_r, raw) => withJson(raw, (body) => translatePostmarkInbound(body, { now: now() })), {
        bodyLimit: config.POSTMARK_INBOUND_BODY_LIMIT_BYTES,
      });
      route('/webhooks/telnyx', telnyx, (_r, raw) => withJson(raw, (body) => translateTelnyxEvent(body, { now: now() })), {
        ...events,
        after: callFlow ? (_request, raw) => driveCall(callFlow, raw) : undefined,
      });


      // A workspace's own provider account (docs/PROVIDERS.md, "Per-workspace connections").
      route(
        '/webhooks/sendgrid/:connectionId',
        sendgrid(setting('webhookPublicKey'), "the connection's webhookPublicKey"),
        (_r, raw) => withJson(raw, (body) => translateSendGridEvents(body, { now: now() })),
        { ...events, connection: 'sendgrid' },
      );
      route(
        '/webhooks/sendgrid/:connectionId/inbound',
        sendgrid(setting('inboundPublicKey'), "the connection's inboundPublicKey"),
        async (request, raw) => {
          const fields = await formFields(raw, header(request, 'content-type'));
          return fields ? translateSendGridInbound(fields, { now: now() }) : { ok: false, error: 'The body is not multipart/form-data.' };
        },
        { bodyLimit: config.SENDGRID_INBOUND_BODY_LIMIT_BYTES, connection: 'sendgrid' },
      );
      route(
        '/webhooks/postmark/:connectionId',
        connectionPostmark,
        (request, raw) => withJson(raw, (body) => translatePostmarkEvent(body, { now: now(), traceId: header(request, 'x-pm-webhook-trace-id') })),
        { ...events, connection: 'postmark' },
      );
      route('/webhooks/postmark/:connectionId/inbound', connectionPostmark, (_r, raw) => withJson(raw, (body) => translatePostmarkInbound(body, { now: now() })), {
        bodyLimit: config.POSTMARK_INBOUND_BODY_LIMIT_BYTES,
        connection: 'postmark',
      });
      route('/webhooks/telnyx/:connectionId', connectionTelnyx, (_r, raw) => withJson(raw, (body) => translateTelnyxEvent(body, { now: now() })), {
        ...events,
        connection: 'telnyx',
        after: async (request, raw) => {
          const c = connectionOf(request);
          const flow = c ? connectionCallFlow(c) : undefined;
          return flow ? driveCall(flow, raw) : true;
        },
      });

      route('/webhooks/calcom', calcom, (_r, raw) => withJson(raw, (body) => translateCalcomEvent(body, { now: now() })), events);
      route('/webhooks/calendly', calendly, (_r, raw) => withJson(raw, (body) => translateCalendlyEvent(body, { now: now() })), events);

      registerUnsubscribeRoutes(scope, { db: deps.db, engine: deps.engine, tokens: unsubscribeTokens(config), logger: deps.logger });
      registerTrackingRoutes(scope, { engine: deps.engine, tokens: new TrackingTokens(linkSecret(config)), limiter, logger: deps.logger });
    });
  };
}

/** Changes with every write of the connection (a fresh seal each time), even within one clock tick. */
function connectionVersion(c: ConnectionRecord): string {
  return createHash('sha256').update(`${c.updatedAt.toISOString()}|${c.secretSealed}|${JSON.stringify(c.settings)}`).digest('base64url');
}

function defaultCallFlow(deps: WebhookDeps): CallFlow | undefined {
  const { config } = deps;
  if (config.USE_MOCK_SEQUENCE_DELIVERY || !config.TELNYX_API_KEY) return undefined;
  return buildCallFlow(deps, config.TELNYX_API_KEY);
}

function buildCallFlow(deps: WebhookDeps, apiKey: string): CallFlow {
  const { config } = deps;
  // Short deadline: the webhook waits for the command, and Telnyx wants its 200 within seconds.
  const control = new TelnyxCallControl({ apiKey, baseUrl: config.TELNYX_BASE_URL, timeoutMs: 1_500 });
  return new CallFlow({
    findExecution: (executionId) => findVoiceExecution(deps.db, executionId),
    control,
    orchestratorUrl: config.VOICE_ORCHESTRATOR_URL,
    logger: deps.logger,
  });
}

/** False when the command failed in a way a redelivery could fix (timeout, 429, 5xx). */
async function driveCall(callFlow: CallFlow, raw: Buffer): Promise<boolean> {
  const body = parseJson(raw);
  const data = isRecord(body) ? body.data : undefined;
  if (!isRecord(data) || typeof data.event_type !== 'string') return true;
  const outcome = await callFlow.onWebhook(data.event_type, isRecord(data.payload) ? data.payload : {});
  return !(outcome.kind === 'commanded' && !outcome.result.ok && outcome.result.retryable);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function withJson(raw: Buffer, translate: (body: unknown) => TranslateResult): TranslateResult {
  const body = parseJson(raw);
  return body === undefined ? { ok: false, error: 'The body is not JSON.' } : translate(body);
}

/**
 * Inbound Parse fields as strings (attachments are not kept). With "POST the raw, full MIME
 * message" on, only `email` arrives; its header block then stands in for `headers` and `from`.
 */
async function formFields(raw: Buffer, contentType: string | undefined): Promise<Record<string, string> | undefined> {
  if (!contentType || !/^multipart\/form-data/i.test(contentType)) return undefined;
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of form) if (typeof value === 'string') fields[name] = value;
  if (fields.headers === undefined && typeof fields.email === 'string') {
    const head = fields.email.split(/\r?\n\r?\n/, 1)[0] ?? '';
    fields.headers = head;
    fields.from ??= firstHeader(parseHeaderBlock(head), 'from') ?? '';
    fields.subject ??= firstHeader(parseHeaderBlock(head), 'subject') ?? '';
  }
  return fields;
}
