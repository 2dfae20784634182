/**
 * Demo data into a workspace (docs/DASHBOARD.md, "Demo data"), for the CLI
 * (`touchpoint seed --demo`) and the API (`POST /api/demo`, the dashboard's button). Idempotent:
 * leads that exist (by their `demo:` CRM id) and sequences that exist (the `demo` flag) are kept,
 * and only leads created by this run are enrolled, so a second run sends nothing twice.
 */
import { DEMO_SEQUENCES, demoLeads, type DemoLead } from '../core/demo.ts';
import { validateDefinition } from '../core/validate.ts';
import type { Db } from '../db/db.ts';
import { deleteDemoData, listDemoSequences, lockWorkspaceRow, markSequenceDemo } from '../db/demo.ts';
import { insertNewLeads } from '../db/leads.ts';
import { createSequence } from '../db/sequences.ts';
import type { Clock } from './clock.ts';
import { enrollLeads } from './enroll.ts';

export interface DemoSeedResult {
  leadsCreated: number;
  leadsKept: number;
  sequences: Array<{ id: string; name: string; created: boolean }>;
  enrolled: number;
}

export async function seedDemoData(
  deps: { db: Db; clock: Clock; wake: () => void },
  args: { workspaceId: string; actor: string },
): Promise<DemoSeedResult> {
  const now = deps.clock.now();
  const leads = demoLeads(now);
  const { created, sequences } = await deps.db.transaction(async (tx) => {
    if (!(await lockWorkspaceRow(tx, args.workspaceId))) throw new Error(`Workspace ${args.workspaceId} does not exist.`);
    const inserted = await insertNewLeads(
      tx,
      args.workspaceId,
      leads.map(({ sequence: _sequence, ...lead }) => lead),
    );
    const existing = await listDemoSequences(tx, args.workspaceId);
    const sequences = new Map<DemoLead['sequence'], { id: string; name: string; created: boolean }>();
    for (const [key, input] of Object.entries(DEMO_SEQUENCES) as Array<[DemoLead['sequence'], (typeof DEMO_SEQUENCES)[DemoLead['sequence']]]>) {
      const found = existing.find((s) => s.name === input.name);
      if (found) {
        sequences.set(key, { id: found.id, name: found.name, created: false });
        continue;
      }
      const validation = validateDefinition(input);
      if (!validation.ok) throw new Error(`Demo sequence "${input.name}" is invalid: ${JSON.stringify(validation.problems)}`);
      const sequence = await createSequence(tx, args.workspaceId, validation.definition, 'active');
      await markSequenceDemo(tx, sequence.id);
      sequences.set(key, { id: sequence.id, name: sequence.name, created: true });
    }
    return { created: inserted.map((row) => ({ id: row.id, sequence: leads[row.index]!.sequence })), sequences };
  });
  let enrolled = 0;
  for (const [key, sequence] of sequences) {
    const leadIds = created.filter((lead) => lead.sequence === key).map((lead) => lead.id);
    if (leadIds.length === 0) continue;
    // A demo sequence someone paused or archived stays so: its leads are simply not enrolled.
    const outcome = await enrollLeads(deps, { workspaceId: args.workspaceId, sequenceId: sequence.id, leadIds, actor: args.actor });
    if (outcome.ok) enrolled += outcome.enrolled.length;
  }
  return { leadsCreated: created.length, leadsKept: leads.length - created.length, sequences: [...sequences.values()], enrolled };
}

export async function removeDemoData(db: Db, workspaceId: string): Promise<{ leads: number; sequences: number }> {
  return db.transaction((tx) => deleteDemoData(tx, workspaceId));
}

