/**
 * `GET /api/stream`: server-sent events telling a workspace's dashboards what changed
 * (docs/DASHBOARD.md, "Live updates"; the notices are src/core/live.ts). Authenticated like every
 * route; the stream carries only kinds and ids of its own workspace, and the dashboard refetches
 * what it shows through the ordinary routes. A burst is folded before it is written; a comment
 * every LIVE_HEARTBEAT_MS keeps proxies from closing an idle stream, and at each one the caller's
 * credential is looked at again, so a signed-out, expired or revoked one ends its stream; the
 * app's close ends every open stream first, so a shutdown never waits on them.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Accounts } from '../accounts/accounts.ts';
import type { Db } from '../db/db.ts';
import { membershipIn } from '../db/users.ts';
import { tokenIsLive } from '../db/workspaces.ts';
import { foldNotices, LIVE_TOPICS, noticeEvent, noticeMatches, parseTopics, type LiveFilter, type LiveNotice } from '../core/live.ts';
import type { LiveBus } from '../engine/liveBus.ts';
import { callerOf } from './auth.ts';
import { sessionCookieOf } from './sessionCookie.ts';
import { commonErrors, fail, id, type Api } from './wire.ts';

export interface StreamOptions {
  bus: LiveBus;
  heartbeatMs: number;
  streamsPerCaller: number;
  /** Notices are gathered this long before a write (one write per burst). */
  flushMs?: number;
  /** Past this many distinct notices in one write, the stream says `workspace` (refetch everything). */
  foldAbove?: number;
  /** While the workspace changes, `metrics` at most this often; otherwise every `idleMetricsMs`. */
  metricsMs?: number;
  idleMetricsMs?: number;
  /**
   * Where the caller's credential is looked at again on each heartbeat: a stream whose session
   * was signed out, revoked or expired (or whose person left the workspace), or whose token was
   * revoked, is ended. Absent: never looked at again.
   */
  credentials?: { db: Db; accounts: Accounts };
}

/**
 * Why the stream's caller may no longer listen, or null while they may: the session as the auth
 * hook reads it (live, not revoked, within its idle and absolute limits) and the membership of
 * the stream's workspace, or the token not revoked.
 */
export function credentialCheck(request: FastifyRequest, { db, accounts }: { db: Db; accounts: Accounts }): () => Promise<string | null> {
  const caller = callerOf(request);
  if (caller.tokenId) {
    const tokenId = caller.tokenId;
    return async () => ((await tokenIsLive(db, tokenId)) ? null : 'The token was revoked.');
  }
  const cookie = sessionCookieOf(request);
  return async () => {
    const session = cookie ? await accounts.session(cookie) : undefined;
    if (!session) return 'The session ended (signed out, expired or revoked); sign in again.';
    if (!(await membershipIn(db, session.userId, caller.workspaceId))) return `You are no longer a member of workspace ${caller.workspaceName}.`;
    return null;
  };
}

/** How long a client waits before it reconnects (the SSE `retry:` field). */
export const RETRY_MS = 3_000;

