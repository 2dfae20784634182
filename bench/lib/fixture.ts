/**
 * A workspace, an active 3-step sequence (email → sms → voice, zero waits, always open) and
 * leads, created fast with SQL (`generate_series`) so set-up never dominates a run.
 */
import { validateDefinition } from '../../src/core/validate.ts';
import type { Db } from '../../src/db/db.ts';
import { createSequence } from '../../src/db/sequences.ts';
import { ensureWorkspace } from '../../src/db/workspaces.ts';
import { MockDelivery } from '../../src/delivery/mock.ts';
import type { SendGate } from '../../src/delivery/types.ts';
import { systemClock, type Clock } from '../../src/engine/clock.ts';
import { createEngine, type InlineEngine } from '../../src/engine/engine.ts';
import type { DispatcherOptions } from '../../src/engine/dispatcher.ts';

export const THREE_STEPS = {
  name: 'Bench: three steps',
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
  quietHours: { start: '00:00', end: '00:00', channels: [] },
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello {{ lead.firstName }}' },
    { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName }}' },
    { id: 'call', type: 'voice', script: 'Hello {{ lead.firstName }}' },
  ],
} as const;

export const STEPS_PER_ENROLLMENT = THREE_STEPS.steps.length;

export interface Fixture {
  workspaceId: string;
  sequenceId: string;
}

export async function createFixture(db: Db, name = 'bench', definition: unknown = THREE_STEPS): Promise<Fixture> {
  const workspace = await ensureWorkspace(db, name);
  const result = validateDefinition(definition);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const sequence = await createSequence(db, workspace.id, result.definition, 'active');
  return { workspaceId: workspace.id, sequenceId: sequence.id };
}

/** Inserts `count` leads numbered from `from`; answers their ids in order. */
export async function insertLeadsSql(db: Db, fixture: Fixture, count: number, from = 0): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `insert into leads (workspace_id, email, phone, timezone, first_name)
     select $1, 'lead' || g || '@bench.test', '+1555' || lpad(g::text, 7, '0'), 'America/New_York', 'Lee' || g
     from generate_series($2::int, $3::int) g
     order by g
     returning id`,
    [fixture.workspaceId, from, from + count - 1],
  );
  return rows.map((r) => r.id);
}

/**
 * How far ahead enrollments inserted now must be due, so the insert commits before the due time
 * (else the lag would count time the engine could not see them): 300 ms + 0.25 ms a row, or
 * three times what inserting their leads just took, whichever is longer — on a loaded machine
 * the fixed figure is not enough (at load 15–20 on 2 cores 200 rows outlasted 350 ms).
 */
export function leadInMs(rows: number, leadsInsertMs: number): number {
  return Math.max(300 + Math.ceil(rows / 4), Math.ceil(3 * leadsInsertMs) + 100);
}

/**
 * Enrolls leads straight in SQL at the first step, due at `dueAt` (or spread over
 * `[dueAt, dueAt + spreadMs)` in lead order). Used where enrolling is set-up, not the thing
 * measured. `enrolled_at` is the due time, so lag = first execution's start − enrolled_at.
 */
export async function enrollSql(
  db: Db,
  fixture: Fixture,
  leadIds: string[],
  dueAt: Date,
  spreadMs = 0,
  firstStep = 'intro',
): Promise<void> {
  const chunk = 50_000;
  for (let i = 0; i < leadIds.length; i += chunk) {
    const ids = leadIds.slice(i, i + chunk);
    await db.query(
      `insert into enrollments (workspace_id, sequence_id, sequence_version, lead_id, status, current_step_id,
         step_seq, step_entered_at, next_execution_at, enrolled_at, updated_at)
       select $1, $2, 1, u.id, 'active', $8, 1, d.due, d.due, d.due, d.due
       from unnest($4::uuid[]) with ordinality as u(id, ord),
         lateral (select $3::timestamptz
           + make_interval(secs => ($5::float8 * ($6::int + u.ord - 1) / greatest($7::int, 1)) / 1000.0) as due) d`,
      [fixture.workspaceId, fixture.sequenceId, dueAt, ids, spreadMs, i, leadIds.length, firstStep],
    );
  }
}

export interface BenchEngine {
  engine: InlineEngine;
  mock: MockDelivery;
}

/** The engine as `npm start` assembles it, with mock adapters that answer at once and keep nothing. */
export function benchEngine(db: Db, options: DispatcherOptions & { clock?: Clock; sendGate?: SendGate } = {}): BenchEngine {
  const clock = options.clock ?? systemClock;
  const mock = new MockDelivery({ now: () => clock.now() });
  // The mock keeps every send in memory; a benchmark of millions would measure that array.
  const sends = mock.sends;
  sends.push = () => sends.length;
  const engine = createEngine(
    {
      db,
      adapters: mock.adapters(),
      clock,
      leaseMs: 60_000,
      senders: { emailFrom: 'sales@bench.test', smsFrom: '+15550001111', voiceFrom: '+15550001111' },
      sendGate: options.sendGate,
    },
    options,
  );
  return { engine, mock };
}

export async function countExecutions(db: Db): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from sequence_executions');
  return row?.n ?? 0;
}

export async function countCompleted(db: Db): Promise<number> {
  const [row] = await db.query<{ n: number }>(`select count(*)::int as n from enrollments where status = 'completed'`);
  return row?.n ?? 0;
}
