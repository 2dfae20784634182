/**
 * One mailbox's INBOX, watched over one IMAP connection (imapflow): opened read-only (the rep's
 * unread marks are left alone), read from the checkpoint on, every new message parsed,
 * translated and handed to the engine, and the checkpoint moved past it only once its event
 * is recorded. New mail is noticed through IDLE where the server offers it (imapflow idles
 * whenever no command runs), and by a look every `pollMs` in any case (a server without IDLE,
 * a missed notification). A dropped connection is opened again after a backoff with jitter.
 *
 * Exactly once: a message whose event was recorded but whose checkpoint was not (a crash
 * between the two) is read again and found a duplicate by its event id (translate.ts), so the
 * checkpoint is a bookmark and the event id the guarantee.
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import { retryDelayMs } from '../core/backoff.ts';
import type { InboundEvent } from '../core/events.ts';
import type { Db, Queryable } from '../db/db.ts';
import { namesOurEmail } from '../db/threads.ts';
import { advanceCheckpoint, readCheckpoint, recordInboxCheck, type WatchedMailbox } from '../db/inbox.ts';
import type { Clock } from '../engine/clock.ts';
import type { IngestResult } from '../engine/ingest.ts';
import { parseInboundMail } from './parse.ts';
import { translateInboundMail, type AutoReplySettings } from './translate.ts';

export interface WatcherDeps {
  db: Db;
  clock: Clock;
  ingest: (event: InboundEvent) => Promise<IngestResult>;
  /** This process's name in the leases: checkpoints move only while it holds the mailbox. */
  owner: string;
  settings: AutoReplySettings;
  /** How often the INBOX is looked at besides IDLE's notifications. */
  pollMs: number;
  /** Reconnect delays: from `initialMs`, doubling, up to `maxMs`, with jitter. */
  backoff: { initialMs: number; maxMs: number };
  timeoutMs?: number;
  /** Extra TLS settings (tests trust their self-signed CA). */
  tls?: ConnectionOptions;
  logger?: Logger;
  /** Called with the mailbox id when another process took the mailbox over. */
  onLost?: (mailboxId: string) => void;
}

/** What a watcher has done, for tests and health. */
export interface WatcherStats {
  connections: number;
  messages: number;
  recorded: number;
  duplicates: number;
  skipped: number;
  lastError: string | null;
}

/** Messages larger than this are read up to it: the headers and text come first, attachments last. */
const MAX_SOURCE_BYTES = 5 * 1024 * 1024;

