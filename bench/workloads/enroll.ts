/**
 * D. Enrollment: N leads enrolled in batches of 10,000 — through the REST API
 * (POST /api/sequences/{id}/enrollments) and, for comparison, through the engine's enroll()
 * directly (what the API calls). The leads exist beforehand; enrolling is what is timed.
 */
import type { Db } from '../../src/db/db.ts';
import { startApi } from '../lib/api.ts';
import { benchEngine, createFixture, insertLeadsSql } from '../lib/fixture.ts';

export interface EnrollRun {
  enrolled: number;
  seconds: number;
  perSecond: number;
}

export const ENROLL_BATCH = 10_000;

async function seedLeads(db: Db, leads: number) {
  const fixture = await createFixture(db);
  const ids: string[] = [];
  for (let i = 0; i < leads; i += 50_000) ids.push(...(await insertLeadsSql(db, fixture, Math.min(50_000, leads - i), i)));
  return { fixture, ids };
}

export async function enrollViaEngine(db: Db, leads: number): Promise<EnrollRun> {
  const { fixture, ids } = await seedLeads(db, leads);
  const { engine } = benchEngine(db);
  let enrolled = 0;
  const started = performance.now();
  for (let i = 0; i < ids.length; i += ENROLL_BATCH) {
    const outcome = await engine.enroll({
      workspaceId: fixture.workspaceId,
      sequenceId: fixture.sequenceId,
      leadIds: ids.slice(i, i + ENROLL_BATCH),
      actor: 'bench',
    });
    if (!outcome.ok) throw new Error(outcome.message);
    enrolled += outcome.enrolled.length;
  }
  const seconds = (performance.now() - started) / 1000;
  if (enrolled !== leads) throw new Error(`enrolled ${enrolled} of ${leads}`);
  return { enrolled, seconds, perSecond: enrolled / seconds };
}

export async function enrollViaApi(db: Db, leads: number): Promise<EnrollRun> {
  const { fixture, ids } = await seedLeads(db, leads);
  const api = await startApi(db, fixture.workspaceId);
  try {
    let enrolled = 0;
    const started = performance.now();
    for (let i = 0; i < ids.length; i += ENROLL_BATCH) {
      const result = await api.request<{ enrolled: unknown[] }>('POST', `/api/sequences/${fixture.sequenceId}/enrollments`, {
        leadIds: ids.slice(i, i + ENROLL_BATCH),
      });
      enrolled += result.enrolled.length;
    }
    const seconds = (performance.now() - started) / 1000;
    if (enrolled !== leads) throw new Error(`enrolled ${enrolled} of ${leads}`);
    return { enrolled, seconds, perSecond: enrolled / seconds };
  } finally {
    await api.close();
  }
}
