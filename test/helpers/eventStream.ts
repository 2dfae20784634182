/**
 * A client of `GET /api/stream` for tests: reads the server-sent events off a real HTTP response
 * and lets a test await the one it expects (a state, never a duration).
 */
export interface StreamEvent {
  /** `comment` for a `:` line (the heartbeat), else the event's name (`message` when unnamed). */
  event: string;
  data: any;
}

export interface EventStreamClient {
  status: number;
  headers: Headers;
  /** Every event read so far, in order. */
  events: StreamEvent[];
  /** The first event (from the start) that matches, awaited up to `timeoutMs`. */
  next(match: (event: StreamEvent) => boolean, what: string, timeoutMs?: number): Promise<StreamEvent>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openEventStream(url: string, headers: Record<string, string>): Promise<EventStreamClient> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: StreamEvent[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  let finished = false;
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let name = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) events.push({ event: 'comment', data: line.slice(1).trim() });
            else if (line.startsWith('event:')) name = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trim());
            else if (line.startsWith('retry:')) events.push({ event: 'retry', data: Number(line.slice(6)) });
          }
          if (data.length > 0) events.push({ event: name, data: JSON.parse(data.join('\n')) });
        }
        wake();
      }
    } catch {
      // aborted by close()
    } finally {
      finished = true;
      wake();
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    events,
    ended,
    next: (match, what, timeoutMs = 5_000) =>
      new Promise<StreamEvent>((resolve, reject) => {
        const look = () => {
          const found = events.find(match);
          if (found) return done(() => resolve(found));
          if (finished) return done(() => reject(new Error(`The stream ended before ${what}; it had ${JSON.stringify(events)}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; the stream had ${JSON.stringify(events)}`))), timeoutMs);
        const done = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(look);
          fn();
        };
        waiters.add(look);
        look();
      }),
    close: () => abort.abort(),
  };
}