export class MailboxWatcher {
  readonly stats: WatcherStats = { connections: 0, messages: 0, recorded: 0, duplicates: 0, skipped: 0, lastError: null };
  private stopped = false;
  private client: ImapFlow | undefined;
  private wakeUp: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(
    readonly mailbox: WatchedMailbox,
    private readonly password: string,
    private readonly deps: WatcherDeps,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    this.client?.close();
    await this.running;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.session();
        failures = 0;
      } catch (error) {
        failures += 1;
        const message = oneLine(error, this.password);
        this.stats.lastError = message;
        this.deps.logger?.warn({ mailboxId: this.mailbox.id, failures, err: message }, 'IMAP watch interrupted; reconnecting');
        await recordInboxCheck(this.deps.db, { mailboxId: this.mailbox.id, owner: this.deps.owner, now: this.deps.clock.now(), error: message }).catch(() => undefined);
      }
      if (this.stopped) break;
      await this.pause(retryDelayMs(failures, { baseMs: this.deps.backoff.initialMs, maxMs: this.deps.backoff.maxMs }));
    }
  }

  /** One connection: open the INBOX, catch up, then wait for news and catch up again until it drops. */
  private async session(): Promise<void> {
    const { imap } = this.mailbox;
    const timeout = this.deps.timeoutMs ?? 30_000;
    const named = !isIP(imap.host);
    const client = new ImapFlow({
      host: imap.host,
      port: imap.port,
      secure: imap.secure,
      // Not implicit TLS: STARTTLS is required, never a password over plain text.
      doSTARTTLS: imap.secure ? undefined : true,
      ...(named ? { servername: imap.host } : {}),
      auth: { user: imap.user, pass: this.password },
      logger: false,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: Math.max(timeout, 5 * 60_000),
      tls: { ...(named ? { servername: imap.host } : {}), ...this.deps.tls },
    });
    this.client = client;
    let closed = false;
    client.on('error', () => undefined); // the session ends through 'close'
    client.on('exists', () => this.wakeUp?.());
    client.on('close', () => {
      closed = true;
      this.wakeUp?.();
    });
    try {
      await client.connect();
      this.stats.connections += 1;
      const opened = await client.mailboxOpen('INBOX', { readOnly: true });
      const uidValidity = Number(opened.uidValidity);
      let uidNext = opened.uidNext;
      while (!this.stopped && !closed) {
        const held = await this.catchUp(client, uidValidity, uidNext);
        if (!held) {
          // Another process took the mailbox over: this watcher is done.
          this.stopped = true;
          this.deps.onLost?.(this.mailbox.id);
          return;
        }
        uidNext = client.mailbox && typeof client.mailbox !== 'boolean' ? client.mailbox.uidNext : uidNext;
        if (this.stopped || closed) break;
        await this.pause(this.deps.pollMs);
      }
      if (!this.stopped) throw new Error('the IMAP connection closed');
    } finally {
      this.client = undefined;
      client.close();
    }
  }

  /** Waits `ms`, or less when new mail, a dropped connection or stop() wakes it. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wakeUp === done) self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  /**
   * Reads every message after the checkpoint, in UID order. First watch: none — the watch
   * starts at the INBOX's end, so a rep's years of mail are not read as replies. A new
   * UIDVALIDITY (the INBOX was renumbered): the messages the server received since a day
   * before the last one read (by its INTERNALDATE) — those already counted are duplicates by
   * their Message-ID. Answers false when the lease was lost.
   */
  private async catchUp(client: ImapFlow, uidValidity: number, uidNext: number): Promise<boolean> {
    const { db, clock, owner } = this.deps;
    const checkpoint = await readCheckpoint(db, this.mailbox.id);
    const renumbered = checkpoint.uidValidity !== null && checkpoint.uidValidity !== uidValidity;
    let uids: number[];
    if (checkpoint.uidValidity === null || (renumbered && !checkpoint.lastInternalDate)) {
      uids = [];
    } else if (renumbered) {
      const since = new Date(checkpoint.lastInternalDate!.getTime() - 86_400_000);
      uids = (await client.search({ since }, { uid: true })) || [];
      this.deps.logger?.info({ mailboxId: this.mailbox.id, from: checkpoint.uidValidity, to: uidValidity, messages: uids.length }, 'INBOX renumbered (UIDVALIDITY changed); re-reading recent mail');
    } else {
      uids = ((await client.search({ uid: `${checkpoint.lastUid + 1}:*` }, { uid: true })) || []).filter((uid) => uid > checkpoint.lastUid);
    }
    uids.sort((a, b) => a - b);
    let last = checkpoint.uidValidity === uidValidity ? checkpoint.lastUid : 0;
    for (const uid of uids) {
      if (this.stopped) return true;
      const internalDate = await this.read(client, uid);
      last = Math.max(last, uid);
      const moved = await advanceCheckpoint(db, { mailboxId: this.mailbox.id, owner, uidValidity, lastUid: last, lastInternalDate: internalDate, now: clock.now() });
      if (!moved) return false;
    }
    // A first or renumbered watch starts after what the INBOX held, even if none of it was new.
    if (checkpoint.uidValidity !== uidValidity || uids.length === 0) {
      const bookmark = checkpoint.uidValidity !== uidValidity ? Math.max(last, uidNext - 1) : last;
      if (bookmark !== checkpoint.lastUid || checkpoint.uidValidity !== uidValidity) {
        if (!(await advanceCheckpoint(db, { mailboxId: this.mailbox.id, owner, uidValidity, lastUid: bookmark, now: clock.now() }))) return false;
      }
    }
    await recordInboxCheck(db, { mailboxId: this.mailbox.id, owner, now: clock.now(), error: null });
    this.stats.lastError = null;
    return true;
  }

  private unverifiedUnlessThreaded(event: InboundEvent): Promise<InboundEvent> {
    return unverifiedUnless(this.deps.db, event);
  }

  /**
   * One message: parsed, translated, ingested; answers the server's INTERNALDATE of it. A
   * message that cannot be parsed is skipped, logged.
   */
  private async read(client: ImapFlow, uid: number): Promise<Date | null> {
    const message = await client.fetchOne(String(uid), { uid: true, internalDate: true, source: { maxLength: MAX_SOURCE_BYTES } }, { uid: true });
    this.stats.messages += 1;
    if (!message || !message.source) {
      this.stats.skipped += 1;
      return null;
    }
    const internalDate = message.internalDate instanceof Date ? message.internalDate : message.internalDate ? new Date(message.internalDate) : null;
    let translation;
    try {
      const mail = await parseInboundMail(message.source);
      translation = translateInboundMail(
        mail,
        {
          id: this.mailbox.id,
          workspaceId: this.mailbox.workspaceId,
          fromEmail: this.mailbox.fromEmail,
          zone: this.mailbox.zone,
          authservIds: [this.mailbox.imap.authservId ?? this.mailbox.imap.host],
        },
        { raw: message.source, receivedAt: this.deps.clock.now(), settings: this.deps.settings },
      );
    } catch (error) {
      this.deps.logger?.warn({ mailboxId: this.mailbox.id, uid, err: oneLine(error, this.password) }, 'an INBOX message could not be read; skipped');
      this.stats.skipped += 1;
      return internalDate;
    }
    if (translation.kind === 'skip') {
      this.stats.skipped += 1;
      this.deps.logger?.debug({ mailboxId: this.mailbox.id, uid, reason: translation.reason }, 'INBOX message skipped');
      return internalDate;
    }
    // A failure here (the database away) ends the session: the message is read again after the reconnect.
    const result = await this.deps.ingest(await this.unverifiedUnlessThreaded(translation.event));
    if (result.status === 'duplicate') this.stats.duplicates += 1;
    else if (result.status === 'recorded') this.stats.recorded += 1;
    else this.stats.skipped += 1;
    this.deps.logger?.info({ mailboxId: this.mailbox.id, uid, type: translation.event.type, status: result.status }, 'INBOX message read');
    return internalDate;
  }
}

/**
 * A reply whose sender the mailbox's server could not verify (SPF/DKIM/DMARC `fail`) stays a
 * reply when it answers one of our emails by Message-ID — only the lead's side saw that id, and
 * forwarding or a mailing list breaks SPF and DKIM of genuine answers — and is flagged. One that
 * names none of ours would be matched by its From alone, which anyone can write: it becomes
 * `email.reply_unverified`, as a provider's reply does (docs/MAILBOXES.md, "Sender authentication").
 */
async function unverifiedUnless(db: Queryable, event: InboundEvent): Promise<InboundEvent> {
  const authentication = event.data.authentication as { verdict?: string } | undefined;
  if (event.type !== 'email.replied' || authentication?.verdict !== 'fail' || !event.workspaceId) return event;
  if (await namesOurEmail(db, event.workspaceId, event.inReplyTo ?? [])) return event;
  return { ...event, type: 'email.reply_unverified' };
}

function oneLine(error: unknown, secret: string): string {
  const e = error as { message?: string; code?: string };
  const text = `${e.code ? `${e.code}: ` : ''}${e.message ?? String(error)}`.replace(/\s+/g, ' ').trim();
  return secret ? text.split(secret).join('[redacted]') : text;
}
