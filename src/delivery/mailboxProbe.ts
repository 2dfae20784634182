/**
 * `POST /api/mailboxes/{id}/test`: logs in to the mailbox's SMTP server (nodemailer `verify()`)
 * and IMAP server (imapflow), and says in one sentence what failed — DNS, connection, TLS,
 * authentication or a timeout. The host name is resolved first, on its own, so a DNS failure
 * is told apart from a refused connection; the certificate is still checked against the name.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { smtpSentence, tlsDetail, transportOptions } from './email/smtp.ts';

export interface ProbeTarget {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
}

export type ProbeStage = 'dns' | 'connection' | 'tls' | 'authentication' | 'timeout' | 'other';

export interface ProbeResult {
  ok: boolean;
  /** One sentence: what worked, or exactly what failed. */
  sentence: string;
  stage?: ProbeStage;
}

export interface ProbeOptions {
  timeoutMs?: number;
  /** Extra TLS settings (tests trust their self-signed CA). */
  tls?: ConnectionOptions;
  /** Resolves a host name to an address (tests answer without the network). */
  lookup?: (host: string) => Promise<string>;
}

const defaultLookup = async (host: string) => (await dnsLookup(host)).address;

async function resolve(protocol: string, host: string, options: ProbeOptions): Promise<{ address: string } | ProbeResult> {
  try {
    return { address: await (options.lookup ?? defaultLookup)(host) };
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'lookup failed';
    return { ok: false, stage: 'dns', sentence: `${protocol}: the host name ${host} could not be resolved (DNS: ${code}).` };
  }
}

export async function probeSmtp(target: ProbeTarget, options: ProbeOptions = {}): Promise<ProbeResult> {
  const resolved = await resolve('SMTP', target.host, options);
  if (!('address' in resolved)) return resolved;
  const timeout = options.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport(
    transportOptions({ smtp: target }, { tls: options.tls, connectionTimeoutMs: timeout, greetingTimeoutMs: timeout, socketTimeoutMs: timeout }, resolved.address),
  );
  try {
    await transport.verify();
    return { ok: true, sentence: `SMTP: logged in to ${target.host}:${target.port} as ${target.user}.` };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    const sentence = smtpSentence(e, target.host, target.port).split(target.password).join('[redacted]');
    return { ok: false, sentence, stage: smtpStage(e) };
  } finally {
    transport.close();
  }
}

function smtpStage(e: { code?: string; message?: string }): ProbeStage {
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') return 'authentication';
  if (e.code === 'ETIMEDOUT') return 'timeout';
  if (e.code === 'ETLS' || /certificate|SSL|TLS|self.signed|wrong version/i.test(e.message ?? '')) return 'tls';
  if (e.code === 'EDNS') return 'dns';
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET') return 'connection';
  return 'other';
}

export async function probeImap(target: ProbeTarget, options: ProbeOptions = {}): Promise<ProbeResult> {
  const resolved = await resolve('IMAP', target.host, options);
  if (!('address' in resolved)) return resolved;
  const timeout = options.timeoutMs ?? 10_000;
  const where = `${target.host}:${target.port}`;
  const client = new ImapFlow({
    host: resolved.address,
    port: target.port,
    secure: target.secure,
    // Not implicit TLS: STARTTLS is required, never a password over plain text.
    doSTARTTLS: target.secure ? undefined : true,
    ...(isIP(target.host) ? {} : { servername: target.host }),
    auth: { user: target.user, pass: target.password },
    logger: false,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    tls: { ...(isIP(target.host) ? {} : { servername: target.host }), ...options.tls },
  });
  client.on('error', () => undefined); // reported through connect()'s rejection
  try {
    await client.connect();
    await client.logout().catch(() => undefined);
    return { ok: true, sentence: `IMAP: logged in to ${where} as ${target.user}.` };
  } catch (error) {
    const e = error as { code?: string; message?: string; authenticationFailed?: boolean };
    const text = `${e.code ?? ''} ${e.message ?? ''}`;
    let result: ProbeResult;
    if (e.authenticationFailed || /AUTHENTICATIONFAILED|authentication failed|Invalid credentials/i.test(text)) {
      result = { ok: false, stage: 'authentication', sentence: `IMAP: ${where} refused the user name or password (authentication failed).` };
    } else if (/ECONNREFUSED/.test(text)) {
      result = { ok: false, stage: 'connection', sentence: `IMAP: the connection to ${where} was refused (nothing listens there?).` };
    } else if (/TIMEOUT|ETIMEDOUT/i.test(text)) {
      result = { ok: false, stage: 'timeout', sentence: `IMAP: ${where} did not answer in time (timeout).` };
    } else if (/certificate|SSL|TLS|self.signed|wrong version|STARTTLS/i.test(text)) {
      result = { ok: false, stage: 'tls', sentence: `IMAP: the TLS handshake with ${where} failed: ${tlsDetail(e.message)}.` };
    } else {
      result = { ok: false, stage: 'connection', sentence: `IMAP: the session with ${where} failed: ${oneLine(e.message)}.` };
    }
    return { ...result, sentence: result.sentence.split(target.password).join('[redacted]') };
  } finally {
    client.close();
  }
}

function oneLine(text: string | undefined): string {
  const line = (text ?? 'no detail').replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}
