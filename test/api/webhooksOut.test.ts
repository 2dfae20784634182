/**
 * Outbound webhooks (docs/INTEGRATIONS.md, "Webhooks out") on both stores, against a real HTTP
 * receiver on 127.0.0.1 that verifies every post with the `standardwebhooks` package: every
 * catalogue event delivered and signed, each payload valid against its schema; a receiver
 * failing its first attempts acknowledges the event once, later; a lead's events in order; 410
 * disables the endpoint; replay, the test event, secret rotation; the endpoints API's
 * validation, roles and tenancy. The manual clock starts at the real time, so the receiver's
 * five-minute timestamp tolerance holds while the tests move it by seconds.
 */
import { loadKeyRing } from '../../src/secrets/load.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { catalogueEntryOf, WEBHOOK_EVENTS, webhookPayloadSchema } from '../../src/core/webhookCatalogue.ts';
import { parseConfig, webhookSettingsOf } from '../../src/config.ts';
import { WebhookDeliverer } from '../../src/outbound/deliverer.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { CALCOM_SECRET, calcomBooking, signCalcom } from '../helpers/meetingSigners.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

const everyChannel = {
  name: 'Every channel',
  ...OPEN_ALL_DAY,
  exitOn: ['converted'],
  steps: [
    { id: 'intro', type: 'email', subject: 'Hello', body: 'Hi there' },
    { id: 'text', type: 'sms', text: 'Hi by text' },
    { id: 'call', type: 'voice', script: 'Hello', voicemail: 'Call me' },
    { id: 'todo', type: 'task', title: 'Connect on LinkedIn', outcomes: ['done', 'skipped'] },
    { id: 'done', type: 'end' },
  ],
};
const waiting = {
  name: 'Slow',
  ...OPEN_ALL_DAY,
  exitOn: ['converted'],
  steps: [
    { id: 'pause', type: 'wait', duration: 'P7D' },
    { id: 'end', type: 'end' },
  ],
};

