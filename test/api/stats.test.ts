/**
 * Sequence stats against a hand-counted fixture: four leads through an email, a day's wait, a branch on the
 * lead's first name and one of two follow-ups, then known events on the first email — exact
 * enrollment counts, rates, the branch's split, and null where a rate has nothing to divide by.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../src/core/events.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

const split = {
  name: 'Rates',
  ...OPEN_ALL_DAY,
  exitOn: [],
  steps: [
    { id: 'hello', type: 'email', subject: 'Hello', body: 'hi' },
    { id: 'pause', type: 'wait', duration: 'P1D' },
    { id: 'split', type: 'branch', when: { lead: { field: 'firstName', op: 'eq', value: 'Ann' } }, within: 'P1D', then: 'warm', else: 'cold' },
    { id: 'warm', type: 'email', subject: 'Warm', body: 'hi again', next: 'hold' },
    { id: 'cold', type: 'email', subject: 'Cold', body: 'still there?', next: 'hold' },
    { id: 'hold', type: 'wait', duration: 'P30D' },
  ],
};

describe.each(kinds)('sequence stats on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const ingest = (event: Partial<InboundEvent> & Pick<InboundEvent, 'type'>) =>
    kit.runtime.engine.ingest({ providerEventId: `test:${randomUUID()}`, provider: 'sendgrid', occurredAt: kit.clock.now(), data: {}, ...event });

  it('counts enrollments per step and for the sequence, with rates and the branch split', async () => {
    // Ann 0 opens twice, clicks and converts; Bob 1 replies; Ann 2 unsubscribes; Bob 3 bounces.
    const names = ['Ann', 'Bob', 'Ann', 'Bob'];
    const csv = ['email,first_name', ...names.map((name, i) => `rates-${kind}-${i}@acme.test,${name}`)].join('\n');
    const leadIds: string[] = (await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body.leadIds;
    const id = (await kit.call('POST', '/api/sequences', { body: split })).body.id;
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds } });
    await kit.runtime.engine.dispatcher.drain();

    const hello = await kit.db.query<{ id: string; leadId: string; enrollmentId: string }>(
      `select id, lead_id as "leadId", enrollment_id as "enrollmentId" from sequence_executions where sequence_id = $1 and step_id = 'hello'`,
      [id],
    );
    const sentTo = (i: number) => hello.find((h) => h.leadId === leadIds[i])!;
    const on = (i: number, type: InboundEvent['type'], extra: Partial<InboundEvent> = {}) => ingest({ type, executionId: sentTo(i).id, ...extra });
    for (const i of [0, 1, 2]) await on(i, 'email.delivered');
    await on(3, 'email.bounced');
    await on(0, 'email.opened');
    await on(0, 'email.opened'); // an open twice is one opened enrollment
    await on(1, 'email.opened');
    await on(0, 'email.clicked');
    await on(1, 'email.replied');
    await on(2, 'email.unsubscribed', { provider: 'touchpoint' });
    // A day on: the branch sends the Anns to `warm`; a day later it gives up on the Bobs (`cold`).
    for (const _ of [1, 2]) {
      kit.clock.advance(25 * 3_600_000);
      await kit.runtime.engine.dispatcher.drain();
    }
    const converted = await kit.call('PUT', `/api/sequences/enrollments/${sentTo(0).enrollmentId}`, { token: kit.tokens.operator, body: { action: 'convert' } });
    expect(converted.status).toBe(200);

    // Bob 1 books a meeting after his follow-up: credited to `cold`.
    await ingest({ type: 'meeting.booked', provider: 'calcom', address: { channel: 'email', value: `rates-${kind}-1@acme.test` } });

    const stats = await kit.call('GET', `/api/sequences/${id}/stats`, { token: kit.tokens.viewer });
    expect(stats.status).toBe(200);
    const step = (stepId: string) => stats.body.steps.find((s: { stepId: string }) => s.stepId === stepId);
    expect(step('hello')).toMatchObject({
      reached: 4, executed: 4, sent: 4, delivered: 3, opened: 2, clicked: 1, replied: 1, bounced: 1, optedOut: 1,
      converted: 0, meetingBooked: 0, failed: 0, skipped: 0, branch: null,
      rates: { delivery: 0.75, open: 2 / 3, click: 1 / 3, reply: 1 / 3, bounce: 0.25, optOut: 1 / 3, conversion: 0, meeting: 0 },
    });
    expect(step('pause')).toMatchObject({ reached: 4, sent: 0, branch: null });
    expect(step('split')).toMatchObject({ reached: 4, sent: 0, branch: { then: 2, else: 2 } });
    // Nothing sent from a branch, nothing delivered yet from the follow-ups: no rate, not NaN.
    expect(step('split').rates).toEqual({ delivery: null, open: null, click: null, reply: null, bounce: null, optOut: null, conversion: null, meeting: null });
    // Ann converted after her follow-up was sent: credited to that last message.
    expect(step('warm')).toMatchObject({ reached: 2, sent: 2, delivered: 0, converted: 1, rates: { delivery: 0, open: null, reply: null, conversion: 0.5 } });
    expect(step('cold')).toMatchObject({ reached: 2, sent: 2, converted: 0, meetingBooked: 1, rates: { meeting: 0.5 } });
    expect(step('hold')).toMatchObject({ reached: 0, branch: null });
    expect(stats.body.totals).toMatchObject({
      reached: 4, sent: 4, delivered: 3, opened: 2, clicked: 1, replied: 1, bounced: 1, optedOut: 1, converted: 1, meetingBooked: 1,
      rates: { delivery: 0.75, open: 2 / 3, reply: 1 / 3, bounce: 0.25, conversion: 0.25 },
    });
    expect(stats.body.enrollments).toMatchObject({ converted: 1 });
  });

  it('answers null rates, not NaN, for a sequence nobody is enrolled in', async () => {
    const id = (await kit.call('POST', '/api/sequences', { body: { ...split, name: 'Empty' } })).body.id;
    const stats = await kit.call('GET', `/api/sequences/${id}/stats`, { token: kit.tokens.viewer });
    expect(stats.status).toBe(200);
    expect(stats.body.totals).toMatchObject({ reached: 0, sent: 0, rates: { delivery: null, reply: null, bounce: null } });
    expect(stats.body.steps.map((s: { stepId: string }) => s.stepId)).toEqual(['hello', 'pause', 'split', 'warm', 'cold', 'hold']);
  });
});
