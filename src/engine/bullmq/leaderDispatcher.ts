/**
 * The distributed mode's dispatcher as the engine sees it: a leader election that runs the
 * BullMQ dispatcher only while this process leads. On stop it gives leadership to a standby and,
 * if it led, the leases of jobs it queued that nobody started.
 */
import type { Logger } from 'pino';
import type { Dispatcher } from '../dispatcher.ts';
import type { BullMqDispatcher } from './dispatcher.ts';
import { LeaderElection, type LeaderOptions } from './leader.ts';

export class LeaderDispatcher implements Dispatcher {
  private readonly election: LeaderElection;
  private wasLeader = false;

  constructor(
    private readonly dispatcher: BullMqDispatcher,
    options: Omit<LeaderOptions, 'onChange'> & { onChange?: (leader: boolean) => void },
    private readonly logger?: Logger,
  ) {
    this.election = new LeaderElection({
      ...options,
      onChange: (leader) => {
        options.onChange?.(leader);
        if (leader) dispatcher.start();
        else void dispatcher.stop();
      },
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  start(): void {
    this.election.start();
  }

  /** Hands leadership to a standby, stops dispatching, and gives back what it queued unstarted. */
  async stop(): Promise<void> {
    this.wasLeader = this.election.isLeader;
    await this.election.stop();
    await this.dispatcher.stop();
    if (this.wasLeader) {
      const released = await this.dispatcher.releaseWaiting().catch(() => 0);
      this.logger?.info({ released }, 'gave back the leases of queued jobs nobody had started');
    }
  }

  wake(): void {
    this.dispatcher.wake();
  }

  /** Past a shutdown's deadline: queued jobs nobody started go back at once (if this process led). */
  async releaseHeld(): Promise<number> {
    return this.wasLeader || this.election.isLeader ? this.dispatcher.releaseWaiting() : 0;
  }
}