describe.each(kinds)('outbound webhooks on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let receiver: Receiver;
  let seq = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db, {
      env: { WEBHOOKS_ALLOW_PRIVATE: 'true', CALCOM_WEBHOOK_SECRET: CALCOM_SECRET },
      start: new Date().toISOString(),
    });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });
  afterEach(async () => {
    // Each test has its own endpoint; turn the last one's off so it does not collect later events.
    await kit.db.query('update webhook_endpoints set enabled = false');
    await receiver?.close();
  });

  async function endpoint(events: string[] = ['*']) {
    receiver = await startReceiver();
    const created = await kit.call('POST', '/api/webhook-endpoints', { body: { url: receiver.url, events, description: 'test' } });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    receiver.secrets = [created.body.secret];
    return created.body as { id: string; secret: string };
  }

  async function sequence(definition: object) {
    const created = await kit.call('POST', '/api/sequences', { body: { ...definition, name: `${(definition as { name: string }).name} ${++seq}` } });
    expect(created.status).toBe(201);
    await kit.call('PATCH', `/api/sequences/${created.body.id}`, { body: { status: 'active' } });
    return created.body.id as string;
  }

  async function lead(email: string) {
    const created = await kit.call('POST', '/api/leads', { body: { email, phone: `+1415555${String(1000 + seq++).slice(-4)}`, firstName: 'Ana' } });
    expect(created.status).toBe(201);
    return created.body.id as string;
  }

  async function enroll(sequenceId: string, leadId: string) {
    const enrolled = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds: [leadId] } });
    return enrolled.body.enrolled[0].enrollmentId as string;
  }

  const deliver = () => kit.runtime.deliverer.drain();

  async function customEvent(leadId: string, name: string, properties: object = {}) {
    const answer = await kit.call('POST', '/api/events', { body: { leadId, type: `custom.${name}`, properties } });
    expect(answer.status).toBe(201);
  }

  it('delivers every catalogue event, signed, each payload valid against its schema', async () => {
    await endpoint();
    const sequenceId = await sequence(everyChannel);
    const slowId = await sequence(waiting);
    const leadA = await lead('every@acme.test');
    const leadB = await lead('slow@acme.test');
    const a = await enroll(sequenceId, leadA);
    const b = await enroll(slowId, leadB);
    await kit.runtime.engine.dispatcher.drain();
    await kit.runtime.engine.dispatcher.drain();
    const execs = await kit.db.query<{ id: string; step: string }>(
      'select id, step_id as step from sequence_executions where enrollment_id = $1', [a]);
    const execOf = (step: string) => execs.find((x) => x.step === step)!.id;
    expect((await kit.call('POST', `/api/sequences/enrollments/${a}/outcomes`, { body: { outcome: 'done' } })).status).toBe(200);
    await kit.runtime.engine.dispatcher.drain();

    const now = kit.clock.now();
    let n = 0;
    for (const [type, step] of [
      ['email.delivered', 'intro'], ['email.opened', 'intro'], ['email.clicked', 'intro'], ['email.auto_replied', 'intro'], ['email.replied', 'intro'], ['email.bounced', 'intro'],
      ['sms.delivered', 'text'], ['sms.replied', 'text'], ['sms.opted_out', 'text'],
    ] as const) {
      await kit.runtime.engine.ingest({ type, providerEventId: `evt-${type}-${n++}`, provider: 'mock', occurredAt: now, executionId: execOf(step), data: {} });
    }
    await customEvent(leadA, 'demo_booked', { plan: 'pro' });
    for (const trigger of ['BOOKING_CREATED', 'BOOKING_CANCELLED']) {
      const raw = calcomBooking(trigger, 'booking-1', 'every@acme.test', now.toISOString());
      const answer = await kit.call('POST', '/webhooks/calcom', { token: null, body: raw, headers: { 'content-type': 'application/json', ...signCalcom(raw) } });
      expect(answer.status).toBe(200);
    }
    expect((await kit.call('PUT', `/api/sequences/enrollments/${b}`, { body: { action: 'pause' } })).status).toBe(200);
    expect((await kit.call('PUT', `/api/sequences/enrollments/${b}`, { body: { action: 'resume' } })).status).toBe(200);
    expect((await kit.call('POST', `/api/leads/${leadB}/convert`)).status).toBe(200);

    await deliver();
    const acked = receiver.acknowledged();
    expect(receiver.posts.every((p) => p.verifiedWith === 0)).toBe(true);
    const types = new Set(acked.map((p) => p.payload.type));
    const expected = WEBHOOK_EVENTS.filter((e) => e !== 'webhook.test' && e !== 'custom.*');
    expect([...expected].filter((e) => !types.has(e))).toEqual([]);
    expect(types.has('custom.demo_booked')).toBe(true);
    for (const post of acked) {
      const entry = catalogueEntryOf(post.payload.type)!;
      const parsed = webhookPayloadSchema(entry).safeParse(post.payload);
      expect(parsed.success, `${post.payload.type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
    const call = acked.find((p) => p.payload.type === 'call.completed')!;
    expect(call.payload.data.outcome).toBe('answered');
    const started = acked.find((p) => p.payload.type === 'enrollment.started' && p.payload.data.enrollmentId === a)!;
    expect(started.payload.data.lead.email).toBe('every@acme.test');
    expect(acked.find((p) => p.payload.type === 'task.created')!.payload.data.title).toBe('Connect on LinkedIn');
    expect(acked.find((p) => p.payload.type === 'custom.demo_booked')!.payload.data.properties).toEqual({ plan: 'pro' });
    const exited = acked.find((p) => p.payload.type === 'enrollment.exited')!;
    expect(exited.payload.data).toMatchObject({ enrollmentId: b, status: 'exited', reason: 'converted' });
    // One post per delivery: nothing twice.
    expect(new Set(acked.map((p) => p.id)).size).toBe(acked.length);
  });

  it('retries a failing receiver with backoff; the event is acknowledged once, later', async () => {
    const { id } = await endpoint(['custom.*']);
    const leadId = await lead('retry@acme.test');
    let failures = 2;
    receiver.respond = () => (failures-- > 0 ? 503 : 200);
    await customEvent(leadId, 'retry_me');
    expect(await deliver()).toBe(1);
    expect(receiver.acknowledged()).toHaveLength(0);
    let log = await kit.call('GET', `/api/webhook-endpoints/${id}/deliveries`);
    expect(log.body.items[0]).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503, lastResponse: 'status 503' });
    const next = new Date(log.body.items[0].nextAttemptAt).getTime() - kit.clock.now().getTime();
    expect(next).toBeGreaterThanOrEqual(4000); // 5 s ± 20 %
    expect(next).toBeLessThanOrEqual(6000);
    expect(await deliver()).toBe(0); // not yet due
    kit.clock.advance(6_001);
    expect(await deliver()).toBe(1);
    kit.clock.advance(24_001);
    expect(await deliver()).toBe(1);
    expect(receiver.posts.map((p) => p.status)).toEqual([503, 503, 200]);
    expect(new Set(receiver.posts.map((p) => p.id)).size).toBe(1); // one webhook-id across retries
    expect(receiver.acknowledged()).toHaveLength(1);
    kit.clock.advance(60_000);
    expect(await deliver()).toBe(0);
    log = await kit.call('GET', `/api/webhook-endpoints/${id}/deliveries`);
    expect(log.body.items[0]).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, nextAttemptAt: null });
    const health = await kit.call('GET', `/api/webhook-endpoints/${id}`);
    expect(health.body).toMatchObject({ enabled: true, failingSince: null, deliveries: { delivered: 1, pending: 0, failed: 0 } });
  });

  it("keeps a lead's events in order while an earlier one is retried; other leads go on", async () => {
    await endpoint(['custom.*']);
    const first = await lead('order-1@acme.test');
    const second = await lead('order-2@acme.test');
    let failed = false;
    receiver.respond = (post) => {
      if (post.payload.type === 'custom.one' && !failed) {
        failed = true;
        return { status: 429, headers: { 'retry-after': '30' } };
      }
      return 200;
    };
    await customEvent(first, 'one');
    await customEvent(first, 'two');
    await customEvent(second, 'other');
    await deliver();
    expect(receiver.acknowledged().map((p) => p.payload.type)).toEqual(['custom.other']);
    kit.clock.advance(10_000); // past the backoff, not past Retry-After
    await deliver();
    expect(receiver.acknowledged().map((p) => p.payload.type)).toEqual(['custom.other']);
    kit.clock.advance(21_000);
    await deliver();
    expect(receiver.acknowledged().map((p) => p.payload.type)).toEqual(['custom.other', 'custom.one', 'custom.two']);
  });

  it('stops on 410 and disables the endpoint; later events are not queued for it', async () => {
    const { id } = await endpoint(['custom.*']);
    const leadId = await lead('gone@acme.test');
    receiver.respond = () => 410;
    await customEvent(leadId, 'gone');
    await deliver();
    const state = await kit.call('GET', `/api/webhook-endpoints/${id}`);
    expect(state.body).toMatchObject({ enabled: false, disabledReason: 'gone', deliveries: { failed: 1 } });
    await customEvent(leadId, 'later');
    kit.clock.advance(60_000);
    expect(await deliver()).toBe(0);
    expect(receiver.posts).toHaveLength(1);
    const enabled = await kit.call('PATCH', `/api/webhook-endpoints/${id}`, { body: { enabled: true } });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null });
  });

  it('replays a delivery with the same webhook-id, and sends a test event', async () => {
    const { id } = await endpoint(['custom.*']);
    const leadId = await lead('replay@acme.test');
    await customEvent(leadId, 'replayed');
    await deliver();
    const [original] = (await kit.call('GET', `/api/webhook-endpoints/${id}/deliveries`)).body.items;
    // The log says how long the receiver took: present, a number, never negative.
    expect(original).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });
    expect(typeof original.lastLatencyMs).toBe('number');
    expect(original.lastLatencyMs).toBeGreaterThanOrEqual(0);
    const replay = await kit.call('POST', `/api/webhook-endpoints/${id}/deliveries/${original.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ replayOf: original.id, messageId: original.messageId, status: 'pending' });
    const test = await kit.call('POST', `/api/webhook-endpoints/${id}/test`);
    expect(test.status).toBe(202);
    await deliver();
    // The replay and the test event go out in one round, at once: compare them in any order.
    expect(receiver.acknowledged().map((p) => [p.payload.type, p.id]).sort()).toEqual([
      ['custom.replayed', original.messageId],
      ['custom.replayed', original.messageId],
      ['webhook.test', test.body.messageId],
    ]);
    const replayed = (await kit.call('GET', `/api/webhook-endpoints/${id}/deliveries`)).body.items.find((d: { id: string }) => d.id === replay.body.id);
    expect(replayed).toMatchObject({ status: 'delivered', replayOf: original.id });
    expect(typeof replayed.lastLatencyMs).toBe('number');
    expect(replayed.lastLatencyMs).toBeGreaterThanOrEqual(0);
    const testPost = receiver.posts.find((p) => p.payload.type === 'webhook.test')!;
    expect(webhookPayloadSchema('webhook.test').safeParse(testPost.payload).success).toBe(true);
    const missing = await kit.call('POST', `/api/webhook-endpoints/${id}/deliveries/00000000-0000-4000-8000-000000000000/replay`);
    expect(missing.status).toBe(404);
  });

  it('signs with the old secret beside the new one for a day after a rotation', async () => {
    const { id, secret: old } = await endpoint(['custom.*']);
    const leadId = await lead('rotate@acme.test');
    const rotated = await kit.call('POST', `/api/webhook-endpoints/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(old);
    expect(new Date(rotated.body.previousSecretExpiresAt).getTime() - kit.clock.now().getTime()).toBe(24 * 3600_000);
    await customEvent(leadId, 'rotated');
    receiver.secrets = [rotated.body.secret];
    await deliver();
    receiver.secrets = [old];
    await kit.call('POST', `/api/webhook-endpoints/${id}/deliveries/${(await kit.call('GET', `/api/webhook-endpoints/${id}/deliveries`)).body.items[0].id}/replay`);
    await deliver();
    expect(receiver.posts.map((p) => p.verifiedWith)).toEqual([0, 0]);
    expect(receiver.posts[0]!.signature.split(' ')).toHaveLength(2);
    // A secret is never shown again.
    expect((await kit.call('GET', `/api/webhook-endpoints/${id}`)).body.secret).toBeUndefined();
  });

  it('validates endpoints, and keeps them to their workspace and to admins', async () => {
    const bad = async (body: object) => (await kit.call('POST', '/api/webhook-endpoints', { body })).status;
    expect(await bad({ url: 'ftp://example.com/x', events: ['*'] })).toBe(400);
    expect(await bad({ url: 'https://user:pw@example.com/x', events: ['*'] })).toBe(400);
    expect(await bad({ url: 'https://example.com/x', events: ['email.sneezed'] })).toBe(400);
    expect(await bad({ url: 'https://example.com/x', events: [] })).toBe(400);
    const ok = await kit.call('POST', '/api/webhook-endpoints', { body: { url: 'https://example.com/x', events: ['email.*', 'custom.trial_started', 'lead.converted'] } });
    expect(ok.status).toBe(201);
    expect((await kit.call('POST', '/api/webhook-endpoints', { token: kit.tokens.operator, body: { url: 'https://example.com/x', events: ['*'] } })).status).toBe(403);
    expect((await kit.call('GET', '/api/webhook-endpoints', { token: kit.tokens.viewer })).status).toBe(403);
    expect((await kit.call('GET', '/api/webhook-endpoints', { token: kit.tokens.operator })).status).toBe(200);
    expect((await kit.call('GET', `/api/webhook-endpoints/${ok.body.id}`, { token: kit.other.admin })).status).toBe(404);
    expect((await kit.call('PATCH', `/api/webhook-endpoints/${ok.body.id}`, { token: kit.other.admin, body: { enabled: false } })).status).toBe(404);
    expect((await kit.call('GET', '/api/webhook-endpoints', { token: kit.other.admin })).body.items).toEqual([]);
    expect((await kit.call('PATCH', `/api/webhook-endpoints/${ok.body.id}`, { body: {} })).status).toBe(400);
    const off = await kit.call('PATCH', `/api/webhook-endpoints/${ok.body.id}`, { body: { enabled: false } });
    expect(off.body).toMatchObject({ enabled: false, disabledReason: 'operator' });
    expect((await kit.call('POST', `/api/webhook-endpoints/${ok.body.id}/test`)).status).toBe(409);
    expect((await kit.call('DELETE', `/api/webhook-endpoints/${ok.body.id}`)).status).toBe(204);
    expect((await kit.call('GET', `/api/webhook-endpoints/${ok.body.id}`)).status).toBe(404);
  });

  it('disables an endpoint that failed for a whole day, and fails its deliveries past the window', async () => {
    // A receiver that never answers, judged by the real policy on the manual clock.
    const { id } = await endpoint(['custom.*']);
    const posts: string[] = [];
    const observed: string[] = [];
    const deliverer = new WebhookDeliverer({
      observer: {
        webhookDelivery: (result) => observed.push(result),
        webhookEndpointDisabled: (reason) => observed.push(`disabled:${reason}`),
      },
      db: kit.db,
      clock: kit.clock,
      settings: { ...webhookSettingsOf(parseConfig({})), batchSize: 10 },
      // Signing secrets are sealed at rest: the deliverer opens them with the server's key.
      openSecret: (sealed, context) => loadKeyRing(kit.runtime.config)!.open(sealed, context),
      post: async (options) => {
        posts.push(options.url);
        return { kind: 'unreachable', error: 'no answer within 10000 ms', refused: false, latencyMs: 10_000 };
      },
    });
    const leadId = await lead('down@acme.test');
    await customEvent(leadId, 'unanswered');
    for (let hour = 0; hour <= 25; hour++) {
      await deliverer.drain();
      kit.clock.advance(3600_000);
    }
    const state = await kit.call('GET', `/api/webhook-endpoints/${id}`);
    expect(state.body).toMatchObject({ enabled: false, disabledReason: 'failing' });
    const [row] = (await kit.call('GET', `/api/webhook-endpoints/${id}/deliveries`)).body.items;
    expect(row.lastError).toMatch(/no answer/);
    expect(posts.length).toBeGreaterThan(8);
    // What the metrics count (touchpoint_webhook_deliveries_total, …_endpoints_disabled_total).
    expect(observed.filter((o) => o === 'retry' || o === 'failed')).toHaveLength(posts.length);
    expect(observed.filter((o) => o.startsWith('disabled:'))).toEqual(['disabled:failing']);
    // Turned back on past the window: one last attempt, then failed.
    await kit.call('PATCH', `/api/webhook-endpoints/${id}`, { body: { enabled: true } });
    await deliverer.drain();
    const [after] = (await kit.call('GET', `/api/webhook-endpoints/${id}/deliveries`)).body.items;
    expect(after.status).toBe('failed');
  });

  it('queues nothing when no endpoint listens', async () => {
    const leadId = await lead('quiet@acme.test');
    const before = await kit.db.query<{ n: number }>('select count(*)::int as n from webhook_deliveries');
    await customEvent(leadId, 'unheard');
    const after = await kit.db.query<{ n: number }>('select count(*)::int as n from webhook_deliveries');
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('puts the catalogue in the OpenAPI document as webhooks', async () => {
    const doc = await kit.call('GET', '/api/openapi.json', { token: null });
    expect(Object.keys(doc.body.webhooks)).toEqual(WEBHOOK_EVENTS);
    expect(doc.body.webhooks['call.completed'].post.requestBody.content['application/json'].schema.properties.data.properties.outcome.enum).toEqual([
      'answered', 'voicemail', 'no_answer', 'unknown',
    ]);
  });
});

describe('private addresses (WEBHOOKS_ALLOW_PRIVATE off)', () => {
  let database: TestDatabase;
  let kit: ApiKit;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    kit = await createApiKit(database.db, { start: new Date().toISOString() });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it.each(['http://127.0.0.1:9/x', 'http://localhost/x', 'http://[::1]/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'http://[::ffff:192.168.0.1]/x', 'http://0.0.0.0/'])(
    'refuses %s at creation',
    async (url) => {
      const answer = await kit.call('POST', '/api/webhook-endpoints', { body: { url, events: ['*'] } });
      expect(answer.status).toBe(422);
      expect(answer.body.error.code).toBe('private_address');
    },
  );

  it('refuses at delivery time a host that turned private after creation (DNS rebinding)', async () => {
    const receiver = await startReceiver();
    try {
      // Written past the API's check, as a name that resolved publicly then re-resolved would be.
      const [workspace] = await kit.db.query<{ id: string }>(
        'select workspace_id as id from api_tokens order by created_at limit 1');
      await kit.db.query(
        `insert into webhook_endpoints (workspace_id, url, events, secret) values ($1, $2, '{*}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')`,
        [workspace!.id, receiver.url],
      );
      const created = await kit.call('POST', '/api/leads', { body: { email: 'rebind@acme.test' } });
      await kit.call('POST', '/api/events', { body: { leadId: created.body.id, type: 'custom.rebound' } });
      expect(await kit.runtime.deliverer.drain()).toBeGreaterThan(0);
      expect(receiver.posts).toHaveLength(0);
      const [row] = await kit.db.query<{ status: string; last_error: string }>('select status, last_error from webhook_deliveries');
      expect(row).toMatchObject({ status: 'pending' });
      expect(row!.last_error).toMatch(/private, loopback or reserved/);
    } finally {
      await receiver.close();
    }
  });
});
