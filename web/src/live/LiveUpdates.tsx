/**
 * Live updates (docs/DASHBOARD.md, "Live updates"): one `GET /api/stream` per signed-in page,
 * opened by `<LiveUpdates>` around the signed-in shell. Each notice makes its TanStack Query keys
 * stale (gathered for a quarter second, so a burst is one refetch per key); the pages' polling is
 * the fallback: `useLiveInterval(ms)` answers the page's old interval while the stream is down,
 * and a slow safety refetch while it is up.
 */
import { Badge, Tooltip } from '@mantine/core';
import { useQueryClient, type QueryKey } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { credentialHeaders } from '../api/client.ts';
import { isLiveQuery, SseParser, staleKeys, type Stale } from './sse.ts';

/** While the stream is up, pages still refetch this seldom: a notice lost between processes is caught. */
export const LIVE_SAFETY_MS = 60_000;
/** Notices gathered this long before the refetches. */
const GATHER_MS = 250;
/** Waits between attempts to reopen the stream: from the server's `retry:` hint, doubling to this. */
const MAX_BACKOFF_MS = 30_000;

const LiveContext = createContext<{ connected: boolean }>({ connected: false });

/** A page's refetch interval: its own while the stream is down, LIVE_SAFETY_MS while it is up. */
export function useLiveInterval(fallbackMs: number): number {
  return useContext(LiveContext).connected ? Math.max(fallbackMs, LIVE_SAFETY_MS) : fallbackMs;
}

export function LiveUpdates({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    let stale: Stale[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refetch = () => {
      timer = undefined;
      const batch = stale;
      stale = [];
      const keys = new Map<string, QueryKey>();
      let everything = false;
      let sequenceStats = false;
      for (const s of batch) {
        if ('everything' in s) everything = true;
        else if ('sequenceStats' in s) sequenceStats = true;
        else keys.set(JSON.stringify(s.key), s.key);
      }
      if (everything) return void client.invalidateQueries({ predicate: (q) => isLiveQuery(q.queryKey) });
      for (const key of keys.values()) void client.invalidateQueries({ queryKey: key });
      if (sequenceStats) void client.invalidateQueries({ predicate: (q) => q.queryKey[0] === 'sequence' && q.queryKey[2] === 'stats' });
    };
    const mark = (more: Stale[]) => {
      if (more.length === 0) return;
      stale.push(...more);
      timer ??= setTimeout(refetch, GATHER_MS);
    };
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const wait = setTimeout(resolve, ms);
        abort.signal.addEventListener('abort', () => (clearTimeout(wait), resolve()), { once: true });
      });

    void (async () => {
      let retryMs = 3_000;
      let failures = 0;
      let opened = false;
      while (!abort.signal.aborted) {
        try {
          const response = await fetch('/api/stream', { headers: { accept: 'text/event-stream', ...credentialHeaders() }, credentials: 'same-origin', signal: abort.signal });
          // A refusal (signed out: the pages' own requests bring the sign-in back) is retried slowly.
          if (response.ok && response.body) {
            const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
            const parser = new SseParser();
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              const retry = /^retry: *(\d+)/m.exec(value);
              if (retry) retryMs = Number(retry[1]);
              for (const event of parser.push(value)) {
                if (event.event === 'ready') {
                  failures = 0;
                  setConnected(true);
                  // Back after a break: what changed meanwhile was not kept, so everything is looked at again.
                  if (opened) mark([{ everything: true }]);
                  opened = true;
                } else mark(staleKeys(event));
              }
            }
          } else failures = Math.max(failures, 3);
        } catch {
          // The network, or the page leaving (aborted): both end up below.
        }
        setConnected(false);
        if (abort.signal.aborted) break;
        await pause(Math.min(MAX_BACKOFF_MS, retryMs * 2 ** failures++));
      }
    })();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [client]);

  return <LiveContext.Provider value={{ connected }}>{children}</LiveContext.Provider>;
}

/** The header's small sign: whether pages update as things happen, or poll. */
export function LiveStatus() {
  const { connected } = useContext(LiveContext);
  return (
    <Tooltip label={connected ? 'Pages update as things happen (server-sent events).' : 'Live updates are not connected: pages refresh every few seconds.'}>
      <Badge variant="light" color={connected ? 'green' : 'gray'} data-testid="live-status" data-live={connected ? 'on' : 'off'} visibleFrom="xs">
        {connected ? 'Live' : 'Polling'}
      </Badge>
    </Tooltip>
  );
}
