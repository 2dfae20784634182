import type { Logger } from 'pino';
import type { FrequencyCaps } from '../core/limits.ts';
import type { LiveSink } from '../core/live.ts';
import type { Db } from '../db/db.ts';
import type { DeliveryAdapters, SendGate } from '../delivery/types.ts';
import type { AiWriter } from '../delivery/writer/types.ts';
import type { ReplyClassifier } from '../delivery/writer/classifier.ts';
import type { Clock } from './clock.ts';
import type { EngineObserver } from '../telemetry/observer.ts';

export type { EngineObserver } from '../telemetry/observer.ts';

export interface SenderDefaults {
  emailFrom: string;
  emailFromName?: string;
  smsFrom: string;
  voiceFrom: string;
}

/** Everything the engine does IO with, passed in once; nothing below reads env or globals. */
export interface EngineDeps {
  db: Db;
  adapters: DeliveryAdapters;
  clock: Clock;
  /** How long a claim holds an enrollment before another worker may take it over. */
  leaseMs: number;
  /** Attempts in a row whose step throws before the enrollment is `failed` (default 5). */
  maxConsecutiveFailures?: number;
  senders: SenderDefaults;
  logger?: Logger;
  observer?: EngineObserver;
  random?: () => number;
  /** Builds the one-click unsubscribe link for an email execution, when a public URL is set. */
  unsubscribeUrl?: (args: { workspaceId: string; leadId: string; executionId: string }) => string | undefined;
  /**
   * Builds the open pixel and click redirect links of an email execution (docs/SEQUENCES.md,
   * "Tracking"); absent: no email is tracked, whatever its sequence asks.
   */
  tracking?: { openUrl(executionId: string): string; clickUrl(executionId: string, url: string): string };
  /** Drafts `useAiWriter` steps; absent = such steps send their template and say so. */
  writer?: AiWriter;
  /** Classifies a landing reply no rule recognised (the AI writer's endpoint); absent = the rules' class stands. */
  replyClassifier?: ReplyClassifier;
  /** Opens a sealed credential (a mailbox's SMTP password); absent: no key, mailbox sends fail. */
  openSecret?: (sealed: string, context: string) => string;
  /** Sends per channel per lead per local day unless the workspace overrides; absent: the core's defaults. */
  frequencyCaps?: FrequencyCaps;
  /**
   * Asked about a round's sends before their intents (rate limits; a mailbox's daily cap): a send
   * it defers is rescheduled to when its limit has room (docs/ENGINE.md, "Limit-aware claims").
   */
  sendGate?: SendGate;
  /** Told what each commit changed (the dashboard's live updates); absent: nobody listens. */
  live?: LiveSink;
}
