/**
 * The provider webhook endpoints and the unsubscribe page (DESIGN.md, "Webhooks"). They live in
 * their own encapsulated scope whose only body parser keeps the raw bytes: signatures are over
 * bytes, and re-serialised JSON differs. The REST API outside keeps Fastify's JSON parsing.
 *
 * Status policy: 200 once every event is recorded (or known, or unmatched: a retry would not
 * match either); 401 for a failed check; 400 for a body we cannot read; 503 when a key is not
 * configured or the store is down, so the provider retries later and nothing is lost. Never 500.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { errorBody } from '../api/app.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { CallFlow } from '../delivery/voice/callFlow.ts';
import { TelnyxCallControl } from '../delivery/voice/telnyx.ts';
import type { Engine } from '../engine/engine.ts';
import { translatePostmarkEvent, translatePostmarkInbound } from './postmark.ts';
import { firstHeader, isRecord, parseHeaderBlock, translateSendGridEvents, translateSendGridInbound } from './sendgrid.ts';
import { translateTelnyxEvent } from './telnyx.ts';
import { storableEvent } from './storable.ts';
import type { TranslateResult } from './types.ts';
import { registerUnsubscribeRoutes, unsubscribeTokens } from './unsubscribe.ts';
import { verifyBasicAuth, verifySendGridSignature, verifyTelnyxSignature, type VerifyResult } from './verify.ts';

export interface WebhookDeps {
  config: Config;
  db: Db;
  engine: Engine;
  logger?: Logger;
  /** Overrides the Call Control client built from config (tests). */
  callFlow?: CallFlow;
}

/** Inbound mail carries attachments: SendGrid posts up to 30 MB, Postmark up to 35 MB of JSON. */
const INBOUND_BODY_LIMIT = 40 * 1024 * 1024;

type Check = VerifyResult | { ok: false; reason: 'unconfigured'; setting: string };

export function webhookRoutes(deps: WebhookDeps): (app: FastifyInstance) => Promise<void> {
  const { config } = deps;
  const clock = deps.engine.deps.clock;
  const callFlow = deps.callFlow ?? defaultCallFlow(deps);

  const signed = (key: string | undefined, setting: string, verify: typeof verifySendGridSignature, sig: string, ts: string) =>
    (request: FastifyRequest, raw: Buffer): Check =>
      key
        ? verify({ publicKeyBase64: key, signature: header(request, sig), timestamp: header(request, ts), rawBody: raw, now: clock.now() })
        : { ok: false, reason: 'unconfigured', setting };
  const sendgrid = (key: string | undefined, setting: string) =>
    signed(key, setting, verifySendGridSignature, 'x-twilio-email-event-webhook-signature', 'x-twilio-email-event-webhook-timestamp');
  const postmark = (request: FastifyRequest): Check =>
    config.POSTMARK_WEBHOOK_USER && config.POSTMARK_WEBHOOK_PASSWORD
      ? verifyBasicAuth({ header: header(request, 'authorization'), user: config.POSTMARK_WEBHOOK_USER, password: config.POSTMARK_WEBHOOK_PASSWORD })
      : { ok: false, reason: 'unconfigured', setting: 'POSTMARK_WEBHOOK_USER and POSTMARK_WEBHOOK_PASSWORD' };
  const telnyx = signed(config.TELNYX_PUBLIC_KEY, 'TELNYX_PUBLIC_KEY', verifyTelnyxSignature, 'telnyx-signature-ed25519', 'telnyx-timestamp');

  return async (app) => {
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

      const route = (
        path: string,
        check: (request: FastifyRequest, raw: Buffer) => Check,
        translate: (request: FastifyRequest, raw: Buffer) => Promise<TranslateResult> | TranslateResult,
        options: { bodyLimit?: number; after?: (request: FastifyRequest, raw: Buffer) => Promise<boolean> } = {},
      ) =>
        scope.post(path, { bodyLimit: options.bodyLimit }, async (request, reply) => {
          const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const verdict = check(request, raw);
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
          try {
            for (const event of translated.events) counts[(await deps.engine.ingest(storableEvent(event))).status] += 1;
            if (options.after && !(await options.after(request, raw))) {
              return reply.status(503).send(errorBody('retry_later', 'A follow-up command failed; deliver this webhook again.'));
            }
          } catch (error) {
            request.log.error({ err: error, path }, 'webhook could not be recorded');
            return reply.status(503).send(errorBody('unavailable', 'The event could not be recorded now; deliver it again later.'));
          }
          return reply.status(200).send(counts);
        });

      const now = () => clock.now();
      route('/webhooks/sendgrid', sendgrid(config.SENDGRID_WEBHOOK_PUBLIC_KEY, 'SENDGRID_WEBHOOK_PUBLIC_KEY'), (_r, raw) =>
        withJson(raw, (body) => translateSendGridEvents(body, { now: now() })),
      );
      route(
        '/webhooks/sendgrid/inbound',
        sendgrid(config.SENDGRID_INBOUND_PUBLIC_KEY, 'SENDGRID_INBOUND_PUBLIC_KEY'),
        async (request, raw) => {
          const fields = await formFields(raw, header(request, 'content-type'));
          return fields ? translateSendGridInbound(fields, { now: now() }) : { ok: false, error: 'The body is not multipart/form-data.' };
        },
        { bodyLimit: INBOUND_BODY_LIMIT },
      );
      route('/webhooks/postmark', postmark, (request, raw) =>
        withJson(raw, (body) => translatePostmarkEvent(body, { now: now(), traceId: header(request, 'x-pm-webhook-trace-id') })),
      );
      route('/webhooks/postmark/inbound', postmark, (_r, raw) => withJson(raw, (body) => translatePostmarkInbound(body, { now: now() })), {
        bodyLimit: INBOUND_BODY_LIMIT,
      });
      route('/webhooks/telnyx', telnyx, (_r, raw) => withJson(raw, (body) => translateTelnyxEvent(body, { now: now() })), {
        after: callFlow ? (_request, raw) => driveCall(callFlow, raw) : undefined,
      });

      registerUnsubscribeRoutes(scope, { db: deps.db, engine: deps.engine, tokens: unsubscribeTokens(config), logger: deps.logger });
    });
  };
}

