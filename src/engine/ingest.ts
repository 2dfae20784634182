/**
 * Events from providers (and the engine's own mock outcomes) enter here: routed to the
 * workspaces, leads and enrollments they concern, deduplicated by provider event id, mirrored
 * into suppressions, applied to exit rules and to the leads' lifecycle, and waking whatever
 * waits for them.
 */
import { exitReason, triggersOf } from '../core/decide.ts';
import type { Channel, ExitTrigger } from '../core/definition.ts';
import type { EventType, InboundEvent } from '../core/events.ts';
import type { Db, Queryable } from '../db/db.ts';
import { exitEnrollment, lockLiveEnrollmentsOfLead, wakeEnrollments } from '../db/enrollmentChanges.ts';
import { addSuppression, insertEvent, removeSuppression } from '../db/events.ts';
import { advanceLeadStatus, leadAddresses, leadsHoldingAddress, recomputeOptedOut } from '../db/leads.ts';
import { leadStatusForEvent } from '../core/leadStatus.ts';
import { isRunnable } from '../core/transitions.ts';
import { classifyByRules, type ReplyClass } from '../core/sentiment.ts';
import type { ReplyClassifier } from '../delivery/writer/classifier.ts';
import type { Logger } from 'pino';
import { findExecutionForEvent, lastSendTo, liveEnrollmentsWithLastSend, reconcileUnknown, type EventTarget } from '../db/executions.ts';
import { findExecutionByMessageId } from '../db/threads.ts';
import { pauseForAutoReply } from '../db/autoReplyPauses.ts';
import type { Clock } from './clock.ts';
import { parseStoredDefinition } from '../core/storedDefinitions.ts';
import type { LiveNotice, LiveSink } from '../core/live.ts';

export interface IngestDeps {
  db: Db;
  clock: Clock;
  wake: () => void;
  /** A second opinion on a reply no rule recognised; absent: the rules' class stands. */
  replyClassifier?: ReplyClassifier;
  logger?: Logger;
  /** Told which leads the event reached, once it is committed (live updates). */
  live?: LiveSink;
}

export type IngestResult =
  | { status: 'recorded'; eventId: string; leadId: string | null; exited: number }
  | { status: 'duplicate' }
  | { status: 'unmatched' };

/** One place an event lands: a workspace's lead, and the enrollment and step it is about when known. */
interface Target extends EventTarget {
  /** When we sent the message the event is about. */
  sentAt?: Date;
}

interface Routing {
  /** The first is where the provider's event id is recorded; the others get a derived key. */
  targets: Target[];
  address?: { channel: Channel; value: string };
  /** Matched through our execution (id, message id or the thread a reply answers). */
  threaded: boolean;
}

export function channelOf(type: EventType): Channel | null {
  const prefix = type.split('.')[0];
  if (prefix === 'email' || prefix === 'sms') return prefix;
  if (prefix === 'call') return 'voice';
  return null;
}

/**
 * Whose event is this? (docs/ENGINE.md, "Opt-outs and replies across workspaces")
 * - An event that names our message (execution id, provider message id, or the Message-ID a
 *   reply answers) belongs to that message's workspace and enrollment.
 * - An opt-out or opt-in from a provider (STOP, START, a provider-side unsubscribe, a bounce, a
 *   spam report) belongs to the sender account, so it also reaches every lead holding the
 *   address on that channel, in every workspace that sends through the account.
 * - A reply that names no thread goes to every live enrollment (any workspace) of a lead holding
 *   the address, each on its last delivered step of that channel; with none live, to the
 *   enrollment of the last message we delivered to the address; else, when one workspace alone
 *   holds the address, to its newest such lead (several: unmatched).
 * - Anything else that carries only an address: the lead holding it we wrote to last.
 * - An event that came through a workspace's own channel (`workspaceId`: its mailbox, read over
 *   IMAP, or its own provider connection) is all of the above within that workspace alone: a message
 *   of another workspace, or a lead of another, is never matched, and what is account-wide reaches
 *   that workspace's leads only.
 */
