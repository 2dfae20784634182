/**
 * Sending through a rep's own mailbox over SMTP (docs/MAILBOXES.md), with nodemailer: one
 * pooled transport per mailbox (one connection, reused; rebuilt when the mailbox's settings
 * change; closed on shutdown), STARTTLS required unless `secure` (implicit TLS), timeouts on
 * every phase and the send's deadline on top.
 *
 * The SMTP reply is classified like the HTTP adapters (src/delivery/http.ts): 4xx retryable,
 * 5xx permanent; no answer before the message was handed over (DNS, connection, TLS, a timeout
 * before DATA) retryable. Once the server said 354 and the message went out, a connection that
 * drops before the final reply leaves the delivery unknown: the adapter throws, and the
 * executor records `unknown` and never sends it again.
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import nodemailer from 'nodemailer';
import { textToHtml } from '../../core/emailBody.ts';
import type { DeliveryResult, EmailMessage, MailboxAccount, MailboxSender } from '../types.ts';

export interface SmtpSenderOptions {
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
  /** Extra TLS settings (tests trust their self-signed CA here; production keeps Node's roots). */
  tls?: ConnectionOptions;
  /** The engine's clock, which the send deadline is measured by. */
  now?: () => number;
}

interface Pool {
  version: string;
  transport: { sendMail(mail: Record<string, unknown>): Promise<unknown>; verify(): Promise<unknown>; close(): void };
  /** Where the SMTP conversation of the send in flight stands (one send at a time per mailbox). */
  phase: { dataAccepted: boolean; answered: boolean };
  /** Sends of one mailbox go one after another: one connection, and the phase is the send's. */
  tail: Promise<unknown>;
}

export class SmtpMailboxSender implements MailboxSender {
  readonly adapter = 'smtp';
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: SmtpSenderOptions = {}) {}

  async send(account: MailboxAccount, message: EmailMessage): Promise<DeliveryResult> {
    const pool = this.poolFor(account);
    const run = pool.tail.then(() => this.sendNow(pool, account, message));
    pool.tail = run.catch(() => undefined);
    return run;
  }

  /** Closes one mailbox's pool (its settings changed or it was deleted), or all of them. */
  async close(mailboxId?: string): Promise<void> {
    const ids = mailboxId ? [mailboxId] : [...this.pools.keys()];
    for (const id of ids) {
      this.pools.get(id)?.transport.close();
      this.pools.delete(id);
    }
  }

  private poolFor(account: MailboxAccount): Pool {
    const existing = this.pools.get(account.id);
    if (existing && existing.version === account.version) return existing;
    existing?.transport.close();
    const phase = { dataAccepted: false, answered: false };
    const transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 1,
      maxMessages: 100,
      ...transportOptions(account, this.options),
      // The SMTP transaction log, read only to know when the message was handed over; nothing of it is kept.
      transactionLog: true,
      logger: transactionWatcher(phase),
    });
    const pool: Pool = { version: account.version, transport, phase, tail: Promise.resolve() };
    this.pools.set(account.id, pool);
    return pool;
  }

  private async sendNow(pool: Pool, account: MailboxAccount, message: EmailMessage): Promise<DeliveryResult> {
    const now = this.options.now ?? Date.now;
    const left = message.deadline ? message.deadline.getTime() - now() : Infinity;
    if (left <= 0) return { kind: 'failed', retryable: true, code: 'timeout', message: 'The send deadline passed before the SMTP session began; not sent.' };
    pool.phase.dataAccepted = false;
    pool.phase.answered = false;
    const mail = {
      from: message.from.name ? { name: message.from.name, address: message.from.email } : message.from.email,
      to: message.to,
      subject: message.subject,
      text: message.text,
      // multipart/alternative always: a message without HTML gets the plain-looking HTML of its text.
      html: message.html ?? textToHtml(message.text),
      // Touchpoint's own Message-ID, so a reply (and a later step in the thread) can name it.
      ...(message.messageId ? { messageId: `<${message.messageId}>` } : {}),
      ...(message.inReplyTo ? { inReplyTo: `<${message.inReplyTo}>` } : {}),
      ...(message.references && message.references.length > 0 ? { references: message.references.map((id) => `<${id}>`) } : {}),
      headers: headersOf(message),
      ...(message.unsubscribeUrl ? { list: { unsubscribe: { url: message.unsubscribeUrl, comment: 'Unsubscribe' } } } : {}),
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      if (Number.isFinite(left)) timer = setTimeout(() => resolve('deadline'), left);
    });
    try {
      const outcome = await Promise.race([pool.transport.sendMail(mail).then((info: unknown) => ({ info })), deadline]);
      if (outcome === 'deadline') {
        // Abandon the session: a message not yet handed over never will be.
        await this.close(account.id);
        if (pool.phase.dataAccepted) throw new SmtpOutcomeUnknown(`${account.smtp.host} took the message but did not confirm it before the send deadline.`);
        return { kind: 'failed', retryable: true, code: 'timeout', message: `${account.smtp.host} did not finish the SMTP session before the send deadline; not sent.` };
      }
      const info = outcome.info as { messageId?: string; response?: string };
      return { kind: 'sent', providerMessageId: info.messageId ?? `smtp:${message.idempotencyKey}`, metadata: { mailboxId: account.id, response: truncate(info.response ?? '', 200) } };
    } catch (error) {
      if (error instanceof SmtpOutcomeUnknown) throw error;
      const failure = classifySmtpError(error, account, pool.phase);
      if (failure === 'unknown') {
        await this.close(account.id);
        throw new SmtpOutcomeUnknown(`The connection to ${account.smtp.host} ended after the message was handed over and before the server confirmed it.`);
      }
      // A session that broke without a reply code (connection, TLS, timeout) is not reused.
      if (!failure.code.startsWith('smtp_')) await this.close(account.id);
      return failure;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}

