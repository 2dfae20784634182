/**
 * No webhook input ever produces a 5xx or takes the process down: every provider endpoint and the
 * unsubscribe page, on PGlite and on PostgreSQL, over real HTTP. Correctly signed bodies in the
 * providers' shapes carry junk in every field (ids that are almost uuids, wrong types, hostile
 * JSON) and must be recorded, ignored as unmatched or refused with a 4xx — a 5xx would make the
 * provider retry forever and lose what the batch held. Unsigned traffic must be a 4xx.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { OPEN, startLiveKit, type LiveKit } from '../live/liveKit.ts';
import { CALCOM_SECRET, CALENDLY_KEY, signCalcom, signCalendly } from '../helpers/meetingSigners.ts';
import { fuzzOptions, HOSTILE_JSON_TEXTS, headerSafe, hostileHeaders, hostileJsonText, nearMiss } from './adversarial.ts';

interface Ids {
  executionId: string;
  messageId: string;
  email: string;
  phone: string;
}

/** Any value as text: JSON for what is not a string (String() throws on `{"toString": 1}`). */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

/** Ids that match something, ids that almost look right, and junk of every type. */
function idValue(ids: Ids) {
  return fc.oneof(
    fc.constantFrom<unknown>(ids.executionId, ids.messageId, ids.email, ids.phone, '-'.repeat(36), 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', randomUUID()),
    fc.uuid(),
    nearMiss,
    fc.jsonValue(),
  );
}

function sendgridItems(ids: Ids) {
  const item = fc.record(
    {
      event: fc.oneof(fc.constantFrom('processed', 'delivered', 'open', 'click', 'bounce', 'dropped', 'spamreport', 'unsubscribe', 'group_unsubscribe', 'deferred'), fc.jsonValue()),
      email: fc.oneof(fc.constant(ids.email), fc.emailAddress(), nearMiss),
      timestamp: fc.oneof(fc.integer(), fc.double(), nearMiss, fc.jsonValue()),
      sg_event_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 30 }), fc.jsonValue()),
      sg_message_id: fc.oneof(fc.constant(`${ids.messageId}.filterdrecv-1`), idValue(ids)),
      execution_id: idValue(ids),
      type: fc.constantFrom('bounce', 'blocked', 'x'),
      url: fc.oneof(fc.webUrl(), nearMiss),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(fc.array(item, { maxLength: 6 }).map((items) => JSON.stringify(items)), hostileJsonText);
}

function postmarkEvents(ids: Ids) {
  return fc
    .record(
      {
        RecordType: fc.oneof(fc.constantFrom('Delivery', 'Open', 'Click', 'Bounce', 'SpamComplaint', 'SubscriptionChange'), fc.jsonValue()),
        MessageID: idValue(ids),
        ID: fc.oneof(fc.integer(), idValue(ids)),
        TypeCode: fc.oneof(fc.constantFrom(1, 16, 512, 4096, 100000), fc.jsonValue()),
        Recipient: fc.oneof(fc.constant(ids.email), nearMiss),
        Email: fc.oneof(fc.constant(ids.email), nearMiss),
        Metadata: fc.oneof(fc.record({ execution_id: idValue(ids) }), fc.jsonValue()),
        ReceivedAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), nearMiss),
        DeliveredAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), nearMiss),
        SuppressSending: fc.jsonValue(),
        SuppressionReason: fc.oneof(fc.constantFrom('HardBounce', 'SpamComplaint', 'ManualSuppression'), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    .map((body) => JSON.stringify(body));
}

