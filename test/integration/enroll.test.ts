/**
 * One enroll call with every outcome at once: each lead enrolled or skipped with its reason,
 * the first step due in the lead's own zone, one audit row per enrollment, on PGlite and on
 * PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSuppression } from '../../src/db/events.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createEngineKit, lead, NO_QUIET_HOURS } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();

const emailAndSms = {
  name: 'Email then SMS, weekday mornings',
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '12:00' },
  quietHours: NO_QUIET_HOURS,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'About {{ lead.company }}' },
    { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName }}, {{ lead.title | default: "there" }}' },
  ],
} as const;

describe.each(kinds)('enroll on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('enrolls or skips every lead with its reason, due in its own zone, in one call', async () => {
    // Saturday 2026-03-07 15:00 UTC: the next window opens Monday 09:00 local.
    const kit = await createEngineKit(database.db, { workspace: `enroll-${kind}`, start: '2026-03-07T15:00:00Z' });
    const [ny, tokyo, badZone, noZone, optedOut, noPhone, noName, noCompany, again] = await kit.addLeads([
      lead(1, { company: 'Acme', timezone: 'America/New_York' }),
      lead(2, { company: 'Acme', timezone: 'Asia/Tokyo' }),
      lead(3, { company: 'Acme', timezone: 'Not/AZone' }),
      lead(4, { company: 'Acme', timezone: null }),
      lead(5, { company: 'Acme', email: 'Opted.Out@acme.test' }),
      lead(6, { company: 'Acme', phone: null }),
      lead(7, { company: 'Acme', firstName: '' }),
      lead(8, { company: null, firstName: null }),
      lead(9, { company: 'Acme' }),
    ]);
    await addSuppression(kit.db, {
      workspaceId: kit.workspaceId,
      channel: 'email',
      address: 'opted.out@acme.test',
      reason: 'unsubscribed',
      source: 'test',
    });
    const sequenceId = await kit.addSequence({ ...emailAndSms, skipMissingChannels: false });
    const [firstTime] = await kit.enrollAll(sequenceId, [again!]);
    const stranger = randomUUID();

    const outcome = await kit.engine.enroll({
      workspaceId: kit.workspaceId,
      sequenceId,
      leadIds: [ny!, tokyo!, ny!, badZone!, noZone!, optedOut!, noPhone!, noName!, noCompany!, again!, stranger],
      actor: 'test',
    });
    if (!outcome.ok) throw new Error(outcome.message);

    expect(outcome.skipped.map((s) => [s.leadId, s.reason, s.message])).toEqual([
      [optedOut, 'suppressed', 'The lead has opted out or bounced on a channel this sequence uses.'],
      [noPhone, 'missing_address', 'The sequence uses sms, and the lead has no phone number; this sequence refuses such leads (skipMissingChannels is false).'],
      [noName, 'template_variable_missing', 'The templates use lead.firstName, empty for this lead; fill them in or add a default.'],
      [noCompany, 'template_variable_missing', 'The templates use lead.firstName, lead.company, empty for this lead; fill them in or add a default.'],
      [stranger, 'not_found', 'No lead with this id in the workspace.'],
      [again, 'already_enrolled', 'The lead is already live in this sequence.'],
    ]);
    expect(outcome.enrolled.map((e) => e.leadId)).toEqual([ny, tokyo, badZone, noZone]);

    const rows = await kit.db.query<{ leadId: string; dueAt: Date; stepId: string; changes: number }>(
      `select e.lead_id as "leadId", e.next_execution_at as "dueAt", e.current_step_id as "stepId",
         (select count(*)::int from enrollment_changes c where c.enrollment_id = e.id and c.action = 'enroll') as changes
       from enrollments e where e.sequence_id = $1 and e.id = any($2::uuid[])`,
      [sequenceId, outcome.enrolled.map((e) => e.enrollmentId)],
    );
    const due = new Map(rows.map((r) => [r.leadId, r.dueAt.toISOString()]));
    // Workspace zone (the fallback for a missing or unknown zone) is America/New_York.
    expect(Object.fromEntries([ny, tokyo, badZone, noZone].map((id) => [id, due.get(id!)]))).toEqual({
      [ny!]: '2026-03-09T13:00:00.000Z',
      [tokyo!]: '2026-03-09T00:00:00.000Z',
      [badZone!]: '2026-03-09T13:00:00.000Z',
      [noZone!]: '2026-03-09T13:00:00.000Z',
    });
    expect(rows.every((r) => r.stepId === 'intro' && r.changes === 1)).toBe(true);
    expect(firstTime).toBeDefined();
  });

  it('by default enrolls a lead that lacks one channel and says which steps it will skip; refuses one that lacks them all', async () => {
    const kit = await createEngineKit(database.db, { workspace: `enroll-partial-${kind}` });
    const [noPhone, noEmail, nothingForSms] = await kit.addLeads([
      lead(1, { company: 'Acme', phone: null }),
      lead(2, { company: 'Acme', email: null }),
      lead(3, { company: 'Acme', phone: null }),
    ]);
    const both = await kit.addSequence(emailAndSms);
    const outcome = await kit.engine.enroll({ workspaceId: kit.workspaceId, sequenceId: both, leadIds: [noPhone!, noEmail!], actor: 'test' });
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.skipped).toEqual([]);
    expect(outcome.enrolled.map((e) => [e.leadId, e.skipsChannels])).toEqual([
      [noPhone, ['sms']],
      [noEmail, ['email']],
    ]);
    const smsOnly = await kit.addSequence({ name: 'SMS only', quietHours: NO_QUIET_HOURS, steps: [{ id: 'text', type: 'sms', text: 'Hi' }] });
    const refused = await kit.engine.enroll({ workspaceId: kit.workspaceId, sequenceId: smsOnly, leadIds: [nothingForSms!], actor: 'test' });
    if (!refused.ok) throw new Error(refused.message);
    expect(refused.skipped).toEqual([
      { leadId: nothingForSms, reason: 'missing_address', message: 'The sequence uses sms, and the lead has no phone number, so it would receive none of its steps.' },
    ]);
  });

  it('still refuses an enrollment of a lead that does not exist, after enrolling', async () => {
    // On PGlite the enroll insert runs without per-row foreign-key triggers (its transaction
    // already read every lead); that must end with the statement.
    const kit = await createEngineKit(database.db, { workspace: `enroll-fk-${kind}` });
    const [known] = await kit.addLeads([lead(1, { company: 'Acme' })]);
    const sequenceId = await kit.addSequence(emailAndSms);
    await kit.enrollAll(sequenceId, [known!]);
    await expect(
      kit.db.query(
        `insert into enrollments (workspace_id, sequence_id, sequence_version, lead_id, status, step_entered_at, enrolled_at, updated_at)
         values ($1, $2, 1, $3, 'active', now(), now(), now())`,
        [kit.workspaceId, sequenceId, randomUUID()],
      ),
    ).rejects.toThrow(/foreign key/);
  });
});
