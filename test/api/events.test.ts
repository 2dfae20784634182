/**
 * Custom events in (docs/INTEGRATIONS.md): POST /api/events and /api/events/batch on both
 * stores — idempotency keys, a waiting branch woken in the same drain on a manual clock (its
 * `where` on a property) and by the event's wake-up alone with the embedded worker running, exitOn naming a custom event, a batch of 1,000, leads' externalId
 * (unique per workspace, a way to name the lead) and upsertLead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { parseConfig } from '../../src/config.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

const demoSequence = {
  name: 'Trial, then demo',
  ...OPEN_ALL_DAY,
  exitOn: ['email.replied', 'converted', 'custom.churned'],
  steps: [
    { id: 'intro', type: 'email', subject: 'Welcome', body: 'Hello' },
    { id: 'demo', type: 'branch', when: { event: 'custom.demo_booked', where: { property: 'plan', op: 'eq', value: 'pro' } }, within: 'P7D', then: 'booked', else: 'nudge' },
    { id: 'nudge', type: 'sms', text: 'Book a demo?', next: 'done' },
    { id: 'booked', type: 'email', subject: 'See you at the demo', body: 'Great' },
    { id: 'done', type: 'end' },
  ],
};

describe.each(kinds)('custom events on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let sequenceId: string;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
    const sequence = await kit.call('POST', '/api/sequences', { body: demoSequence });
    expect(sequence.status).toBe(201);
    sequenceId = sequence.body.id;
    await kit.call('PATCH', `/api/sequences/${sequenceId}`, { body: { status: 'active' } });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  async function enrolledLead(email: string) {
    const lead = await kit.call('POST', '/api/leads', { body: { email, phone: '+14155550100' } });
    const enrolled = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds: [lead.body.id] } });
    return { leadId: lead.body.id as string, enrollmentId: enrolled.body.enrolled[0].enrollmentId as string };
  }

  async function enrollment(id: string) {
    const [row] = await kit.db.query<{ status: string; step: string | null; reason: string | null }>(
      'select status, current_step_id as step, status_reason as reason from enrollments where id = $1',
      [id],
    );
    return row!;
  }

  it('wakes a branch waiting for the event in the same drain, testing its property', async () => {
    const { leadId, enrollmentId } = await enrolledLead('waiter@acme.test');
    await kit.runtime.engine.dispatcher.drain();
    expect(await enrollment(enrollmentId)).toMatchObject({ status: 'waiting', step: 'demo' });

    // The wrong plan: recorded, the branch looks again and keeps waiting.
    const free = await kit.call('POST', '/api/events', { token: kit.tokens.operator, body: { leadId, type: 'custom.demo_booked', properties: { plan: 'free' } } });
    expect(free.status).toBe(201);
    await kit.runtime.engine.dispatcher.drain();
    expect(await enrollment(enrollmentId)).toMatchObject({ status: 'waiting', step: 'demo' });

    const pro = await kit.call('POST', '/api/events', { body: { email: 'WAITER@acme.test', type: 'custom.demo_booked', properties: { plan: 'PRO' } } });
    expect(pro.body).toMatchObject({ status: 'recorded', leadId, leadCreated: false });
    // No clock moves: the event's wake alone brings the enrollment round.
    await kit.runtime.engine.dispatcher.drain();
    const sent = await kit.db.query<{ stepId: string }>("select step_id as \"stepId\" from sequence_executions where enrollment_id = $1 and step_type in ('email', 'sms')", [enrollmentId]);
    // `booked` (then), never `nudge` (else).
    expect(sent.map((s) => s.stepId).sort()).toEqual(['booked', 'intro']);
    expect(await enrollment(enrollmentId)).toMatchObject({ status: 'completed' });

    const timeline = await kit.call('GET', `/api/leads/${leadId}/timeline?kind=event`);
    expect(timeline.status).toBe(200);
    expect(JSON.stringify(timeline.body.items)).toContain('custom.demo_booked');
  });

  it('ends enrollments whose exitOn names the custom event, and says which', async () => {
    const { leadId, enrollmentId } = await enrolledLead('churner@acme.test');
    const churned = await kit.call('POST', '/api/events', { body: { leadId, type: 'custom.churned' } });
    expect(churned.body.exited).toEqual([enrollmentId]);
    expect(await enrollment(enrollmentId)).toMatchObject({ status: 'exited', reason: 'custom.churned' });
  });

  it('records an idempotency key once per workspace', async () => {
    const lead = await kit.call('POST', '/api/leads', { body: { email: 'once@acme.test' } });
    const body = { leadId: lead.body.id, type: 'custom.trial_started', idempotencyKey: 'trial-42' };
    const first = await kit.call('POST', '/api/events', { body });
    const second = await kit.call('POST', '/api/events', { body: { ...body, properties: { changed: true } } });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body).toMatchObject({ status: 'duplicate', leadId: lead.body.id });
    const rows = await kit.db.query('select id from events where lead_id = $1', [lead.body.id]);
    expect(rows).toHaveLength(1);
    // Another workspace's key is its own.
    const theirs = await kit.call('POST', '/api/leads', { token: kit.other.admin, body: { email: 'once@acme.test' } });
    const elsewhere = await kit.call('POST', '/api/events', { token: kit.other.operator, body: { ...body, leadId: theirs.body.id } });
    expect(elsewhere.status).toBe(201);
    // Nor can one workspace name another's lead.
    expect((await kit.call('POST', '/api/events', { token: kit.other.operator, body: { leadId: lead.body.id, type: 'custom.x' } })).status).toBe(404);
  });

  it('takes a batch of 1,000 in one call, one result per event in order', async () => {
    const csv = ['email', ...Array.from({ length: 999 }, (_, i) => `batch${i}@acme.test`)].join('\n');
    expect((await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body.imported).toBe(999);
    const events = [
      ...Array.from({ length: 999 }, (_, i) => ({ email: `batch${i}@acme.test`, type: 'custom.page_viewed', properties: { page: i }, idempotencyKey: `view-${i}` })),
      { email: 'stranger@acme.test', type: 'custom.page_viewed' },
    ];
    const batch = await kit.call('POST', '/api/events/batch', { token: kit.tokens.operator, body: { events } });
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({ recorded: 999, duplicates: 0, unknownLeads: 1 });
    expect(batch.body.results).toHaveLength(1000);
    expect(batch.body.results[999]).toMatchObject({ status: 'unknown_lead' });
    expect(batch.body.results[999].message).toContain('upsertLead');
    const again = await kit.call('POST', '/api/events/batch', { body: { events: events.slice(0, 10) } });
    expect(again.body).toMatchObject({ recorded: 0, duplicates: 10 });
    const tooMany = await kit.call('POST', '/api/events/batch', { body: { events: [...events, events[0]] } });
    expect(tooMany.status).toBe(400);
  });

  it('keeps externalId unique per workspace and finds the lead by it', async () => {
    const created = await kit.call('POST', '/api/leads', { body: { email: 'crm@acme.test', externalId: 'crm-001' } });
    expect(created.body).toMatchObject({ externalId: 'crm-001' });
    const clash = await kit.call('POST', '/api/leads', { body: { email: 'crm2@acme.test', externalId: 'crm-001' } });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('duplicate_external_id');
    expect((await kit.call('POST', '/api/leads', { token: kit.other.admin, body: { email: 'crm@acme.test', externalId: 'crm-001' } })).status).toBe(201);
    const other = await kit.call('POST', '/api/leads', { body: { email: 'crm3@acme.test' } });
    const patchClash = await kit.call('PATCH', `/api/leads/${other.body.id}`, { body: { externalId: 'crm-001' } });
    expect(patchClash.status).toBe(409);
    expect((await kit.call('PATCH', `/api/leads/${other.body.id}`, { body: { externalId: 'crm-003' } })).body.externalId).toBe('crm-003');
    const event = await kit.call('POST', '/api/events', { body: { externalId: 'crm-001', type: 'custom.deal_created' } });
    expect(event.body).toMatchObject({ status: 'recorded', leadId: created.body.id });
    expect((await kit.call('GET', `/api/leads/${created.body.id}`)).body.externalId).toBe('crm-001');
    // A CSV column names it too; a row repeating a known one is a duplicate, not a failure.
    const csv = 'email,external_id\ncsv1@acme.test,crm-csv-1\ncsv2@acme.test,crm-001\n';
    expect((await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body).toMatchObject({ imported: 1, duplicates: 1 });
    const byCsv = await kit.call('POST', '/api/events', { body: { externalId: 'crm-csv-1', type: 'custom.imported' } });
    expect(byCsv.status).toBe(201);
  });

  it('creates an unknown lead when asked, once', async () => {
    const unknown = await kit.call('POST', '/api/events', { body: { externalId: 'crm-new', email: 'new@acme.test', type: 'custom.signed_up' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('upsertLead');
    const noAddress = await kit.call('POST', '/api/events', { body: { externalId: 'crm-bare', type: 'custom.signed_up', upsertLead: true } });
    expect(noAddress.status).toBe(404);
    expect(noAddress.body.error.message).toContain('email or a phone');
    const body = { externalId: 'crm-new', email: 'New@Acme.test', type: 'custom.signed_up', upsertLead: true };
    const first = await kit.call('POST', '/api/events', { body });
    expect(first.body).toMatchObject({ status: 'recorded', leadCreated: true });
    const lead = await kit.call('GET', `/api/leads/${first.body.leadId}`);
    expect(lead.body).toMatchObject({ email: 'new@acme.test', externalId: 'crm-new', status: 'new' });
    const second = await kit.call('POST', '/api/events', { body });
    expect(second.body).toMatchObject({ status: 'recorded', leadCreated: false, leadId: first.body.leadId });
  });

  it('answers bad input with a 400 and a sentence, and viewers with a 403', async () => {
    const bad = await kit.call('POST', '/api/events', { body: { email: 'x@acme.test', type: 'demo_booked' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('custom.');
    const nobody = await kit.call('POST', '/api/events', { body: { type: 'custom.x' } });
    expect(nobody.status).toBe(400);
    expect(JSON.stringify(nobody.body)).toContain('leadId, externalId, email or phone');
    expect((await kit.call('POST', '/api/events', { token: kit.tokens.viewer, body: { email: 'x@acme.test', type: 'custom.x' } })).status).toBe(403);
  });

  it('enrolls the lead in a sequence its trigger names, once per lead unless reentry', async () => {
    const onboarding = async (reentry: boolean) => {
      const created = await kit.call('POST', '/api/sequences', {
        body: { name: `Onboarding ${reentry}`, ...OPEN_ALL_DAY, trigger: { event: 'custom.trial_started', reentry }, steps: [{ id: 'hi', type: 'email', subject: 'Welcome', body: 'Hi' }] },
      });
      expect(created.status).toBe(201);
      await kit.call('PATCH', `/api/sequences/${created.body.id}`, { body: { status: 'active' } });
      return created.body.id as string;
    };
    const once = await onboarding(false);
    const again = await onboarding(true);
    const lead = await kit.call('POST', '/api/leads', { body: { email: 'trial@acme.test' } });
    const started = await kit.call('POST', '/api/events', { body: { leadId: lead.body.id, type: 'custom.trial_started' } });
    expect(started.body.enrolled).toHaveLength(2);
    // Both run to completion; a second trial enrolls only where reentry is allowed.
    await kit.runtime.engine.dispatcher.drain();
    const second = await kit.call('POST', '/api/events', { body: { leadId: lead.body.id, type: 'custom.trial_started' } });
    expect(second.body.enrolled).toHaveLength(1);
    const rows = await kit.db.query<{ sequenceId: string }>('select sequence_id as "sequenceId" from enrollments where lead_id = $1', [lead.body.id]);
    expect(rows.filter((r) => r.sequenceId === once)).toHaveLength(1);
    expect(rows.filter((r) => r.sequenceId === again)).toHaveLength(2);
  });

  it('validates the new syntax in sequences', async () => {
    const withStep = { ...demoSequence, steps: demoSequence.steps.map((s) => (s.id === 'demo' ? { ...s, when: { event: 'custom.demo_booked', step: 'intro' } } : s)) };
    const whereOnProvider = { ...demoSequence, steps: demoSequence.steps.map((s) => (s.id === 'demo' ? { ...s, when: { event: 'email.opened', where: { property: 'x', op: 'exists' } } } : s)) };
    const badName = { ...demoSequence, exitOn: ['custom.'] };
    const providerTrigger = { ...demoSequence, trigger: { event: 'email.opened' } };
    for (const [definition, text] of [
      [providerTrigger, 'must be a custom event'],
      [withStep, 'a custom event is about the lead'],
      [whereOnProvider, 'only for custom events'],
      [badName, 'then 1–100 letters'],
    ] as const) {
      const response = await kit.call('POST', '/api/sequences/validate', { body: definition });
      expect(JSON.stringify(response.body)).toContain(text);
    }
  });
});

/**
 * The embedded mode with its real worker (the inline dispatcher's own loop, the system clock):
 * the dispatcher's idle sleep is ten minutes and the branch's deadline a week away, so a branch
 * that takes `then` before the 60 s deadline below was woken by the event's push (engine.wake on
 * the API's path), not by a poll. How fast that is, is measured in bench/events.ts.
 */
