/**
 * A template stored before the sandbox rules (never validated again) is rendered at run time:
 * it reads no file, and a template over a limit fails its step permanently with
 * `template_error` — recorded once, never retried — while the sequence goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSequence } from '../../src/db/sequences.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, NO_QUIET_HOURS, createEngineKit, lead } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();

const NESTED_LOOP = '{% for i in (1..2500) %}{% for j in (1..2500) %}x{% endfor %}{% endfor %}';

describe.each(kinds)('templates at run time on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('a stored include, render or layout reads nothing, and a template over a limit fails its step for good', async () => {
    const kit = await createEngineKit(database.db, { workspace: `sandbox-${kind}` });
    const [leadId] = await kit.addLeads([lead(1)]);
    // Stored straight into the database, as a version saved before validation refused these.
    const stored = {
      name: 'Stored long ago',
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      steps: [
        { id: 'reads', type: 'email', subject: 'Hi', body: "{% render 'package.json' %}" },
        { id: 'includes', type: 'email', subject: "{% include 'README.md' %}", body: 'x' },
        { id: 'layout', type: 'sms', text: "{% layout 'package.json' %}hi" },
        { id: 'spins', type: 'sms', text: NESTED_LOOP },
        { id: 'fine', type: 'email', subject: 'Hello', body: 'Hello {{ lead.firstName }}' },
      ],
    };
    const sequence = await createSequence(kit.db, kit.workspaceId, stored as never, 'active');
    // Enrolling refuses it now; an enrollment made before the rules is still live.
    const refused = await kit.engine.enroll({ workspaceId: kit.workspaceId, sequenceId: sequence.id, leadIds: [leadId!], actor: 'test' });
    expect(refused).toMatchObject({ ok: false, code: 'invalid_definition' });
    await kit.db.query(
      `insert into enrollments (workspace_id, sequence_id, sequence_version, lead_id, status, current_step_id, next_execution_at, enrolled_at, step_entered_at, updated_at)
       values ($1, $2, 1, $3, 'active', 'reads', $4, $4, $4, $4)`,
      [kit.workspaceId, sequence.id, leadId, kit.clock.now()],
    );
    await kit.engine.dispatcher.drain();

    const executions = await kit.db.query<{ stepId: string; status: string; errorCode: string | null; errorMessage: string | null; attempts: number; rendered: unknown }>(
      `select step_id as "stepId", status, error_code as "errorCode", error_message as "errorMessage", attempts, rendered
       from sequence_executions where sequence_id = $1 order by started_at, step_id`,
      [sequence.id],
    );
    const byStep = Object.fromEntries(executions.map((x) => [x.stepId, x]));
    for (const step of ['reads', 'includes', 'layout', 'spins']) {
      expect(byStep[step], step).toMatchObject({ status: 'failed', errorCode: 'template_error', attempts: 1 });
      expect(JSON.stringify(byStep[step])).not.toContain('"devDependencies"');
      expect(JSON.stringify(byStep[step])).not.toContain('# Touchpoint');
    }
    expect(byStep.spins!.errorMessage).toMatch(/limit/);
    expect(byStep.fine).toMatchObject({ status: 'succeeded' });
    expect(kit.mock.sends).toHaveLength(1);
    expect(JSON.stringify(kit.mock.sends)).not.toContain('devDependencies');
    const [enrollment] = await kit.db.query<{ status: string }>('select status from enrollments where sequence_id = $1', [sequence.id]);
    expect(enrollment!.status).toBe('completed');
  }, 60_000);
});
