/**
 * A fake SendGrid: `POST /v3/mail/send` with SendGrid's answers, and a signed Event Webhook
 * emitter (ECDSA P-256 over `timestamp + rawBody`, providers.md §1).
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { bearerToken, FakeServer, type FakeReply, isObject, type RecordedRequest } from './server.ts';
import { sendgridBody, sendgridEvent, type SendGridEventInput, type SendGridEventKind } from './sendgridEvents.ts';
import { sendgridMessageIdHeader } from './inboundEmail.ts';
import { type EmitOptions, nowSeconds, postWebhooks, type WebhookDelivery } from './webhooks.ts';

export interface SentSendGridMail {
  messageId: string;
  to: string;
  customArgs: Record<string, string>;
  /** The custom headers the mail carries, as sent. */
  headers: Record<string, string>;
  /** The Message-ID header the delivered email carries: the sender's own when it set one, else SendGrid's. */
  messageIdHeader: string;
  body: Record<string, unknown>;
}

export interface SendGridEmitOptions extends EmitOptions {
  /** One POST per event instead of one array; SendGrid batches, but tests may want either. */
  oneRequestPerEvent?: boolean;
}

export class FakeSendGrid extends FakeServer {
  readonly sent: SentSendGridMail[] = [];
  /**
   * Keys of other accounts served by the same host (a workspace's own connection beside the
   * deployment's default, docs/PROVIDERS.md); each request's key is in `requests[].headers`.
   */
  readonly otherAccountKeys = new Set<string>();
  /** Base64 SPKI DER, the form SendGrid shows in its settings page. */
  readonly publicKeyBase64: string;
  private readonly privateKey: KeyObject;

  constructor(readonly apiKey: string) {
    super();
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicKeyBase64 = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  }

  /** The signature headers for a body, exactly as SendGrid computes them. */
  sign(rawBody: string, timestamp: number = nowSeconds()): Record<string, string> {
    const signature = sign('sha256', Buffer.from(`${timestamp}${rawBody}`, 'utf8'), this.privateKey);
    return {
      'X-Twilio-Email-Event-Webhook-Signature': signature.toString('base64'),
      'X-Twilio-Email-Event-Webhook-Timestamp': String(timestamp),
    };
  }

  /** An event about a message this fake accepted: recipient and custom args come from the send. */
  event(
    kind: SendGridEventKind,
    messageId: string,
    overrides: Partial<Omit<SendGridEventInput, 'messageId'>> = {},
  ): Record<string, unknown> {
    const mail = this.sent.find((candidate) => candidate.messageId === messageId);
    return sendgridEvent(kind, {
      messageId,
      email: overrides.email ?? mail?.to ?? 'lead@acme.test',
      ...overrides,
      customArgs: { ...mail?.customArgs, ...overrides.customArgs },
    });
  }

  /** Posts the events, signed, in the order given. */
  emit(
    url: string,
    events: readonly Record<string, unknown>[],
    options: SendGridEmitOptions = {},
  ): Promise<WebhookDelivery[]> {
    const batches = options.oneRequestPerEvent ? events.map((event) => [event]) : [events];
    const builders = batches.map((batch) => () => {
      const rawBody = sendgridBody(batch);
      return { rawBody, headers: this.sign(rawBody, options.timestamp) };
    });
    return postWebhooks(url, builders, options);
  }

  protected override resetState(): void {
    this.sent.length = 0;
  }

  protected override errorBody(status: number): unknown {
    const messages: Record<number, string> = {
      400: 'Bad Request',
      401: 'The provided authorization grant is invalid, expired, or revoked',
      403: 'access forbidden',
      404: 'not found',
      413: 'Payload Too Large',
      429: 'too many requests',
      500: 'internal server error',
      503: 'service unavailable',
    };
    return errors(null, messages[status] ?? `error ${status}`);
  }

  protected override handle(request: RecordedRequest): FakeReply {
    if (request.path !== '/v3/mail/send') return { status: 404, body: this.errorBody(404) };
    if (request.method !== 'POST') return { status: 405, body: errors(null, 'method not allowed') };
    const key = bearerToken(request.headers);
    if (key !== this.apiKey && !(key && this.otherAccountKeys.has(key))) return { status: 401, body: this.errorBody(401) };
    if (!isObject(request.body)) return { status: 400, body: errors(null, 'Bad Request') };

    const problem = validateMail(request.body);
    if (problem) return { status: 400, body: errors(problem.field, problem.message) };

    const mail = request.body;
    const messageId = randomBytes(16).toString('base64url').slice(0, 22);
    const to = firstRecipient(mail);
    const headers = stringArgs(mail.headers);
    const own = Object.entries(headers).find(([name]) => name.toLowerCase() === 'message-id')?.[1];
    this.sent.push({ messageId, to, customArgs: stringArgs(mail.custom_args), headers, messageIdHeader: own ?? sendgridMessageIdHeader(messageId), body: mail });
    return { status: 202, headers: { 'X-Message-Id': messageId } };
  }
}

export async function startFakeSendGrid(options: { apiKey?: string } = {}): Promise<FakeSendGrid> {
  return new FakeSendGrid(options.apiKey ?? 'SG.fake-sendgrid-key').start();
}

function errors(fieldName: string | null, message: string) {
  return { errors: [{ message, field: fieldName, help: null }] };
}

/** The checks SendGrid makes that our adapter could get wrong. */
function validateMail(mail: Record<string, unknown>): { field: string | null; message: string } | undefined {
  const personalizations = mail.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    return { field: 'personalizations', message: 'The personalizations field is required and must have at least one personalization.' };
  }
  const to: unknown = isObject(personalizations[0]) ? personalizations[0].to : undefined;
  if (!Array.isArray(to) || to.length === 0 || !to.every((r) => isObject(r) && typeof r.email === 'string' && r.email.includes('@'))) {
    return { field: 'personalizations.0.to', message: 'The to array is required for all personalization objects, and must have at least one email object with a valid email address.' };
  }
  if (!isObject(mail.from) || typeof mail.from.email !== 'string' || !mail.from.email.includes('@')) {
    return { field: 'from.email', message: 'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.' };
  }
  if (typeof mail.subject !== 'string' || mail.subject === '') {
    return { field: 'subject', message: 'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.' };
  }
  const content = mail.content;
  if (!Array.isArray(content) || content.length === 0 || !content.every((c) => isObject(c) && typeof c.type === 'string' && typeof c.value === 'string')) {
    return { field: 'content', message: 'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.' };
  }
  const types = content.map((c: Record<string, unknown>) => c.type);
  if (types.includes('text/plain') && types[0] !== 'text/plain') {
    return { field: 'content', message: 'If present, text/plain must be first, followed by text/html, followed by any other content.' };
  }
  if (mail.custom_args !== undefined) {
    if (!isObject(mail.custom_args) || !Object.values(mail.custom_args).every((v) => typeof v === 'string')) {
      return { field: 'custom_args', message: 'Invalid type. Expected: string, given: non-string value.' };
    }
  }
  if (mail.headers !== undefined && (!isObject(mail.headers) || !Object.values(mail.headers).every((v) => typeof v === 'string'))) {
    return { field: 'headers', message: 'Invalid type. Expected: object of strings.' };
  }
  return undefined;
}

function firstRecipient(mail: Record<string, unknown>): string {
  const personalization: unknown = Array.isArray(mail.personalizations) ? mail.personalizations[0] : undefined;
  const to: unknown = isObject(personalization) && Array.isArray(personalization.to) ? personalization.to[0] : undefined;
  return isObject(to) && typeof to.email === 'string' ? to.email : '';
}

function stringArgs(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
