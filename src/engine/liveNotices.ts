/**
 * The live notices the engine's own changes make (docs/DASHBOARD.md, "Live updates"), built after
 * the commit from what the caller already holds: no extra read, no extra statement.
 */
import type { EnrollmentStatus } from '../core/enrollmentStatus.ts';
import type { LiveNotice } from '../core/live.ts';

interface EnrollmentIds {
  id: string;
  workspaceId: string;
  leadId: string;
  sequenceId: string;
  status: EnrollmentStatus;
}

/**
 * An enrollment that moved: its lead's timeline, the enrollment, and — when it started or stopped
 * waiting (`before` or `after` is `waiting`) — the task inbox.
 */
export function enrollmentNotices(enrollment: EnrollmentIds, after: EnrollmentStatus | undefined, options: { task?: boolean } = {}): LiveNotice[] {
  const { id: enrollmentId, workspaceId, leadId, sequenceId } = enrollment;
  const notices: LiveNotice[] = [
    { kind: 'lead', workspaceId, leadId },
    { kind: 'enrollment', workspaceId, leadId, enrollmentId, sequenceId },
  ];
  if (options.task || enrollment.status === 'waiting' || after === 'waiting') notices.push({ kind: 'task', workspaceId, leadId, enrollmentId });
  return notices;
}
