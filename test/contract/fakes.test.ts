/**
 * The fakes themselves: webhooks verify with the checks providers.md gives for the real
 * providers, duplicates and ordering behave as documented, and close() survives hung requests.
 */
import { createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { PostmarkEmailSender } from '../../src/delivery/email/postmark.ts';
import { SendGridEmailSender } from '../../src/delivery/email/sendgrid.ts';
import { TelnyxSmsSender } from '../../src/delivery/sms/telnyx.ts';
import { decodeClientState, TelnyxVoiceCaller } from '../../src/delivery/voice/telnyx.ts';
import { defaultDraft, type FakeProviders, startFakeProviders, startFakeSendGrid } from '../../src/devtools/fakes/index.ts';
import { emailMessage, envelope, smsMessage, voiceCall } from './conformance.ts';

interface Received {
  headers: IncomingHttpHeaders;
  rawBody: string;
}

let fakes: FakeProviders;
let receiver: Server;
let received: Received[] = [];
let hookUrl = '';

beforeAll(async () => {
  fakes = await startFakeProviders();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});

afterAll(async () => {
  await fakes?.close();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

beforeEach(() => {
  fakes.reset();
  received = [];
});

const header = (r: Received, name: string) => String(r.headers[name] ?? '');

describe('SendGrid Event Webhook', () => {
  test('a signed batch verifies with the SendGrid check, carries flattened custom args, and is re-sent as is', async () => {
    const sent = await new SendGridEmailSender({ apiKey: fakes.sendgrid.apiKey, baseUrl: fakes.sendgrid.baseUrl }).send(emailMessage());
    if (sent.kind !== 'sent') throw new Error('send failed');
    const kinds = ['delivered', 'open', 'click', 'bounce', 'spamreport', 'unsubscribe'] as const;
    const events = kinds.map((kind) => fakes.sendgrid.event(kind, sent.providerMessageId));

    const deliveries = await fakes.sendgrid.emit(hookUrl, events, { duplicate: true });
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    expect(received).toHaveLength(2);
    expect(received[1]?.rawBody).toBe(received[0]?.rawBody);

    const first = received[0]!;
    expect(first.rawBody).toMatch(/^\[\{.*\},\r\n\{/s);
    expect(first.rawBody.endsWith(']\r\n')).toBe(true);
    const ts = header(first, 'x-twilio-email-event-webhook-timestamp');
    const key = createPublicKey({ key: Buffer.from(fakes.sendgrid.publicKeyBase64, 'base64'), format: 'der', type: 'spki' });
    const signature = Buffer.from(header(first, 'x-twilio-email-event-webhook-signature'), 'base64');
    expect(verify('sha256', Buffer.concat([Buffer.from(ts), Buffer.from(first.rawBody)]), key, signature)).toBe(true);
    expect(verify('sha256', Buffer.from(ts + first.rawBody.replace('delivered', 'dropped')), key, signature)).toBe(false);

    const parsed = JSON.parse(first.rawBody) as Record<string, unknown>[];
    expect(parsed.map((e) => e.event)).toEqual([...kinds]);
    for (const event of parsed) {
      expect(event).toMatchObject({ email: 'lee@acme.test', execution_id: envelope.executionId, idempotency_key: envelope.idempotencyKey });
      expect(String(event.sg_message_id).split('.')[0]).toBe(sent.providerMessageId);
    }
    expect(parsed[3]).toMatchObject({ type: 'bounce', status: '5.1.1' });
  });

  test('events can go one per request, in any order, with a chosen timestamp', async () => {
    const events = [fakes.sendgrid.event('open', 'abc'), fakes.sendgrid.event('delivered', 'abc')];
    await fakes.sendgrid.emit(hookUrl, events, { oneRequestPerEvent: true, timestamp: 1_600_000_000 });
    expect(received.map((r) => (JSON.parse(r.rawBody) as { event: string }[])[0]?.event)).toEqual(['open', 'delivered']);
    expect(header(received[0]!, 'x-twilio-email-event-webhook-timestamp')).toBe('1600000000');
  });
});

describe('Postmark webhooks', () => {
  test('one object per POST with Basic auth; a duplicate keeps its trace id', async () => {
    const sent = await new PostmarkEmailSender({ serverToken: fakes.postmark.serverToken, baseUrl: fakes.postmark.baseUrl }).send(emailMessage());
    if (sent.kind !== 'sent') throw new Error('send failed');
    const types = ['Delivery', 'Open', 'Click', 'Bounce', 'SpamComplaint', 'SubscriptionChange'] as const;
    await fakes.postmark.emit(hookUrl, types.map((type) => fakes.postmark.event(type, sent.providerMessageId)), { duplicate: true });

    expect(received).toHaveLength(12);
    const { username, password } = fakes.postmark.webhookAuth;
    for (const r of received) expect(header(r, 'authorization')).toBe(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
    expect(header(received[0]!, 'x-pm-webhook-trace-id')).toBe(header(received[1]!, 'x-pm-webhook-trace-id'));
    expect(header(received[0]!, 'x-pm-webhook-trace-id')).not.toBe(header(received[2]!, 'x-pm-webhook-trace-id'));

    const bodies = received.filter((_, i) => i % 2 === 0).map((r) => JSON.parse(r.rawBody) as Record<string, unknown>);
    expect(bodies.map((b) => b.RecordType)).toEqual([...types]);
    for (const body of bodies) expect(body).toMatchObject({ MessageID: sent.providerMessageId, Metadata: { execution_id: envelope.executionId } });
    expect(bodies[3]).toMatchObject({ TypeCode: 1, Inactive: true, Email: 'lee@acme.test' });
    expect(bodies[4]).toMatchObject({ TypeCode: 512 });
  });
});

describe('Telnyx webhooks', () => {
  const verifyTelnyx = (r: Received) => {
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(fakes.telnyx.publicKeyBase64, 'base64')]);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const signed = Buffer.from(`${header(r, 'telnyx-timestamp')}|${r.rawBody}`);
    return verify(null, signed, key, Buffer.from(header(r, 'telnyx-signature-ed25519'), 'base64'));
  };

  test('call events echo client_state, verify with Ed25519, and arrive in the order given', async () => {
    const dialed = await new TelnyxVoiceCaller({ apiKey: fakes.telnyx.apiKey, connectionId: 'conn_42', baseUrl: fakes.telnyx.baseUrl }).dial(voiceCall());
    if (dialed.kind !== 'sent') throw new Error('dial failed');
    const id = dialed.providerMessageId;
    const events = [
      fakes.telnyx.callEvent('call.hangup', id, { hangup_cause: 'normal_clearing' }),
      fakes.telnyx.callEvent('call.initiated', id),
      fakes.telnyx.callEvent('call.answered', id),
      fakes.telnyx.callEvent('call.machine.detection.ended', id, { result: 'machine' }),
      fakes.telnyx.callEvent('call.machine.greeting.ended', id),
      fakes.telnyx.callEvent('call.speak.ended', id),
    ];
    await fakes.telnyx.emit(hookUrl, events);

    expect(received.every(verifyTelnyx)).toBe(true);
    const bodies = received.map((r) => JSON.parse(r.rawBody) as { data: { event_type: string; payload: Record<string, unknown> } });
    expect(bodies.map((b) => b.data.event_type)).toEqual(events.map((e) => e.data.event_type));
    for (const { data } of bodies) {
      expect(data.payload.call_control_id).toBe(id);
      expect(decodeClientState(data.payload.client_state as string)?.executionId).toBe(envelope.executionId);
    }
    expect(bodies[3]?.data.payload.result).toBe('machine');
    expect(verifyTelnyx({ ...received[0]!, rawBody: received[0]!.rawBody.replace('normal_clearing', 'user_busy') })).toBe(false);
  });

  test('message events; a duplicate is the same event id at attempt 2', async () => {
    const sent = await new TelnyxSmsSender({ apiKey: fakes.telnyx.apiKey, baseUrl: fakes.telnyx.baseUrl }).send(smsMessage());
    if (sent.kind !== 'sent') throw new Error('send failed');
    const events = [
      fakes.telnyx.messageEvent('message.sent', sent.providerMessageId),
      fakes.telnyx.messageEvent('message.finalized', sent.providerMessageId),
      fakes.telnyx.messageEvent('message.received', { from: '+15552223333', to: '+15550001111', text: 'STOP' }),
    ];
    await fakes.telnyx.emit(hookUrl, events, { duplicate: true });

    expect(received).toHaveLength(6);
    expect(received.every(verifyTelnyx)).toBe(true);
    const bodies = received.map((r) => JSON.parse(r.rawBody) as { data: { id: string; payload: Record<string, any> }; meta: { attempt: number } });
    expect(bodies[1]?.data.id).toBe(bodies[0]?.data.id);
    expect(bodies.map((b) => b.meta.attempt)).toEqual([1, 2, 1, 2, 1, 2]);
    expect(bodies[2]?.data.payload.to[0].status).toBe('delivered');
    expect(bodies[4]?.data.payload).toMatchObject({ direction: 'inbound', autoresponse_type: 'STOP', text: 'STOP' });
    expect(bodies[4]?.data.payload.from.phone_number).toBe('+15552223333');
  });
});

describe('fake OpenAI-compatible writer', () => {
  const complete = (body: unknown, key = fakes.writer.apiKey) =>
    fetch(`${fakes.writer.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  test('drafts deterministically from the prompt, and refuses bad keys and bad requests', async () => {
    const messages = [{ role: 'system', content: 'Write a short email.' }, { role: 'user', content: 'Lead: Lee at Acme\nTone: warm' }];
    const first = (await (await complete({ model: 'gpt-4o-mini', messages })).json()) as { choices: { message: { content: string } }[] };
    const again = (await (await complete({ model: 'gpt-4o-mini', messages })).json()) as typeof first;
    expect(first.choices[0]?.message.content).toBe(defaultDraft(messages));
    expect(first.choices[0]?.message.content).toMatch(/^Draft [0-9a-f]{8}: Lead: Lee at Acme$/);
    expect(again.choices[0]?.message.content).toBe(first.choices[0]?.message.content);

    expect((await complete({ model: 'm', messages }, 'sk-wrong')).status).toBe(401);
    const bad = await complete({ model: 'm', messages: [] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('messages');
  });
});

describe('fake servers', () => {
  test('close() ends hung requests instead of waiting for them', async () => {
    const fake = await startFakeSendGrid();
    fake.hangNext();
    const pending = fetch(`${fake.baseUrl}/v3/mail/send`, { method: 'POST', body: '{}' });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    await fake.close();
    await expect(pending).rejects.toThrow();
  });

  test('failNext answers in the provider format, `times` in a row, then normal service resumes', async () => {
    fakes.telnyx.failNext({ status: 503, times: 2 });
    const sender = new TelnyxSmsSender({ apiKey: fakes.telnyx.apiKey, baseUrl: fakes.telnyx.baseUrl });
    expect(await sender.send(smsMessage())).toMatchObject({ kind: 'failed', retryable: true, code: '10007' });
    expect(await sender.send(smsMessage())).toMatchObject({ kind: 'failed', retryable: true, code: '10007' });
    expect((await sender.send(smsMessage())).kind).toBe('sent');
    expect(fakes.telnyx.requests).toHaveLength(3);
  });
});
