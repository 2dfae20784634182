/**
 * Live updates (docs/DASHBOARD.md, "Live updates"): the small "something changed" notices the
 * server pushes over `GET /api/stream`. A notice names what changed (a kind and ids), never
 * what it changed to: the dashboard refetches what it shows through the ordinary routes, so a
 * notice needs no authorization beyond its workspace. Pure: shapes, the topics a stream may
 * pick, what a filter lets through, and how a burst is folded into few notices.
 */
import { z } from 'zod';

/**
 * - `lead`: something on a lead's timeline or profile (an event, an activity, its status).
 * - `enrollment`: an enrollment's status or step (a send, a move, an operator's action).
 * - `task`: an enrollment started or stopped waiting for a person (the Tasks page).
 * - `reply`: a reply arrived or was acted on (the Replies inbox).
 * - `mailbox`: a mailbox's day count moved (a send counted) or its settings changed (the Mailboxes page).
 * - `webhook`: an outbound webhook delivery was attempted, or an endpoint changed (the webhook log).
 * - `workspace`: too much changed to list (a bulk enrollment, demo data): refetch everything.
 */
export const NOTICE_KINDS = ['lead', 'enrollment', 'task', 'reply', 'mailbox', 'webhook', 'workspace'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** What a stream may ask for: the notice kinds, and `metrics` (the monitoring page's tick). */
export const LIVE_TOPICS = [...NOTICE_KINDS.filter((k) => k !== 'workspace'), 'metrics'] as const;
export type LiveTopic = (typeof LIVE_TOPICS)[number];

const uuid = z.guid();

export const liveNoticeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('lead'), workspaceId: uuid, leadId: uuid }),
  z.object({ kind: z.literal('enrollment'), workspaceId: uuid, leadId: uuid, enrollmentId: uuid, sequenceId: uuid }),
  z.object({ kind: z.literal('task'), workspaceId: uuid, leadId: uuid, enrollmentId: uuid }),
  z.object({ kind: z.literal('reply'), workspaceId: uuid, leadId: uuid.optional(), eventId: uuid.optional() }),
  z.object({ kind: z.literal('mailbox'), workspaceId: uuid, mailboxId: uuid.optional() }),
  z.object({ kind: z.literal('webhook'), workspaceId: uuid, endpointId: uuid.optional() }),
  z.object({ kind: z.literal('workspace'), workspaceId: uuid }),
]);
export type LiveNotice = z.infer<typeof liveNoticeSchema>;

/** A stream's filter: its workspace, optionally one lead, optionally some topics (absent: all). */
export interface LiveFilter {
  workspaceId: string;
  leadId?: string;
  topics?: ReadonlySet<LiveTopic>;
}

/** Whether a notice reaches a stream. `workspace` always does: it stands for everything. */
export function noticeMatches(filter: LiveFilter, notice: LiveNotice): boolean {
  if (notice.workspaceId !== filter.workspaceId) return false;
  if (notice.kind === 'workspace') return true;
  if (filter.topics && !filter.topics.has(notice.kind)) return false;
  // A lead's stream hears of that lead only: mailbox and webhook notices name none.
  if (filter.leadId && !('leadId' in notice && notice.leadId === filter.leadId)) return false;
  return true;
}

/** The same change said twice is one notice. */
export function noticeKey(notice: LiveNotice): string {
  switch (notice.kind) {
    case 'lead':
      return `lead:${notice.leadId}`;
    case 'enrollment':
    case 'task':
      return `${notice.kind}:${notice.enrollmentId}`;
    case 'reply':
      return `reply:${notice.eventId ?? notice.leadId ?? ''}`;
    case 'mailbox':
      return `mailbox:${notice.mailboxId ?? ''}`;
    case 'webhook':
      return `webhook:${notice.endpointId ?? ''}`;
    case 'workspace':
      return 'workspace';
  }
}

/**
 * Folds a burst of one workspace's notices: duplicates go, and past `max` distinct ones the lot
 * becomes one `workspace` notice (a client refetching 10,000 leads one by one would be worse
 * than refetching its pages once).
 */
export function foldNotices(notices: readonly LiveNotice[], max: number): LiveNotice[] {
  const byKey = new Map<string, LiveNotice>();
  for (const notice of notices) {
    if (notice.kind === 'workspace') return [notice];
    byKey.set(noticeKey(notice), notice);
  }
  if (byKey.size > max) return [{ kind: 'workspace', workspaceId: notices[0]!.workspaceId }];
  return [...byKey.values()];
}

/** The wire text of one notice: an SSE event named by its kind, its ids as JSON (no workspace: the stream is the workspace's). */
export function noticeEvent(notice: LiveNotice): string {
  const { kind, workspaceId: _workspace, ...ids } = notice;
  return `event: ${kind}\ndata: ${JSON.stringify(ids)}\n\n`;
}

/** Parses `?topics=lead,task`; answers the unknown names instead when there are any. */
export function parseTopics(text: string | undefined): { topics?: Set<LiveTopic> } | { unknown: string[] } {
  if (text === undefined || text.trim() === '') return {};
  const names = text.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(LIVE_TOPICS as readonly string[]).includes(n));
  if (unknown.length > 0) return { unknown };
  return { topics: new Set(names as LiveTopic[]) };
}

/** Where the engine and the API announce what they committed (the in-process bus, src/engine/liveBus.ts). */
export interface LiveSink {
  /** Called after the change is committed; cheap and synchronous, never throws into the caller. */
  publish(notices: readonly LiveNotice[]): void;
}
