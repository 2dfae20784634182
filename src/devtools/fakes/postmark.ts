/**
 * A fake Postmark: `POST /email` with Postmark's answers, inactive recipients (406), and an
 * unsigned webhook emitter protected by Basic auth as Postmark's are (providers.md §2).
 */
import { randomUUID } from 'node:crypto';
import { type EmitOptions, postWebhooks, type WebhookDelivery } from './webhooks.ts';
import { newTraceId, postmarkEvent, type PostmarkEventInput, type PostmarkRecordType } from './postmarkEvents.ts';
import { postmarkMessageIdHeader } from './inboundEmail.ts';
import { FakeServer, type FakeReply, isObject, type RecordedRequest } from './server.ts';

export interface SentPostmarkEmail {
  messageId: string;
  to: string;
  metadata: Record<string, string>;
  messageStream: string;
  /** The custom headers (`Headers: [{Name, Value}]`), as sent. */
  headers: Record<string, string>;
  /** The Message-ID header the delivered email carries: the sender's own when it set one, else Postmark's. */
  messageIdHeader: string;
  body: Record<string, unknown>;
}

export interface FakePostmarkOptions {
  serverToken?: string;
  /** The Basic-auth credentials Postmark is configured to put on webhook posts. */
  webhookAuth?: { username: string; password: string };
  messageStreams?: readonly string[];
}

const TRACK_LINKS = ['None', 'HtmlAndText', 'HtmlOnly', 'TextOnly'];

export class FakePostmark extends FakeServer {
  readonly sent: SentPostmarkEmail[] = [];
  readonly serverToken: string;
  /** Server tokens of other Postmark servers this fake also accepts (a workspace's own connection in tests). */
  readonly otherServerTokens = new Set<string>();
  readonly webhookAuth: { username: string; password: string };
  private readonly messageStreams: readonly string[];
  private readonly inactive = new Set<string>();

  constructor(options: FakePostmarkOptions = {}) {
    super();
    this.serverToken = options.serverToken ?? 'fake-postmark-server-token';
    this.webhookAuth = options.webhookAuth ?? { username: 'postmark', password: 'fake-webhook-password' };
    this.messageStreams = options.messageStreams ?? ['outbound', 'broadcast'];
  }

  /** Marks an address inactive (hard bounce, complaint): later sends to it get ErrorCode 406. */
  deactivate(email: string): void {
    this.inactive.add(email.toLowerCase());
  }

