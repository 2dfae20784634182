/**
 * What is particular to each provider and to the shared classifier, beyond the conformance suite.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { textToHtml } from '../../src/core/emailBody.ts';
import { formatAddress, PostmarkEmailSender } from '../../src/delivery/email/postmark.ts';
import { SendGridEmailSender } from '../../src/delivery/email/sendgrid.ts';
import { classifyFailure, postJson, retryDelay, SENDGRID_PROFILE, TELNYX_PROFILE } from '../../src/delivery/http.ts';
import { TelnyxSmsSender } from '../../src/delivery/sms/telnyx.ts';
import { decodeClientState, encodeClientState, TelnyxCallControl, TelnyxVoiceCaller } from '../../src/delivery/voice/telnyx.ts';
import { type FakeProviders, startFakeProviders } from '../../src/devtools/fakes/index.ts';
import { emailMessage, envelope, smsMessage, voiceCall } from './conformance.ts';

let fakes: FakeProviders;
beforeAll(async () => {
  fakes = await startFakeProviders();
});
afterAll(async () => {
  await fakes?.close();
});
beforeEach(() => fakes.reset());

describe('SendGrid', () => {
  const sender = () => new SendGridEmailSender({ apiKey: fakes.sendgrid.apiKey, baseUrl: `${fakes.sendgrid.baseUrl}/` });

  test('plain text only, no unsubscribe URL: both parts (the HTML made from the text) and no headers', async () => {
    const { html: _html, unsubscribeUrl: _url, headers: _headers, ...message } = emailMessage();
    expect((await sender().send(message)).kind).toBe('sent');
    const body = fakes.sendgrid.lastRequest().body as Record<string, unknown>;
    expect(body.content).toEqual([
      { type: 'text/plain', value: message.text },
      { type: 'text/html', value: textToHtml(message.text) },
    ]);
    expect(body).not.toHaveProperty('headers');
  });

  test('an accepted send without X-Message-Id keeps a stable id of our own instead of resending', async () => {
    fakes.sendgrid.failNext({ status: 202, body: '' });
    const result = await sender().send(emailMessage());
    expect(result).toEqual({
      kind: 'sent',
      providerMessageId: `sendgrid:${envelope.idempotencyKey}`,
      metadata: { status: 202, missingProviderMessageId: true },
    });
  });

  test('the field SendGrid names is in the message', async () => {
    const result = await sender().send({ ...emailMessage(), subject: '' });
    expect(result).toMatchObject({ kind: 'failed', retryable: false, code: '400' });
    expect(result.kind === 'failed' && result.message).toMatch(/^SendGrid rejected the request \(HTTP 400\): subject: /);
  });

  test('an API key echoed by the provider is redacted', async () => {
    fakes.sendgrid.failNext({ status: 400, body: { errors: [{ message: `bad key ${fakes.sendgrid.apiKey}` }] } });
    const result = await sender().send(emailMessage());
    expect(result.kind === 'failed' && result.message).toBe('SendGrid rejected the request (HTTP 400): bad key [redacted]');
  });
});

describe('Postmark', () => {
  test('quotes a display name RFC 5322 would misread', () => {
    expect(formatAddress('a@us.test', 'Doe, Jane')).toBe('"Doe, Jane" <a@us.test>');
    expect(formatAddress('a@us.test', 'Dana "D" Ray')).toBe('"Dana \\"D\\" Ray" <a@us.test>');
    expect(formatAddress('a@us.test', 'José Núñez')).toBe('José Núñez <a@us.test>');
    expect(formatAddress('a@us.test')).toBe('a@us.test');
  });

  test('plain text only: TextBody and an HtmlBody made from it', async () => {
    const { html: _html, ...message } = emailMessage();
    const sent = await new PostmarkEmailSender({ serverToken: fakes.postmark.serverToken, baseUrl: fakes.postmark.baseUrl }).send(message);
    expect(sent.kind).toBe('sent');
    expect(fakes.postmark.lastRequest().body).toMatchObject({ TextBody: message.text, HtmlBody: textToHtml(message.text) });
  });

  test('a configured message stream is sent; an unknown one is refused permanently', async () => {
    const base = { serverToken: fakes.postmark.serverToken, baseUrl: fakes.postmark.baseUrl };
    const broadcast = await new PostmarkEmailSender({ ...base, messageStream: 'broadcast' }).send(emailMessage());
    expect(broadcast.kind).toBe('sent');
    expect(fakes.postmark.lastRequest().body).toMatchObject({ MessageStream: 'broadcast' });
    const unknown = await new PostmarkEmailSender({ ...base, messageStream: 'nope' }).send(emailMessage());
    expect(unknown).toMatchObject({ kind: 'failed', retryable: false, code: '1235' });
  });
});

describe('Telnyx messaging', () => {
  const sender = () => new TelnyxSmsSender({ apiKey: fakes.telnyx.apiKey, baseUrl: fakes.telnyx.baseUrl });

  test('keeps parts and the first recipient status; sends no optional fields it was not given', async () => {
    const result = await sender().send({ ...smsMessage(), text: 'x'.repeat(200) });
    expect(result).toMatchObject({ kind: 'sent', metadata: { parts: 2, status: 'queued' } });
    expect(Object.keys(fakes.telnyx.lastRequest().body as object).sort()).toEqual(['from', 'text', 'to']);
  });

  test.each([400, 403, 422, 500, 503])('40300 is permanent even on HTTP %i', async (status) => {
    fakes.telnyx.failNext({ status, body: { errors: [{ code: '40300', title: 'Blocked due to STOP message' }] } });
    expect(await sender().send(smsMessage())).toMatchObject({ kind: 'failed', retryable: false, code: '40300' });
  });

  test('an inbound STOP blocks later sends, START lifts the block', async () => {
    fakes.telnyx.messageEvent('message.received', { from: '+15552223333', to: '+15550001111', text: 'stop' });
    expect(await sender().send(smsMessage())).toMatchObject({ kind: 'failed', code: '40300' });
    fakes.telnyx.messageEvent('message.received', { from: '+15552223333', to: '+15550001111', text: 'START' });
    expect((await sender().send(smsMessage())).kind).toBe('sent');
  });
});

describe('Telnyx call control', () => {
  const caller = (voicemailDetection?: 'detect_beep') =>
    new TelnyxVoiceCaller({ apiKey: fakes.telnyx.apiKey, connectionId: 'conn_42', baseUrl: fakes.telnyx.baseUrl, ringTimeoutSecs: 30, ...(voicemailDetection ? { voicemailDetection } : {}) });
  const control = () => new TelnyxCallControl({ apiKey: fakes.telnyx.apiKey, baseUrl: fakes.telnyx.baseUrl });

  test('with a voicemail the dial waits for the greeting end; the AMD mode can be chosen', async () => {
    await caller().dial({ ...voiceCall(), voicemail: 'Sorry I missed you.' });
    expect(fakes.telnyx.lastRequest().body).toMatchObject({ answering_machine_detection: 'greeting_end', timeout_secs: 30 });
    await caller('detect_beep').dial({ ...voiceCall(), voicemail: 'Sorry I missed you.' });
    expect(fakes.telnyx.lastRequest().body).toMatchObject({ answering_machine_detection: 'detect_beep' });
  });

  test('speak and hangup succeed on a live call, then 90018 is a permanent failure', async () => {
    const dialed = await caller().dial(voiceCall());
    if (dialed.kind !== 'sent') throw new Error('dial failed');
    const id = dialed.providerMessageId;
    const state = fakes.telnyx.calls.get(id)?.clientState ?? '';

    expect(await control().speak(id, 'Hi Lee', 'exe_01HZX4:speak', state)).toEqual({ ok: true });
    expect(await control().speak(id, 'Hi Lee', 'exe_01HZX4:speak', state)).toEqual({ ok: true });
    expect(await control().hangup(id, 'exe_01HZX4:hangup', envelope)).toEqual({ ok: true });
    const call = fakes.telnyx.calls.get(id);
    expect(call?.commands.map((c) => c.action)).toEqual(['speak', 'hangup']);
    expect(call?.commands[0]?.body).toMatchObject({ payload: 'Hi Lee', voice: 'female', client_state: state, command_id: 'exe_01HZX4:speak' });
    expect(call?.commands[1]?.body.client_state).toBe(encodeClientState(envelope));
    expect(fakes.telnyx.lastRequest().path).toBe(`/v2/calls/${id}/actions/hangup`);

    const late = await control().speak(id, 'Still there?', 'exe_01HZX4:speak-2', state);
    expect(late).toMatchObject({ ok: false, retryable: false, code: '90018' });
  });

  test('a call the lead hung up answers 90018; a slow command is a retryable timeout', async () => {
    const dialed = await caller().dial(voiceCall());
    if (dialed.kind !== 'sent') throw new Error('dial failed');
    fakes.telnyx.hangNext();
    const slow = new TelnyxCallControl({ apiKey: fakes.telnyx.apiKey, baseUrl: fakes.telnyx.baseUrl, timeoutMs: 200 });
    expect(await slow.speak(dialed.providerMessageId, 'Hi', 'c1', envelope)).toMatchObject({ ok: false, retryable: true, code: 'timeout' });
    fakes.telnyx.endCall(dialed.providerMessageId);
    expect(await control().hangup(dialed.providerMessageId, 'c2', envelope)).toMatchObject({ ok: false, code: '90018' });
  });

  test('client_state round-trips, and anything else decodes to undefined', () => {
    expect(decodeClientState(encodeClientState({ ...envelope }))).toEqual({
      executionId: envelope.executionId,
      enrollmentId: envelope.enrollmentId,
      workspaceId: envelope.workspaceId,
    });
    expect(decodeClientState(Buffer.from('{"touch":"t_1"}').toString('base64'))).toBeUndefined();
    expect(decodeClientState('%%%')).toBeUndefined();
    expect(decodeClientState(null)).toBeUndefined();
  });
});

describe('the shared classifier', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  test('Retry-After as an HTTP date, and a reset instant already past, give delays from now', () => {
    expect(retryDelay(new Headers({ 'retry-after': 'Sat, 01 Mar 2025 12:00:09 GMT' }), undefined, now)).toBe(9000);
    expect(retryDelay(new Headers({ 'x-ratelimit-reset': String(now / 1000 - 5) }), 'epoch-seconds', now)).toBe(0);
    expect(retryDelay(new Headers({ 'x-ratelimit-reset': '12' }), undefined, now)).toBeUndefined();
  });

  test('Retry-After counts on a 503; the reset header only on a 429', () => {
    const outcome = (status: number, headers: Record<string, string>) =>
      ({ kind: 'response', status, headers: new Headers(headers), body: undefined }) as const;
    expect(classifyFailure(outcome(503, { 'retry-after': '3' }), SENDGRID_PROFILE, { now }).retryAfterMs).toBe(3000);
    expect(classifyFailure(outcome(503, { 'x-ratelimit-reset': '3' }), TELNYX_PROFILE, { now }).retryAfterMs).toBeUndefined();
    expect(classifyFailure(outcome(408, {}), TELNYX_PROFILE, { now }).retryable).toBe(true);
    expect(classifyFailure(outcome(409, {}), TELNYX_PROFILE, { now })).toMatchObject({ retryable: false, code: '409' });
  });

  test('a refused connection is a retryable network failure', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const outcome = await postJson(`http://127.0.0.1:${port}/v2/messages`, {}, { timeoutMs: 2000 });
    // A refused connection proves nothing left: retried, not an unknown delivery.
    expect(outcome).toMatchObject({ kind: 'transport', code: 'network', mayHaveSent: false });
    const sms = await new TelnyxSmsSender({ apiKey: 'KEYsecret', baseUrl: `http://127.0.0.1:${port}` }).send(smsMessage());
    expect(sms).toMatchObject({ kind: 'failed', retryable: true, code: 'network' });
    expect(sms.kind === 'failed' && sms.mayHaveSent).toBeUndefined();
    expect(sms.kind === 'failed' && sms.message).toBe('Telnyx could not be reached (ECONNREFUSED).');
  });

  test('a connection dropped after the request was written may have been sent: never a plain retry', async () => {
    // The provider reads the whole request, then the connection dies before any answer.
    const server = createServer((request) => request.on('data', () => undefined).on('end', () => request.socket.destroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const outcome = await postJson(`http://127.0.0.1:${port}/v2/messages`, { text: 'hi' }, { timeoutMs: 2000 });
      expect(outcome).toMatchObject({ kind: 'transport', code: 'network', mayHaveSent: true });
      const sms = await new TelnyxSmsSender({ apiKey: 'KEYsecret', baseUrl: `http://127.0.0.1:${port}` }).send(smsMessage());
      expect(sms).toMatchObject({ kind: 'failed', code: 'network', mayHaveSent: true });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