function postmarkInbound(ids: Ids) {
  return fc
    .record(
      {
        From: fc.oneof(fc.constant(ids.email), fc.emailAddress(), nearMiss),
        FromFull: fc.oneof(fc.record({ Email: fc.oneof(fc.constant(ids.email), nearMiss) }), fc.jsonValue()),
        To: fc.oneof(fc.emailAddress(), nearMiss),
        Subject: fc.oneof(fc.string(), nearMiss),
        MessageID: idValue(ids),
        TextBody: fc.oneof(fc.string(), nearMiss),
        Date: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()), nearMiss),
        Headers: fc.oneof(
          fc.array(fc.record({ Name: fc.constantFrom('In-Reply-To', 'References', 'Auto-Submitted', 'Received-SPF', 'Authentication-Results', 'X-Spam-Status', 'x'), Value: fc.oneof(idValue(ids).map(asText), fc.string()) })),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    )
    .map((body) => JSON.stringify(body));
}

function telnyxBodies(ids: Ids) {
  const clientState = idValue(ids).map((id) => Buffer.from(JSON.stringify({ executionId: id })).toString('base64'));
  const payload = fc.record(
    {
      id: idValue(ids),
      to: fc.oneof(fc.constant([{ phone_number: ids.phone, status: 'delivered' }]), fc.jsonValue()),
      from: fc.oneof(fc.constant({ phone_number: ids.phone }), fc.jsonValue()),
      text: fc.oneof(fc.constantFrom('STOP', 'start', 'HELP', 'yes please'), nearMiss),
      client_state: fc.oneof(clientState, nearMiss, fc.jsonValue()),
      call_control_id: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue()),
      result: fc.oneof(fc.constantFrom('human', 'machine', 'not_sure'), fc.jsonValue()),
      hangup_cause: fc.oneof(fc.constantFrom('normal_clearing', 'timeout', 'busy'), fc.jsonValue()),
      autoresponse_type: fc.oneof(fc.constantFrom('STOP', 'START', 'HELP'), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );
  const event = fc.record({
    data: fc.record(
      {
        id: fc.oneof(fc.uuid(), fc.jsonValue()),
        event_type: fc.oneof(
          fc.constantFrom('message.sent', 'message.finalized', 'message.received', 'call.initiated', 'call.answered', 'call.machine.detection.ended', 'call.hangup', 'call.speak.ended'),
          fc.jsonValue(),
        ),
        occurred_at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), nearMiss),
        payload: fc.oneof(payload, fc.jsonValue()),
      },
      { requiredKeys: [] },
    ),
  });
  return fc.oneof({ weight: 4, arbitrary: event.map((e) => JSON.stringify(e)) }, { weight: 1, arbitrary: hostileJsonText });
}

const isoOrJunk = fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), nearMiss, fc.jsonValue());

