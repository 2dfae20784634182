/**
 * The webhook front door on a listening server: what the headers can settle is settled before
 * the body is read, bodies stop at the route's cap, and an address that keeps failing
 * authentication is answered 429 while providers that sign correctly go on unhindered.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, onTestFinished, test } from 'vitest';
import { waitFor } from '../helpers/waitFor.ts';
import { sendgridBody, sendgridEvent } from '../../src/devtools/fakes/sendgridEvents.ts';
import { type LiveKit, startLiveKit } from './liveKit.ts';

let kit: LiveKit;
beforeAll(async () => {
  kit = await startLiveKit({ env: { WEBHOOK_AUTH_FAILURES_PER_MINUTE: '5' } });
});
afterAll(async () => kit?.close());

const MB = 1024 * 1024;

/**
 * Declares a large body, sends its first 64 KiB and waits for the answer without sending the
 * rest: a server that reads the body before checking would never answer.
 */
async function answerBeforeBody(path: string, headers: Record<string, string>, declared = 39 * MB) {
  const sent = 64 * 1024;
  const req = httpRequest(`${kit.url}${path}`, { method: 'POST', headers: { ...headers, 'content-length': String(declared) } });
  let answer: { status: number; body: string; connection?: string } | undefined;
  req.on('response', (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => (answer = { status: res.statusCode ?? 0, body, connection: res.headers.connection }));
  });
  req.on('error', () => undefined); // the server closes the connection it will not read from
  req.write(Buffer.alloc(sent, 0x61));
  try {
    return { ...(await waitFor(() => answer, `${path} to answer before the body arrives`, 5_000)), sent };
  } finally {
    req.destroy();
  }
}

function signedEvents(at = kit.seconds()) {
  const raw = sendgridBody([sendgridEvent('open', { messageId: 'intake', email: 'nobody@acme.test', timestamp: at })]);
  return { raw, headers: { 'content-type': 'application/json', ...kit.fakes.sendgrid.sign(raw, at) } };
}

describe('refused from the headers, before the body is read', () => {
  // Real sockets all come from 127.0.0.1: each test starts a new failure window (the clock is
  // manual), so the refusals here are 401s and 413s, not the limit's 429.
  beforeEach(() => kit.clock.advance(61_000));
  let n = 0;
  const from = () => `10.1.0.${++n}`;

  test.each([
    ['/webhooks/sendgrid/inbound', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['/webhooks/sendgrid', { 'content-type': 'application/json' }],
    ['/webhooks/postmark/inbound', { 'content-type': 'application/json' }],
    ['/webhooks/postmark', { 'content-type': 'application/json', authorization: 'Basic d3Jvbmc6d3Jvbmc=' }],
    ['/webhooks/telnyx', { 'content-type': 'application/json', 'telnyx-timestamp': '1', 'telnyx-signature-ed25519': 'AAAA' }],
  ])('an unauthenticated 39 MB post to %s → 401 after 64 KiB, connection closed', async (path, headers) => {
    const answer = await answerBeforeBody(path, headers);
    expect(answer.status, answer.body).toBe(401);
    expect(JSON.parse(answer.body).error.message.length).toBeGreaterThan(10);
    expect(answer.connection).toBe('close');
  });

  test('a stale timestamp or a signature of the wrong shape is refused from the headers too', async () => {
    const at = kit.seconds();
    const { headers } = signedEvents(at - 400);
    expect((await answerBeforeBody('/webhooks/sendgrid', headers)).status).toBe(401);
    const wrongShape = { ...signedEvents().headers, 'X-Twilio-Email-Event-Webhook-Signature': Buffer.alloc(300, 1).toString('base64') };
    expect((await answerBeforeBody('/webhooks/sendgrid', wrongShape)).status).toBe(401);
  });

  test('headers that look right but a declared length over the route cap → 413 naming the cap, unread', async () => {
    const answer = await answerBeforeBody('/webhooks/sendgrid', signedEvents().headers, 2 * MB);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error).toMatchObject({ code: 'payload_too_large' });
    expect(JSON.parse(answer.body).error.message).toContain(String(MB));
  });

  test('a body sent without a length stops at the cap → 413', async () => {
    const { headers } = signedEvents();
    const big = Buffer.alloc(MB + 1, 0x20);
    const response = await kit.runtime.app.inject({ method: 'POST', url: '/webhooks/sendgrid', headers: { ...headers, 'transfer-encoding': 'chunked' }, payload: big, remoteAddress: from() });
    expect(response.statusCode).toBe(413);
  });

  test('signed traffic of a real size passes', async () => {
    const { raw, headers } = signedEvents();
    const response = await kit.runtime.app.inject({ method: 'POST', url: '/webhooks/sendgrid', headers, payload: raw, remoteAddress: from() });
    expect(response.statusCode).toBe(200);
  });
});