/** Thrown when the server may have the message: the executor records `unknown` and never resends. */
export class SmtpOutcomeUnknown extends Error {}

export function transportOptions(account: Pick<MailboxAccount, 'smtp'>, options: SmtpSenderOptions, host = account.smtp.host) {
  const { smtp } = account;
  return {
    host,
    port: smtp.port,
    secure: smtp.secure,
    // Not implicit TLS: STARTTLS is required, never a password over plain text.
    requireTLS: !smtp.secure,
    auth: { user: smtp.user, pass: smtp.password },
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 30_000,
    dnsTimeout: 10_000,
    // The certificate is checked against the mailbox's host name even when `host` is an address.
    tls: { ...(isIP(smtp.host) ? {} : { servername: smtp.host }), ...options.tls },
  };
}

/** The SMTP transaction log as nodemailer writes it: notes when DATA was accepted and answered. */
function transactionWatcher(phase: Pool['phase']) {
  const watch = (meta: unknown, text: unknown) => {
    if ((meta as { tnx?: string } | null)?.tnx !== 'server' || typeof text !== 'string') return;
    if (/^354\b/.test(text)) phase.dataAccepted = true;
    else if (phase.dataAccepted && /^[245]\d\d\b/.test(text)) phase.answered = true;
  };
  const ignore = () => undefined;
  return { debug: watch, info: ignore, warn: ignore, error: ignore, trace: ignore, fatal: ignore, level: ignore };
}

function headersOf(message: EmailMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(message.headers ?? {}).filter(([name]) => !(message.unsubscribeUrl && /^list-unsubscribe(-post)?$/i.test(name))),
  );
}

type Failure = Extract<DeliveryResult, { kind: 'failed' }>;

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
}

/**
 * The retry policy for SMTP: a reply code decides (4xx retryable, 5xx permanent); no reply
 * before the message was handed over is retryable; no reply after it is `unknown`.
 */
export function classifySmtpError(error: unknown, account: Pick<MailboxAccount, 'smtp'>, phase: { dataAccepted: boolean; answered: boolean }): Failure | 'unknown' {
  const e = (error ?? {}) as SmtpError;
  const secrets = [account.smtp.password];
  const where = `${account.smtp.host}:${account.smtp.port}`;
  if (typeof e.responseCode === 'number' && e.responseCode >= 400 && e.responseCode < 600) {
    const retryable = e.responseCode < 500;
    const reply = redact(truncate(e.response ?? '', 200), secrets);
    const stage = e.command ? ` to ${e.command.replace(/^AUTH .*/, 'AUTH')}` : '';
    return { kind: 'failed', retryable, code: `smtp_${e.responseCode}`, message: `${where} answered${stage} with ${retryable ? 'a temporary' : 'a permanent'} failure: ${reply}` };
  }
  if (phase.dataAccepted && !phase.answered) return 'unknown';
  const message = redact(smtpSentence(e, account.smtp.host, account.smtp.port), secrets);
  const permanent = e.code === 'EENVELOPE' || e.code === 'EMESSAGE';
  return { kind: 'failed', retryable: !permanent, code: (e.code ?? 'smtp_error').toLowerCase(), message };
}

/**
 * Why a TLS handshake failed, in words: OpenSSL's reason without its error-stack noise
 * (`…:SSL routines:ssl3_get_record:wrong version number:…/ssl3_record.c:350:`), and for the
 * usual mistake — implicit TLS against a plain or STARTTLS port — what to change.
 */
export function tlsDetail(message: string | undefined): string {
  const text = (message ?? '').replace(/\s+/g, ' ').trim();
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(text)) {
    return 'the server did not answer in TLS (a plain or STARTTLS port? then set "secure": false)';
  }
  const openssl = /SSL routines:[^:]*:([^:]+):/.exec(text);
  const reason = openssl ? openssl[1]! : text;
  return truncate(reason || 'no detail', 160);
}

/** One sentence saying what failed in an SMTP session: DNS, connection, TLS, authentication, timeout. */
export function smtpSentence(e: SmtpError, host: string, port: number): string {
  const where = `${host}:${port}`;
  const detail = e.message ? `: ${truncate(e.message.replace(/\s+/g, ' '), 160)}` : '';
  switch (e.code) {
    case 'EDNS':
      return `SMTP: the host name ${host} could not be resolved (DNS)${detail}.`;
    case 'ETIMEDOUT':
      return `SMTP: ${where} did not answer in time (timeout).`;
    case 'ETLS':
      return `SMTP: the TLS handshake with ${where} failed: ${tlsDetail(e.message)}.`;
    case 'EAUTH':
    case 'ENOAUTH':
      return `SMTP: ${where} refused the user name or password (authentication failed).`;
    case 'ECONNECTION':
    case 'ESOCKET':
      if (/certificate|SSL|TLS|self.signed|wrong version/i.test(e.message ?? '')) return `SMTP: the TLS handshake with ${where} failed: ${tlsDetail(e.message)}.`;
      if (/ECONNREFUSED/.test(e.message ?? '') || (e as { errno?: unknown }).errno === 'ECONNREFUSED') return `SMTP: the connection to ${where} was refused (nothing listens there?).`;
      return `SMTP: the connection to ${where} failed${detail}.`;
    default:
      return `SMTP: the session with ${where} failed${detail}.`;
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 3) out = out.split(secret).join('[redacted]');
  return out;
}
