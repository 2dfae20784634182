import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { createEngine } from '../../src/engine/engine.ts';
import { applyStepEnds } from '../../src/db/stepEnds.ts';
import { applyOperatorAction } from '../../src/engine/controls.ts';
import type { Db } from '../../src/db/db.ts';
import { addSuppression } from '../../src/db/events.ts';
import { lockLiveEnrollmentsOfLead } from '../../src/db/enrollmentChanges.ts';
import { writeIntents } from '../../src/db/executions.ts';
import { ALWAYS_OPEN, NO_QUIET_HOURS, createEngineKit, lead, statusCounts, type EngineKit } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();

const fourSteps = {
  name: 'Four steps',
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello from us' },
    { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName }}' },
    { id: 'call', type: 'voice', script: 'Hello {{ lead.firstName }}' },
    { id: 'bye', type: 'email', subject: 'Bye', body: 'Bye {{ lead.firstName | default: "there" }}' },
  ],
} as const;

describe.each(kinds)('engine on %s', (kind) => {
  let database: TestDatabase;
  let kit: EngineKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('runs 1,000 leads through a 4-step sequence: exactly 4,000 executions, one send each', async () => {
    kit = await createEngineKit(database.db, { workspace: `bulk-${kind}` });
    const leadIds = await kit.addLeads(Array.from({ length: 1000 }, (_, i) => lead(i)));
    const sequenceId = await kit.addSequence(fourSteps);
    await kit.enrollAll(sequenceId, leadIds);
    await kit.engine.dispatcher.drain();

    const [executions] = await kit.db.query<{ n: number; keys: number }>(
      `select count(*)::int as n, count(distinct idempotency_key)::int as keys from sequence_executions
       where sequence_id = $1 and status = 'succeeded'`,
      [sequenceId],
    );
    expect(executions).toEqual({ n: 4000, keys: 4000 });
    expect(kit.mock.sends).toHaveLength(4000);
    expect(new Set(kit.mock.sends.map((s) => s.idempotencyKey)).size).toBe(4000);
    const [done] = await kit.db.query<{ n: number }>(
      `select count(*)::int as n from enrollments where sequence_id = $1 and status = 'completed'`,
      [sequenceId],
    );
    expect(done!.n).toBe(1000);
  }, 300_000); // 4,000 real steps; generous so a loaded CI machine cannot flake it

  it('never sends twice after a crash between intent and outcome', async () => {
    kit = await createEngineKit(database.db, { workspace: `crash-${kind}`, leaseMs: 30_000 });
    const [leadId] = await kit.addLeads([lead(1)]);
    const sequenceId = await kit.addSequence(fourSteps);
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);

    // The worker "dies" inside the adapter call: the provider got the message, and the call
    // never returns, so no outcome is ever written. A second worker takes over after the lease.
    const adapters = kit.engine.deps.adapters;
    const original = adapters.email.send.bind(adapters.email);
    let delivered!: () => void;
    const providerGotIt = new Promise<void>((resolve) => (delivered = resolve));
    adapters.email.send = async (message) => {
      await original(message);
      delivered();
      return new Promise(() => undefined);
    };
    void kit.engine.dispatcher.tick();
    await providerGotIt;

    // A provider that cannot say what it accepted (no ledger): the outcome stays unknown.
    const survivor = createEngine({ ...kit.engine.deps, adapters: { ...adapters, ledger: undefined, email: { adapter: 'mock', send: original } } });
    expect(await survivor.dispatcher.drain()).toBe(0); // still leased: nothing due yet
    kit.clock.advance(31_000);
    await survivor.dispatcher.drain();

    const executions = await kit.db.query<{ stepId: string; status: string }>(
      `select step_id as "stepId", status from sequence_executions where enrollment_id = $1 order by started_at, visit`,
      [enrollmentId],
    );
    expect(executions).toEqual([
      { stepId: 'intro', status: 'unknown' },
      { stepId: 'text', status: 'succeeded' },
      { stepId: 'call', status: 'succeeded' },
      { stepId: 'bye', status: 'succeeded' },
    ]);
    expect(kit.mock.sends.filter((s) => s.channel === 'email' && s.payload.subject === 'Hi Lee1')).toHaveLength(1);

    // The provider's delivery webhook names our execution: the unknown send is reconciled.
    const [unknown] = await kit.db.query<{ id: string }>(
      `select id from sequence_executions where enrollment_id = $1 and step_id = 'intro'`,
      [enrollmentId],
    );
    await kit.engine.ingest({ type: 'email.delivered', provider: 'sendgrid', providerEventId: `late-${kind}`, occurredAt: kit.clock.now(), executionId: unknown!.id, data: {} });
    const [reconciled] = await kit.db.query<{ status: string }>('select status from sequence_executions where id = $1', [unknown!.id]);
    expect(reconciled!.status).toBe('succeeded');
  });

  it('asks a provider that keeps a ledger after a crash: what it got is recorded, what it never got is sent once', async () => {
    kit = await createEngineKit(database.db, { workspace: `ledger-${kind}`, leaseMs: 30_000 });
    const [got, lost] = await kit.addLeads([lead(11), lead(12)]);
    const sequenceId = await kit.addSequence({ ...fourSteps, steps: fourSteps.steps.slice(0, 1) });
    await kit.enrollAll(sequenceId, [got!, lost!]);
    const adapters = kit.engine.deps.adapters;
    const original = adapters.email.send.bind(adapters.email);
    let hung = 0;
    let bothHung!: () => void;
    const hanging = new Promise<void>((resolve) => (bothHung = resolve));
    adapters.email.send = async (message) => {
      // lead11's provider got the message, lead12's never did; both workers die mid-call.
      if (message.to === 'lead11@acme.test') await original(message);
      if (++hung === 2) bothHung();
      return new Promise(() => undefined);
    };
    void kit.engine.dispatcher.tick();
    await hanging;

    const survivor = createEngine({ ...kit.engine.deps, adapters: { ...adapters, email: { adapter: 'mock', send: original } } });
    kit.clock.advance(31_000);
    await survivor.dispatcher.drain();
    const rows = await kit.db.query<{ to: string; status: string; attempts: number }>(
      `select l.email as "to", x.status, x.attempts from sequence_executions x join leads l on l.id = x.lead_id
       where x.sequence_id = $1 order by l.email`,
      [sequenceId],
    );
    expect(rows).toEqual([
      { to: 'lead11@acme.test', status: 'succeeded', attempts: 1 },
      { to: 'lead12@acme.test', status: 'succeeded', attempts: 2 },
    ]);
    expect(kit.mock.sends.map((s) => s.recipient).sort()).toEqual(['lead11@acme.test', 'lead12@acme.test']);
  });

  it("does not trust a ledger's \"not sent\" while the interrupted call's deadline has not passed; after it, resends once", async () => {
    kit = await createEngineKit(database.db, { workspace: `fence-${kind}`, leaseMs: 30_000 });
    const [leadId] = await kit.addLeads([lead(13)]);
    const sequenceId = await kit.addSequence({ ...fourSteps, steps: fourSteps.steps.slice(0, 1) });
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    const adapters = kit.engine.deps.adapters;
    const original = adapters.email.send.bind(adapters.email);
    let deadline: Date | undefined;
    let called!: () => void;
    const inFlight = new Promise<void>((resolve) => (called = resolve));
    adapters.email.send = async (message) => {
      // The first worker's call is still on its way to the provider: it has not got it yet.
      deadline = message.deadline;
      called();
      return new Promise(() => undefined);
    };
    const claimedAt = kit.clock.now().getTime();
    void kit.engine.dispatcher.tick();
    await inFlight;
    // Every call is fenced: it must end a margin before the lease (30 s from the claim) does.
    expect(deadline!.getTime()).toBeLessThan(claimedAt + 30_000);
    expect(deadline!.getTime()).toBeGreaterThan(claimedAt);

    // The enrollment comes due again while that call may still deliver (a lease let go early).
    await kit.db.query('update enrollments set lease_id = null, next_execution_at = $2 where id = $1', [enrollmentId, kit.clock.now()]);
    const survivor = createEngine({ ...kit.engine.deps, adapters: { ...adapters, email: { adapter: 'mock', send: original } } });
    kit.clock.advance(1_000);
    await survivor.dispatcher.drain();
    const before = await kit.db.query<{ status: string; attempts: number }>('select status, attempts from sequence_executions where enrollment_id = $1', [enrollmentId]);
    expect(before).toEqual([{ status: 'started', attempts: 1 }]); // the ledger said "not sent", but it is not trusted yet
    expect(kit.mock.sends).toHaveLength(0);
    const [due] = await kit.db.query<{ at: Date }>('select next_execution_at as at from enrollments where id = $1', [enrollmentId]);
    expect(due!.at.getTime()).toBe(deadline!.getTime() + 1); // re-checked just after the deadline

    kit.clock.set(new Date(deadline!.getTime() + 1));
    await survivor.dispatcher.drain();
    const after = await kit.db.query<{ status: string; attempts: number }>('select status, attempts from sequence_executions where enrollment_id = $1', [enrollmentId]);
    expect(after).toEqual([{ status: 'succeeded', attempts: 2 }]);
    expect(kit.mock.sends.map((s) => s.recipient)).toEqual(['lead13@acme.test']);
  });

  it('an adapter that throws leaves the send unknown and never resends it', async () => {
    kit = await createEngineKit(database.db, { workspace: `throw-${kind}` });
    const [leadId] = await kit.addLeads([lead(8)]);
    const sequenceId = await kit.addSequence({ ...fourSteps, onUnknownDelivery: 'pause' });
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    const adapters = kit.engine.deps.adapters;
    adapters.email.send = async () => {
      throw new Error('socket hang up');
    };
    await kit.engine.dispatcher.drain();
    kit.clock.advance(86_400_000);
    await kit.engine.dispatcher.drain();
    const [row] = await kit.db.query<{ status: string; statusReason: string }>(
      `select status, status_reason as "statusReason" from enrollments where id = $1`,
      [enrollmentId],
    );
    expect(row).toEqual({ status: 'paused', statusReason: 'unknown_delivery' });
    const executions = await kit.db.query<{ status: string }>('select status from sequence_executions where enrollment_id = $1', [
      enrollmentId,
    ]);
    expect(executions).toEqual([{ status: 'unknown' }]);
  });

  it('a timeout after the request may have reached the provider is an unknown delivery, never retried', async () => {
    kit = await createEngineKit(database.db, { workspace: `maysend-${kind}` });
    const [leadId] = await kit.addLeads([lead(9)]);
    const sequenceId = await kit.addSequence({ ...fourSteps, onUnknownDelivery: 'pause', maxAttempts: 3 });
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    kit.mock.failNext({ retryable: true, code: 'timeout', message: 'SendGrid did not answer within 10000 ms.', mayHaveSent: true }, { channel: 'email' });
    await kit.engine.dispatcher.drain();
    kit.clock.advance(86_400_000);
    await kit.engine.dispatcher.drain();
    const [row] = await kit.db.query<{ status: string; statusReason: string }>(
      `select status, status_reason as "statusReason" from enrollments where id = $1`,
      [enrollmentId],
    );
    expect(row).toEqual({ status: 'paused', statusReason: 'unknown_delivery' });
    const executions = await kit.db.query<{ status: string; attempts: number; errorCode: string }>(
      'select status, attempts, error_code as "errorCode" from sequence_executions where enrollment_id = $1',
      [enrollmentId],
    );
    expect(executions).toEqual([{ status: 'unknown', attempts: 1, errorCode: 'timeout' }]);
    expect(kit.mock.sends).toHaveLength(0);
  });

  it("a stalled worker's late answer for an earlier attempt does not overwrite a later attempt's outcome", async () => {
    kit = await createEngineKit(database.db, { workspace: `stale-answer-${kind}` });
    const [leadId] = await kit.addLeads([lead(10)]);
    const sequenceId = await kit.addSequence(fourSteps);
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    await kit.engine.dispatcher.drain();
    const [first] = await kit.db.query<{ id: string }>(`select id from sequence_executions where enrollment_id = $1 and step_id = 'intro'`, [enrollmentId]);
    // The row is on its second attempt (another worker took the visit over); the first
    // attempt's worker now writes its answer with the lease it no longer holds.
    await kit.db.query(`update sequence_executions set status = 'unknown', attempts = 2 where id = $1`, [first!.id]);
    await applyStepEnds(kit.db, [
      {
        enrollmentId: enrollmentId!,
        leaseId: '00000000-0000-4000-8000-000000000000',
        now: kit.clock.now(),
        execution: { kind: 'complete', id: first!.id, attempt: 1, status: 'retry_scheduled', errorCode: 'lease_expiring', errorMessage: 'late' },
        transition: { kind: 'reschedule', at: kit.clock.now() },
      },
    ]);
    const [after] = await kit.db.query<{ status: string }>('select status from sequence_executions where id = $1', [first!.id]);
    expect(after!.status).toBe('unknown');
  });

  it('skip waits until the step\'s send is settled: a started row is never left behind a live enrollment that moved on', async () => {
    kit = await createEngineKit(database.db, { workspace: `skip-in-flight-${kind}` });
    const [leadId] = await kit.addLeads([lead(14)]);
    const sequenceId = await kit.addSequence(fourSteps);
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    const adapters = kit.engine.deps.adapters;
    let called!: () => void;
    const inFlight = new Promise<void>((resolve) => (called = resolve));
    // A worker of its own whose call is on its way and never answers (as if it died there).
    const stalled = createEngine({
      ...kit.engine.deps,
      adapters: { ...adapters, email: { adapter: 'mock', send: async () => (called(), new Promise(() => undefined)) } },
    });
    void stalled.dispatcher.tick();
    await inFlight;

    // The control itself, without waking any dispatcher: nothing else runs meanwhile.
    const controls = { db: kit.db, clock: kit.clock, wake: () => undefined };
    const refused = await applyOperatorAction(controls, { enrollmentId: enrollmentId!, action: 'skip', actor: 'test' });
    expect(refused).toMatchObject({ ok: false, code: 'conflict' });
    expect(refused.ok ? '' : refused.message).toContain('Cannot skip step intro yet');
    const [still] = await kit.db.query<{ step: string; status: string }>(
      `select e.current_step_id as step, x.status from enrollments e join sequence_executions x on x.enrollment_id = e.id where e.id = $1`,
      [enrollmentId],
    );
    expect(still).toEqual({ step: 'intro', status: 'started' });

    // Once the send is settled (here: its answer recorded), the skip goes through.
    await kit.db.query(`update sequence_executions set status = 'succeeded', completed_at = now() where enrollment_id = $1`, [enrollmentId]);
    const skipped = await applyOperatorAction(controls, { enrollmentId: enrollmentId!, action: 'skip', actor: 'test' });
    expect(skipped.ok && skipped.enrollment.currentStepId).toBe('text');
    // Leave nothing due behind for the tests that follow (their workers claim across workspaces).
    await kit.engine.act({ enrollmentId: enrollmentId!, action: 'cancel', actor: 'test' });
  });

  it('an opt-out acknowledged after the step was decided, before its intent, stops the send', async () => {
    kit = await createEngineKit(database.db, { workspace: `late-opt-out-${kind}`, leaseMs: 30_000 });
    const [leadId] = await kit.addLeads([lead(71)]);
    const sequenceId = await kit.addSequence({
      name: 'mail then text',
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      exitOn: ['email.replied'],
      steps: [
        { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' },
        { id: 'text', type: 'sms', text: 'Hi' },
      ],
    });
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    // A worker whose port lets the unsubscribe in right before the intent: the context it
    // decided on was read before the suppression existed (docs/SIMULATION.md, Findings 7).
    let acknowledged = false;
    const base = kit.db;
    const racing: Db = {
      kind: base.kind,
      query: async (sql, params) => {
        if (!acknowledged && sql.includes('engine_write_intents')) {
          acknowledged = true;
          const answer = await kit.engine.ingest({
            type: 'email.unsubscribed', provider: 'sendgrid', providerEventId: `late-opt-out-${kind}`, occurredAt: kit.clock.now(),
            address: { channel: 'email', value: lead(71).email! }, suppress: true, data: {},
          });
          expect(answer.status).toBe('recorded');
        }
        return base.query(sql, params);
      },
      transaction: (fn) => base.transaction(fn),
      exec: (sql) => base.exec(sql),
      withAdvisoryLock: (key, fn) => base.withAdvisoryLock(key, fn),
      close: async () => undefined,
    };
    const worker = createEngine({ ...kit.engine.deps, db: racing });
    await worker.dispatcher.drain();
    expect(acknowledged).toBe(true);
    expect(kit.mock.sends).toEqual([]);
    // Once its lease is over, the step is decided again: skipped as suppressed; the text goes.
    kit.clock.advance(31_000);
    await kit.engine.dispatcher.drain();
    const rows = await kit.db.query<{ stepId: string; status: string; reason: string | null }>(
      `select step_id as "stepId", status, metadata->>'reason' as reason from sequence_executions where enrollment_id = $1 order by started_at, step_id`,
      [enrollmentId],
    );
    expect(rows).toEqual([
      { stepId: 'intro', status: 'skipped', reason: 'suppressed' },
      { stepId: 'text', status: 'succeeded', reason: null },
    ]);
    expect(kit.mock.sends.map((s) => `${s.recipient}:${s.channel}`)).toEqual([`${lead(71).phone}:sms`]);
  });

  it.skipIf(kind !== 'postgres')('an intent that waited for an opt-out\'s row lock sees the suppression it committed', async () => {
    kit = await createEngineKit(database.db, { workspace: `opt-out-lock-${kind}` });
    const [leadId] = await kit.addLeads([lead(72)]);
    const sequenceId = await kit.addSequence({ ...fourSteps, steps: fourSteps.steps.slice(0, 1) });
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    const leaseId = '00000000-0000-4000-8000-000000000072';
    await kit.db.query(`update enrollments set lease_id = $2, next_execution_at = $3 where id = $1`, [enrollmentId, leaseId, new Date(kit.clock.now().getTime() + 60_000)]);
    const [row] = await kit.db.query<{ stepSeq: number }>(
      `select step_seq as "stepSeq" from enrollments where id = $1`,
      [enrollmentId],
    );
    let commit!: () => void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    // The ingest's order (src/engine/ingest.ts): the suppression first, then the lead's live
    // enrollments locked; the transaction stays open while the intent waits for that lock.
    const optOut = kit.db.transaction(async (tx) => {
      await addSuppression(tx, { workspaceId: 'account', channel: 'email', address: lead(72).email!, reason: 'email.unsubscribed', source: 'sendgrid' });
      await lockLiveEnrollmentsOfLead(tx, leadId!);
      locked();
      await committing;
    });
    await holding;
    const intent = writeIntents(kit.db, [
      {
        identity: { workspaceId: kit.workspaceId, enrollmentId: enrollmentId!, leadId: leadId!, sequenceId, stepId: 'intro', stepType: 'email', channel: 'email', visit: row!.stepSeq },
        leaseId,
        adapter: 'mock',
        recipient: lead(72).email!,
        rendered: { subject: 'Hi' },
        now: kit.clock.now(),
      },
    ]);
    await waitFor(async () => {
      const [waiting] = await kit.db.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%engine_write_intents%'`,
      );
      return waiting!.n > 0 ? true : undefined;
    }, 'the intent to wait for the row lock');
    commit();
    await optOut;
    expect([...(await intent).keys()]).toEqual([]);
    // Leave nothing due behind for the tests that follow (their workers claim across workspaces).
    await kit.engine.act({ enrollmentId: enrollmentId!, action: 'cancel', actor: 'test' });
  });

  it('pause during a running step lets it finish and runs nothing more; resume continues', async () => {
    kit = await createEngineKit(database.db, { workspace: `pause-${kind}` });
    const [leadId] = await kit.addLeads([lead(2)]);
    const sequenceId = await kit.addSequence(fourSteps);
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);

    const adapters = kit.engine.deps.adapters;
    const original = adapters.email.send.bind(adapters.email);
    let pauseDone: Promise<unknown> | undefined;
    adapters.email.send = async (message) => {
      // The operator pauses while the provider call is in flight.
      pauseDone ??= kit.engine.act({ enrollmentId: enrollmentId!, action: 'pause', actor: 'test' });
      return original(message);
    };
    await kit.engine.dispatcher.drain();
    const paused = await pauseDone;
    expect(paused).toMatchObject({ ok: true, enrollment: { status: 'paused' } });
    expect(kit.mock.sends).toHaveLength(1);
    const [row] = await kit.db.query<{ status: string; currentStepId: string }>(
      `select status, current_step_id as "currentStepId" from enrollments where id = $1`,
      [enrollmentId],
    );
    expect(row).toEqual({ status: 'paused', currentStepId: 'text' });

    kit.clock.advance(3_600_000);
    expect(await kit.engine.dispatcher.drain()).toBe(0);
    expect(kit.mock.sends).toHaveLength(1);

    adapters.email.send = original;
    await expect(kit.engine.act({ enrollmentId: enrollmentId!, action: 'resume', actor: 'test' })).resolves.toMatchObject({ ok: true });
    await kit.engine.dispatcher.drain();
    expect(kit.mock.sends.map((s) => s.channel)).toEqual(['email', 'sms', 'voice', 'email']);
  });

  it('cancel is final, even when the dispatcher had already claimed the enrollment', async () => {
    kit = await createEngineKit(database.db, { workspace: `cancel-${kind}` });
    const [leadId] = await kit.addLeads([lead(3)]);
    const sequenceId = await kit.addSequence(fourSteps);
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);

    const adapters = kit.engine.deps.adapters;
    const original = adapters.sms.send.bind(adapters.sms);
    let cancelled: Promise<{ ok: boolean }> | undefined;
    adapters.sms.send = async (message) => {
      // Cancel lands while the SMS is at the provider: that send completes, nothing after it,
      // and the cancel answers only once the in-flight send is recorded.
      cancelled = kit.engine.act({ enrollmentId: enrollmentId!, action: 'cancel', actor: 'test', reason: 'asked' });
      await waitFor(async () => {
        const [r] = await kit.db.query<{ status: string }>('select status from enrollments where id = $1', [enrollmentId]);
        return r?.status === 'cancelled';
      }, 'the cancel to commit');
      return original(message);
    };
    await kit.engine.dispatcher.drain();
    await expect(cancelled).resolves.toMatchObject({ ok: true });
    kit.clock.advance(86_400_000);
    await kit.engine.dispatcher.drain();
    expect(kit.mock.sends.map((s) => s.channel)).toEqual(['email', 'sms']);
    const [row] = await kit.db.query<{ status: string }>('select status from enrollments where id = $1', [enrollmentId]);
    expect(row!.status).toBe('cancelled');
    const again = await kit.engine.act({ enrollmentId: enrollmentId!, action: 'resume', actor: 'test' });
    expect(again).toMatchObject({ ok: false, code: 'conflict' });
  });

  it('retries retryable failures with backoff and gives up on permanent ones', async () => {
    kit = await createEngineKit(database.db, { workspace: `retry-${kind}` });
    const [leadId] = await kit.addLeads([lead(4)]);
    const sequenceId = await kit.addSequence(fourSteps);
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    kit.mock.failNext({ retryable: true, code: '503' }, { channel: 'email', times: 2 });
    kit.mock.failNext({ retryable: false, code: '40300' }, { channel: 'sms' });

    await kit.engine.dispatcher.drain();
    expect(kit.mock.sends).toHaveLength(0);
    kit.clock.advance(60_000);
    await kit.engine.dispatcher.drain();
    expect(kit.mock.sends).toHaveLength(0);
    kit.clock.advance(10 * 60_000);
    await kit.engine.dispatcher.drain();

    const executions = await kit.db.query<{ stepId: string; status: string; attempts: number; errorCode: string | null }>(
      `select step_id as "stepId", status, attempts, error_code as "errorCode" from sequence_executions
       where enrollment_id = $1 order by started_at, visit`,
      [enrollmentId],
    );
    expect(executions).toEqual([
      { stepId: 'intro', status: 'succeeded', attempts: 3, errorCode: null },
      { stepId: 'text', status: 'failed', attempts: 1, errorCode: '40300' },
      { stepId: 'call', status: 'succeeded', attempts: 1, errorCode: null },
      { stepId: 'bye', status: 'succeeded', attempts: 1, errorCode: null },
    ]);
  });

  it('an SMS STOP suppresses the number: later SMS steps are skipped, and the exit rule fires where listed', async () => {
    kit = await createEngineKit(database.db, { workspace: `stop-${kind}` });
    const [a, b] = await kit.addLeads([lead(9), lead(10)]);
    const base = {
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      steps: [
        { id: 'first', type: 'sms', text: 'Hi' },
        { id: 'wait', type: 'wait', duration: 'P1D' },
        { id: 'second', type: 'sms', text: 'Again' },
        { id: 'mail', type: 'email', subject: 'Hi', body: 'x' },
      ],
    };
    const keepsGoing = await kit.addSequence({ ...base, name: 'no exit on STOP', exitOn: ['email.replied'] });
    const exits = await kit.addSequence({ ...base, name: 'exit on STOP' });
    const [ea] = await kit.enrollAll(keepsGoing, [a!]);
    const [eb] = await kit.enrollAll(exits, [b!]);
    await kit.engine.dispatcher.drain();
    for (const [n, leadNo] of [[1, 9], [2, 10]] as const) {
      const phone = lead(leadNo).phone!;
      await kit.engine.ingest({
        type: 'sms.opted_out', provider: 'telnyx', providerEventId: `stop-${kind}-${n}`, occurredAt: kit.clock.now(),
        address: { channel: 'sms', value: phone }, suppress: true, data: { text: 'STOP' },
      });
    }
    kit.clock.advance(2 * 86_400_000);
    await kit.engine.dispatcher.drain();
    const statuses = await kit.db.query<{ id: string; status: string; statusReason: string | null }>(
      `select id, status, status_reason as "statusReason" from enrollments where id = any($1::uuid[])`, [[ea, eb]]);
    expect(statuses.find((r) => r.id === ea)).toMatchObject({ status: 'completed' });
    expect(statuses.find((r) => r.id === eb)).toMatchObject({ status: 'exited', statusReason: 'opted_out' });
    const second = await kit.db.query<{ status: string; metadata: { reason?: string } }>(
      `select status, metadata from sequence_executions where enrollment_id = $1 and step_id = 'second'`, [ea]);
    expect(second).toEqual([{ status: 'skipped', metadata: { reason: 'suppressed' } }]);
    expect(kit.mock.sends.map((s) => `${s.recipient}:${s.channel}`).sort()).toEqual([
      `${lead(9).phone}:sms`, `${lead(10).phone}:sms`, 'lead9@acme.test:email',
    ]);
  });

  it('a branch waits for its event and is woken at once when it arrives', async () => {
    kit = await createEngineKit(database.db, { workspace: `branch-${kind}` });
    const [leadId] = await kit.addLeads([lead(5)]);
    const sequenceId = await kit.addSequence({
      name: 'Branchy',
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      exitOn: ['email.replied'],
      steps: [
        { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' },
        { id: 'opened', type: 'branch', when: { event: 'email.opened', step: 'intro' }, within: 'P2D', then: 'call', else: 'nudge' },
        { id: 'call', type: 'voice', script: 'Hello', next: 'done' },
        { id: 'nudge', type: 'sms', text: 'Nudge' },
        { id: 'done', type: 'end' },
      ],
    });
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    await kit.engine.dispatcher.drain();
    const [waiting] = await kit.db.query<{ status: string; waitingFor: string }>(
      `select status, waiting_for as "waitingFor" from enrollments where id = $1`,
      [enrollmentId],
    );
    expect(waiting).toEqual({ status: 'waiting', waitingFor: 'branch' });

    kit.clock.advance(3_600_000);
    const sent = kit.mock.sends[0]!;
    const ingest = await kit.engine.ingest({
      type: 'email.opened',
      provider: 'sendgrid',
      providerEventId: 'sg-open-1',
      occurredAt: kit.clock.now(),
      providerMessageId: sent.providerMessageId,
      data: {},
    });
    expect(ingest.status).toBe('recorded');
    // The same webhook again is one event.
    await expect(
      kit.engine.ingest({ type: 'email.opened', provider: 'sendgrid', providerEventId: 'sg-open-1', occurredAt: kit.clock.now(), providerMessageId: sent.providerMessageId, data: {} }),
    ).resolves.toEqual({ status: 'duplicate' });
    await kit.engine.dispatcher.drain();
    expect(kit.mock.sends.map((s) => s.channel)).toEqual(['email', 'voice']);
    expect(await statusCounts(kit.db)).toMatchObject({ completed: expect.any(Number) });
  });

  it('a branch times out to else; a reply exits; a task blocks until an outcome', async () => {
    kit = await createEngineKit(database.db, { workspace: `task-${kind}` });
    const [a, b] = await kit.addLeads([lead(6), lead(7)]);
    const sequenceId = await kit.addSequence({
      name: 'Tasks',
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      steps: [
        { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' },
        { id: 'opened', type: 'branch', when: { event: 'email.opened' }, within: 'PT4H', then: 'done', else: 'linkedin' },
        { id: 'linkedin', type: 'task', title: 'Connect on LinkedIn', routes: { skipped: 'done' } },
        { id: 'nudge', type: 'sms', text: 'Nudge' },
        { id: 'done', type: 'end' },
      ],
    });
    const [ea, eb] = await kit.enrollAll(sequenceId, [a!, b!]);
    await kit.engine.dispatcher.drain();
    // Lead b replies: it exits at once, whatever it was waiting for.
    const replyTo = kit.mock.sends.find((s) => s.recipient === 'lead7@acme.test')!;
    await kit.engine.ingest({ type: 'email.replied', provider: 'postmark', providerEventId: 'r1', occurredAt: kit.clock.now(), providerMessageId: replyTo.providerMessageId, data: {} });

    kit.clock.advance(4 * 3_600_000 + 1000);
    await kit.engine.dispatcher.drain();
    const rows = await kit.db.query<{ id: string; status: string; waitingFor: string | null; statusReason: string | null }>(
      `select id, status, waiting_for as "waitingFor", status_reason as "statusReason" from enrollments where id = any($1::uuid[])`,
      [[ea, eb]],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(ea!)).toMatchObject({ status: 'waiting', waitingFor: 'task' });
    expect(byId.get(eb!)).toMatchObject({ status: 'exited', statusReason: 'replied' });

    kit.clock.advance(86_400_000);
    expect(await kit.engine.dispatcher.drain()).toBe(0);
    await kit.engine.recordOutcome({ enrollmentId: ea!, outcome: 'done', actor: 'test' });
    await kit.engine.dispatcher.drain();
    expect(kit.mock.sends.filter((s) => s.recipient === '+15551000006').map((s) => s.channel)).toEqual(['sms']);
    const [after] = await kit.db.query<{ status: string }>('select status from enrollments where id = $1', [ea]);
    expect(after!.status).toBe('completed');
  });

  it('a running loop takes what comes due into the batch at the next round, not after the batch', async () => {
    kit = await createEngineKit(database.db, { workspace: `rolling-${kind}` });
    const leadIds = await kit.addLeads(Array.from({ length: 21 }, (_, i) => lead(500 + i)));
    const sequenceId = await kit.addSequence(fourSteps);
    // Twenty enrollments take four rounds of steps; a late one is enrolled once the first send went out.
    await kit.enrollAll(sequenceId, leadIds.slice(0, 20));
    let late: Promise<string[]> | undefined;
    const sendEmail = kit.mock.adapters().email.send;
    kit.engine.deps.adapters.email.send = async (message) => {
      late ??= kit.enrollAll(sequenceId, [leadIds[20]!]);
      await late;
      return sendEmail(message);
    };
    kit.engine.dispatcher.start();
    try {
      const completed = async () =>
        (await kit.db.query<{ n: number }>(`select count(*)::int as n from enrollments where sequence_id = $1 and status = 'completed'`, [sequenceId]))[0]!.n;
      await waitFor(async () => (await completed()) === 21, 'all 21 enrollments to complete', 60_000);
    } finally {
      await kit.engine.dispatcher.stop();
    }
    const lateId = (await late!)[0]!;
    expect(kit.mock.sends).toHaveLength(21 * 4);
    expect(kit.mock.sends.filter((s) => s.idempotencyKey.startsWith(lateId)).map((s) => s.channel)).toEqual(['email', 'sms', 'voice', 'email']);
    // The late one's first send went out in the batch's second round: before the twenty's last steps.
    const lateFirst = kit.mock.sends.findIndex((s) => s.idempotencyKey.startsWith(`${lateId}:intro:`));
    const twentyLast = kit.mock.sends.findIndex((s) => s.idempotencyKey.includes(':bye:'));
    expect(lateFirst).toBeLessThan(twentyLast);
  });
});