async function route(db: Queryable, event: InboundEvent): Promise<Routing | undefined> {
  const scope = event.workspaceId;
  const accountWide = (event.suppress === true || event.unsuppress === true) && event.provider !== 'touchpoint';
  // Account-wide effects of a workspace's own channel reach that workspace's leads only.
  const holdersInScope = async (address: { channel: Channel; value: string }) =>
    (await holders(db, address)).filter((t) => !scope || t.workspaceId === scope);
  const found =
    (await findExecutionForEvent(db, { executionId: event.executionId, providerMessageId: event.providerMessageId })) ??
    (await firstExecutionRepliedTo(db, event.inReplyTo ?? [], scope));
  const execution = found && (!scope || found.workspaceId === scope) ? found : undefined;
  if (execution) {
    const lead = await leadAddresses(db, execution.leadId);
    const channel = event.address?.channel ?? channelOf(event.type) ?? 'email';
    const value = event.address?.value ?? (channel === 'email' ? lead?.email : lead?.phone) ?? undefined;
    const address = value ? { channel, value } : undefined;
    const targets: Target[] = [
      {
        workspaceId: execution.workspaceId,
        leadId: execution.leadId,
        enrollmentId: execution.enrollmentId,
        executionId: execution.id,
        stepId: execution.stepId,
        sentAt: execution.startedAt,
      },
    ];
    if (accountWide && address) targets.push(...(await holdersInScope(address)).filter((t) => t.leadId !== execution.leadId));
    return { targets, address, threaded: true };
  }
  if (!event.address) return undefined;
  const address = event.address;
  if (accountWide) {
    const targets = await holdersInScope(address);
    return targets.length > 0 ? { targets, address, threaded: false } : undefined;
  }
  const leads = (await leadsHoldingAddress(db, address)).filter((l) => !scope || l.workspaceId === scope);
  if (leads.length === 0) return undefined;
  const ids = leads.map((l) => l.id);
  const channel = channelOf(event.type);
  if (channel && (event.type === 'email.replied' || event.type === 'sms.replied')) {
    const live = await liveEnrollmentsWithLastSend(db, ids, channel);
    if (live.length > 0) return { targets: live, address, threaded: false };
  }
  // The lead holding the address we wrote to last (on this channel when the event has one).
  const last = await lastSendTo(db, ids, channel);
  const replied = event.type === 'email.replied' || event.type === 'sms.replied';
  if (last) {
    // A reply is attributed to the message it most likely answers; other events stay lead-level.
    const target = replied ? last : { ...last, enrollmentId: null, executionId: null, stepId: null };
    return { targets: [target], address, threaded: false };
  }
  // Nothing was ever delivered to the address: only a workspace that is alone in holding it may
  // have the event; were several to hold it, picking one would hand a stranger's words to a tenant.
  if (new Set(leads.map((l) => l.workspaceId)).size > 1) return undefined;
  const newest = leads[leads.length - 1]!;
  return { targets: [{ workspaceId: newest.workspaceId, leadId: newest.id, enrollmentId: null, executionId: null, stepId: null }], address, threaded: false };
}

async function holders(db: Queryable, address: { channel: Channel; value: string }): Promise<Target[]> {
  const leads = await leadsHoldingAddress(db, address);
  return leads.map((l) => ({ workspaceId: l.workspaceId, leadId: l.id, enrollmentId: null, executionId: null, stepId: null }));
}

/**
 * A reply names our message by its Message-ID header, which neither provider reports at send
 * time; both build it from the id they do report: SendGrid `<X-Message-Id@…sendgrid.net>`,
 * Postmark `<MessageID@mtasv.net>`. So the part before '@' is tried after the whole id.
 */
