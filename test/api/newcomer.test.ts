/**
 * The "done when", over HTTP, on the embedded store and on PostgreSQL: create a token,
 * import leads from CSV, create and activate a sequence, enroll, watch timelines fill,
 * pause / resume / skip / cancel / convert, and record an outcome that moves a waiting branch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';
import { taskSequence } from './fixtures.ts';

const kinds = await databaseKinds();

describe.each(kinds)('a newcomer on %s', (kind) => {
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

  it('runs the whole flow with curl-shaped requests', async () => {
    const admin = kit.tokens.admin;
    const me = await kit.call('GET', '/api/me', { token: admin });
    expect(me.body.role).toBe('admin');

    const created = await kit.call('POST', '/api/tokens', { token: admin, body: { name: 'ops desk', role: 'operator' } });
    expect(created.status).toBe(201);
    const operator: string = created.body.token;
    expect((await kit.call('GET', '/api/me', { token: operator })).body.role).toBe('operator');

    const csv = [
      'Email,First Name,Last Name,Company,Phone,Time Zone,Deal Size',
      'ada@acme.test,Ada,Lovelace,Acme,(415) 555-0101,America/Los_Angeles,10k',
      'BOB@Acme.test,Bob,Byte,Acme,+44 20 7946 0958,Europe/London,',
      'cy@acme.test,Cy,Clock,Initech,415-555-0103,,5k',
      'not-an-email,Dee,,,,,',
    ].join('\n');
    const imported = await kit.call('POST', '/api/leads/import', { token: admin, body: csv, headers: { 'content-type': 'text/csv' } });
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ rows: 4, imported: 3, duplicates: 0, failed: 1 });
    expect(imported.body.errors).toEqual([{ line: 5, field: 'Email', message: '"not-an-email" is not an email address.' }]);
    const [ada, bob, cy] = imported.body.leadIds as [string, string, string];
    const bobLead = (await kit.call('GET', `/api/leads/${bob}`, { token: operator })).body;
    expect(bobLead).toMatchObject({ email: 'bob@acme.test', phone: '+442079460958', timezone: 'Europe/London' });
    expect((await kit.call('GET', `/api/leads/${ada}`)).body.customFields).toEqual({ 'Deal Size': '10k' });

    const sequence = await kit.call('POST', '/api/sequences', { token: admin, body: taskSequence });
    expect(sequence.body.status).toBe('draft');
    const sequenceId: string = sequence.body.id;
    const early = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { token: operator, body: { leadIds: [ada] } });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain('Activate it first');
    expect((await kit.call('PATCH', `/api/sequences/${sequenceId}`, { token: admin, body: { status: 'active' } })).body.status).toBe('active');

    const enrolled = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { token: operator, body: { leadIds: [ada, bob, cy, ada] } });
    expect(enrolled.body.enrolled).toHaveLength(3);
    const again = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { token: operator, body: { leadIds: [ada] } });
    expect(again.body.skipped).toEqual([{ leadId: ada, reason: 'already_enrolled', message: expect.any(String) }]);
    const enrollmentOf = (leadId: string): string => enrolled.body.enrolled.find((e: { leadId: string }) => e.leadId === leadId).enrollmentId;

    kit.clock.advance(1000);
    await kit.runtime.engine.dispatcher.drain();
    kit.clock.advance(1000);
    const adaTimeline = await kit.call('GET', `/api/leads/${ada}/timeline`, { token: operator });
    const sent = adaTimeline.body.items.find((i: { kind: string; data: { stepId?: string } }) => i.kind === 'execution' && i.data.stepId === 'intro');
    expect(sent).toMatchObject({ channel: 'email', data: { status: 'succeeded', adapter: 'mock', rendered: { subject: 'Hi Ada' } } });
    expect(adaTimeline.body.items.some((i: { kind: string; data: { action?: string } }) => i.kind === 'change' && i.data.action === 'enroll')).toBe(true);

    const inbox = await kit.call('GET', '/api/tasks', { token: operator });
    expect(inbox.body.items).toHaveLength(3);
    expect(inbox.body.items[0]).toMatchObject({ status: 'waiting', waitingFor: 'branch', currentStep: { id: 'outcome', outcomes: ['connected'] } });

    // Ada: the call connected, recorded by an operator: the branch moves at once.
    const outcome = await kit.call('POST', `/api/sequences/enrollments/${enrollmentOf(ada)}/outcomes`, { token: operator, body: { outcome: 'connected', channel: 'voice', note: 'Booked a demo' } });
    expect(outcome.status).toBe(200);
    await kit.runtime.engine.dispatcher.drain();
    const adaEnrollment = await kit.call('GET', `/api/sequences/enrollments/${enrollmentOf(ada)}`, { token: operator });
    expect(adaEnrollment.body.status).toBe('completed');
    expect(adaEnrollment.body.executions.map((e: { stepId: string }) => e.stepId)).toEqual(['intro', 'outcome', 'thanks', 'done']);

    // Bob: pause, resume, convert.
    for (const [action, status] of [['pause', 'paused'], ['resume', 'active'], ['convert', 'converted']] as const) {
      const response = await kit.call('PUT', `/api/sequences/enrollments/${enrollmentOf(bob)}`, { token: operator, body: { action, reason: `${action} by the test` } });
      expect(response.status, action).toBe(200);
      expect(response.body.status).toBe(status);
      kit.clock.advance(1000); // timeline order is by time; a manual clock would tie them
    }
    // Cy: skip the branch, then cancel before anything else goes out.
    const skipped = await kit.call('PUT', `/api/sequences/enrollments/${enrollmentOf(cy)}`, { token: operator, body: { action: 'skip' } });
    expect(skipped.body.currentStep.id).toBe('nudge');
    expect((await kit.call('PUT', `/api/sequences/enrollments/${enrollmentOf(cy)}`, { token: operator, body: { action: 'cancel' } })).body.status).toBe('cancelled');
    await kit.runtime.engine.dispatcher.drain();
    kit.clock.advance(2 * 86_400_000);
    await kit.runtime.engine.dispatcher.drain();
    expect(kit.runtime.mock!.sends.filter((s) => s.channel === 'sms')).toHaveLength(0);

    const bobChanges = await kit.call('GET', `/api/leads/${bob}/timeline?kind=change`, { token: operator });
    expect(bobChanges.body.items.map((i: { data: { action: string; to: string } }) => `${i.data.action}→${i.data.to}`)).toEqual([
      'convert→converted',
      'resume→active',
      'pause→paused',
      'wait_for_branch→waiting',
      'enroll→active',
    ]);
    expect(bobChanges.body.items[0].data.actor).toContain('ops desk');

    const adaEvents = await kit.call('GET', `/api/leads/${ada}/timeline?kind=event`, { token: operator });
    expect(adaEvents.body.items[0].data).toMatchObject({ type: 'manual.outcome', details: { outcome: 'connected', note: 'Booked a demo' } });

    const mine = await kit.call('GET', `/api/leads/${bob}/sequences`, { token: operator });
    expect(mine.body.items).toMatchObject([{ sequenceId, status: 'converted', statusReason: 'convert by the test' }]);

    const stats = await kit.call('GET', `/api/sequences/${sequenceId}/stats`, { token: operator });
    const intro = stats.body.steps.find((s: { stepId: string }) => s.stepId === 'intro');
    expect(intro).toMatchObject({ type: 'email', executed: 3, sent: 3 });
    expect(stats.body.enrollments).toMatchObject({ completed: 1, converted: 1, cancelled: 1, active: 0 });

    const logged = await kit.call('POST', `/api/leads/${ada}/activities`, { token: operator, body: { kind: 'call', outcome: 'meeting_booked', body: 'Demo on Friday' } });
    expect(logged.status).toBe(201);
    const calls = await kit.call('GET', `/api/leads/${ada}/timeline?channel=voice&kind=activity`, { token: operator });
    expect(calls.body.items).toHaveLength(1);
    expect(calls.body.items[0].summary).toContain('meeting_booked');
  });
});