function defaultCallFlow(deps: WebhookDeps): CallFlow | undefined {
  const { config } = deps;
  if (config.USE_MOCK_SEQUENCE_DELIVERY || !config.TELNYX_API_KEY) return undefined;
  // Short deadline: the webhook waits for the command, and Telnyx wants its 200 within seconds.
  const control = new TelnyxCallControl({ apiKey: config.TELNYX_API_KEY, baseUrl: config.TELNYX_BASE_URL, timeoutMs: 1_500 });
  return new CallFlow({ db: deps.db, control, orchestratorUrl: config.VOICE_ORCHESTRATOR_URL, logger: deps.logger });
}

/** False when the command failed in a way a redelivery could fix (timeout, 429, 5xx). */
async function driveCall(callFlow: CallFlow, raw: Buffer): Promise<boolean> {
  const body = parseJson(raw);
  const data = isRecord(body) ? body.data : undefined;
  if (!isRecord(data) || typeof data.event_type !== 'string') return true;
  const outcome = await callFlow.onWebhook(data.event_type, isRecord(data.payload) ? data.payload : {});
  return !(outcome.kind === 'commanded' && !outcome.result.ok && outcome.result.retryable);
}

function refuse(reply: FastifyReply, verdict: Exclude<Check, { ok: true }>, path: string): FastifyReply {
  if (verdict.reason === 'unconfigured') {
    return reply
      .status(503)
      .send(errorBody('webhook_not_configured', `${path} is not configured: set ${verdict.setting} (see docs/PROVIDERS.md).`));
  }
  const sentences: Record<string, string> = {
    missing_headers: 'The signature or credential headers are missing.',
    stale_timestamp: 'The signature timestamp is more than 300 seconds from our clock.',
    bad_signature: 'The signature does not match the body.',
    bad_key: 'The configured verification key is not usable.',
    bad_credentials: 'The credentials do not match.',
  };
  return reply.status(401).send(errorBody('unauthorized', sentences[verdict.reason] ?? 'The request is not authentic.'));
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