describe('custom events wake a waiting branch with the embedded worker running', () => {
  const IDLE_SECONDS = 600;
  let database: TestDatabase;
  let runtime: Runtime;
  let token: string;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent', DISPATCHER_MAX_IDLE_SECONDS: String(IDLE_SECONDS) }), { db: database.db, worker: true });
    await runtime.app.ready();
    const workspace = await ensureWorkspace(database.db, 'wake-embedded');
    token = (await createToken(database.db, workspace.id, 'admin', 'wake')).token;
  });
  afterAll(async () => {
    await runtime?.close();
    await database?.close();
  });

  const call = async (method: 'POST' | 'PATCH', url: string, body: unknown) => {
    const answer = await runtime.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    return { status: answer.statusCode, body: answer.json() };
  };
  const count = async (sql: string, params: unknown[]) => (await database.db.query<{ n: number }>(sql, params))[0]!.n;

  it('a branch waiting for custom.demo_booked takes `then` by the wake-up alone, the idle poll ten minutes away', async () => {
    const sequence = await call('POST', '/api/sequences', {
      name: 'Wake embedded',
      ...OPEN_ALL_DAY,
      steps: [
        { id: 'hold', type: 'branch', when: { event: 'custom.demo_booked' }, within: 'P7D', then: 'booked', else: 'done' },
        { id: 'booked', type: 'email', subject: 'See you', body: 'Great', next: 'done' },
        { id: 'done', type: 'end' },
      ],
    });
    expect(sequence.status).toBe(201);
    expect((await call('PATCH', `/api/sequences/${sequence.body.id}`, { status: 'active' })).status).toBe(200);
    const leadIds: string[] = [];
    for (const n of [1, 2, 3]) leadIds.push((await call('POST', '/api/leads', { email: `wake${n}@acme.test` })).body.id);
    expect((await call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { leadIds })).body.enrolled).toHaveLength(3);
    await waitFor(
      async () => (await count(`select count(*)::int as n from enrollments where sequence_id = $1 and status = 'waiting'`, [sequence.body.id])) === 3,
      'all three enrollments waiting at the branch',
      30_000,
    );
    for (const leadId of leadIds) {
      // Asleep: the next look of its own is a week (bounded by ten minutes) away.
      await waitFor(() => runtime.engine.dispatcher.asleep, 'the dispatcher asleep', 30_000);
      expect((await call('POST', '/api/events', { leadId, type: 'custom.demo_booked' })).status).toBe(201);
      await waitFor(
        async () => (await count(`select count(*)::int as n from sequence_executions where lead_id = $1 and step_id = 'booked' and status = 'succeeded'`, [leadId])) === 1,
        'the branch to take then (60 s, a tenth of the idle sleep)',
        60_000,
      );
    }
    await waitFor(
      async () => (await count(`select count(*)::int as n from enrollments where sequence_id = $1 and status = 'completed'`, [sequence.body.id])) === 3,
      'all three enrollments completed',
      60_000,
    );
  }, 120_000);
});
