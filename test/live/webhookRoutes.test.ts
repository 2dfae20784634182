/**
 * The webhook endpoints at the HTTP level: every signature failure is a 401, a missing key a
 * 503 that names the setting, a bad body a 400, and random bytes or random JSON never a 5xx.
 * The raw-body parser stays inside the webhook scope: other routes still parse JSON.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { parseConfig } from '../../src/config.ts';
import { webhookRoutes } from '../../src/webhooks/routes.ts';
import { FakeSendGrid } from '../../src/devtools/fakes/sendgrid.ts';
import { FakeTelnyx } from '../../src/devtools/fakes/telnyx.ts';
import { sendgridInbound } from '../../src/devtools/fakes/inboundEmail.ts';
import { type LiveKit, startLiveKit } from './liveKit.ts';

let kit: LiveKit;
let app: FastifyInstance;

beforeAll(async () => {
  // This file posts hundreds of bad requests from one address on purpose; the failure limit
  // that would answer them 429 has its own tests (webhookIntake.test.ts).
  kit = await startLiveKit({ env: { WEBHOOK_AUTH_FAILURES_PER_MINUTE: '0' } });
  app = kit.runtime.app;
});
afterAll(async () => kit?.close());

const post = (url: string, payload: string | Buffer, headers: Record<string, string>) =>
  app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });

describe.each([
  { name: 'SendGrid events', url: '/webhooks/sendgrid', signer: () => kit.fakes.sendgrid, other: () => new FakeSendGrid('SG.other'), body: '[]\r\n' },
  { name: 'SendGrid inbound', url: '/webhooks/sendgrid/inbound', signer: () => kit.fakes.sendgrid, other: () => new FakeSendGrid('SG.other'), body: sendgridInbound({ from: 'a@b.test', to: 'c@d.test', subject: 's', text: 't' }) },
  { name: 'Telnyx', url: '/webhooks/telnyx', signer: () => kit.fakes.telnyx, other: () => new FakeTelnyx('KEYother'), body: '{"data":{"id":"e1","event_type":"message.sent","payload":{}}}' },
])('signatures: $name', ({ url, signer, other, body }) => {
  const raw = typeof body === 'string' ? body : body.rawBody;
  const contentType = typeof body === 'string' ? 'application/json' : body.contentType;
  const send = (payload: string, headers: Record<string, string>) => post(url, payload, { 'content-type': contentType, ...headers });

  test('valid → 200', async () => {
    expect((await send(raw, signer().sign(raw, kit.seconds()))).statusCode).toBe(200);
  });
  test('tampered body → 401', async () => {
    expect((await send(`${raw} `, signer().sign(raw, kit.seconds()))).statusCode).toBe(401);
  });
  test('signed with another key → 401', async () => {
    expect((await send(raw, other().sign(raw, kit.seconds()))).statusCode).toBe(401);
  });
  test('stale or future timestamp (301 s) → 401', async () => {
    expect((await send(raw, signer().sign(raw, kit.seconds() - 301))).statusCode).toBe(401);
    expect((await send(raw, signer().sign(raw, kit.seconds() + 301))).statusCode).toBe(401);
    expect((await send(raw, signer().sign(raw, kit.seconds() - 299))).statusCode).toBe(200);
  });
  test('missing headers → 401', async () => {
    const [signature, timestamp] = Object.entries(signer().sign(raw, kit.seconds()));
    expect((await send(raw, {})).statusCode).toBe(401);
    expect((await send(raw, Object.fromEntries([signature!]))).statusCode).toBe(401);
    expect((await send(raw, Object.fromEntries([timestamp!]))).statusCode).toBe(401);
  });
});

describe('Postmark Basic auth', () => {
  for (const url of ['/webhooks/postmark', '/webhooks/postmark/inbound']) {
    test(`${url}: right credentials pass, wrong or missing ones are 401`, async () => {
      const body = JSON.stringify({ RecordType: 'Delivery', MessageID: 'x' });
      const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
      const { username, password } = kit.fakes.postmark.webhookAuth;
      expect((await post(url, url.endsWith('inbound') ? JSON.stringify({ From: 'a@b.test' }) : body, basic(username, password))).statusCode).toBe(200);
      expect((await post(url, body, basic(username, 'wrong'))).statusCode).toBe(401);
      expect((await post(url, body, basic('wrong', password))).statusCode).toBe(401);
      expect((await post(url, body, {})).statusCode).toBe(401);
      expect((await post(url, body, { authorization: 'Bearer x' })).statusCode).toBe(401);
    });
  }
});

test('a signed body that is not what the provider sends → 400 with a sentence', async () => {
  for (const [url, raw] of [
    ['/webhooks/sendgrid', '{"not":"an array"}'],
    ['/webhooks/sendgrid', 'not json'],
    ['/webhooks/telnyx', '[1,2]'],
  ] as const) {
    const signer = url.includes('telnyx') ? kit.fakes.telnyx : kit.fakes.sendgrid;
    const response = await post(url, raw, signer.sign(raw, kit.seconds()));
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message.length).toBeGreaterThan(5);
  }
  const notMultipart = 'a=b';
  const response = await post('/webhooks/sendgrid/inbound', notMultipart, {
    'content-type': 'application/x-www-form-urlencoded',
    ...kit.fakes.sendgrid.sign(notMultipart, kit.seconds()),
  });
  expect(response.statusCode).toBe(400);
});

test('Inbound Parse with "send raw" on: the header block of the raw MIME stands in for the parsed fields', async () => {
  await kit.addLead({ email: 'raw@acme.test', firstName: 'Raw' });
  const mime = 'From: Raw <raw@acme.test>\r\nTo: sales@us.test\r\nSubject: Re: hi\r\nMessage-ID: <r1@acme.test>\r\n\r\nYes.\r\n';
  const raw = `--b1\r\nContent-Disposition: form-data; name="email"\r\n\r\n${mime}\r\n--b1\r\nContent-Disposition: form-data; name="to"\r\n\r\nsales@us.test\r\n--b1--\r\n`;
  const response = await post('/webhooks/sendgrid/inbound', raw, {
    'content-type': 'multipart/form-data; boundary=b1',
    ...kit.fakes.sendgrid.sign(raw, kit.seconds()),
  });
  expect(response.statusCode).toBe(200);
  expect(response.json()).toMatchObject({ received: 1, recorded: 1 });
});

describe('an app without webhook keys', () => {
  let bare: FastifyInstance;
  beforeAll(async () => {
    const config = parseConfig({ LOG_LEVEL: 'silent' });
    const echo = async (scope: FastifyInstance) => {
      scope.post('/api/echo', async (request) => ({ echoed: request.body }));
    };
    bare = await buildApp({ db: kit.db, engine: kit.runtime.engine, plugins: [webhookRoutes({ config, db: kit.db, engine: kit.runtime.engine }), echo] });
  });
  afterAll(async () => bare?.close());

  test('each endpoint answers 503 naming the setting to configure', async () => {
    const expected: Record<string, string> = {
      '/webhooks/sendgrid': 'SENDGRID_WEBHOOK_PUBLIC_KEY',
      '/webhooks/sendgrid/inbound': 'SENDGRID_INBOUND_PUBLIC_KEY',
      '/webhooks/postmark': 'POSTMARK_WEBHOOK_USER',
      '/webhooks/postmark/inbound': 'POSTMARK_WEBHOOK_USER',
      '/webhooks/telnyx': 'TELNYX_PUBLIC_KEY',
    };
    for (const [url, setting] of Object.entries(expected)) {
      const response = await bare.inject({ method: 'POST', url, payload: '{}', headers: { 'content-type': 'application/json' } });
      expect(response.statusCode).toBe(503);
      expect(response.json().error).toMatchObject({ code: 'webhook_not_configured' });
      expect(response.json().error.message).toContain(setting);
    }
  });

  test('routes outside the webhook scope still get parsed JSON', async () => {
    const response = await bare.inject({ method: 'POST', url: '/api/echo', payload: { a: 1 } });
    expect(response.json()).toEqual({ echoed: { a: 1 } });
  });
});

describe('fuzz: no 5xx from any webhook endpoint', () => {
  const endpoints = ['/webhooks/sendgrid', '/webhooks/sendgrid/inbound', '/webhooks/postmark', '/webhooks/postmark/inbound', '/webhooks/telnyx'];
  const contentTypes = ['application/json', 'multipart/form-data; boundary=xYzZY', 'multipart/form-data', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'];

  /** Signed or with credentials, so random bodies get past the check and into the translators. */
  function authentic(url: string, raw: string | Buffer): Record<string, string> {
    const text = Buffer.isBuffer(raw) ? raw.toString('latin1') : raw;
    if (url.includes('postmark')) return kit.fakes.postmark.sign();
    if (Buffer.isBuffer(raw)) return {}; // the fakes sign strings; raw bytes exercise the 401 path
    return url.includes('telnyx') ? kit.fakes.telnyx.sign(text, kit.seconds()) : kit.fakes.sendgrid.sign(text, kit.seconds());
  }

  test('random bytes, random content types', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), fc.constantFrom(...contentTypes), fc.uint8Array({ maxLength: 512 }), async (url, type, bytes) => {
        const raw = Buffer.from(bytes);
        const response = await post(url, raw, { 'content-type': type, ...authentic(url, raw) });
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });

  test('random JSON, authentically signed', async () => {
    const shaped = fc.oneof(
      fc.json(),
      fc.array(fc.dictionary(fc.constantFrom('event', 'email', 'sg_event_id', 'sg_message_id', 'timestamp', 'execution_id', 'type', 'reason'), fc.jsonValue())).map((v) => JSON.stringify(v)),
      fc.record({ data: fc.record({ id: fc.string(), event_type: fc.constantFrom('call.hangup', 'call.machine.detection.ended', 'call.speak.ended', 'message.received', 'message.finalized'), payload: fc.dictionary(fc.constantFrom('client_state', 'call_control_id', 'result', 'from', 'to', 'text', 'autoresponse_type', 'hangup_cause', 'status'), fc.jsonValue()) }, { requiredKeys: [] }) }).map((v) => JSON.stringify(v)),
      fc.dictionary(fc.constantFrom('RecordType', 'MessageID', 'Recipient', 'Metadata', 'TypeCode', 'From', 'FromFull', 'Headers', 'ReceivedAt'), fc.jsonValue()).map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), shaped, async (url, raw) => {
        const response = await post(url, raw, authentic(url, raw));
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });

  test('random well-formed multipart, signed, to Inbound Parse', async () => {
    const field = fc.constantFrom('headers', 'from', 'to', 'subject', 'text', 'envelope', 'email', 'charsets', 'x');
    await fc.assert(
      fc.asyncProperty(fc.dictionary(field, fc.string({ maxLength: 80 })), async (fields) => {
        const parts = Object.entries(fields).map(([name, value]) => `--b0\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
        const raw = `${parts.join('')}--b0--\r\n`;
        const response = await post('/webhooks/sendgrid/inbound', raw, {
          'content-type': 'multipart/form-data; boundary=b0',
          ...kit.fakes.sendgrid.sign(raw, kit.seconds()),
        });
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });
});
