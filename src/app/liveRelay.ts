/**
 * Live notices across processes on PostgreSQL (docs/DASHBOARD.md, "Live updates"). Every process
 * (API servers and workers) sends what its engine and API announced, in batches of at most one
 * round of NOTIFY per `flushMs` — never inside the engine's transactions, so a step's commit
 * takes no notification lock. API servers also LISTEN and publish the others' notices on their
 * own bus, where their open streams pick them up. PGlite is one process: no relay.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { foldNotices, liveNoticeSchema, type LiveNotice } from '../core/live.ts';
import type { Db } from '../db/db.ts';
import { LiveListener, liveChannelOf, notifyLive } from '../db/liveChannel.ts';
import type { LiveBus } from '../engine/liveBus.ts';

/** PostgreSQL refuses a payload of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_000;
/** Past this many distinct notices of one workspace in a batch, it sends `workspace` instead. */
const FOLD_ABOVE = 50;
/** Past this many notices in a batch after folding, each workspace is one `workspace` notice. */
const BATCH_FOLD_ABOVE = 500;

export interface LiveRelay {
  close(): Promise<void>;
}

export async function startLiveRelay(args: {
  db: Db;
  connectionString: string;
  bus: LiveBus;
  /** API servers listen; workers only send. */
  listen: boolean;
  logger?: Logger;
  flushMs?: number;
}): Promise<LiveRelay> {
  const { db, bus, logger } = args;
  const flushMs = args.flushMs ?? 100;
  const origin = randomBytes(6).toString('base64url');
  const channel = await liveChannelOf(db);
  let pending: LiveNotice[] = [];
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();

  const flush = () => {
    timer = undefined;
    const batch = batchOf(pending);
    pending = [];
    sending = sending.then(async () => {
      for (const payload of payloadsOf(origin, batch)) {
        await notifyLive(db, channel, payload).catch((error: unknown) => logger?.warn({ err: error }, 'live notices not sent to the other processes'));
      }
    });
  };
  const untap = bus.tap((notices, from) => {
    if (from !== 'local') return;
    pending.push(...notices);
    timer ??= setTimeout(flush, flushMs);
  });

  const listener = args.listen
    ? new LiveListener({
        connectionString: args.connectionString,
        channel,
        onMessage: (payload) => {
          const notices = noticesFrom(payload, origin);
          if (notices.length > 0) bus.publish(notices, 'remote');
        },
        // Notices sent while the session was away are lost: the watched workspaces refetch everything.
        onReconnected: () => bus.publish(bus.watched().map((workspaceId): LiveNotice => ({ kind: 'workspace', workspaceId })), 'remote'),
        onError: (error) => logger?.warn({ err: error }, 'live notices: the listening connection was lost; reconnecting'),
      })
    : undefined;
  await listener?.start();

  return {
    async close() {
      untap();
      if (timer) {
        clearTimeout(timer);
        flush();
      }
      await sending;
      await listener?.stop();
    },
  };
}

/** Folds a batch per workspace, and the whole batch when it is still large. */
export function batchOf(notices: readonly LiveNotice[]): LiveNotice[] {
  const byWorkspace = new Map<string, LiveNotice[]>();
  for (const notice of notices) {
    const list = byWorkspace.get(notice.workspaceId);
    if (list) list.push(notice);
    else byWorkspace.set(notice.workspaceId, [notice]);
  }
  const folded = [...byWorkspace.values()].flatMap((list) => foldNotices(list, FOLD_ABOVE));
  if (folded.length <= BATCH_FOLD_ABOVE) return folded;
  return [...byWorkspace.keys()].map((workspaceId): LiveNotice => ({ kind: 'workspace', workspaceId }));
}

/** `{o: origin, n: notices}` texts, each below PostgreSQL's payload limit. */
export function payloadsOf(origin: string, notices: readonly LiveNotice[]): string[] {
  const payloads: string[] = [];
  let chunk: string[] = [];
  let size = 0;
  const close = () => {
    if (chunk.length > 0) payloads.push(`{"o":${JSON.stringify(origin)},"n":[${chunk.join(',')}]}`);
    chunk = [];
    size = 0;
  };
  for (const notice of notices) {
    const text = JSON.stringify(notice);
    if (size + text.length + 1 > MAX_PAYLOAD_BYTES - 64) close();
    chunk.push(text);
    size += text.length + 1;
  }
  close();
  return payloads;
}

/** Another process's notices (its own are already on this bus); anything malformed is dropped. */
export function noticesFrom(payload: string, self: string): LiveNotice[] {
  let parsed: { o?: unknown; n?: unknown };
  try {
    parsed = JSON.parse(payload) as { o?: unknown; n?: unknown };
  } catch {
    return [];
  }
  if (parsed.o === self || !Array.isArray(parsed.n)) return [];
  return parsed.n.flatMap((n) => {
    const result = liveNoticeSchema.safeParse(n);
    return result.success ? [result.data] : [];
  });
}
