/**
 * Leader election for the distributed dispatcher: a PostgreSQL session advisory lock held on a
 * dedicated connection. The database is already the source of truth, so the lock lives there
 * too: a FLUSHALL cannot hand out a second leadership, and a leader that dies (SIGKILL, lost
 * network, pg_terminate_backend) loses its session and with it the lock; a standby polling
 * `pg_try_advisory_lock` takes over within one poll interval. Two leaders for a moment would
 * still be safe (claimDue skips locked rows, the lease fences every write); this only avoids waste.
 */
import pg from 'pg';
import type { Logger } from 'pino';

/** The two-int4 lock space: cannot collide with single-bigint locks such as migrations'. */
const LOCK_CLASS = 7_020_418;

export interface LeaderOptions {
  connectionString: string;
  /** Shown in pg_stat_activity, so an operator can see who leads. */
  applicationName: string;
  /** How often a standby tries to take the lock, and the leader checks it still holds it. */
  pollMs: number;
  logger?: Logger;
  onChange: (leader: boolean) => void;
}

export class LeaderElection {
  private client?: pg.Client;
  private running = false;
  private leader = false;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private loop?: Promise<void>;
  private wakeUp?: () => void;

  constructor(private readonly options: LeaderOptions) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Gives up leadership (unlocking by closing the session) and stops trying. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.wakeUp?.();
    await this.loop;
    this.setLeader(false);
    await this.drop();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const client = this.client ?? (await this.connect());
        if (this.leader) {
          // Still connected means still holding: the lock lives exactly as long as the session.
          await client.query('select 1');
        } else {
          // Schema-scoped, so separate deployments (and test schemas) in one database elect apart.
          const { rows } = await client.query<{ held: boolean }>(
            `select pg_try_advisory_lock($1, hashtext(current_database() || '.' || current_schema())) as held`,
            [LOCK_CLASS],
          );
          this.setLeader(Boolean(rows[0]?.held));
        }
        this.failures = 0;
        await this.pause(this.options.pollMs);
      } catch (error) {
        this.failures += 1;
        this.setLeader(false);
        await this.drop();
        this.options.logger?.warn({ err: error, attempt: this.failures }, 'leader election: database connection lost; reconnecting');
        await this.pause(Math.min(100 * 2 ** this.failures, 5000));
      }
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: withoutApplicationName(this.options.connectionString),
      application_name: this.options.applicationName,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    // A terminated session must demote this process at once, not at the next poll.
    client.on('error', (error) => {
      this.options.logger?.warn({ err: error }, 'leader election connection failed');
      if (this.client === client) {
        this.client = undefined;
        void client.end().catch(() => undefined);
        this.setLeader(false);
        this.wakeUp?.();
      }
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.options.logger?.info({ leader }, leader ? 'this process is now the dispatcher leader' : 'this process is no longer the dispatcher leader');
    this.options.onChange(leader);
  }

  private pause(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeUp = () => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.timer = setTimeout(this.wakeUp, ms);
    });
  }
}

/** pg lets a URL's application_name win over the option; the leader's own name must show. */
function withoutApplicationName(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    url.searchParams.delete('application_name');
    return url.toString();
  } catch {
    return connectionString;
  }
}
