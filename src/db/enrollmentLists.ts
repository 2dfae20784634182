/** The API's reads of enrollments: per sequence, per lead, and the operator's task inbox. */
import type { Queryable } from './db.ts';
import { ENROLLMENT_COLUMNS, type EnrollmentRecord } from './enrollments.ts';

const E_COLUMNS = ENROLLMENT_COLUMNS.split(',')
  .map((c) => `e.${c.trim()}`)
  .join(', ');

export interface LeadSummary {
  id: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  title: string | null;
  timezone: string | null;
  /** Not on the wire: what a task's title and description are rendered with. */
  customFields: Record<string, unknown>;
}

// `enrolledBy`: the actor of the enrollment's first change (the enroll row), the one person the
// data names as responsible for it (the lead's owner is the lead's: GET /api/leads/{id}).
const LEAD_SUMMARY = `json_build_object('id', l.id, 'email', l.email, 'phone', l.phone, 'firstName', l.first_name,
  'lastName', l.last_name, 'company', l.company, 'title', l.title, 'timezone', l.timezone, 'customFields', l.custom_fields) as lead,
  (select c.actor from enrollment_changes c where c.enrollment_id = e.id and c.action = 'enroll' order by c.at limit 1) as "enrolledBy"`;

export type EnrollmentListRow = EnrollmentRecord & { lead: LeadSummary; sequenceName: string; definition: unknown; enrolledBy: string | null };

/** A page of one sequence's enrollments, newest first, keyset-paged on (enrolled_at, id). */
export async function listSequenceEnrollments(
  db: Queryable,
  args: { workspaceId: string; sequenceId: string; status?: string; after?: { at: Date; id: string }; limit: number },
): Promise<EnrollmentListRow[]> {
  return db.query<EnrollmentListRow>(
    `select ${E_COLUMNS}, ${LEAD_SUMMARY}, s.name as "sequenceName", v.definition
     from enrollments e
     join leads l on l.id = e.lead_id
     join sequences s on s.id = e.sequence_id
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     where e.workspace_id = $1 and e.sequence_id = $2 and ($3::text is null or e.status = $3)
       and ($4::timestamptz is null or (e.enrolled_at, e.id) < ($4, $5::uuid))
     order by e.enrolled_at desc, e.id desc limit $6`,
    [args.workspaceId, args.sequenceId, args.status ?? null, args.after?.at ?? null, args.after?.id ?? null, args.limit],
  );
}

/** Every enrollment of one lead, newest first (a lead has few). */
export async function listLeadEnrollments(db: Queryable, workspaceId: string, leadId: string): Promise<EnrollmentListRow[]> {
  return db.query<EnrollmentListRow>(
    `select ${E_COLUMNS}, ${LEAD_SUMMARY}, s.name as "sequenceName", v.definition
     from enrollments e
     join leads l on l.id = e.lead_id
     join sequences s on s.id = e.sequence_id
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     where e.workspace_id = $1 and e.lead_id = $2
     order by e.enrolled_at desc, e.id desc`,
    [workspaceId, leadId],
  );
}

/** One enrollment with its lead and sequence, or nothing when it is not in the workspace. */
export async function getEnrollmentDetail(db: Queryable, workspaceId: string, id: string): Promise<EnrollmentListRow | undefined> {
  const [row] = await db.query<EnrollmentListRow>(
    `select ${E_COLUMNS}, ${LEAD_SUMMARY}, s.name as "sequenceName", v.definition
     from enrollments e
     join leads l on l.id = e.lead_id
     join sequences s on s.id = e.sequence_id
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     where e.workspace_id = $1 and e.id = $2`,
    [workspaceId, id],
  );
  return row;
}

/** Who a waiting task is for (docs/SEQUENCES.md, "Who a task is for"), with their working hours here. */
export interface TaskAssignee {
  id: string;
  name: string | null;
  email: string;
  timezone: string | null;
  schedule: unknown | null;
}

export type WaitingEnrollmentRow = EnrollmentListRow & { assignee: TaskAssignee | null };

/**
 * Waiting enrollments (a task or a branch), oldest wait first, keyset-paged on (waiting_since, id),
 * each with its assignee: the member the task step names by email, else the lead's owner (a branch
 * waiting for an outcome names nobody: the owner). `assignee`: a user id, `none` (unassigned), or
 * absent for everyone's.
 */
export async function listWaitingEnrollments(
  db: Queryable,
  args: { workspaceId: string; waitingFor?: 'task' | 'branch'; sequenceId?: string; assignee?: string; after?: { at: Date; id: string }; limit: number },
): Promise<WaitingEnrollmentRow[]> {
  const unassigned = args.assignee === 'none';
  return db.query<WaitingEnrollmentRow>(
    `select ${E_COLUMNS}, ${LEAD_SUMMARY}, s.name as "sequenceName", v.definition,
       case when au.id is null then null else json_build_object('id', au.id, 'name', au.name, 'email', au.email,
         'timezone', am.timezone, 'schedule', am.schedule) end as assignee
     from enrollments e
     join leads l on l.id = e.lead_id
     join sequences s on s.id = e.sequence_id
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     left join memberships am on am.workspace_id = e.workspace_id
       and am.user_id = task_assignee(e.workspace_id, v.definition, e.current_step_id, l.owner_id)
     left join users au on au.id = am.user_id
     where e.workspace_id = $1 and e.status = 'waiting' and e.waiting_for is not null
       and ($2::text is null or e.waiting_for = $2) and ($3::uuid is null or e.sequence_id = $3)
       and ($4::timestamptz is null or (e.waiting_since, e.id) > ($4, $5::uuid))
       and (not $7 or au.id is null) and ($8::uuid is null or au.id = $8)
     order by e.waiting_since, e.id limit $6`,
    [
      args.workspaceId,
      args.waitingFor ?? null,
      args.sequenceId ?? null,
      args.after?.at ?? null,
      args.after?.id ?? null,
      args.limit,
      unassigned,
      args.assignee && !unassigned ? args.assignee : null,
    ],
  );
}

/** A lead's running enrollment as the lead list shows it: where it stands and when it next acts. */
export interface LiveEnrollmentSummary {
  id: string;
  leadId: string;
  sequenceId: string;
  sequenceName: string;
  status: string;
  currentStepId: string | null;
  nextExecutionAt: Date | null;
}

/** The live (active, waiting, paused) enrollments of a page of leads, in one read. */
export async function listLiveEnrollmentsOfLeads(db: Queryable, workspaceId: string, leadIds: readonly string[]): Promise<LiveEnrollmentSummary[]> {
  if (leadIds.length === 0) return [];
  return db.query<LiveEnrollmentSummary>(
    `select e.id, e.lead_id as "leadId", e.sequence_id as "sequenceId", s.name as "sequenceName", e.status,
       e.current_step_id as "currentStepId", e.next_execution_at as "nextExecutionAt"
     from enrollments e join sequences s on s.id = e.sequence_id
     where e.workspace_id = $1 and e.lead_id = any($2::uuid[]) and e.status in ('active', 'waiting', 'paused')
     order by e.enrolled_at desc, e.id desc`,
    [workspaceId, leadIds],
  );
}