export function streamRoutes(api: Api, options: StreamOptions) {
  const open = new Set<ServerResponse>();
  const perCaller = new Map<string, number>();
  const flushMs = options.flushMs ?? 100;
  const foldAbove = options.foldAbove ?? 100;
  const metricsMs = options.metricsMs ?? 3_000;
  const idleMetricsMs = options.idleMetricsMs ?? 15_000;

  // A shutdown ends the streams before the server waits for its connections to finish.
  api.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  api.get(
    '/stream',
    {
      config: { minRole: 'viewer', workspaceInQuery: true },
      schema: {
        summary: 'Live updates: server-sent events naming what changed in the workspace',
        description: [
          'A `text/event-stream` that stays open. Each event is named by its kind and carries ids only; refetch what you show through the other routes.',
          '`ready` {workspaceId, heartbeatMs}: the stream is open (after a reconnect, refetch everything: changes made meanwhile were not kept).',
          '`lead` {leadId}: its timeline or profile changed. `enrollment` {enrollmentId, leadId, sequenceId}: its status or step. `task` {enrollmentId, leadId}: it started or stopped waiting for a person.',
          '`reply` {leadId?, eventId?}: the replies inbox changed. `mailbox` {mailboxId?}: a mailbox\'s count for today or its settings. `webhook` {endpointId?}: a webhook delivery was attempted or an endpoint changed. `workspace` {}: too much changed to list; refetch everything. `metrics` {}: the monitoring figures moved.',
          'A comment line every heartbeat keeps proxies from closing it. `?leadId=` keeps one lead\'s notices (and `workspace`); `?topics=lead,enrollment,task,reply,mailbox,webhook,metrics` picks kinds.',
          '`ended` {reason}: the credential was looked at again (each heartbeat) and is no longer good — the session was signed out, revoked or expired, the person left the workspace, or the token was revoked; the stream then closes, and reconnecting answers 401 (or 403).',
          'A browser EventSource cannot send headers: with a session cookie it may name the workspace as `?workspace=<id>` instead of `X-Touchpoint-Workspace`.',
        ].join('\n\n'),
        tags: ['live'],
        querystring: z.object({
          leadId: id.optional().describe("Only this lead's notices"),
          topics: z.string().max(200).optional().describe(`Comma-separated: ${LIVE_TOPICS.join(', ')} (absent: all)`),
          workspace: id.optional().describe('With a session cookie and no X-Touchpoint-Workspace header: the workspace to act in'),
        }),
        response: { ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const topics = parseTopics(request.query.topics);
      if ('unknown' in topics) {
        return fail(reply, 400, 'bad_request', `Unknown topics: ${topics.unknown.join(', ')}. Pick among ${LIVE_TOPICS.join(', ')}.`);
      }
      const who = caller.tokenId ? `t:${caller.tokenId}` : `s:${request.person?.sessionId ?? caller.actor}`;
      const held = perCaller.get(who) ?? 0;
      if (held >= options.streamsPerCaller) {
        return fail(reply.header('retry-after', String(RETRY_MS / 1000)), 429, 'rate_limited', `This ${caller.tokenId ? 'token' : 'session'} already holds ${held} open streams (the most is ${options.streamsPerCaller}); close one (a tab) first.`);
      }
      const filter: LiveFilter = { workspaceId: caller.workspaceId, leadId: request.query.leadId, topics: topics.topics };
      const wantsMetrics = !filter.topics || filter.topics.has('metrics');

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx buffers proxied answers unless told not to.
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      });
      perCaller.set(who, held + 1);
      open.add(res);
      const send = (text: string) => {
        if (!res.writableEnded && !res.destroyed) res.write(text);
      };
      send(`retry: ${RETRY_MS}\n\n`);
      send(`event: ready\ndata: ${JSON.stringify({ workspaceId: caller.workspaceId, heartbeatMs: options.heartbeatMs })}\n\n`);

      let pending: LiveNotice[] = [];
      let flushTimer: NodeJS.Timeout | undefined;
      let changedSinceTick = false;
      let lastTick = Date.now();
      const flush = () => {
        flushTimer = undefined;
        const notices = foldNotices(pending, foldAbove);
        pending = [];
        if (notices.length > 0) send(notices.map(noticeEvent).join(''));
      };
      const unsubscribe = options.bus.subscribe(caller.workspaceId, (notices) => {
        for (const notice of notices) {
          if (!noticeMatches(filter, notice)) continue;
          pending.push(notice);
          changedSinceTick = true;
        }
        if (pending.length > 0) flushTimer ??= setTimeout(flush, flushMs);
      });
      // Each heartbeat also looks at the credential again: a revoked or expired one ends the stream.
      const allowed = options.credentials ? credentialCheck(request, options.credentials) : undefined;
      let checking = false;
      const heartbeat = setInterval(() => {
        send(': heartbeat\n\n');
        if (!allowed || checking) return;
        checking = true;
        allowed()
          .then((reason) => {
            if (reason === null) return;
            send(`event: ended\ndata: ${JSON.stringify({ reason })}\n\n`);
            res.end();
          })
          .catch((error: unknown) => request.log.warn({ err: error }, 'a live stream could not look at its credential again; it stays open'))
          .finally(() => {
            checking = false;
          });
      }, options.heartbeatMs);
      // The figures are the whole cluster's: a tick says "look again", soon while this workspace is
      // busy, seldom while it is quiet (queues and lag still move with time).
      const metrics = wantsMetrics
        ? setInterval(() => {
            if (!changedSinceTick && Date.now() - lastTick < idleMetricsMs) return;
            changedSinceTick = false;
            lastTick = Date.now();
            send('event: metrics\ndata: {}\n\n');
          }, metricsMs)
        : undefined;
      res.on('close', () => {
        unsubscribe();
        clearInterval(heartbeat);
        clearInterval(metrics);
        clearTimeout(flushTimer);
        open.delete(res);
        const left = (perCaller.get(who) ?? 1) - 1;
        if (left > 0) perCaller.set(who, left);
        else perCaller.delete(who);
      });
    },
  );
}

/**
 * Writes the API makes itself, outside the engine (an activity logged, a lead edited or deleted,
 * a reply snoozed, a mailbox or a webhook endpoint changed, demo data loaded, an import): announced from the route's address once it answered 2xx,
 * in one place rather than in every module. The engine announces its own changes.
 */
export function announceApiWrites(api: Api, bus: LiveBus) {
  api.addHook('onResponse', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 300 || !request.caller) return;
    const { workspaceId } = request.caller;
    const url = request.routeOptions.url ?? '';
    const params = (request.params ?? {}) as { id?: string; eventId?: string };
    const ok = (value: string | undefined) => value !== undefined && id.safeParse(value).success;
    if (url.startsWith('/api/leads/:id') && ok(params.id)) bus.publish([{ kind: 'lead', workspaceId, leadId: params.id! }]);
    else if (url.startsWith('/api/replies/:eventId') && ok(params.eventId)) bus.publish([{ kind: 'reply', workspaceId, eventId: params.eventId }]);
    else if (url.startsWith('/api/mailboxes')) bus.publish([{ kind: 'mailbox', workspaceId, ...(ok(params.id) ? { mailboxId: params.id } : {}) }]);
    else if (url.startsWith('/api/webhook-endpoints')) bus.publish([{ kind: 'webhook', workspaceId, ...(ok(params.id) ? { endpointId: params.id } : {}) }]);
    // Bulk writes: the lists are refetched once. (A single new lead is left to the lists' own
    // refresh: an integration creating leads by the thousand must not refetch every dashboard.)
    else if (url === '/api/demo' || url === '/api/leads/import') bus.publish([{ kind: 'workspace', workspaceId }]);
    else if (url === '/api/leads/bulk' && (request.body as { dryRun?: boolean } | undefined)?.dryRun !== true) bus.publish([{ kind: 'workspace', workspaceId }]);
  });
}
