/**
 * A fake Telnyx: Messaging (`POST /v2/messages`, opt-outs → 40300) and Call Control
 * (`POST /v2/calls`, `/v2/calls/:id/actions/:cmd`, 90018 once a call has ended), plus an
 * Ed25519-signed webhook emitter (providers.md §3–5).
 */
import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { bearerToken, E164, FakeServer, type FakeReply, isObject, type RecordedRequest } from './server.ts';
import {
  autoresponseType,
  callPayload,
  messagePayload,
  telnyxEvent,
  type TelnyxCallEventType,
  type TelnyxCallRecord,
  type TelnyxEvent,
  type TelnyxMessageRecord,
} from './telnyxEvents.ts';
import { type EmitOptions, nowSeconds, postWebhooks, type WebhookDelivery } from './webhooks.ts';

export interface FakeCall extends TelnyxCallRecord {
  alive: boolean;
  answeringMachineDetection: string | undefined;
  /** Commands received, duplicates of a command_id excluded (Telnyx ignores them). */
  commands: { action: string; commandId: string | undefined; body: Record<string, unknown> }[];
}

const ACTIONS: Record<string, (body: Record<string, unknown>) => string | undefined> = {
  speak: (body) => missing(body, ['payload', 'voice']),
  gather_using_speak: (body) => missing(body, ['payload', 'voice']),
  playback_start: (body) =>
    ['audio_url', 'media_name', 'playback_content'].some((key) => typeof body[key] === 'string') ? undefined : 'audio_url',
  hangup: () => undefined,
};

export class FakeTelnyx extends FakeServer {
  readonly messages: TelnyxMessageRecord[] = [];
  readonly calls = new Map<string, FakeCall>();
  /** API keys of other Telnyx accounts this fake also accepts (a workspace's own connection in tests). */
  readonly otherAccountKeys = new Set<string>();
  /** Base64 of the 32 raw bytes of the Ed25519 key, as the Telnyx portal shows it. */
  readonly publicKeyBase64: string;
  private readonly privateKey: KeyObject;
  private readonly blocked = new Set<string>();

  constructor(readonly apiKey: string) {
    super();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    this.publicKeyBase64 = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
  }

  sign(rawBody: string, timestamp: number = nowSeconds()): Record<string, string> {
    const signature = sign(null, Buffer.from(`${timestamp}|${rawBody}`, 'utf8'), this.privateKey);
    return { 'telnyx-signature-ed25519': signature.toString('base64'), 'telnyx-timestamp': String(timestamp) };
  }

  /** The lead texted STOP: later sends to the number fail with 40300. */
  optOut(phoneNumber: string): void {
    this.blocked.add(phoneNumber);
  }

  optIn(phoneNumber: string): void {
    this.blocked.delete(phoneNumber);
  }

  /** The far end hangs up: later commands on the call get 422/90018. */
  endCall(callControlId: string): void {
    const call = this.calls.get(callControlId);
    if (call) call.alive = false;
  }

  /**
   * `message.sent`/`message.finalized` for a message this fake accepted, or `message.received`
   * for an inbound text. As on Telnyx, an inbound STOP/START keyword also changes the block list.
   */
  messageEvent(
    eventType: 'message.sent' | 'message.finalized',
    messageId: string,
    options?: { status?: string; errors?: { code: string; title: string }[] },
  ): TelnyxEvent;
  messageEvent(eventType: 'message.received', inbound: { from: string; to: string; text: string }): TelnyxEvent;
  messageEvent(
    eventType: 'message.sent' | 'message.finalized' | 'message.received',
    subject: string | { from: string; to: string; text: string },
    options: { status?: string; errors?: { code: string; title: string }[] } = {},
  ): TelnyxEvent {
    if (typeof subject !== 'string') {
      const autoresponse = autoresponseType(subject.text);
      if (autoresponse === 'STOP') this.optOut(subject.from);
      if (autoresponse === 'START') this.optIn(subject.from);
      const payload = messagePayload({ id: randomUUID(), ...subject }, 'inbound', 'webhook_delivered');
      return telnyxEvent(eventType, { ...payload, autoresponse_type: autoresponse });
    }
    const message = this.messages.find((candidate) => candidate.id === subject);
    if (!message) throw new Error(`FakeTelnyx sent no message ${subject}`);
    const status = options.status ?? (eventType === 'message.sent' ? 'sent' : 'delivered');
    const payload = messagePayload(message, 'outbound', status);
    return telnyxEvent(eventType, { ...payload, errors: options.errors ?? [] });
  }

  /** A call event for a call this fake placed, echoing its client_state. */
  callEvent(eventType: TelnyxCallEventType, callControlId: string, extra: Record<string, unknown> = {}): TelnyxEvent {
    const call = this.calls.get(callControlId);
    if (!call) throw new Error(`FakeTelnyx placed no call ${callControlId}`);
    if (eventType === 'call.hangup') call.alive = false;
    return telnyxEvent(eventType, callPayload(call, eventType, extra));
  }

  /** One signed POST per event, in the order given; a duplicate is the same event at attempt 2. */
  emit(url: string, events: readonly TelnyxEvent[], options: EmitOptions = {}): Promise<WebhookDelivery[]> {
    const builders = events.map((event) => (attempt: number) => {
      const rawBody = JSON.stringify({ ...event, meta: { attempt, delivered_to: url } });
      return { rawBody, headers: this.sign(rawBody, options.timestamp) };
    });
    return postWebhooks(url, builders, options);
  }

  protected override resetState(): void {
    this.messages.length = 0;
    this.calls.clear();
    this.blocked.clear();
  }