  /** Postmark does not sign; its webhooks carry the configured Basic credentials. */
  sign(_rawBody?: string, _timestamp?: number): Record<string, string> {
    const { username, password } = this.webhookAuth;
    return { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  }

  /** An event about a message this fake accepted: recipient, stream and Metadata from the send. */
  event(
    recordType: PostmarkRecordType,
    messageId: string,
    overrides: Partial<Omit<PostmarkEventInput, 'messageId'>> = {},
  ): Record<string, unknown> {
    const email = this.sent.find((candidate) => candidate.messageId === messageId);
    return postmarkEvent(recordType, {
      messageId,
      recipient: overrides.recipient ?? email?.to ?? 'lead@acme.test',
      ...(email ? { metadata: email.metadata, messageStream: email.messageStream } : {}),
      ...overrides,
    });
  }

  /** One POST per event, in the order given; a duplicate keeps its X-PM-Webhook-Trace-Id. */
  emit(url: string, events: readonly Record<string, unknown>[], options: EmitOptions = {}): Promise<WebhookDelivery[]> {
    const builders = events.map((event) => {
      const rawBody = JSON.stringify(event);
      const traceId = newTraceId();
      return () => ({ rawBody, headers: { ...this.sign(rawBody), 'X-PM-Webhook-Trace-Id': traceId } });
    });
    return postWebhooks(url, builders, options);
  }

  protected override resetState(): void {
    this.sent.length = 0;
    this.inactive.clear();
  }

  protected override errorBody(status: number): unknown {
    if (status === 401) {
      return { ErrorCode: 10, Message: 'The Server Token you provided in the X-Postmark-Server-Token request header was invalid.' };
    }
    if (status === 422) return { ErrorCode: 300, Message: 'Invalid email request' };
    if (status === 429) return { Message: 'Rate limit exceeded.' };
    return { Message: status >= 500 ? 'Internal server error.' : `Error ${status}.` };
  }

  protected override handle(request: RecordedRequest): FakeReply {
    if (request.path !== '/email') return { status: 404, body: { Message: 'Not found.' } };
    if (request.method !== 'POST') return { status: 405, body: { Message: 'Method not allowed.' } };
    const token = request.headers['x-postmark-server-token'];
    if (token !== this.serverToken && !(typeof token === 'string' && this.otherServerTokens.has(token))) {
      return { status: 401, body: this.errorBody(401) };
    }
    if (!isObject(request.body)) {
      return { status: 422, body: { ErrorCode: 402, Message: `Received invalid JSON input. ${request.jsonError ?? ''}`.trim() } };
    }
    const email = request.body;
    const problem = this.validate(email);
    if (problem) return { status: 422, body: problem };

    const to = String(email.To);
    const messageId = randomUUID();
    const headers: Record<string, string> = {};
    for (const h of Array.isArray(email.Headers) ? (email.Headers as Array<{ Name: string; Value: string }>) : []) headers[h.Name] = h.Value;
    const own = Object.entries(headers).find(([name]) => name.toLowerCase() === 'message-id')?.[1];
    this.sent.push({
      messageId,
      to,
      headers,
      messageIdHeader: own ?? postmarkMessageIdHeader(messageId),
      metadata: isObject(email.Metadata) ? (email.Metadata as Record<string, string>) : {},
      messageStream: typeof email.MessageStream === 'string' ? email.MessageStream : 'outbound',
      body: email,
    });
    return { status: 200, body: { To: to, SubmittedAt: new Date().toISOString(), MessageID: messageId, ErrorCode: 0, Message: 'OK' } };
  }

  private validate(email: Record<string, unknown>): { ErrorCode: number; Message: string } | undefined {
    const invalid = (message: string) => ({ ErrorCode: 300, Message: message });
    if (typeof email.From !== 'string' || !/@/.test(email.From)) return invalid(`Invalid 'From' address: '${String(email.From ?? '')}'.`);
    if (typeof email.To !== 'string' || email.To.trim() === '') return invalid('Zero recipients specified');
    if (!/^[^@\s<>]+@[^@\s<>]+$/.test(email.To)) return invalid(`Error parsing 'To': Illegal email address '${email.To}'.`);
    if (typeof email.TextBody !== 'string' && typeof email.HtmlBody !== 'string') {
      return invalid('Provide either email TextBody or HtmlBody or both.');
    }
    if (email.TrackLinks !== undefined && !TRACK_LINKS.includes(String(email.TrackLinks))) {
      return invalid(`The 'TrackLinks' value '${String(email.TrackLinks)}' is not valid.`);
    }
    if (email.Headers !== undefined) {
      const ok = Array.isArray(email.Headers) && email.Headers.every((h) => isObject(h) && typeof h.Name === 'string' && typeof h.Value === 'string');
      if (!ok) return invalid("Headers must be an array of {Name, Value} objects.");
    }
    if (email.Metadata !== undefined && (!isObject(email.Metadata) || !Object.values(email.Metadata).every((v) => typeof v === 'string'))) {
      return invalid('Metadata values must be strings.');
    }
    if (email.MessageStream !== undefined && !this.messageStreams.includes(String(email.MessageStream))) {
      return { ErrorCode: 1235, Message: `The message stream for the provided 'ID' (${String(email.MessageStream)}) was not found.` };
    }
    if (this.inactive.has(email.To.toLowerCase())) {
      return {
        ErrorCode: 406,
        Message: `You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: ${email.To}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.`,
      };
    }
    return undefined;
  }
}

export async function startFakePostmark(options: FakePostmarkOptions = {}): Promise<FakePostmark> {
  return new FakePostmark(options).start();
}
