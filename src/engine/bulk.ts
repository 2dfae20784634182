/**
 * Bulk actions over many leads (POST /api/leads/bulk), one chunk of leads per call and per
 * transaction. Each change goes through the same rules and writes as the one-at-a-time route:
 * a pause or cancel asks `operatorTransition` for every live enrollment and writes with
 * `applyOperatorChanges` (audit rows included); an enroll is `enrollLeads`; a delete is
 * `deleteLeads`. A dry run takes the same path and writes nothing.
 */
import { operatorTransition } from '../core/transitions.ts';
import type { EnrollmentRecord } from '../db/enrollments.ts';
import { applyOperatorChanges, lockLiveEnrollmentsOfLeads } from '../db/enrollmentChanges.ts';
import { countSendsInFlightOf } from '../db/executions.ts';
import { deleteLeads } from '../db/leads.ts';
import type { ControlDeps } from './controls.ts';
import { waitForSendsInFlight } from './inFlight.ts';

/** How a lead of a chunk was left out, with the sentence a person reads. */
export interface LeadSkip {
  leadId: string;
  reason: string;
  message: string;
}

export interface ChunkResult {
  /** Leads the action changed (or, in a dry run, would change). */
  done: string[];
  /** Enrollments it paused, cancelled, stopped by deleting their lead, or created. */
  enrollments: number;
  skipped: LeadSkip[];
  /** The enrollments changed (empty in a dry run): what the dashboards are told. */
  changed: EnrollmentRecord[];
}

const NOUN = { pause: 'pause', cancel: 'cancel' } as const;

/**
 * Pauses or cancels every live enrollment of the chunk's leads that the state machine lets it
 * (a paused one is not paused again), locked in id order; answers once no send it stopped is in
 * flight, as PUT /api/sequences/enrollments/{id} does.
 */
export async function actOnLeads(
  deps: ControlDeps,
  args: { workspaceId: string; leadIds: readonly string[]; action: 'pause' | 'cancel'; actor: string; reason?: string | null; dryRun?: boolean },
): Promise<ChunkResult> {
  const now = deps.clock.now();
  const { changes, refused, changed } = await deps.db.transaction(async (tx) => {
    const live = await lockLiveEnrollmentsOfLeads(tx, args.workspaceId, args.leadIds, { lock: !args.dryRun });
    const changes: Array<{ current: EnrollmentRecord; to: EnrollmentRecord['status'] }> = [];
    const refused = new Map<string, string>();
    for (const current of live) {
      const transition = operatorTransition(current.status, args.action);
      if (transition.ok) changes.push({ current, to: transition.to });
      else refused.set(current.leadId, transition.message);
    }
    const changed = args.dryRun ? [] : await applyOperatorChanges(tx, { changes, action: args.action, actor: args.actor, reason: args.reason, now });
    return { changes, refused, changed };
  });
  if (changed.length > 0) {
    const ids = changed.map((e) => e.id);
    await waitForSendsInFlight(deps.clock, deps.inFlightTimeoutMs ?? 30_000, () => countSendsInFlightOf(deps.db, ids));
  }
  const touched = new Set(changes.map((c) => c.current.leadId));
  const skipped: LeadSkip[] = [];
  for (const leadId of args.leadIds) {
    if (touched.has(leadId)) continue;
    const why = refused.get(leadId);
    if (why) skipped.push({ leadId, reason: 'already_paused', message: why });
    else skipped.push({ leadId, reason: 'no_live_enrollment', message: `The lead has no running sequence to ${NOUN[args.action]}.` });
  }
  return { done: [...touched], enrollments: changes.length, skipped, changed };
}

/** Deletes the chunk's leads (their enrollments, timelines and activities go with them; opt-outs stay). */
export async function deleteLeadChunk(
  deps: ControlDeps,
  args: { workspaceId: string; leadIds: readonly string[]; dryRun?: boolean },
): Promise<ChunkResult> {
  return deps.db.transaction(async (tx) => {
    const live = await lockLiveEnrollmentsOfLeads(tx, args.workspaceId, args.leadIds, { lock: !args.dryRun });
    const done = args.dryRun ? [...args.leadIds] : await deleteLeads(tx, args.workspaceId, args.leadIds);
    const gone = new Set(done);
    const skipped = args.leadIds
      .filter((id) => !gone.has(id))
      .map((leadId) => ({ leadId, reason: 'not_found', message: 'No lead with this id in the workspace (deleted meanwhile?).' }));
    return { done, enrollments: live.length, skipped, changed: [] };
  });
}