  protected override errorBody(status: number): unknown {
    const known: Record<number, [string, string]> = {
      400: ['10015', 'Bad Request'],
      401: ['10009', 'Authentication failed'],
      403: ['10010', 'Authorization failed'],
      404: ['10005', 'Resource not found'],
      422: ['10015', 'Bad Request'],
      429: ['10011', 'Too many requests'],
    };
    const [code, title] = known[status] ?? ['10007', 'Unexpected error'];
    return telnyxErrors(code, title);
  }

  protected override handle(request: RecordedRequest): FakeReply {
    if (request.method !== 'POST') return { status: 404, body: this.errorBody(404) };
    const key = bearerToken(request.headers);
    if (key !== this.apiKey && !(key && this.otherAccountKeys.has(key))) {
      return { status: 401, body: telnyxErrors('10009', 'Authentication failed', 'Could not understand the provided credentials.') };
    }
    if (!isObject(request.body)) {
      return { status: 400, body: telnyxErrors('10015', 'Bad Request', 'The request body is not valid JSON.') };
    }
    if (request.path === '/v2/messages') return this.sendMessage(request.body);
    if (request.path === '/v2/calls') return this.dial(request.body);
    const action = /^\/v2\/calls\/([^/]+)\/actions\/([a-z_]+)$/.exec(request.path);
    if (action) return this.command(decodeURIComponent(action[1] ?? ''), action[2] ?? '', request.body);
    return { status: 404, body: this.errorBody(404) };
  }

  private sendMessage(body: Record<string, unknown>): FakeReply {
    const absent = missing(body, ['to', 'text']) ?? (body.from === undefined && body.messaging_profile_id === undefined ? 'from' : undefined);
    if (absent) return missingParameter(absent);
    const invalid = notE164(body, ['to', 'from']);
    if (invalid) return invalid;
    const to = String(body.to);
    if (this.blocked.has(to)) {
      // The HTTP status for 40300 is unverified (providers.md §3); the code is what matters.
      return { status: 403, body: telnyxErrors('40300', 'Blocked due to STOP message', `The recipient ${to} has opted out.`, '/to') };
    }
    const message: TelnyxMessageRecord = { id: randomUUID(), from: String(body.from ?? '+15550000000'), to, text: String(body.text) };
    if (typeof body.messaging_profile_id === 'string') message.messagingProfileId = body.messaging_profile_id;
    this.messages.push(message);
    return { status: 200, body: { data: { ...messagePayload(message, 'outbound', 'queued'), webhook_url: body.webhook_url ?? null } } };
  }

  private dial(body: Record<string, unknown>): FakeReply {
    const absent = missing(body, ['connection_id', 'to', 'from']);
    if (absent) return missingParameter(absent);
    const invalid = notE164(body, ['to', 'from']);
    if (invalid) return invalid;
    const call: FakeCall = {
      callControlId: `v3:${randomBytes(24).toString('base64url')}`,
      callLegId: randomUUID(),
      callSessionId: randomUUID(),
      connectionId: String(body.connection_id),
      from: String(body.from),
      to: String(body.to),
      clientState: typeof body.client_state === 'string' ? body.client_state : null,
      startedAt: new Date().toISOString(),
      alive: true,
      answeringMachineDetection: typeof body.answering_machine_detection === 'string' ? body.answering_machine_detection : undefined,
      commands: [],
    };
    this.calls.set(call.callControlId, call);
    const data = {
      call_control_id: call.callControlId,
      call_leg_id: call.callLegId,
      call_session_id: call.callSessionId,
      is_alive: false,
      record_type: 'call',
    };
    return { status: 200, body: { data } };
  }

  private command(callControlId: string, action: string, body: Record<string, unknown>): FakeReply {
    const validate = ACTIONS[action];
    if (!validate) return { status: 404, body: this.errorBody(404) };
    const call = this.calls.get(callControlId);
    if (!call) return { status: 404, body: telnyxErrors('10005', 'Resource not found', `Call ${callControlId} not found.`) };
    if (!call.alive) return { status: 422, body: telnyxErrors('90018', 'Call has already ended', 'This call is no longer active and can\'t receive commands.') };
    const absent = validate(body);
    if (absent) return missingParameter(absent);
    const commandId = typeof body.command_id === 'string' ? body.command_id : undefined;
    const duplicate = commandId !== undefined && call.commands.some((c) => c.commandId === commandId);
    if (!duplicate) {
      call.commands.push({ action, commandId, body });
      if (action === 'hangup') call.alive = false;
    }
    return { status: 200, body: { data: { result: 'ok' } } };
  }
}

export async function startFakeTelnyx(options: { apiKey?: string } = {}): Promise<FakeTelnyx> {
  return new FakeTelnyx(options.apiKey ?? 'KEYfake-telnyx-key').start();
}

function telnyxErrors(code: string, title: string, detail?: string, pointer?: string) {
  return {
    errors: [
      {
        code,
        title,
        ...(detail ? { detail } : {}),
        ...(pointer ? { source: { pointer } } : {}),
        meta: { url: `https://developers.telnyx.com/docs/overview/errors/${code}` },
      },
    ],
  };
}

function missing(body: Record<string, unknown>, keys: readonly string[]): string | undefined {
  return keys.find((key) => typeof body[key] !== 'string' || body[key] === '');
}

function missingParameter(key: string): FakeReply {
  return { status: 422, body: telnyxErrors('10004', 'Missing required parameter', `The '${key}' parameter is required.`, `/${key}`) };
}

function notE164(body: Record<string, unknown>, keys: readonly string[]): FakeReply | undefined {
  const key = keys.find((candidate) => typeof body[candidate] === 'string' && !E164.test(String(body[candidate])));
  if (!key) return undefined;
  return { status: 422, body: telnyxErrors('10016', 'Phone number must be in +E.164 format', `'${String(body[key])}' is not a valid E.164 number.`, `/${key}`) };
}
