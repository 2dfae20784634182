/**
 * Demo data's rows (docs/DASHBOARD.md, "Demo data"): demo leads carry a CRM id `demo:…`, demo
 * sequences the `demo` flag (migration 022), so a second seed finds them and removal takes
 * exactly them.
 */
import { DEMO_EXTERNAL_ID_PREFIX } from '../core/demo.ts';
import type { Queryable } from './db.ts';
import { LEAD_COLUMNS, type LeadRecord } from './leads.ts';

const DEMO_LEAD = `external_id like '${DEMO_EXTERNAL_ID_PREFIX}%'`;

/** Holds the workspace's row until the transaction ends, so two seeds do not both create the sequences. */
export async function lockWorkspaceRow(tx: Queryable, workspaceId: string): Promise<boolean> {
  const rows = await tx.query(`select id from workspaces where id = $1 for update`, [workspaceId]);
  return rows.length > 0;
}

export async function listDemoSequences(db: Queryable, workspaceId: string): Promise<Array<{ id: string; name: string; status: string }>> {
  return db.query(`select id, name, status from sequences where workspace_id = $1 and demo order by created_at, id`, [workspaceId]);
}

export async function markSequenceDemo(db: Queryable, sequenceId: string): Promise<void> {
  await db.query(`update sequences set demo = true where id = $1`, [sequenceId]);
}

export async function listDemoLeads(db: Queryable, workspaceId: string): Promise<LeadRecord[]> {
  return db.query<LeadRecord>(`select ${LEAD_COLUMNS} from leads where workspace_id = $1 and ${DEMO_LEAD} order by external_id`, [workspaceId]);
}

export async function countDemoData(db: Queryable, workspaceId: string): Promise<{ leads: number; sequences: number }> {
  const [row] = await db.query<{ leads: number; sequences: number }>(
    `select (select count(*)::int from leads where workspace_id = $1 and ${DEMO_LEAD}) as leads,
            (select count(*)::int from sequences where workspace_id = $1 and demo) as sequences`,
    [workspaceId],
  );
  return row ?? { leads: 0, sequences: 0 };
}

/** Deletes the demo leads (their enrollments, events and timelines go with them) and sequences. */
export async function deleteDemoData(tx: Queryable, workspaceId: string): Promise<{ leads: number; sequences: number }> {
  const leads = await tx.query(`delete from leads where workspace_id = $1 and ${DEMO_LEAD} returning id`, [workspaceId]);
  const sequences = await tx.query(`delete from sequences where workspace_id = $1 and demo returning id`, [workspaceId]);
  return { leads: leads.length, sequences: sequences.length };
}
