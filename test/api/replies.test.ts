/**
 * The replies inbox: every reply of the workspace newest first, with the message it answers,
 * the lead, sequence and step, and its class; snoozing hides one until a time. Replies come
 * from the demo data's simulated ones (the mock adapter's, through the engine's ingest). On both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

describe.each(kinds)('the replies inbox on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db, { env: { MOCK_REPLY_DELAY_SECONDS: '0' } });
    expect((await kit.call('POST', '/api/demo')).status).toBe(200);
    await kit.runtime.engine.dispatcher.drain();
    await waitFor(async () => (await kit.call('GET', '/api/replies')).body.items.length === 3, 'three simulated replies');
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('lists each reply with its thread, lead, sequence, step and class, newest first', async () => {
    const inbox = await kit.call('GET', '/api/replies', { token: kit.tokens.viewer });
    expect(inbox.status).toBe(200);
    const items = inbox.body.items as Array<{ id: string; receivedAt: string; lead: { firstName: string } }>;
    const times = items.map((i) => i.receivedAt);
    expect([...times].sort().reverse()).toEqual(times);
    const ada = inbox.body.items.find((i: { lead: { firstName: string } }) => i.lead.firstName === 'Ada');
    expect(ada).toMatchObject({
      type: 'email.replied',
      channel: 'email',
      subject: 'Re: Quick question, Ada',
      text: expect.stringContaining('Thursday at 10'),
      class: expect.any(String),
      classSource: 'rules',
      lead: { firstName: 'Ada', lastName: 'Lovelace', status: 'replied', company: 'Analytical Engines' },
      sequence: { name: 'Demo · Fast follow-up' },
      enrollment: { status: 'exited' },
      stepId: 'intro',
      answered: { subject: 'Quick question, Ada', text: expect.stringContaining('Hi Ada'), sentAt: expect.any(String) },
      snoozedUntil: null,
    });
    expect((await kit.call('GET', '/api/replies', { token: kit.other.admin })).body.items).toEqual([]);
    const paged = await kit.call('GET', '/api/replies?limit=2');
    expect(paged.body.items).toHaveLength(2);
    const rest = await kit.call('GET', `/api/replies?limit=2&cursor=${paged.body.nextCursor}`);
    expect(rest.body.items.map((i: { id: string }) => i.id)).toEqual([items[2]!.id]);
    expect((await kit.call('GET', '/api/replies?cursor=nonsense')).status).toBe(400);
  });

  it('snoozes a reply until a time, shows it again after, and refuses what it should', async () => {
    const [first] = (await kit.call('GET', '/api/replies')).body.items as Array<{ id: string }>;
    const until = new Date(kit.clock.now().getTime() + 3_600_000).toISOString();
    expect((await kit.call('PUT', `/api/replies/${first!.id}/snooze`, { token: kit.tokens.viewer, body: { until } })).status).toBe(403);
    expect((await kit.call('PUT', `/api/replies/${first!.id}/snooze`, { token: kit.other.operator, body: { until } })).status).toBe(404);
    const past = await kit.call('PUT', `/api/replies/${first!.id}/snooze`, { token: kit.tokens.operator, body: { until: '2020-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    const snoozed = await kit.call('PUT', `/api/replies/${first!.id}/snooze`, { token: kit.tokens.operator, body: { until } });
    expect(snoozed.body).toEqual({ eventId: first!.id, snoozedUntil: until });
    expect((await kit.call('GET', '/api/replies')).body.items.map((i: { id: string }) => i.id)).not.toContain(first!.id);
    expect((await kit.call('GET', '/api/replies?snoozed=only')).body.items).toMatchObject([{ id: first!.id, snoozedUntil: until }]);
    kit.clock.advance(3_600_001);
    expect((await kit.call('GET', '/api/replies')).body.items.map((i: { id: string }) => i.id)).toContain(first!.id);
    const again = new Date(kit.clock.now().getTime() + 60_000).toISOString();
    await kit.call('PUT', `/api/replies/${first!.id}/snooze`, { token: kit.tokens.operator, body: { until: again } });
    await kit.call('PUT', `/api/replies/${first!.id}/snooze`, { token: kit.tokens.operator, body: { until: null } });
    expect((await kit.call('GET', '/api/replies')).body.items).toHaveLength(3);
  });
});
