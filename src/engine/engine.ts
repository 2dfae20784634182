/**
 * The engine, assembled: a dispatcher, and the functions the API calls (enroll, operator
 * controls, outcomes, events). It receives its dispatcher (the assembly in src/app/ picks one:
 * the leader's BullMQ dispatcher in a worker); without one it makes the inline dispatcher.
 */
import type { OperatorAction } from '../core/enrollmentStatus.ts';
import type { InboundEvent } from '../core/events.ts';
import { applyOperatorAction, convertLead, recordOutcome, undoCancel, type ControlResult, type ConvertLeadResult } from './controls.ts';
import type { EngineDeps } from './deps.ts';
import { InlineDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher.ts';
import { enrollLeads, type EnrollOutcome } from './enroll.ts';
import { actOnLeads, deleteLeadChunk, type ChunkResult } from './bulk.ts';
import { ingestEvent, type IngestResult } from './ingest.ts';
import { ingestCustomEvents, type CustomEventInput, type CustomEventResult } from './customEvents.ts';
import { correctReply, type CorrectedReply } from './replyClasses.ts';
import type { ReplyClass } from '../core/sentiment.ts';
import type { LiveNotice } from '../core/live.ts';
import { enrollmentNotices } from './liveNotices.ts';

export interface Engine<D extends Dispatcher = Dispatcher> {
  readonly deps: EngineDeps;
  readonly dispatcher: D;
  /** `dryRun`: the same rules and skips, rolled back. */
  enroll(args: { workspaceId: string; sequenceId: string; leadIds: string[]; actor: string; dryRun?: boolean }): Promise<EnrollOutcome>;
  /** A bulk pause or cancel over one chunk of leads (POST /api/leads/bulk). */
  actOnLeads(args: Parameters<typeof actOnLeads>[1]): Promise<ChunkResult>;
  /** A bulk delete of one chunk of leads. */
  deleteLeads(args: Parameters<typeof deleteLeadChunk>[1]): Promise<ChunkResult>;
  act(args: {
    enrollmentId: string;
    workspaceId?: string;
    action: OperatorAction;
    actor: string;
    reason?: string | null;
  }): Promise<ControlResult>;
  /** Takes back a cancel made less than CANCEL_UNDO_WINDOW_MS ago. */
  undoCancel(args: { enrollmentId: string; workspaceId?: string; actor: string }): Promise<ControlResult>;
  recordOutcome(args: {
    enrollmentId: string;
    workspaceId?: string;
    outcome: string;
    channel?: string | null;
    note?: string | null;
    actor: string;
  }): Promise<ControlResult>;
  /** The lead converted: exits its enrollments whose exitOn lists `converted`, sets its status. */
  convertLead(args: { leadId: string; workspaceId: string; actor: string }): Promise<ConvertLeadResult>;
  ingest(event: InboundEvent): Promise<IngestResult>;
  /** Custom events from another system (POST /api/events), one transaction per call. */
  ingestCustom(args: { workspaceId: string; actor: string; events: CustomEventInput[] }): Promise<CustomEventResult[]>;
  /** An operator's correction of a reply's class, applied to exits and branches as a new class. */
  correctReply(args: { workspaceId: string; eventId: string; replyClass: ReplyClass; actor: string }): Promise<CorrectedReply | undefined>;
  /** Something is due now; the dispatcher (whichever runs) should look. */
  wake(): void;
}

export interface EngineOptions {
  inFlightTimeoutMs?: number;
  /** Also called on every wake-up (e.g. to publish it to a leader in another process). */
  onWake?: () => void;
}

/** An engine running the inline dispatcher, which tests and benchmarks also drive by hand (drain). */
export type InlineEngine = Engine<InlineDispatcher>;

/** With no dispatcher given, the inline one (embedded mode, and tests that drain it). */
export function createEngine(deps: EngineDeps, options?: DispatcherOptions & EngineOptions): Engine<InlineDispatcher>;
export function createEngine<D extends Dispatcher>(deps: EngineDeps, options: EngineOptions & { dispatcher: D }): Engine<D>;
export function createEngine(
  deps: EngineDeps,
  options: DispatcherOptions & EngineOptions & { dispatcher?: Dispatcher } = {},
): Engine {
  const dispatcher = options.dispatcher ?? new InlineDispatcher(deps, options);
  const wake = () => {
    dispatcher.wake();
    options.onWake?.();
  };
  const io = { db: deps.db, clock: deps.clock, wake, inFlightTimeoutMs: options.inFlightTimeoutMs, replyClassifier: deps.replyClassifier, logger: deps.logger, live: deps.live };
  // What each operation committed, told to the dashboards once it resolved (docs/DASHBOARD.md, "Live updates").
  const announce = (notices: LiveNotice[]) => deps.live?.publish(notices);
  const controlled = (result: ControlResult) => {
    // An operator's action or outcome may start or end a wait for a person: the task inbox too.
    if (result.ok) announce(enrollmentNotices(result.enrollment, undefined, { task: true }));
    return result;
  };
  return {
    deps,
    dispatcher,
    enroll: async (args) => {
      const outcome = await enrollLeads(io, args);
      if (outcome.ok && !args.dryRun) {
        const { workspaceId, sequenceId } = args;
        announce(outcome.enrolled.flatMap(({ leadId, enrollmentId }): LiveNotice[] => [
          { kind: 'lead', workspaceId, leadId },
          { kind: 'enrollment', workspaceId, leadId, enrollmentId, sequenceId },
        ]));
      }
      return outcome;
    },
    act: async (args) => controlled(await applyOperatorAction(io, args)),
    actOnLeads: async (args) => {
      const result = await actOnLeads(io, args);
      announce(result.changed.flatMap((e) => enrollmentNotices(e, undefined, { task: true })));
      return result;
    },
    deleteLeads: (args) => deleteLeadChunk(io, args),
    undoCancel: async (args) => controlled(await undoCancel(io, args)),
    recordOutcome: async (args) => controlled(await recordOutcome(io, args)),
    convertLead: async (args) => {
      const result = await convertLead(io, args);
      if (result.ok) {
        const { workspaceId, leadId } = args;
        announce([{ kind: 'lead', workspaceId, leadId }, ...result.exited.map((enrollmentId): LiveNotice => ({ kind: 'task', workspaceId, leadId, enrollmentId }))]);
      }
      return result;
    },
    ingest: (event) => ingestEvent(io, event),
    ingestCustom: async (args) => {
      const results = await ingestCustomEvents(io, args);
      const { workspaceId } = args;
      announce(results.flatMap((r): LiveNotice[] => {
        if (r.status !== 'recorded') return [];
        return [{ kind: 'lead', workspaceId, leadId: r.leadId }, ...r.exited.map((enrollmentId): LiveNotice => ({ kind: 'task', workspaceId, leadId: r.leadId, enrollmentId }))];
      }));
      return results;
    },
    correctReply: async (args) => {
      const corrected = await correctReply(io, args);
      if (corrected) announce([{ kind: 'reply', workspaceId: args.workspaceId, eventId: args.eventId }]);
      return corrected;
    },
    wake,
  };
}