/** Cal.com booking triggers with the lead's email, near misses and junk in every field. */
function calcomBodies(ids: Ids) {
  const attendee = fc.record({ email: fc.oneof(fc.constant(ids.email), fc.emailAddress(), nearMiss, fc.jsonValue()), name: fc.jsonValue() }, { requiredKeys: [] });
  const body = fc.record(
    {
      triggerEvent: fc.oneof(fc.constantFrom('BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED', 'MEETING_ENDED', 'PING'), fc.jsonValue()),
      createdAt: isoOrJunk,
      payload: fc.oneof(
        fc.record(
          {
            uid: fc.oneof(fc.uuid(), nearMiss, fc.jsonValue()),
            bookingId: fc.oneof(fc.integer(), fc.jsonValue()),
            title: fc.jsonValue(),
            startTime: isoOrJunk,
            endTime: isoOrJunk,
            organizer: fc.oneof(fc.record({ email: fc.oneof(fc.constant(ids.email), nearMiss) }), fc.jsonValue()),
            attendees: fc.oneof(fc.array(attendee, { maxLength: 4 }), fc.jsonValue()),
            cancellationReason: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: [] },
  );
  return fc.oneof({ weight: 4, arbitrary: body.map((b) => JSON.stringify(b)) }, { weight: 1, arbitrary: hostileJsonText });
}

/** Calendly invitee.created / invitee.canceled with junk in every field. */
function calendlyBodies(ids: Ids) {
  const body = fc.record(
    {
      event: fc.oneof(fc.constantFrom('invitee.created', 'invitee.canceled', 'invitee_no_show.created'), fc.jsonValue()),
      created_at: isoOrJunk,
      payload: fc.oneof(
        fc.record(
          {
            uri: fc.oneof(fc.webUrl(), nearMiss, fc.jsonValue()),
            email: fc.oneof(fc.constant(ids.email), fc.emailAddress(), nearMiss, fc.jsonValue()),
            name: fc.jsonValue(),
            rescheduled: fc.jsonValue(),
            scheduled_event: fc.oneof(fc.record({ name: fc.jsonValue(), start_time: isoOrJunk, end_time: isoOrJunk }, { requiredKeys: [] }), fc.jsonValue()),
            cancellation: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: [] },
  );
  return fc.oneof({ weight: 4, arbitrary: body.map((b) => JSON.stringify(b)) }, { weight: 1, arbitrary: hostileJsonText });
}

/** SendGrid Inbound Parse: multipart fields as the provider posts them, with junk values. */
function sendgridInbound(ids: Ids) {
  const value = fc.oneof(fc.string({ maxLength: 80 }), nearMiss.filter((s) => s.length < 200), idValue(ids).map(asText));
  return fc
    .record(
      {
        from: fc.oneof(fc.constant(ids.email), value),
        to: value,
        subject: value,
        text: value,
        headers: fc.oneof(fc.constant(`From: ${ids.email}\nIn-Reply-To: <${ids.messageId}@ismtpd0004p1lon1.sendgrid.net>\n`), value),
        SPF: fc.oneof(fc.constantFrom('pass', 'fail', 'softfail', 'none'), value),
        dkim: fc.oneof(fc.constantFrom('{@acme.test : pass}', '{@evil.test : fail}', 'none'), value),
        email: value,
        envelope: value,
      },
      { requiredKeys: [] },
    )
    .map((fields) => {
      const boundary = `xYzZY${Math.random().toString(16).slice(2)}`;
      const parts = Object.entries(fields).map(([name, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${v.replace(new RegExp(boundary, 'g'), '')}\r\n`);
      return { raw: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
    });
}

describe.each(await databaseKinds())('fuzz: every webhook on %s', (kind) => {
  let database: TestDatabase;
  let kit: LiveKit;
  let ids: Ids;
  let requests = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    // The unsigned half posts hundreds of bad requests from one address on purpose.
    kit = await startLiveKit({
      db: database.db,
      env: { WEBHOOK_AUTH_FAILURES_PER_MINUTE: '0', CALCOM_WEBHOOK_SECRET: CALCOM_SECRET, CALENDLY_WEBHOOK_SIGNING_KEY: CALENDLY_KEY },
    });
    const email = `fuzz-${randomUUID().slice(0, 8)}@acme.test`;
    const phone = '+14155550123';
    const leadId = await kit.addLead({ email, phone, firstName: 'Fuzz' });
    const sequenceId = await kit.addSequence({
      name: 'fuzz',
      ...OPEN,
      steps: [
        { id: 'hello', type: 'email', subject: 'Hi', body: 'Hello' },
        { id: 'text', type: 'sms', text: 'Hi' },
        { id: 'wait', type: 'wait', duration: 'P30D' },
      ],
    });
    const enrollmentId = await kit.enroll(sequenceId, leadId);
    await kit.drain();
    const [sent] = await kit.db.query<{ id: string; providerMessageId: string }>(
      `select id, provider_message_id as "providerMessageId" from sequence_executions where enrollment_id = $1 and step_id = 'hello'`,
      [enrollmentId],
    );
    expect(sent?.providerMessageId).toBeTruthy();
    ids = { executionId: sent!.id, messageId: sent!.providerMessageId, email, phone };
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  async function post(path: string, raw: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    requests += 1;
    const response = await fetch(`${kit.url}${path}`, { method: 'POST', headers, body: raw });
    return { status: response.status, body: await response.text() };
  }

  function expectNo5xx(path: string, raw: string, answer: { status: number; body: string }): void {
    if (answer.status >= 500) throw new Error(`${path} ${raw.slice(0, 300)} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  }

  const signedRoutes = () => [
    { path: '/webhooks/sendgrid', bodies: sendgridItems(ids).map((raw) => ({ raw, contentType: 'application/json' })), sign: (raw: string) => kit.fakes.sendgrid.sign(raw, kit.seconds()) },
    { path: '/webhooks/sendgrid/inbound', bodies: sendgridInbound(ids), sign: (raw: string) => kit.fakes.sendgrid.sign(raw, kit.seconds()) },
    { path: '/webhooks/postmark', bodies: postmarkEvents(ids).map((raw) => ({ raw, contentType: 'application/json' })), sign: () => kit.fakes.postmark.sign() },
    { path: '/webhooks/postmark/inbound', bodies: postmarkInbound(ids).map((raw) => ({ raw, contentType: 'application/json' })), sign: () => kit.fakes.postmark.sign() },
    { path: '/webhooks/telnyx', bodies: telnyxBodies(ids).map((raw) => ({ raw, contentType: 'application/json' })), sign: (raw: string) => kit.fakes.telnyx.sign(raw, kit.seconds()) },
    { path: '/webhooks/calcom', bodies: calcomBodies(ids).map((raw) => ({ raw, contentType: 'application/json' })), sign: (raw: string) => signCalcom(raw) },
    { path: '/webhooks/calendly', bodies: calendlyBodies(ids).map((raw) => ({ raw, contentType: 'application/json' })), sign: (raw: string) => signCalendly(raw, kit.seconds()) },
  ];

  it('signed bodies in the providers’ shapes, with junk in every field: never a 5xx', async () => {
    for (const route of signedRoutes()) {
      await fc.assert(
        fc.asyncProperty(route.bodies, async ({ raw, contentType }) => {
          expectNo5xx(route.path, raw, await post(route.path, raw, { 'content-type': contentType, ...route.sign(raw) }));
        }),
        fuzzOptions,
      );
      for (const raw of HOSTILE_JSON_TEXTS) {
        expectNo5xx(route.path, raw, await post(route.path, raw, { 'content-type': 'application/json', ...route.sign(raw) }));
      }
    }
  });

  it('unsigned or wrongly signed traffic: always a 4xx', async () => {
    for (const route of signedRoutes()) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(route.bodies.map((b) => b.raw), hostileJsonText), hostileHeaders, async (raw, headers) => {
          const sent = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, headerSafe(value ?? '')]).filter(([, value]) => value !== ''));
          const answer = await post(route.path, raw, sent);
          if (answer.status < 400 || answer.status >= 500) throw new Error(`${route.path} unsigned ${raw.slice(0, 200)} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
        }),
        fuzzOptions,
      );
    }
  });

  it('unsubscribe links with any token: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), nearMiss, fc.base64String({ maxLength: 200 })), fc.constantFrom('GET', 'POST'), async (token, method) => {
        requests += 1;
        const path = `/unsubscribe/${encodeURIComponent(token.replace(/\p{Cs}/gu, '')) || 'x'}`;
        const response = await fetch(`${kit.url}${path}`, { method, ...(method === 'POST' ? { body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) });
        await response.text();
        if (response.status >= 500) throw new Error(`${method} ${path.slice(0, 200)} answered ${response.status}`);
      }),
      fuzzOptions,
    );
  });

  it('is still up and still records a real event afterwards', async () => {
    expect((await fetch(`${kit.url}/readyz`)).status).toBe(200);
    const raw = JSON.stringify([{ event: 'open', email: ids.email, timestamp: kit.seconds(), sg_event_id: randomUUID(), sg_message_id: `${ids.messageId}.filterdrecv-1`, execution_id: ids.executionId }]);
    const answer = await post('/webhooks/sendgrid', raw, { 'content-type': 'application/json', ...kit.fakes.sendgrid.sign(raw, kit.seconds()) });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ received: 1, recorded: 1 });
    expect(requests).toBeGreaterThan(100);
  });
});
