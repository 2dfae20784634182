/**
 * An execution looked up from outside the engine, with the lead it reached: the live call asks
 * what to say and to whom, the unsubscribe page which address to suppress. Both start from an
 * execution id a provider or a recipient echoed back.
 */
import type { Queryable } from './db.ts';
import { isUuid } from './ids.ts';

export interface VoiceExecution {
  id: string;
  workspaceId: string;
  enrollmentId: string;
  stepId: string;
  rendered: { text?: unknown; voicemail?: unknown } | null;
  /** The lead as a voice agent sees it: id, names, company, title, phone, email, zone. */
  lead: Record<string, unknown>;
}

/** A voice execution and its lead; nothing for an id that is not one (echoed client_state is untrusted). */
export async function findVoiceExecution(db: Queryable, executionId: string): Promise<VoiceExecution | undefined> {
  if (!isUuid(executionId)) return undefined;
  const [row] = await db.query<VoiceExecution>(
    `select x.id, x.workspace_id as "workspaceId", x.enrollment_id as "enrollmentId", x.step_id as "stepId", x.rendered,
       json_build_object('id', l.id, 'firstName', l.first_name, 'lastName', l.last_name, 'company', l.company,
         'title', l.title, 'phone', l.phone, 'email', l.email, 'timezone', l.timezone) as lead
     from sequence_executions x join leads l on l.id = x.lead_id
     where x.id = $1 and x.channel = 'voice'`,
    [executionId],
  );
  return row;
}

/**
 * The email address of the lead an execution reached, or undefined (no such execution, or the
 * lead has no email). The id comes from a signed unsubscribe token, so it is one we wrote.
 */
export async function findExecutionLeadEmail(db: Queryable, executionId: string): Promise<string | undefined> {
  const [lead] = await db.query<{ email: string | null }>(
    `select l.email from sequence_executions x join leads l on l.id = x.lead_id where x.id = $1`,
    [executionId],
  );
  return lead?.email ?? undefined;
}