describe('an address that keeps failing authentication', () => {
  const post = (remoteAddress: string, headers: Record<string, string>, payload: string) =>
    kit.runtime.app.inject({ method: 'POST', url: '/webhooks/sendgrid', headers, payload, remoteAddress });

  test('is answered 429 with Retry-After; a provider signing correctly elsewhere is not; the wait ends', async () => {
    const attacker = '203.0.113.66';
    const provider = '198.51.100.7';
    const forged = { 'content-type': 'application/json', 'X-Twilio-Email-Event-Webhook-Signature': 'bad', 'X-Twilio-Email-Event-Webhook-Timestamp': String(kit.seconds()) };
    for (let i = 0; i < 5; i += 1) expect((await post(attacker, forged, '[]')).statusCode).toBe(401);

    const limited = await post(attacker, forged, '[]');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.json().error.message).toContain('retry in');
    // Even a correct signature from the limited address waits: the address is what is limited.
    const { raw, headers } = signedEvents();
    expect((await post(attacker, headers, raw)).statusCode).toBe(429);

    // The provider, at its own address, is unaffected by the attacker's failures.
    for (let i = 0; i < 10; i += 1) {
      const signed = signedEvents();
      expect((await post(provider, signed.headers, signed.raw)).statusCode).toBe(200);
    }

    kit.clock.advance(61_000);
    const later = signedEvents();
    expect((await post(attacker, later.headers, later.raw)).statusCode).toBe(200);
  });

  test('failures on Postmark (Basic auth) and oversize posts count as well; successes never do', async () => {
    const address = '203.0.113.77';
    const { username, password } = kit.fakes.postmark.webhookAuth;
    const good = { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    const body = JSON.stringify({ RecordType: 'Delivery', MessageID: 'x' });
    const postmark = (headers: Record<string, string>) =>
      kit.runtime.app.inject({ method: 'POST', url: '/webhooks/postmark', headers, payload: body, remoteAddress: address });
    for (let i = 0; i < 20; i += 1) expect((await postmark(good)).statusCode).toBe(200);
    for (let i = 0; i < 4; i += 1) expect((await postmark({ ...good, authorization: 'Basic eDp5' })).statusCode).toBe(401);
    const oversize = await kit.runtime.app.inject({ method: 'POST', url: '/webhooks/postmark', headers: good, payload: Buffer.alloc(MB + 1, 0x20), remoteAddress: address });
    expect(oversize.statusCode).toBe(413);
    expect((await postmark(good)).statusCode).toBe(429);
  });
});

describe('bodies read before their signature can be checked share a budget', () => {
  let small: LiveKit;
  beforeAll(async () => {
    small = await startLiveKit({ env: { WEBHOOK_UNVERIFIED_BYTES_IN_FLIGHT: String(2 * MB), WEBHOOK_AUTH_FAILURES_PER_MINUTE: '0' } });
  });
  afterAll(async () => small?.close());

  test('past its share an address is told to come back (503, Retry-After); others and later posts pass', async () => {
    const declared = 900 * 1024;
    const inbound = (at: number) => ({ 'content-type': 'multipart/form-data; boundary=b', ...small.fakes.sendgrid.sign('x', at) });
    // Held open: well-formed, fresh headers, the body only begun.
    const held = httpRequest(`${small.url}/webhooks/sendgrid/inbound`, { method: 'POST', headers: { ...inbound(small.seconds()), 'content-length': String(declared) } });
    held.on('error', () => undefined);
    onTestFinished(() => void held.destroy());
    // The headers and the body's first bytes are on the wire before anything else is asked.
    await new Promise<void>((resolve) => held.write(Buffer.alloc(1024, 0x61), () => resolve()));

    // A probe from the same address sends its whole body: admitted, it is read and fails its
    // signature (401); refused, it never is (503). 200 KiB beside the held 900 KiB is past one
    // address's half of the 2 MiB budget, and cheap to post again and again on a loaded machine.
    const probeBytes = 200 * 1024;
    const probe = () =>
      small.runtime.app.inject({ method: 'POST', url: '/webhooks/sendgrid/inbound', headers: inbound(small.seconds()), payload: Buffer.alloc(probeBytes, 0x61), remoteAddress: '127.0.0.1' });
    // The first post's reservation is made when its headers arrive; wait until it shows.
    const answers: number[] = [];
    const busy = await waitFor(async () => {
      const answer = await probe();
      answers.push(answer.statusCode);
      return answer.statusCode === 503 ? answer : undefined;
    }, 'the held post to take its share', 90_000).catch((error: Error) => {
      throw new Error(`${error.message} The last probes answered ${JSON.stringify(answers.slice(-5))} (of ${answers.length}).`);
    });
    expect(busy.headers['retry-after']).toBe('5');
    expect(busy.json().error).toMatchObject({ code: 'busy' });

    // Another address still has room.
    const { raw, headers } = (() => {
      const body = sendgridBody([sendgridEvent('open', { messageId: 'b', email: 'nobody@acme.test', timestamp: small.seconds() })]);
      return { raw: body, headers: { 'content-type': 'application/json', ...small.fakes.sendgrid.sign(body, small.seconds()) } };
    })();
    const other = await small.runtime.app.inject({ method: 'POST', url: '/webhooks/sendgrid', headers, payload: raw, remoteAddress: '198.51.100.9' });
    expect(other.statusCode).toBe(200);

    // The held post goes away: its share comes back.
    held.destroy();
    await waitFor(async () => (await probe()).statusCode === 401, 'the share to be released');
  });
});
