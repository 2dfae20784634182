/**
 * The intents of a round's admitted sends (docs/ENGINE.md, "One delivery step", step 3): every
 * `started` row committed before any adapter call, each re-checked under its enrollment's row
 * lock (a pause, cancel or take-over that committed first wins). A send through the sequence's
 * mailboxes takes its mailbox with its intent, in one transaction (docs/MAILBOXES.md); one that
 * must wait for its mailbox ends here, like a send the gate deferred.
 */
import { firstDueAt } from '../core/decide.ts';
import type { DeliveryStep } from '../core/definition.ts';
import { writeIntents, type IntentRequest } from '../db/executions.ts';
import { writeMailboxIntents, type MailboxRecord } from '../db/mailboxes.ts';
import { sendsThroughMailbox } from './delivery.ts';
import type { EngineDeps } from './deps.ts';
import { afterFailure, ending, type Ending, type Visit } from './endings.ts';
import { allOrEach } from './failures.ts';

/** A written intent: its row, and for a mailbox send the mailbox and the Message-ID stored with it. */
export interface SendIntent {
  id: string;
  attempts: number;
  mailbox?: MailboxRecord;
  messageId?: string;
}

type Admitted = { visit: Visit; step: DeliveryStep; request: IntentRequest };

/**
 * Writes the intents of the admitted sends, the direct ones in one batch and the mailbox ones
 * in another; answers them by enrollment id. A send without an intent here is not sent: its
 * enrollment was handed to `failed`, ended in `endings`, or its lease or status changed.
 */
export async function writeSendIntents(
  deps: EngineDeps,
  admitted: Admitted[],
  failed: (visit: Visit, error: unknown) => void,
  endings: Ending[],
): Promise<Map<string, SendIntent>> {
  const byEnrollment = new Map(admitted.map((r) => [r.request.identity.enrollmentId, r]));
  const direct = admitted.filter((r) => !sendsThroughMailbox(r.visit.context, r.step));
  const intents: Map<string, SendIntent> = await allOrEach(
    deps,
    'intents',
    direct.map((r) => r.request),
    (r) => r.identity.enrollmentId,
    (rs) => writeIntents(deps.db, rs),
    (request, error) => failed(byEnrollment.get(request.identity.enrollmentId)!.visit, error),
  );
  const throughMailboxes = admitted.filter((r) => sendsThroughMailbox(r.visit.context, r.step));
  for (const [id, intent] of await mailboxIntents(deps, throughMailboxes, failed, endings)) intents.set(id, intent);
  return intents;
}

/**
 * Intents of sends that go through the sequence's mailboxes (docs/MAILBOXES.md): each takes a
 * mailbox with room today (its own once it has one), counted with its intent in one
 * transaction. One that must wait — every mailbox at its daily limit, or within its minimum
 * gap — is rescheduled to when it may send, inside the step's window, without an attempt
 * spent; a daily-limit wait leaves its reason on the lead's timeline.
 */
async function mailboxIntents(
  deps: EngineDeps,
  items: Admitted[],
  failed: (visit: Visit, error: unknown) => void,
  endings: Ending[],
): Promise<Map<string, SendIntent>> {
  const written = new Map<string, SendIntent>();
  if (items.length === 0) return written;
  const byEnrollment = new Map(items.map((i) => [i.request.identity.enrollmentId, i]));
  const answers = await allOrEach(
    deps,
    'mailbox intents',
    items.map(({ visit, request }) => ({ intent: request, mailboxIds: visit.context.definition.mailboxes!, workspaceZone: visit.context.workspaceZone })),
    (r) => r.intent.identity.enrollmentId,
    (rs) => writeMailboxIntents(deps.db, rs),
    (r, error) => failed(byEnrollment.get(r.intent.identity.enrollmentId)!.visit, error),
  );
  // The sends are counted (committed): the Mailboxes page's "sent today" moved.
  deps.live?.publish(
    [...answers.entries()].flatMap(([enrollmentId, answer]) =>
      answer.kind === 'intent' ? [{ kind: 'mailbox' as const, workspaceId: byEnrollment.get(enrollmentId)!.visit.context.enrollment.workspaceId, mailboxId: answer.mailbox.id }] : [],
    ),
  );
  for (const [enrollmentId, answer] of answers) {
    const { visit, step, request } = byEnrollment.get(enrollmentId)!;
    if (answer.kind === 'intent') {
      written.set(enrollmentId, answer);
    } else if (answer.kind === 'wait') {
      const at = firstDueAt(visit.context.definition, step.id, answer.until, visit.zone);
      const waiting = ending(visit, { kind: 'reschedule', at });
      const { workspaceId, leadId } = visit.context.enrollment;
      endings.push(answer.cause === 'limit' ? { ...waiting, note: { workspaceId, leadId, reason: `${answer.reason}; deferred to ${at.toISOString()}` } } : waiting);
    } else {
      const message = 'None of the mailboxes this sequence names exists any more; not sent.';
      endings.push(
        afterFailure(visit, step, 'no_mailbox', {
          kind: 'record',
          identity: request.identity,
          status: 'failed',
          errorCode: 'no_mailbox',
          errorMessage: message,
          adapter: request.adapter,
        }),
      );
    }
  }
  return written;
}
