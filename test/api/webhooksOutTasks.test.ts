/**
 * `task.created` (docs/INTEGRATIONS.md, "task.created"), on both stores, against the real
 * receiver that verifies every post with `standardwebhooks`: once for every task step an
 * enrollment arrives at (first step, after a task, after a branch, after a skip), with the step
 * and the title rendered as the task inbox shows it; never again for the same visit (a deferral
 * to the window, a wake while open, a pause and resume). The manual clock starts at the real
 * time and moves by minutes while posts are made, so the receiver's five-minute timestamp
 * tolerance holds; what happens a day later is read from the outbox.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { catalogueEntryOf, webhookPayloadSchema } from '../../src/core/webhookCatalogue.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

describe.each(kinds)('task.created on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let receiver: Receiver;
  let seq = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db, { env: { WEBHOOKS_ALLOW_PRIVATE: 'true' }, start: new Date().toISOString() });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });
  afterEach(async () => {
    await kit.db.query('update webhook_endpoints set enabled = false');
    await receiver?.close();
  });

  async function endpoint(events = ['task.*', 'enrollment.*']) {
    receiver = await startReceiver();
    const created = await kit.call('POST', '/api/webhook-endpoints', { body: { url: receiver.url, events } });
    expect(created.status).toBe(201);
    receiver.secrets = [created.body.secret];
  }

  async function sequence(steps: object[], schedule: object = OPEN_ALL_DAY) {
    const created = await kit.call('POST', '/api/sequences', { body: { name: `Tasks ${++seq}`, ...schedule, steps } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await kit.call('PATCH', `/api/sequences/${created.body.id}`, { body: { status: 'active' } });
    return created.body.id as string;
  }

  async function enrolledLead(sequenceId: string, firstName = 'Ana') {
    const lead = await kit.call('POST', '/api/leads', { body: { email: `task-${++seq}@acme.test`, firstName, customFields: { plan: 'pro' } } });
    expect(lead.status).toBe(201);
    const enrolled = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds: [lead.body.id] } });
    return { leadId: lead.body.id as string, enrollmentId: enrolled.body.enrolled[0].enrollmentId as string };
  }

  const run = () => kit.runtime.engine.dispatcher.drain();
  const deliver = () => kit.runtime.deliverer.drain();
  const outcome = (enrollmentId: string, value = 'done') =>
    kit.call('POST', `/api/sequences/enrollments/${enrollmentId}/outcomes`, { body: { outcome: value } });

  /** What the receiver acknowledged about one enrollment: [type, stepId] in arrival order. */
  function heard(enrollmentId: string) {
    return receiver.acknowledged().filter((p) => p.payload.data.enrollmentId === enrollmentId).map((p) => [p.payload.type, p.payload.data.stepId ?? null]);
  }

  /** task.created rows in the outbox for one enrollment (delivered or not). */
  async function outboxTasks(enrollmentId: string) {
    const rows = await kit.db.query<{ step: string }>(
      `select payload #>> '{data,stepId}' as step from webhook_deliveries
       where event_type = 'task.created' and payload #>> '{data,enrollmentId}' = $1 order by seq`,
      [enrollmentId],
    );
    return rows.map((r) => r.step);
  }

  it('fires for a first step, for a task after a task, and after a skip; title rendered as the inbox shows it', async () => {
    await endpoint();
    const sequenceId = await sequence([
      { id: 'call', type: 'task', title: 'Call {{ lead.firstName }} ({{ lead.plan }})', description: 'Plan: {{ lead.plan | upcase }}', outcomes: ['done'] },
      { id: 'follow', type: 'task', title: 'Follow up with {{ lead.firstName }}', outcomes: ['done'] },
      { id: 'linkedin', type: 'task', title: 'Connect on LinkedIn', outcomes: ['done'] },
      { id: 'end', type: 'end' },
    ]);
    const { enrollmentId } = await enrolledLead(sequenceId);
    await run();
    const inbox = (await kit.call('GET', '/api/tasks')).body.items.find((i: { id: string }) => i.id === enrollmentId);
    expect(inbox.currentStep).toMatchObject({ id: 'call', title: 'Call Ana (pro)', description: 'Plan: PRO' });
    expect((await outcome(enrollmentId)).status).toBe(200);
    await run();
    expect((await kit.call('PUT', `/api/sequences/enrollments/${enrollmentId}`, { body: { action: 'skip' } })).status).toBe(200);
    await run();
    await deliver();

    expect(heard(enrollmentId)).toEqual([
      ['enrollment.started', null],
      ['task.created', 'call'],
      ['task.completed', 'call'],
      ['task.created', 'follow'],
      ['task.created', 'linkedin'],
    ]);
    const created = receiver.acknowledged().filter((p) => p.payload.type === 'task.created' && p.payload.data.enrollmentId === enrollmentId);
    expect(created.map((p) => [p.payload.data.title, p.payload.data.description])).toEqual([
      [inbox.currentStep.title, inbox.currentStep.description],
      ['Follow up with Ana', null],
      ['Connect on LinkedIn', null],
    ]);
    for (const post of created) {
      expect(webhookPayloadSchema(catalogueEntryOf('task.created')!).safeParse(post.payload).success).toBe(true);
      // The lead has no owner: the task is for nobody yet, as the inbox says (test/api/owners.test.ts sets owners).
      expect(post.payload.data).toMatchObject({ sequenceId, sequenceVersion: 1, status: 'waiting', lead: { firstName: 'Ana' }, assignee: inbox.assignee });
      expect(post.payload.data.assignee).toBeNull();
    }
    // The delivery log shows the payload as posted (rendered once, stored before the post).
    const [row] = await kit.db.query<{ title: string }>(
      `select payload #>> '{data,title}' as title from webhook_deliveries where event_type = 'task.created' and payload #>> '{data,stepId}' = 'call'
         and payload #>> '{data,enrollmentId}' = $1`, [enrollmentId]);
    expect(row!.title).toBe('Call Ana (pro)');
  });

  it('fires when a branch leads to a task, once', async () => {
    await endpoint();
    const sequenceId = await sequence([
      { id: 'gate', type: 'branch', when: { event: 'custom.demo_booked' }, within: 'P1D', then: 'prep', else: 'end' },
      { id: 'prep', type: 'task', title: 'Prepare the demo for {{ lead.firstName }}', outcomes: ['done'] },
      { id: 'end', type: 'end' },
    ]);
    const { leadId, enrollmentId } = await enrolledLead(sequenceId, 'Bo');
    await run();
    expect((await kit.call('POST', '/api/events', { body: { leadId, type: 'custom.demo_booked' } })).status).toBe(201);
    await run();
    // A second event wakes the open task: it stays open, and is not created again.
    expect((await kit.call('POST', '/api/events', { body: { leadId, type: 'custom.demo_booked' } })).status).toBe(201);
    await run();
    await deliver();
    expect(heard(enrollmentId)).toEqual([['enrollment.started', null], ['task.created', 'prep']]);
    expect(receiver.acknowledged().find((p) => p.payload.type === 'task.created')!.payload.data.title).toBe('Prepare the demo for Bo');
  });

  it('is created once per visit: not again after a pause and resume', async () => {
    await endpoint();
    const sequenceId = await sequence([{ id: 'call', type: 'task', title: 'Call', outcomes: ['done'] }, { id: 'end', type: 'end' }]);
    const { enrollmentId } = await enrolledLead(sequenceId);
    await run();
    for (const action of ['pause', 'resume']) {
      expect((await kit.call('PUT', `/api/sequences/enrollments/${enrollmentId}`, { body: { action } })).status).toBe(200);
      await run();
    }
    expect((await kit.call('GET', `/api/sequences/enrollments/${enrollmentId}`)).body).toMatchObject({ status: 'waiting', waitingFor: 'task' });
    await deliver();
    expect(heard(enrollmentId)).toEqual([
      ['enrollment.started', null],
      ['task.created', 'call'],
      ['enrollment.paused', null],
      ['enrollment.resumed', null],
    ]);
  });

  it('waits for the window to be created, and stays open (not created again) when woken after the window closed', async () => {
    await endpoint();
    // A zone where it is 03:xx now, and a one-minute window opening two minutes from now.
    const now = kit.clock.now();
    const offset = ((3 - now.getUTCHours() + 36) % 24) - 12; // -12..+11 hours: local hour 3
    const zone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    const local = new Date(now.getTime() + offset * 3600_000);
    const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    const startMinute = local.getUTCHours() * 60 + local.getUTCMinutes() + 2;
    const schedule = {
      schedule: { timezone: zone, days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: hhmm(startMinute), end: hhmm(startMinute + 1) },
      quietHours: { start: '00:00', end: '00:00', channels: [] },
    };
    const sequenceId = await sequence([{ id: 'call', type: 'task', title: 'Call {{ lead.firstName }}', outcomes: ['done'] }, { id: 'end', type: 'end' }], schedule);
    const { leadId, enrollmentId } = await enrolledLead(sequenceId);
    await run();
    expect(await outboxTasks(enrollmentId)).toEqual([]); // not yet: the window opens in two minutes
    kit.clock.set(new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 2 * 60_000 + 1_000)); // just inside the window
    await run();
    await deliver();
    expect(heard(enrollmentId)).toEqual([['enrollment.started', null], ['task.created', 'call']]);
    expect(receiver.acknowledged().find((p) => p.payload.type === 'task.created')!.payload.data.title).toBe('Call Ana');

    kit.clock.advance(90_000); // the window has closed
    expect((await kit.call('POST', '/api/events', { body: { leadId, type: 'custom.wake' } })).status).toBe(201);
    await run();
    expect((await kit.call('GET', `/api/sequences/enrollments/${enrollmentId}`)).body).toMatchObject({ status: 'waiting', waitingFor: 'task' });
    kit.clock.advance(24 * 3600_000); // the next day's window: nothing more
    await run();
    expect(await outboxTasks(enrollmentId)).toEqual(['call']);
  });
});