async function firstExecutionRepliedTo(db: Queryable, messageIds: string[], scope: string | undefined) {
  for (const id of messageIds) {
    // The Message-ID Touchpoint gave the email (docs/SEQUENCES.md, "Threads"), on every adapter.
    const ours = await findExecutionByMessageId(db, id);
    if (ours && (!scope || ours.workspaceId === scope)) return ours;
    const local = id.includes('@') ? id.slice(0, id.lastIndexOf('@')) : undefined;
    for (const candidate of local ? [id, local] : [id]) {
      const found = await findExecutionForEvent(db, { providerMessageId: candidate });
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * A reply's class (docs/ANALYTICS.md, "Reply sentiment"); undefined for other events. The rules
 * first: a rule that matched decides. Only a reply no rule recognised goes to the AI classifier,
 * outside any transaction; its validated answer is the class (`ai`), and any failure leaves the
 * rules' default.
 */
async function replyClassOf(deps: IngestDeps, event: InboundEvent): Promise<{ class: ReplyClass; source: 'rules' | 'ai' } | undefined> {
  if (event.type !== 'email.replied' && event.type !== 'sms.replied') return undefined;
  const text = typeof event.data.text === 'string' ? event.data.text : '';
  const subject = typeof event.data.subject === 'string' ? event.data.subject : undefined;
  const byRules = classifyByRules(text, subject);
  if (byRules.rule !== null || !deps.replyClassifier || text.trim() === '') return { class: byRules.class, source: 'rules' };
  const answer = await deps.replyClassifier.classify({ text, subject }).catch((error: unknown) => ({
    kind: 'failed' as const,
    code: 'classifier_error',
    message: error instanceof Error ? error.message : String(error),
  }));
  if (answer.kind === 'classified') return { class: answer.class, source: 'ai' };
  deps.logger?.warn({ classifier: deps.replyClassifier.name, code: answer.code, reason: answer.message }, 'reply classified by the rules: the AI classifier failed');
  return { class: byRules.class, source: 'rules' };
}

export async function ingestEvent(deps: IngestDeps, event: InboundEvent): Promise<IngestResult> {
  const now = deps.clock.now();
  const replyClass = await replyClassOf(deps, event);
  let reached: Target[] = [];
  const result = await deps.db.transaction(async (tx): Promise<IngestResult> => {
    const routing = await route(tx, event);
    if (!routing) return { status: 'unmatched' };
    const { targets, address } = routing;
    reached = targets;
    const accountWide = event.provider !== 'touchpoint' && !event.workspaceId;
    let first: string | undefined;
    for (const [index, target] of targets.entries()) {
      // Providers stamp events in whole seconds, so an open can look older than the send (and the
      // enrollment) it follows, and conditions would not see it. Nothing about a message happens
      // before we sent it.
      const early = target.sentAt !== undefined && event.occurredAt.getTime() < target.sentAt.getTime();
      const eventId = await insertEvent(tx, {
        workspaceId: target.workspaceId,
        leadId: target.leadId,
        enrollmentId: target.enrollmentId,
        executionId: target.executionId,
        stepId: target.stepId,
        type: event.type,
        channel: channelOf(event.type),
        provider: event.provider,
        // The provider's id is the dedupe key of the whole delivery: a retry conflicts on the first.
        providerEventId: index === 0 ? event.providerEventId : `${event.providerEventId}:${target.leadId}:${target.enrollmentId ?? ''}`,
        occurredAt: early ? target.sentAt! : event.occurredAt,
        receivedAt: now,
        data: early ? { ...event.data, providerOccurredAt: event.occurredAt.toISOString() } : event.data,
        replyClass,
      });
      if (index === 0 && !eventId) return { status: 'duplicate' };
      first ??= eventId;
    }
    // Any provider event about a message proves it went out: a send a crash left `unknown` is
    // reconciled here (it was never resent, and now we know it arrived).
    if (routing.threaded && targets[0]?.executionId) await reconcileUnknown(tx, targets[0].executionId, event.providerMessageId, now);
    if (address && !event.transient && (event.suppress || event.unsuppress)) {
      // A provider's opt-out belongs to its sender account; our own unsubscribe page's to the
      // workspace whose message carried the link.
      const scope = accountWide ? 'account' : targets[0]?.workspaceId;
      const suppression = { channel: address.channel, address: address.value };
      if (scope && event.suppress) {
        await addSuppression(tx, { ...suppression, workspaceId: scope, reason: event.type, source: event.provider, sender: event.sender });
      } else if (scope) await removeSuppression(tx, { ...suppression, workspaceId: scope });
    }
    const leadIds = [...new Set(targets.flatMap((t) => (t.leadId ? [t.leadId] : [])))];
    let exited = 0;
    // Enrollments are locked before leads, as the executor does. A transient event (a soft
    // bounce) is on the timeline and wakes branches, but ends nothing and marks no lead.
    const triggers = triggersOf({ type: event.type, replyClass: replyClass?.class });
    if (event.transient) await wakeLiveEnrollmentsOf(tx, leadIds, now);
    else for (const leadId of leadIds) exited += await applyToLead(tx, leadId, triggers, now);
    if (event.pauseUntil && event.pauseUntil > now) {
      await pauseForAutoReply(tx, {
        leadIds,
        until: event.pauseUntil,
        now,
        actor: 'system',
        reason: `auto_reply: ${event.type} until ${event.pauseUntil.toISOString()}`,
      });
    }
    const status = event.transient ? null : leadStatusForEvent(event.type);
    if (status) await advanceLeadStatus(tx, leadIds, status, now);
    if (event.unsuppress) await recomputeOptedOut(tx, leadIds, now);
    if (!first) return { status: 'unmatched' };
    return { status: 'recorded', eventId: first, leadId: targets[0]?.leadId ?? null, exited };
  });
  if (result.status === 'recorded') {
    deps.wake();
    deps.live?.publish(eventNotices(reached, event.type, result));
  }
  return result;
}

/**
 * The leads an event reached (their timelines), the task inbox when it ended enrollments (a task
 * of theirs is gone), and the replies inbox for a reply.
 */
function eventNotices(targets: readonly Target[], type: EventType, result: { eventId: string; exited: number }): LiveNotice[] {
  const replied = type === 'email.replied' || type === 'sms.replied';
  return targets.flatMap((t): LiveNotice[] => {
    const { workspaceId, leadId, enrollmentId } = t;
    if (!leadId) return [];
    const notices: LiveNotice[] = [{ kind: 'lead', workspaceId, leadId }];
    if (enrollmentId && result.exited > 0) notices.push({ kind: 'task', workspaceId, leadId, enrollmentId });
    if (replied) notices.push({ kind: 'reply', workspaceId, leadId, ...(t === targets[0] ? { eventId: result.eventId } : {}) });
    return notices;
  });
}

/**
 * Exit rules fire for every live enrollment of the lead whose sequence lists the event (a reply
 * stops all of a lead's sequences, paused ones too); the others are woken to look again.
 */
async function applyToLead(tx: Queryable, leadId: string, triggers: readonly ExitTrigger[], now: Date): Promise<number> {
  return (await exitOnTrigger(tx, { leadId, trigger: triggers, now, actor: 'system', wakeOthers: true })).length;
}

/** Wakes the running enrollments of these leads, so a branch waiting on the event sees it. */
async function wakeLiveEnrollmentsOf(tx: Queryable, leadIds: string[], now: Date): Promise<void> {
  for (const leadId of leadIds) {
    const live = await lockLiveEnrollmentsOfLead(tx, leadId);
    await wakeEnrollments(tx, live.filter((e) => isRunnable(e.status)).map((e) => e.id), now);
  }
}

/**
 * Exits every live enrollment of a lead whose `exitOn` lists `trigger` (but `except`), with the
 * trigger's reason and an audit row; answers their ids. Locks them (the executor re-checks under
 * the same lock before any send). `wakeOthers`: the enrollments that stay run again now, so a
 * branch waiting on the event sees it.
 */
export async function exitOnTrigger(
  tx: Queryable,
  args: {
    leadId: string;
    /** Several (a classified reply fires its type and `reply.<class>`): the first an enrollment lists is its reason. */
    trigger: ExitTrigger | readonly ExitTrigger[];
    now: Date;
    actor: string;
    except?: string;
    wakeOthers?: boolean;
    /** Only enrollments that started by then (a corrected reply concerns those it reached). */
    enrolledBy?: Date;
  },
): Promise<string[]> {
  const { leadId, now } = args;
  const triggers: readonly ExitTrigger[] = typeof args.trigger === 'string' ? [args.trigger] : args.trigger;
  const exited: string[] = [];
  const woken: string[] = [];
  for (const { definition: stored, ...enrollment } of await lockLiveEnrollmentsOfLead(tx, leadId, args.except)) {
    if (args.enrolledBy && enrollment.enrolledAt.getTime() > args.enrolledBy.getTime()) continue;
    const definition = parseStoredDefinition(enrollment.sequenceId, enrollment.sequenceVersion, stored);
    const fired = triggers.find((t) => (definition.exitOn as string[]).includes(t));
    if (fired) {
      await exitEnrollment(tx, { enrollment, reason: exitReason(fired), actor: args.actor, now });
      exited.push(enrollment.id);
    } else if (args.wakeOthers && isRunnable(enrollment.status)) woken.push(enrollment.id);
  }
  await wakeEnrollments(tx, woken, now);
  return exited;
}
