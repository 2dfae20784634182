/** An engine on a test database with a manual clock and mock delivery. */
import { validateDefinition } from '../../src/core/validate.ts';
import type { Db } from '../../src/db/db.ts';
import { insertLeads, type NewLead } from '../../src/db/leads.ts';
import { createSequence } from '../../src/db/sequences.ts';
import { ensureWorkspace } from '../../src/db/workspaces.ts';
import { MockDelivery } from '../../src/delivery/mock.ts';
import type { SendGate } from '../../src/delivery/types.ts';
import type { AiWriter } from '../../src/delivery/writer/types.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createEngine, type InlineEngine } from '../../src/engine/engine.ts';

export interface EngineKit {
  db: Db;
  clock: ManualClock;
  mock: MockDelivery;
  engine: InlineEngine;
  workspaceId: string;
  addLeads(leads: NewLead[]): Promise<string[]>;
  /** Validates (throwing on problems) and stores an active sequence. */
  addSequence(definition: unknown): Promise<string>;
  enrollAll(sequenceId: string, leadIds: string[]): Promise<string[]>;
}

/** Every day, all day: tests about the engine, not about windows. */
export const ALWAYS_OPEN = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' } as const;
export const NO_QUIET_HOURS = { start: '00:00', end: '00:00', channels: [] } as const;

export async function createEngineKit(db: Db, options: { start?: string; leaseMs?: number; workspace?: string; batchSize?: number; sendGate?: (clock: ManualClock) => SendGate; writer?: AiWriter } = {}): Promise<EngineKit> {
  const clock = new ManualClock(options.start ?? '2026-03-04T15:00:00Z');
  const mock = new MockDelivery({ now: () => clock.now() });
  const engine = createEngine(
    {
      db,
      adapters: mock.adapters(),
      clock,
      leaseMs: options.leaseMs ?? 60_000,
      senders: { emailFrom: 'sales@us.test', smsFrom: '+15550001111', voiceFrom: '+15550001111' },
      random: () => 0.5,
      sendGate: options.sendGate?.(clock),
      writer: options.writer,
    },
    { inFlightTimeoutMs: 5_000, batchSize: options.batchSize },
  );
  const workspace = await ensureWorkspace(db, options.workspace ?? 'test');
  return {
    db,
    clock,
    mock,
    engine,
    workspaceId: workspace.id,
    addLeads: async (leads) => (await insertLeads(db, workspace.id, leads)).map((l) => l.id),
    addSequence: async (definition) => {
      const result = validateDefinition(definition);
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      return (await createSequence(db, workspace.id, result.definition, 'active')).id;
    },
    enrollAll: async (sequenceId, leadIds) => {
      const result = await engine.enroll({ workspaceId: workspace.id, sequenceId, leadIds, actor: 'test' });
      if (!result.ok) throw new Error(result.message);
      if (result.skipped.length > 0) throw new Error(`skipped: ${JSON.stringify(result.skipped.slice(0, 3))}`);
      return result.enrolled.map((e) => e.enrollmentId);
    },
  };
}

export function lead(n: number, extra: Partial<NewLead> = {}): NewLead {
  return {
    email: `lead${n}@acme.test`,
    phone: `+1555${String(1_000_000 + n).slice(-7)}`,
    firstName: `Lee${n}`,
    timezone: 'America/New_York',
    ...extra,
  };
}

export async function statusCounts(db: Db): Promise<Record<string, number>> {
  const rows = await db.query<{ status: string; n: number }>('select status, count(*)::int as n from enrollments group by status');
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
