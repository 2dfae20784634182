/**
 * `task.created` payloads are completed here, not in SQL: a task's title and description are
 * Liquid templates, rendered for the lead as the API's task inbox renders them
 * (src/api/enrollmentWire.ts, renderTaskText). The outbox trigger writes the payload with
 * `title` null; the deliverer renders it right after claiming, before the first post, and
 * stores it, so every retry and replay posts the same bytes and the delivery log shows what
 * was sent. The lead is read as it stands at that moment (as the inbox reads it), and so is
 * the task's assignee (`assignee`: the member the step names, else the lead's owner).
 */
import { renderTaskText } from '../core/content.ts';
import type { Lead } from '../core/definition.ts';
import { parseStoredDefinition } from '../core/storedDefinitions.ts';
import type { LeadSummary } from '../db/enrollmentLists.ts';

type Payload = Record<string, unknown> & { data?: Record<string, unknown> };

/** A `task.created` payload still waiting for its title (one written before this rule has one). */
export function needsTaskTitle(eventType: string, payload: Payload): boolean {
  return eventType === 'task.created' && payload.data != null && payload.data.title == null;
}

/**
 * The payload with `title` and `description` rendered. A sequence version or step that cannot
 * be found (deleted since) leaves the step id as the title, as an empty rendering does.
 */
export function completeTaskPayload(
  payload: Payload,
  context: { definition: unknown; lead: LeadSummary | null; assignee?: { id: string; name: string | null; email: string } | null },
): Payload {
  const data = payload.data ?? {};
  const stepId = String(data.stepId ?? '');
  let title = stepId;
  let description: string | null = null;
  try {
    const definition = context.definition == null ? undefined
      : parseStoredDefinition(String(data.sequenceId), Number(data.sequenceVersion), context.definition);
    const step = definition?.steps.find((s) => s.id === stepId);
    if (definition && step?.type === 'task') {
      // The lead deleted since: what the payload names of it (no custom fields).
      const lead: Lead = context.lead ?? { ...(data.lead as Lead | undefined), id: String((data.lead as Lead | undefined)?.id ?? '') };
      ({ title, description } = renderTaskText(step, { lead: { ...lead, customFields: lead.customFields ?? {} }, definition }));
    }
  } catch {
    // A stored definition that no longer parses: the step id, as above, rather than no event.
  }
  return { ...payload, data: { ...data, title, description, assignee: context.assignee ?? null } };
}
