/**
 * One bad enrollment never holds up another (issue 14). A step that throws every time fails
 * its own enrollment only: the rest of the claimed batch — other workspaces' enrollments
 * included — completes in the same drain; the bad one is retried with backoff, counted, and
 * after MAX_CONSECUTIVE_FAILURES attempts it is `failed` with the error on its timeline, until
 * an operator retries it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timelinePage } from '../../src/db/timeline.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, NO_QUIET_HOURS, createEngineKit, lead, type EngineKit } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();

const twoSends = {
  name: 'Two sends',
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello' },
    { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName }}' },
  ],
} as const;

const waitThenSend = {
  name: 'Wait, then send',
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  steps: [
    { id: 'pause', type: 'wait', duration: 'P1D' },
    { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' },
  ],
} as const;

interface Row {
  status: string;
  statusReason: string | null;
  failures: number;
  nextAt: Date | null;
  stepId: string | null;
}

describe.each(kinds)('poison enrollments on %s', (kind) => {
  let database: TestDatabase;
  let n = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  const row = async (kit: EngineKit, id: string): Promise<Row> => {
    const [r] = await kit.db.query<Row>(
      `select status, status_reason as "statusReason", consecutive_failures as failures, next_execution_at as "nextAt",
         current_step_id as "stepId" from enrollments where id = $1`,
      [id],
    );
    return r!;
  };

  /** Moves the clock to the enrollment's next attempt and drains. */
  const nextAttempt = async (kit: EngineKit, id: string) => {
    const { nextAt } = await row(kit, id);
    expect(nextAt, 'a failed attempt is rescheduled, not dropped').not.toBeNull();
    kit.clock.set(nextAt!);
    await kit.engine.dispatcher.drain();
  };

  async function kits(tag: string): Promise<[EngineKit, EngineKit]> {
    const a = await createEngineKit(database.db, { workspace: `${tag}-a-${kind}` });
    const b = await createEngineKit(database.db, { workspace: `${tag}-b-${kind}` });
    return [a, b];
  }

  it('a step that throws fails alone: the batch (and another workspace) completes, the bad one is failed after exactly 5 attempts, retry puts it back', async () => {
    const [a, b] = await kits('poison');
    const failed: string[] = [];
    a.engine.deps.observer = { enrollmentFailed: (reason) => failed.push(reason) };
    // A definition the API (and enroll) would refuse, written straight into the store once the
    // lead is enrolled, as a version stored before today's rules: the wait overflows.
    const poisonSequence = await a.addSequence(waitThenSend);
    const [poisonLead] = await a.addLeads([lead(n++)]);
    const [poison] = await a.enrollAll(poisonSequence, [poisonLead!]);
    await a.db.query(
      `insert into sequence_versions (sequence_id, version, definition)
       select sequence_id, version + 1, jsonb_set(definition, '{steps,0,duration}', '"P999999Y"') from sequence_versions where sequence_id = $1`,
      [poisonSequence],
    );
    await a.db.query('update enrollments set sequence_version = sequence_version + 1 where id = $1', [poison]);
    const healthyA = await a.enrollAll(await a.addSequence(twoSends), await a.addLeads([lead(n++), lead(n++), lead(n++)]));
    const healthyB = await b.enrollAll(await b.addSequence(twoSends), await b.addLeads([lead(n++), lead(n++), lead(n++)]));

    await a.engine.dispatcher.drain();
    for (const id of [...healthyA, ...healthyB]) expect((await row(a, id)).status, 'a healthy enrollment of the batch').toBe('completed');
    expect(a.mock.sends).toHaveLength(12);
    let state = await row(a, poison!);
    expect(state).toMatchObject({ status: 'active', failures: 1, stepId: 'pause' });
    // Not hammered: the next attempt is seconds away, not at once.
    expect(state.nextAt!.getTime() - a.clock.now().getTime()).toBeGreaterThanOrEqual(2_000);

    const gaps: number[] = [];
    for (let attempt = 2; attempt <= 5; attempt++) {
      const before = a.clock.now().getTime();
      await nextAttempt(a, poison!);
      gaps.push(a.clock.now().getTime() - before);
      state = await row(a, poison!);
      if (attempt < 5) expect(state, `after attempt ${attempt}`).toMatchObject({ status: 'active', failures: attempt });
    }
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!); // exponential backoff between attempts
    expect(state).toMatchObject({ status: 'failed', failures: 5, nextAt: null });
    expect(state.statusReason).toMatch(/Invalid time value/);
    expect(failed).toEqual(['step_error']);

    // The error is on the lead's timeline, as the audit row of the change to failed.
    const timeline = await timelinePage(a.db, { workspaceId: a.workspaceId, leadId: poisonLead!, kinds: ['change'], limit: 20 });
    const change = timeline.find((t) => (t.data as { to?: string }).to === 'failed');
    expect(change?.data).toMatchObject({ action: 'fail', from: 'active', to: 'failed' });
    expect((change!.data as { reason: string }).reason).toMatch(/pause.*Invalid time value/);

    // Retry: only from failed; back to active on the same step, due now, counter reset.
    expect((await a.engine.act({ enrollmentId: healthyA[0]!, action: 'retry', actor: 'op' })).ok).toBe(false);
    const retried = await a.engine.act({ enrollmentId: poison!, action: 'retry', actor: 'op', reason: 'after the fix' });
    expect(retried.ok).toBe(true);
    state = await row(a, poison!);
    expect(state).toMatchObject({ status: 'active', failures: 0, stepId: 'pause' });
    expect(state.nextAt!.getTime()).toBe(a.clock.now().getTime());
    await a.engine.dispatcher.drain();
    expect(await row(a, poison!)).toMatchObject({ status: 'active', failures: 1 }); // still broken: counts from one again
  });

  /** An AI writer whose drafts the store refuses (a NUL character) until `fixed`. */
  const badWriter = () => {
    const writer = {
      fixed: false,
      name: 'flaky',
      async draft() {
        return { kind: 'drafted' as const, text: writer.fixed ? 'Hello there' : 'Hello\u0000there', model: 'test' };
      },
    };
    return writer;
  };
  const drafted = {
    ...twoSends,
    name: 'Drafted',
    steps: [{ ...twoSends.steps[0], useAiWriter: true }, twoSends.steps[1]],
  };

  it('a failure that an operator fixes: failed after 5 attempts, then retry completes it, each message sent once', async () => {
    const [a] = await kits('fixable');
    const writer = badWriter();
    a.engine.deps.writer = writer;
    const [leadId] = await a.addLeads([lead(n++)]);
    const [id] = await a.enrollAll(await a.addSequence(drafted), [leadId!]);
    await a.engine.dispatcher.drain();
    for (let attempt = 2; attempt <= 5; attempt++) await nextAttempt(a, id!);
    const state = await row(a, id!);
    expect(state).toMatchObject({ status: 'failed', failures: 5, stepId: 'intro' });
    expect(state.statusReason).toMatch(/^step_error: step "intro" failed 5 times in a row: .*Unicode/);
    expect(a.mock.sends).toHaveLength(0);

    writer.fixed = true; // the fix
    expect((await a.engine.act({ enrollmentId: id!, action: 'retry', actor: 'op' })).ok).toBe(true);
    await a.engine.dispatcher.drain();
    expect(await row(a, id!)).toMatchObject({ status: 'completed', failures: 0 });
    expect(a.mock.sends.map((s) => s.channel)).toEqual(['email', 'sms']);
  });

  it('a step completed normally resets the count', async () => {
    const [a] = await kits('reset');
    const writer = badWriter();
    a.engine.deps.writer = writer;
    const [leadId] = await a.addLeads([lead(n++)]);
    const [id] = await a.enrollAll(await a.addSequence(drafted), [leadId!]);
    await a.engine.dispatcher.drain();
    await nextAttempt(a, id!);
    expect(await row(a, id!)).toMatchObject({ status: 'active', failures: 2, stepId: 'intro' });
    writer.fixed = true;
    await nextAttempt(a, id!);
    expect(await row(a, id!)).toMatchObject({ status: 'completed', failures: 0 });
    expect(a.mock.sends).toHaveLength(2);
  });

  it('retry is refused with a sentence when the lead is live in the sequence again', async () => {
    const [a] = await kits('twin');
    const sequenceId = await a.addSequence(twoSends);
    const [leadId] = await a.addLeads([lead(n++)]);
    const [first] = await a.enrollAll(sequenceId, [leadId!]);
    await a.db.query(`update enrollments set status = 'failed', finished_at = now(), next_execution_at = null where id = $1`, [first]);
    const [second] = await a.enrollAll(sequenceId, [leadId!]);
    const result = await a.engine.act({ enrollmentId: first!, action: 'retry', actor: 'op' });
    expect(result).toEqual({
      ok: false,
      code: 'conflict',
      message: `Cannot retry this enrollment: the lead is enrolled in this sequence again (enrollment ${second}); cancel that one first.`,
    });
  });

  it('a send whose outcome the store refuses fails its own enrollment, and is never sent again', async () => {
    const [a] = await kits('refused');
    const [leadId] = await a.addLeads([lead(n++)]);
    const [other] = await a.addLeads([lead(n++)]);
    const sequenceId = await a.addSequence(twoSends);
    const [id] = await a.enrollAll(sequenceId, [leadId!]);
    const [healthy] = await a.enrollAll(sequenceId, [other!]);
    const email = a.engine.deps.adapters.email;
    const send = email.send.bind(email);
    // The provider answers with metadata the database cannot store (a NUL character), once.
    let refusals = 0;
    email.send = async (message) => {
      const result = await send(message);
      if (message.idempotencyKey.startsWith(id!) && refusals++ === 0 && result.kind === 'sent') return { ...result, metadata: { note: 'a\u0000b' } };
      return result;
    };
    await a.engine.dispatcher.drain();
    expect(await row(a, healthy!)).toMatchObject({ status: 'completed', failures: 0 });
    expect(await row(a, id!)).toMatchObject({ status: 'active', failures: 1, stepId: 'intro' });
    await nextAttempt(a, id!);
    expect(await row(a, id!)).toMatchObject({ status: 'completed', failures: 0 });
    const sends = a.mock.sends.filter((m) => m.idempotencyKey.startsWith(id!)).map((m) => m.channel);
    expect(sends).toEqual(['email', 'sms']); // the email went out once: the retry found it in the provider's ledger
  });
});
