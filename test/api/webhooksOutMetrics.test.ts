/**
 * Outbound webhook metrics (docs/OPERATIONS.md, "Metrics"), scraped from `/metrics` after real
 * deliveries to real receivers on 127.0.0.1, on both stores: attempts by result (delivered,
 * retry, failed, gone), the post latency histogram, endpoints disabled, and the outbox backlog
 * read from the store (pending by endpoint state, the oldest pending delivery's age).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { metricValue } from '../distributed/harness.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();
const METRICS_TOKEN = 'metrics-token-0123456789';

describe.each(kinds)('outbound webhook metrics on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db, {
      env: { WEBHOOKS_ALLOW_PRIVATE: 'true', METRICS_TOKEN, METRICS_CACHE_SECONDS: '0' },
      start: new Date().toISOString(),
    });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await kit?.close();
    await database?.close();
  });

  async function endpoint(events: string[], respond: Receiver['respond']) {
    const receiver = await startReceiver();
    receivers.push(receiver);
    receiver.respond = respond;
    const created = await kit.call('POST', '/api/webhook-endpoints', { body: { url: receiver.url, events } });
    expect(created.status).toBe(201);
    receiver.secrets = [created.body.secret];
    return { id: created.body.id as string, receiver };
  }

  async function event(type: string) {
    const lead = await kit.call('POST', '/api/leads', { body: { email: `${type.replace('.', '-')}-${Math.random().toString(36).slice(2, 8)}@acme.test` } });
    expect((await kit.call('POST', '/api/events', { body: { leadId: lead.body.id, type } })).status).toBe(201);
  }

  async function scrape() {
    const answer = await kit.call('GET', '/metrics', { token: METRICS_TOKEN });
    expect(answer.status).toBe(200);
    const text = answer.body as string;
    const value = (series: string) => {
      const v = metricValue(text, series);
      return Number.isNaN(v) ? 0 : v;
    };
    return {
      result: (result: string) => value(`touchpoint_webhook_deliveries_total{result="${result}"}`),
      posts: value('touchpoint_webhook_delivery_duration_seconds_count'),
      postSeconds: value('touchpoint_webhook_delivery_duration_seconds_sum'),
      disabled: (reason: string) => value(`touchpoint_webhook_endpoints_disabled_total{reason="${reason}"}`),
      pending: (state: string) => metricValue(text, `touchpoint_webhook_deliveries_pending{endpoint="${state}"}`),
      oldest: metricValue(text, 'touchpoint_webhook_oldest_pending_seconds'),
    };
  }

  it('counts attempts by result and their latency, endpoints disabled, and reads the backlog', async () => {
    let flaky = 1;
    const a = await endpoint(['custom.*'], (post) => {
      if (post.payload.type === 'custom.flaky' && flaky-- > 0) return 503;
      if (post.payload.type === 'custom.refused') return 400;
      return 200;
    });
    await endpoint(['custom.bye'], () => 410);

    let m = await scrape();
    expect(m.pending('enabled')).toBe(0);
    expect(m.oldest).toBe(0);

    await event('custom.ok');
    await event('custom.flaky');
    await event('custom.bye'); // to both endpoints: 200 from one, 410 from the other
    kit.clock.advance(3_000);
    m = await scrape();
    expect(m.pending('enabled')).toBe(4);
    expect(m.oldest).toBeGreaterThanOrEqual(3);

    await kit.runtime.deliverer.drain();
    m = await scrape();
    expect([m.result('delivered'), m.result('retry'), m.result('failed'), m.result('gone')]).toEqual([2, 1, 0, 1]);
    expect(m.disabled('gone')).toBe(1);
    expect(m.posts).toBe(4);
    expect(m.postSeconds).toBeGreaterThan(0);
    expect(m.pending('enabled')).toBe(1); // the 503, waiting for its retry
    expect(m.oldest).toBeGreaterThanOrEqual(3);

    kit.clock.advance(6_001); // the retry is due (5 s ± 20 %)
    await kit.runtime.deliverer.drain();
    // Refused five times (400; 401 once the clock has moved past the receiver's tolerance): given up.
    await event('custom.refused');
    for (let attempt = 0; attempt < 5; attempt++) {
      await kit.runtime.deliverer.drain();
      kit.clock.advance(2 * 3600_000);
    }
    m = await scrape();
    expect([m.result('delivered'), m.result('retry'), m.result('failed'), m.result('gone')]).toEqual([3, 5, 1, 1]);
    expect(m.posts).toBe(10);
    expect(m.pending('enabled')).toBe(0);
    expect(m.oldest).toBe(0);

    // A disabled endpoint's deliveries are held: pending, but not the deliverers' backlog.
    expect((await kit.call('PATCH', `/api/webhook-endpoints/${a.id}`, { body: { enabled: false } })).status).toBe(200);
    await kit.call('PATCH', `/api/webhook-endpoints/${a.id}`, { body: { enabled: true } });
    await event('custom.held');
    await kit.call('PATCH', `/api/webhook-endpoints/${a.id}`, { body: { enabled: false } });
    m = await scrape();
    expect(m.pending('enabled')).toBe(0);
    expect(m.pending('disabled')).toBe(1);
    expect(a.receiver.acknowledged().map((p) => p.payload.type).sort()).toEqual(['custom.bye', 'custom.flaky', 'custom.ok']);
  });
});
