/**
 * Sequences over HTTP: validation with paths, versions, status changes (pausing holds live
 * enrollments and re-activating releases exactly those), preview and stats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';
import { taskSequence } from './fixtures.ts';

const kinds = await databaseKinds();

describe.each(kinds)('sequences on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let n = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  async function leads(count: number): Promise<string[]> {
    const csv = ['email,first_name,phone', ...Array.from({ length: count }, () => `s${kind}${n++}@acme.test,Sam,+14155550100`)].join('\n');
    return (await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body.leadIds;
  }

  it('rejects a bad definition with every problem and its path, and validates without saving', async () => {
    const bad = { name: 'Bad', steps: [{ id: 'a', type: 'email', subject: 'x' }, { id: 'b', type: 'branch', when: { outcome: ['x'] }, within: 'soon', then: 'zz', else: 'a' }] };
    const created = await kit.call('POST', '/api/sequences', { body: bad });
    expect(created.status).toBe(422);
    expect(created.body.error.code).toBe('invalid_definition');
    const paths = created.body.error.details.problems.map((p: { path: string }) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['$.steps[0].body', '$.steps[1].within', '$.steps[1].then']));
    const validated = await kit.call('POST', '/api/sequences/validate', { token: kit.tokens.viewer, body: bad });
    expect(validated.status).toBe(200);
    expect(validated.body.ok).toBe(false);
    expect(validated.body.problems.map((p: { path: string }) => p.path)).toEqual(paths);
    expect((await kit.call('POST', '/api/sequences/validate', { body: taskSequence })).body).toMatchObject({ ok: true, problems: [] });
  });

  it('PUT saves a new version; running enrollments stay on theirs', async () => {
    const id = (await kit.call('POST', '/api/sequences', { body: taskSequence })).body.id;
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    const [first] = await leads(1);
    const enrolled = await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds: [first] } });
    const v2 = await kit.call('PUT', `/api/sequences/${id}`, { body: { ...taskSequence, name: 'Renamed' } });
    expect(v2.body).toMatchObject({ currentVersion: 2, name: 'Renamed', status: 'active' });
    const enrollment = await kit.call('GET', `/api/sequences/enrollments/${enrolled.body.enrolled[0].enrollmentId}`);
    expect(enrollment.body.sequenceVersion).toBe(1);
    expect((await kit.call('GET', `/api/sequences/${id}`)).body.definition.name).toBe('Renamed');
  });

  it('pausing holds every live enrollment; activating releases exactly those', async () => {
    const id = (await kit.call('POST', '/api/sequences', { body: taskSequence })).body.id;
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    const ids = await leads(3);
    const enrolled = (await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds: ids } })).body.enrolled.map((e: { enrollmentId: string }) => e.enrollmentId);
    await kit.runtime.engine.dispatcher.drain(); // all three now wait at the branch
    const [byOperator, held, alsoHeld] = enrolled as [string, string, string];
    await kit.call('PUT', `/api/sequences/enrollments/${byOperator}`, { body: { action: 'pause', reason: 'asked to wait' } });

    const paused = await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'paused' } });
    expect(paused.body).toMatchObject({ status: 'paused', enrollmentsHeld: 2 });
    const list = await kit.call('GET', `/api/sequences/${id}/enrollments?status=paused`);
    expect(list.body.items).toHaveLength(3);
    expect((await kit.call('GET', `/api/sequences/enrollments/${held}`)).body).toMatchObject({ status: 'paused', statusReason: 'sequence_paused', nextRunAt: null });

    const early = await kit.call('PUT', `/api/sequences/enrollments/${held}`, { body: { action: 'resume' } });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain('activate the sequence');
    expect((await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds: await leads(1) } })).status).toBe(409);

    const resumed = await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    expect(resumed.body.enrollmentsHeld).toBe(2);
    for (const e of [held, alsoHeld]) expect((await kit.call('GET', `/api/sequences/enrollments/${e}`)).body.status).toBe('active');
    expect((await kit.call('GET', `/api/sequences/enrollments/${byOperator}`)).body).toMatchObject({ status: 'paused', statusReason: 'asked to wait' });
    await kit.runtime.engine.dispatcher.drain();
    expect((await kit.call('GET', `/api/sequences/enrollments/${held}`)).body.status).toBe('waiting');

    const changes = await kit.call('GET', `/api/leads/${ids[1]}/timeline?kind=change`);
    expect(changes.body.items.map((i: { data: { reason: string | null } }) => i.data.reason)).toEqual(expect.arrayContaining(['sequence_paused', 'sequence_resumed']));
  });

  it('refuses status changes that make no sense, and archiving with live enrollments', async () => {
    const id = (await kit.call('POST', '/api/sequences', { body: taskSequence })).body.id;
    const paused = await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'paused' } });
    expect(paused.status).toBe(409);
    expect(paused.body.error.message).toBe('A draft sequence cannot become paused; it can become active or archived.');
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds: await leads(1) } });
    const archived = await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'archived' } });
    expect(archived.status).toBe(409);
    expect(archived.body.error.message).toContain('1 live enrollments');
    expect((await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'bogus' } })).status).toBe(400);
  });

  it('previews a run for a stored lead or an inline one, with hypothetical events', async () => {
    const id = (await kit.call('POST', '/api/sequences', { body: taskSequence })).body.id;
    const [leadId] = await leads(1);
    const start = '2026-03-04T15:00:00Z';
    const stored = await kit.call('POST', `/api/sequences/${id}/preview`, { token: kit.tokens.viewer, body: { leadId, start } });
    expect(stored.status).toBe(200);
    expect(stored.body.entries[0]).toMatchObject({ stepId: 'intro', action: 'send', at: '2026-03-04T15:00:00.000Z' });
    const inline = await kit.call('POST', `/api/sequences/${id}/preview`, {
      body: { lead: { email: 'x@y.test', phone: '+14155550100', firstName: 'Ina', timezone: 'America/Chicago' }, start, events: [{ type: 'manual.outcome', outcome: 'connected', at: '2026-03-04T16:00:00Z' }] },
    });
    const steps = inline.body.entries.map((e: { stepId: string }) => e.stepId);
    expect(steps).toContain('thanks');
    expect(steps).not.toContain('nudge');
    const both = await kit.call('POST', `/api/sequences/${id}/preview`, { body: { leadId, lead: { email: 'x@y.test' } } });
    expect(both.status).toBe(400);
  });

  it('answers stats per step and enrollments by status', async () => {
    const emails = { name: 'Stats', ...OPEN_ALL_DAY, steps: [{ id: 'hello', type: 'email', subject: 'Hello', body: 'hi' }] };
    const id = (await kit.call('POST', '/api/sequences', { body: emails })).body.id;
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds: await leads(4) } });
    await kit.runtime.engine.dispatcher.drain();
    const stats = await kit.call('GET', `/api/sequences/${id}/stats`, { token: kit.tokens.viewer });
    expect(stats.body.steps).toMatchObject([{ stepId: 'hello', type: 'email', executed: 4, sent: 4, delivered: 0, opened: 0, clicked: 0, replied: 0, bounced: 0, failed: 0 }]);
    expect(stats.body.enrollments).toMatchObject({ completed: 4, active: 0 });
  });

  /** A sequence stored before today's rules: created valid, then its stored document replaced. */
  async function storedAs(definition: unknown): Promise<string> {
    const id = (await kit.call('POST', '/api/sequences', { body: { name: 'Old', ...OPEN_ALL_DAY, steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: 'hi' }] } })).body.id;
    await kit.db.query('update sequence_versions set definition = $2::jsonb where sequence_id = $1', [id, JSON.stringify(definition)]);
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    return id;
  }

  it('refuses include/render/layout and templates over a limit with 422 naming the step and field; preview of a stored one is a 422 too', async () => {
    const reading = { name: 'Reads files', ...OPEN_ALL_DAY, steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: "{% render 'package.json' %}" }] };
    const created = await kit.call('POST', '/api/sequences', { body: reading });
    expect(created.status).toBe(422);
    expect(created.body.error.details.problems).toEqual([expect.objectContaining({ path: '$.steps[0].body', message: expect.stringContaining('{% render %}') })]);
    const looping = { ...reading, steps: [{ id: 'hello', type: 'sms', text: '{% for i in (1..2500) %}{% for j in (1..2500) %}x{% endfor %}{% endfor %}' }] };
    const validated = await kit.call('POST', '/api/sequences/validate', { body: looping });
    expect(validated.body.problems).toEqual([expect.objectContaining({ path: '$.steps[0].text', message: expect.stringContaining('limit') })]);

    const id = await storedAs(reading);
    const preview = await kit.call('POST', `/api/sequences/${id}/preview`, { body: { lead: { email: 'x@y.test' } } });
    expect(preview.status).toBe(422);
    expect(JSON.stringify(preview.body)).not.toContain('"name": "touchpoint"');
    expect(preview.body.error.details.problems[0].path).toBe('$.steps[0].body');
  });

  it('refuses a schedule with no opening in the next year and a wait of P999999Y; stored ones answer 422 at preview and enroll, never 500', async () => {
    const mondays = Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(2026, 2, 2 + 7 * i)).toISOString().slice(0, 10));
    const shut = { name: 'Never', schedule: { days: ['mon'], holidays: mondays }, steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: 'hi' }] };
    const created = await kit.call('POST', '/api/sequences', { body: shut });
    expect(created.status).toBe(422);
    expect(created.body.error.details.problems).toEqual([expect.objectContaining({ path: '$.schedule', message: expect.stringContaining('no opening') })]);
    const forever = { name: 'Forever', ...OPEN_ALL_DAY, steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: 'hi' }, { id: 'w', type: 'wait', duration: 'P999999Y' }, { id: 'bye', type: 'email', subject: 'Bye', body: 'bye' }] };
    expect((await kit.call('POST', '/api/sequences', { body: forever })).body.error.details.problems).toEqual([expect.objectContaining({ path: '$.steps[1].duration' })]);

    const shutId = await storedAs(shut);
    const preview = await kit.call('POST', `/api/sequences/${shutId}/preview`, { body: { lead: { email: 'x@y.test' } } });
    expect(preview.status).toBe(422);
    expect(preview.body.error.message).toContain('schedule');
    const enrolled = await kit.call('POST', `/api/sequences/${shutId}/enrollments`, { body: { leadIds: await leads(1) } });
    expect(enrolled.status).toBe(422);
    expect(enrolled.body.error.message).toContain('schedule');

    const foreverId = await storedAs(forever);
    const projected = await kit.call('POST', `/api/sequences/${foreverId}/preview`, { body: { lead: { email: 'x@y.test' } } });
    expect(projected.status).toBe(422);
    expect(projected.body.error.message).toContain('P999999Y');
  });
});
