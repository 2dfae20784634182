/**
 * `touchpoint seed --demo [--workspace NAME] [--remove]`: demo data in the workspace the person
 * uses (docs/DASHBOARD.md, "Demo data"), the same as the dashboard's "Load demo data" button.
 */
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { ensureWorkspace } from '../db/workspaces.ts';
import { systemClock } from '../engine/clock.ts';
import { removeDemoData, seedDemoData } from '../engine/demoData.ts';

export async function seedDemo(db: Db, config: Config, workspaceName: string): Promise<string[]> {
  const workspace = await ensureWorkspace(db, workspaceName, config.WORKSPACE_TIMEZONE);
  // No engine runs here: the enrollments are due now, and the next `touchpoint serve` (or a
  // worker) picks them up within its first poll.
  const result = await seedDemoData({ db, clock: systemClock, wake: () => undefined }, { workspaceId: workspace.id, actor: 'touchpoint seed --demo' });
  const lines = [
    `Demo data in workspace "${workspaceName}": ${result.leadsCreated} leads added${result.leadsKept ? ` (${result.leadsKept} were already there)` : ''}, ${result.enrolled} enrolled.`,
    ...result.sequences.map((s) => `  sequence "${s.name}" ${s.created ? 'created' : 'already there'}`),
  ];
  if (result.enrolled > 0) lines.push('Start the server (npm start): sends, simulated replies and tasks appear within a minute.');
  lines.push('Remove it with: npx touchpoint seed --demo --remove');
  return lines;
}

export async function removeDemo(db: Db, workspaceName: string): Promise<string> {
  const workspace = await ensureWorkspace(db, workspaceName);
  const removed = await removeDemoData(db, workspace.id);
  return `Removed the demo data of workspace "${workspaceName}": ${removed.leads} leads, ${removed.sequences} sequences.`;
}
