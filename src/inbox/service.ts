/**
 * The inbox service: in every process that runs the engine (the embedded server, each
 * distributed worker), it takes the watch of the mailboxes nobody watches (a lease in
 * `mailbox_inbox_state`, renewed every third of its length), runs one MailboxWatcher per mailbox
 * it holds, stops those it lost or whose settings changed, and resumes the enrollments whose
 * auto-reply pause ran out. A process that dies leaves its leases to run out; another takes the
 * mailbox over from its checkpoint. One watcher per mailbox cluster-wide, and the event ids make
 * a message read twice (a take-over in the middle of a message) count once.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { InboundEvent } from '../core/events.ts';
import type { Db } from '../db/db.ts';
import { releaseAutoReplyPauses } from '../db/autoReplyPauses.ts';
import { releaseInboxLeases, takeInboxLeases, watchedMailboxes, type WatchedMailbox } from '../db/inbox.ts';
import { mailboxSecretContext } from '../db/mailboxes.ts';
import type { Clock } from '../engine/clock.ts';
import type { IngestResult } from '../engine/ingest.ts';
import type { AutoReplySettings } from './translate.ts';
import { MailboxWatcher } from './watcher.ts';

export interface InboxSettings extends AutoReplySettings {
  /** How long a process's watch of a mailbox lasts unless renewed (renewed every third of it). */
  leaseMs: number;
  pollMs: number;
  backoff: { initialMs: number; maxMs: number };
}

export interface InboxDeps {
  db: Db;
  clock: Clock;
  ingest: (event: InboundEvent) => Promise<IngestResult>;
  /** Tells the dispatcher something is due now (resumed enrollments). */
  wake: () => void;
  /** Opens a sealed mailbox password; without it no mailbox can be watched. */
  openSecret?: (sealed: string, context: string) => string;
  settings: InboxSettings;
  tls?: ConnectionOptions;
  logger?: Logger;
  /** This process's name in the leases (default: host, pid and a random part). */
  owner?: string;
}

export class InboxService {
  readonly owner: string;
  private readonly watchers = new Map<string, MailboxWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: InboxDeps) {
    this.owner = deps.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  start(): void {
    const every = Math.max(250, Math.floor(this.deps.settings.leaseMs / 3));
    const loop = () => {
      if (this.stopped) return;
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, every);
      });
    };
    loop();
  }

  /** The watcher of a mailbox this process holds, if any (tests and health). */
  watcher(mailboxId: string): MailboxWatcher | undefined {
    return this.watchers.get(mailboxId);
  }

  /** One round: leases taken and renewed, watchers started and stopped, pauses that ran out resumed. */
  tick(): Promise<void> {
    this.ticking ??= this.round().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async round(): Promise<void> {
    const { db, clock, logger } = this.deps;
    try {
      const resumed = await releaseAutoReplyPauses(db, clock.now());
      if (resumed > 0) {
        logger?.info({ resumed }, 'enrollments paused by an auto-reply resumed');
        this.deps.wake();
      }
    } catch (error) {
      logger?.warn({ err: error }, 'auto-reply pauses could not be resumed; trying again next round');
    }
    try {
      const now = clock.now();
      const held = new Set(await takeInboxLeases(db, { owner: this.owner, until: new Date(now.getTime() + this.deps.settings.leaseMs), now }));
      const mailboxes = new Map((await watchedMailboxes(db)).map((m) => [m.id, m]));
      for (const [id, watcher] of this.watchers) {
        const current = mailboxes.get(id);
        if (!held.has(id) || !current || current.updatedAt.getTime() !== watcher.mailbox.updatedAt.getTime()) {
          this.watchers.delete(id);
          await watcher.stop();
        }
      }
      if (this.stopped) return;
      for (const id of held) {
        const mailbox = mailboxes.get(id);
        if (mailbox && !this.watchers.has(id)) this.watch(mailbox);
      }
    } catch (error) {
      logger?.warn({ err: error }, 'mailbox watches could not be renewed; trying again next round');
    }
  }

  private watch(mailbox: WatchedMailbox): void {
    const { openSecret, logger } = this.deps;
    let password: string;
    try {
      if (!openSecret) throw new Error('no secret key to open mailbox passwords with');
      password = openSecret(mailbox.imapPasswordSealed, mailboxSecretContext(mailbox.id, 'imap'));
    } catch (error) {
      logger?.warn({ mailboxId: mailbox.id, err: (error as Error).message }, 'the IMAP password of a mailbox cannot be opened; not watching it');
      return;
    }
    const watcher = new MailboxWatcher(mailbox, password, {
      db: this.deps.db,
      clock: this.deps.clock,
      ingest: this.deps.ingest,
      owner: this.owner,
      settings: this.deps.settings,
      pollMs: this.deps.settings.pollMs,
      backoff: this.deps.settings.backoff,
      tls: this.deps.tls,
      logger,
      onLost: (id) => {
        if (this.watchers.get(id) === watcher) this.watchers.delete(id);
      },
    });
    this.watchers.set(mailbox.id, watcher);
    watcher.start();
  }

  /**
   * Stops every watcher and gives the leases back, so another process takes the mailboxes over
   * at once. `release: false` leaves them to run out, as a crash would (tests).
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    const watchers = [...this.watchers.values()];
    this.watchers.clear();
    await Promise.all(watchers.map((w) => w.stop()));
    if (options.release ?? true) await releaseInboxLeases(this.deps.db, this.owner).catch(() => undefined);
  }
}
