/**
 * Leader election for the distributed dispatcher: a PostgreSQL session advisory lock held on a
 * dedicated connection (src/db/leader.ts). The database is already the source of truth, so the
 * lock lives there too: a FLUSHALL cannot hand out a second leadership, and a leader that dies
 * (SIGKILL, lost network, pg_terminate_backend) loses its session and with it the lock; a
 * standby polling takes over within one poll interval. Two leaders for a moment would still be
 * safe (claimDue skips locked rows, the lease fences every write); this only avoids waste.
 */
import type { Logger } from 'pino';
import { openLeaderSession, type LeaderSession } from '../../db/leader.ts';
import { systemClock, type Clock } from '../clock.ts';
import { pauseFor, WakeableLoop } from '../loop.ts';

export interface LeaderOptions {
  connectionString: string;
  /** Shown in pg_stat_activity, so an operator can see who leads. */
  applicationName: string;
  /** How often a standby tries to take the lock, and the leader checks it still holds it. */
  pollMs: number;
  logger?: Logger;
  clock?: Clock;
  onChange: (leader: boolean) => void;
}

export class LeaderElection {
  private session?: LeaderSession;
  private leader = false;
  private readonly loop: WakeableLoop;

  constructor(private readonly options: LeaderOptions) {
    this.loop = new WakeableLoop({
      clock: options.clock ?? systemClock,
      maxIdleMs: Number.POSITIVE_INFINITY,
      round: () => this.round(),
      onError: (error, attempt) => {
        this.setLeader(false);
        void this.drop();
        this.options.logger?.warn({ err: error, attempt }, 'leader election: database connection lost; reconnecting');
        return Math.min(100 * 2 ** attempt, 5000);
      },
    });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    this.loop.start();
  }

  /** Gives up leadership (unlocking by closing the session) and stops trying. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.setLeader(false);
    await this.drop();
  }

  private async round() {
    const session = this.session ?? (await this.connect());
    // Still connected means still holding: the lock lives exactly as long as the session.
    if (this.leader) await session.ping();
    else this.setLeader(await session.tryLead());
    return pauseFor(this.options.pollMs);
  }

  private async connect(): Promise<LeaderSession> {
    let session: LeaderSession | undefined;
    session = await openLeaderSession({
      connectionString: this.options.connectionString,
      applicationName: this.options.applicationName,
      // A terminated session must demote this process at once, not at the next poll.
      onError: (error) => {
        this.options.logger?.warn({ err: error }, 'leader election connection failed');
        if (session && this.session === session) {
          this.session = undefined;
          void session.close();
          this.setLeader(false);
          this.loop.wake();
        }
      },
    });
    this.session = session;
    return session;
  }

  private async drop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.options.logger?.info({ leader }, leader ? 'this process is now the dispatcher leader' : 'this process is no longer the dispatcher leader');
    this.options.onChange(leader);
  }
}
