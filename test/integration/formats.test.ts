/**
 * Formats written on both sides of the database seam, each with one owner (docs/ENGINE.md,
 * "Database functions"), and the proof that the other side agrees:
 * - the idempotency key `enrollment:step:visit`: idempotencyKeyOf (TypeScript, what adapters
 *   get) and the key the database functions store on every execution row;
 * - suppression matching: the database's `lower()` owns it, and a suppression written through
 *   addSuppression is found by every reader, whatever the case (also where JavaScript's
 *   toLowerCase disagrees with it);
 * - the lead's JSON shape: the core's `Lead`, as the SQL that builds it for the executor and
 *   for enrolling spells it.
 * On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lead } from '../../src/core/definition.ts';
import { getLeadsToEnroll } from '../../src/db/enrollments.ts';
import { addSuppression, removeSuppression } from '../../src/db/events.ts';
import { idempotencyKeyOf } from '../../src/db/executions.ts';
import { leadsHoldingAddress } from '../../src/db/leads.ts';
import { loadStoredRunContexts } from '../../src/db/runContexts.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, createEngineKit, lead, NO_QUIET_HOURS, type EngineKit } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();

/** Every field of the core's Lead, checked by the compiler: a field added there fails here until the SQL has it. */
const LEAD_FIELDS: Record<keyof Lead, true> = {
  id: true,
  email: true,
  phone: true,
  timezone: true,
  firstName: true,
  lastName: true,
  company: true,
  title: true,
  customFields: true,
};

describe.each(kinds)('formats with one owner on %s', (kind) => {
  let database: TestDatabase;
  let kit: EngineKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createEngineKit(database.db, { workspace: 'formats' });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('every execution row carries the key idempotencyKeyOf gives: sends, steps without a send, retried visits', async () => {
    const sequenceId = await kit.addSequence({
      name: 'Keys',
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      steps: [
        { id: 'hello', type: 'email', subject: 'Hi', body: 'Hi' },
        { id: 'pause', type: 'wait', duration: 'PT1M' },
        { id: 'text', type: 'sms', text: 'Hi' },
      ],
    });
    const leadIds = await kit.addLeads([lead(1), lead(2)]);
    await kit.enrollAll(sequenceId, leadIds);
    for (let i = 0; i < 4; i++) {
      await kit.engine.dispatcher.drain();
      kit.clock.advance(120_000);
    }
    const rows = await kit.db.query<{ enrollmentId: string; stepId: string; visit: number; key: string; status: string }>(
      `select enrollment_id as "enrollmentId", step_id as "stepId", visit, idempotency_key as key, status
       from sequence_executions where sequence_id = $1`,
      [sequenceId],
    );
    expect(new Set(rows.map((r) => r.stepId))).toEqual(new Set(['hello', 'pause', 'text']));
    for (const row of rows) expect(row.key).toBe(idempotencyKeyOf(row.enrollmentId, row.stepId, row.visit));
    // What the adapters were handed is the same key.
    const keys = new Set(rows.map((r) => r.key));
    for (const send of kit.mock.sends) expect(keys.has(send.idempotencyKey)).toBe(true);
  });

  it('a suppression matches its lead whatever the case, for every reader', async () => {
    for (const [n, email, typed] of [
      [10, 'Ana.Lee@Acme.test', 'ana.lee@ACME.TEST'],
      [11, 'İpek@acme.test', 'İPEK@ACME.TEST'],
      [12, 'ΣΑΣ@acme.test', 'ΣΑΣ@ACME.test'],
    ] as const) {
      const [leadId] = await kit.addLeads([lead(n, { email, phone: null })]);
      await kit.db.transaction((tx) =>
        addSuppression(tx, { workspaceId: kit.workspaceId, channel: 'email', address: typed, reason: 'email.unsubscribed', source: 'touchpoint' }),
      );
      const [enrolling] = await getLeadsToEnroll(kit.db, { workspaceId: kit.workspaceId, ids: [leadId!], channels: ['email'] });
      expect(enrolling?.suppressed, `${email} as enrolling sees it`).toBe(true);
      const [status] = await kit.db.query<{ s: string }>('select lead_status_from_history($1) as s', [leadId]);
      expect(status?.s, `${email} as the lead's history sees it`).toBe('opted_out');
      const holders = await leadsHoldingAddress(kit.db, { channel: 'email', value: typed });
      expect(holders.map((h) => h.id), `${email} as routing an event sees it`).toContain(leadId);
      await kit.db.transaction((tx) => removeSuppression(tx, { workspaceId: kit.workspaceId, channel: 'email', address: email }));
      const [lifted] = await getLeadsToEnroll(kit.db, { workspaceId: kit.workspaceId, ids: [leadId!], channels: ['email'] });
      expect(lifted?.suppressed, `${email} lifted`).toBe(false);
    }
  });

  it("the executor's context and enrolling build the lead as the core's Lead, field for field", async () => {
    const sequenceId = await kit.addSequence({
      name: 'Shape',
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      steps: [{ id: 'one', type: 'email', subject: 'Hi', body: 'Hi' }],
    });
    const [leadId] = await kit.addLeads([lead(20, { company: 'Acme', title: 'CTO', customFields: { plan: 'pro' } })]);
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    const fields = Object.keys(LEAD_FIELDS).sort();
    const [context] = await loadStoredRunContexts(kit.db, [enrollmentId!]);
    expect(Object.keys(context!.lead).sort()).toEqual(fields);
    expect(context!.lead).toMatchObject({ id: leadId, company: 'Acme', title: 'CTO', customFields: { plan: 'pro' } });
    const [enrolling] = await getLeadsToEnroll(kit.db, { workspaceId: kit.workspaceId, ids: [leadId!], channels: ['email'] });
    const { suppressed, ...asLead } = enrolling!;
    expect(suppressed).toBe(false);
    expect(Object.keys(asLead).sort()).toEqual(fields);
    expect(asLead).toEqual(context!.lead);
  });
});
