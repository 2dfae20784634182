/**
 * An operator corrects a reply's class (docs/ANALYTICS.md, "Reply sentiment"). The corrected class
 * acts as a classified reply does: the lead's live enrollments that the reply reached (enrolled by
 * the time it landed) exit when their `exitOn` lists `reply.<class>`, and the others are woken so
 * a branch waiting on `when: {reply: …}` looks again.
 */
import { replyExitTrigger } from '../core/definition.ts';
import type { ReplyClass } from '../core/sentiment.ts';
import type { Db } from '../db/db.ts';
import { correctReplyClass } from '../db/events.ts';
import type { Clock } from './clock.ts';
import { exitOnTrigger } from './ingest.ts';

export interface CorrectReplyDeps {
  db: Db;
  clock: Clock;
  wake: () => void;
}

export interface CorrectedReply {
  eventId: string;
  machineClass: string | null;
  /** Enrollments the corrected class ended through their exitOn. */
  exited: string[];
}

export async function correctReply(
  deps: CorrectReplyDeps,
  args: { workspaceId: string; eventId: string; replyClass: ReplyClass; actor: string },
): Promise<CorrectedReply | undefined> {
  const now = deps.clock.now();
  const result = await deps.db.transaction(async (tx) => {
    const corrected = await correctReplyClass(tx, { ...args, now });
    if (!corrected) return undefined;
    const exited = corrected.leadId
      ? await exitOnTrigger(tx, {
          leadId: corrected.leadId,
          trigger: replyExitTrigger(args.replyClass),
          now,
          actor: args.actor,
          wakeOthers: true,
          enrolledBy: corrected.receivedAt,
        })
      : [];
    return { eventId: corrected.id, machineClass: corrected.machineClass, exited };
  });
  if (result) deps.wake();
  return result;
}
