/**
 * Live notices between processes on PostgreSQL (docs/DASHBOARD.md, "Live updates"): each process
 * sends its batches with `pg_notify` and the API servers LISTEN on one channel per schema, so
 * two deployments (or two test schemas) in one database never hear each other. A notification is
 * delivered only to sessions listening when it is sent: a listener that was away gets a
 * `reconnected` call and its clients refetch everything.
 */
import pg from 'pg';
import type { Queryable } from './db.ts';

/** The channel of the schema the connection works in (`touchpoint_live`, or `touchpoint_live_<schema>`). */
export async function liveChannelOf(db: Queryable): Promise<string> {
  const [row] = await db.query<{ schema: string | null }>('select current_schema() as schema');
  const schema = row?.schema ?? 'public';
  return (schema === 'public' ? 'touchpoint_live' : `touchpoint_live_${schema}`).slice(0, 63);
}

/** One batch, sent on commit of its own statement (nothing of the engine's transactions waits on it). */
export async function notifyLive(db: Queryable, channel: string, payload: string): Promise<void> {
  await db.query('select pg_notify($1, $2)', [channel, payload]);
}

export interface LiveListenerOptions {
  connectionString: string;
  channel: string;
  onMessage(payload: string): void;
  /** The listening session was lost and is back: whatever was sent meanwhile is gone. */
  onReconnected(): void;
  onError?(error: Error): void;
  /** Longest pause between attempts to listen again. */
  maxBackoffMs?: number;
}

/** A session of its own that LISTENs, and comes back after a lost connection. */
export class LiveListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(private readonly options: LiveListenerOptions) {}

  /** Resolves once listening (or once the first attempt failed: it goes on trying). */
  async start(): Promise<void> {
    await this.connect(false);
  }

  private async connect(again: boolean): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.options.connectionString, connectionTimeoutMillis: 10_000 });
    this.client = client;
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (error) this.options.onError?.(error);
      client.end().catch(() => undefined);
      this.schedule();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === this.options.channel && message.payload !== undefined) this.options.onMessage(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
      this.failures = 0;
      if (again) this.options.onReconnected();
    } catch (error) {
      onLost(error as Error);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = Math.min(this.options.maxBackoffMs ?? 30_000, 250 * 2 ** Math.min(this.failures++, 8));
    this.retry = setTimeout(() => void this.connect(true), delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    client?.removeAllListeners('end');
    await client?.end().catch(() => undefined);
  }
}
