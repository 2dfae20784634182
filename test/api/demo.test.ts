/**
 * Demo data (issue 20): seeded into the caller's workspace, idempotently, with leads in zones
 * where it is working hours now, so that within the first minute a newcomer sees a send, a
 * simulated reply (the mock adapter's, through the same ingest as a provider webhook) and a task.
 * On both stores; the engine's clock is a manual one, advanced by at most 60 seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { demoLeads, zonesInWorkingHours } from '../../src/core/demo.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

describe('demo zones', () => {
  it('always finds a zone where it is between 09:00 and 15:59, every hour of a week', () => {
    for (let hour = 0; hour < 7 * 24; hour += 1) {
      const at = new Date(Date.UTC(2026, 2, 2, hour, 30));
      const zones = zonesInWorkingHours(at);
      expect(zones.length, at.toISOString()).toBeGreaterThan(0);
      for (const zone of zones) expect(DateTime.fromJSDate(at, { zone }).hour).toBeGreaterThanOrEqual(9);
      for (const lead of demoLeads(at)) expect(zones).toContain(lead.timezone);
    }
  });
});

describe.each(kinds)('demo data on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db, { env: { MOCK_REPLY_DELAY_SECONDS: '0' } });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('shows a send, a reply and a task within the first minute, and seeding twice adds nothing', async () => {
    const start = kit.clock.now().getTime();
    expect((await kit.call('GET', '/api/demo')).body).toMatchObject({ present: false, leads: 0, sequences: 0, mockDelivery: true });
    expect((await kit.call('POST', '/api/demo', { token: kit.tokens.operator })).status).toBe(403);

    const seeded = await kit.call('POST', '/api/demo');
    expect(seeded.status).toBe(200);
    expect(seeded.body).toMatchObject({ leadsCreated: 8, leadsKept: 0, enrolled: 8 });
    expect(seeded.body.sequences.map((s: { created: boolean }) => s.created)).toEqual([true, true]);

    await kit.runtime.engine.dispatcher.drain();
    const sends = kit.runtime.mock!.sends;
    expect(sends.filter((s) => s.channel === 'email')).toHaveLength(6);
    expect(sends.filter((s) => s.channel === 'voice')).toHaveLength(2);

    // The simulated replies arrive on their own, after the sends (a poll, not a sleep).
    const leads = (await kit.call('GET', '/api/leads?limit=50')).body.items as Array<{ id: string; email: string; status: string }>;
    const ada = leads.find((l) => l.email.startsWith('ada.'))!;
    const reply = await waitFor(async () => {
      const timeline = await kit.call('GET', `/api/leads/${ada.id}/timeline?kind=event`);
      return timeline.body.items.find((i: { data: { type: string } }) => i.data.type === 'email.replied');
    }, 'the simulated reply on the timeline');
    expect(reply.data.details ?? reply.data).toBeTruthy();
    await waitFor(async () => (await kit.call('GET', `/api/leads/${ada.id}`)).body.status === 'replied', 'Ada replied');

    kit.clock.advance(21_000);
    await kit.runtime.engine.dispatcher.drain();
    const tasks = await kit.call('GET', '/api/tasks');
    const titles = tasks.body.items.map((t: { currentStep: { title?: string } }) => t.currentStep.title);
    expect(titles).toEqual(expect.arrayContaining(['Call Grace at Compiler Works', 'Write up the call with Margaret']));
    expect(titles.some((t: string) => t.includes('Ada'))).toBe(false); // she replied: her sequence ended
    expect(kit.clock.now().getTime() - start).toBeLessThanOrEqual(60_000);

    const again = await kit.call('POST', '/api/demo');
    expect(again.body).toMatchObject({ leadsCreated: 0, leadsKept: 8, enrolled: 0 });
    expect(again.body.sequences.map((s: { created: boolean }) => s.created)).toEqual([false, false]);
    expect((await kit.call('GET', '/api/demo')).body).toMatchObject({ present: true, leads: 8, sequences: 2 });
    expect((await kit.call('GET', '/api/sequences')).body.items).toHaveLength(2);
  });

  it('removes exactly the demo data, and only for an admin of the workspace', async () => {
    const mine = await kit.call('POST', '/api/leads', { body: { email: 'real@customer.test', firstName: 'Real' } });
    expect(mine.status).toBe(201);
    expect((await kit.call('DELETE', '/api/demo', { token: kit.tokens.operator })).status).toBe(403);
    expect((await kit.call('DELETE', '/api/demo', { token: kit.other.admin })).body.removed).toEqual({ leads: 0, sequences: 0 });
    const removed = await kit.call('DELETE', '/api/demo');
    expect(removed.body.removed).toEqual({ leads: 8, sequences: 2 });
    expect((await kit.call('GET', '/api/demo')).body.present).toBe(false);
    const left = (await kit.call('GET', '/api/leads')).body.items;
    expect(left.map((l: { email: string }) => l.email)).toEqual(['real@customer.test']);
  });
});
