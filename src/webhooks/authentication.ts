/**
 * Does an inbound reply really come from the address in its From header? The inbound providers
 * check SPF and DKIM when they accept the mail and pass the verdicts on; this reads them and
 * judges the From domain the way DMARC does (relaxed alignment). Pure.
 *
 * - `pass`: a DKIM pass for the From domain, or an SPF pass for an envelope sender in it.
 * - `fail`: not `pass`, and the verdicts speak against the sender: SPF `fail`/`softfail`, or an
 *   SPF pass that vouches only for some other domain (anyone can pass SPF for their own).
 * - `none`: nothing to judge by (SPF none/neutral/absent, no DKIM for the From domain). Such a
 *   domain cannot be told from a forgery, and refusing its replies would keep writing to people
 *   who answered, so it is trusted as before.
 *
 * A `fail` is recorded as `email.reply_unverified`, which no default exit rule lists.
 */
import type { HeaderMap } from './mailHeaders.ts';

/** The topmost value of a header: the one the receiving server wrote. */
function topmost(headers: HeaderMap, name: string): string | undefined {
  return headers.get(name)?.[0]?.trim() || undefined;
}

function address(value: string | undefined): string | undefined {
  return value ? /[^\s<>"@;]+@[^\s<>";]+/.exec(value)?.[0]?.toLowerCase() : undefined;
}

export type AuthenticationVerdict = 'pass' | 'fail' | 'none';

export interface SenderVerdicts {
  /** SPF result for the envelope sender, lower case (`pass`, `fail`, `softfail`, `neutral`, …). */
  spf?: string;
  /** The envelope sender (MAIL FROM) SPF was checked for. */
  envelopeFrom?: string;
  /** DKIM results per signing domain. */
  dkim: Array<{ domain: string; result: string }>;
  /** The provider itself says a DKIM signature of the From domain verified (SpamAssassin DKIM_VALID_AU). */
  dkimAuthorPass?: boolean;
}

export interface SenderAuthentication {
  verdict: AuthenticationVerdict;
  spf?: string;
  envelopeDomain?: string;
  dkim?: string[];
}

// Second-level labels under which registrations happen in many country TLDs (co.uk, com.au…).
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'ltd', 'plc', 'ne', 'or', 'go', 'gob', 'nic']);

/**
 * The registrable ("organisational") domain, approximated without the public suffix list: the
 * last two labels, or three under a two-letter country TLD with a common second-level label.
 */
export function organisationalDomain(domain: string): string {
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.').filter((l) => l !== '');
  const [second, top] = labels.slice(-2);
  const keep = labels.length >= 3 && top?.length === 2 && second !== undefined && SECOND_LEVEL.has(second) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/** DMARC's relaxed alignment: the same organisational domain. */
export function aligned(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a !== '' && organisationalDomain(a) === organisationalDomain(b);
}

function domainOf(address: string | undefined): string | undefined {
  const at = address?.lastIndexOf('@') ?? -1;
  return address && at >= 0 ? address.slice(at + 1).toLowerCase() : undefined;
}

export function judgeSender(sender: string, verdicts: SenderVerdicts): SenderAuthentication {
  const fromDomain = domainOf(sender);
  const envelopeDomain = domainOf(verdicts.envelopeFrom);
  const spf = verdicts.spf;
  const dkimPass = verdicts.dkimAuthorPass === true || verdicts.dkim.some((d) => d.result === 'pass' && aligned(d.domain, fromDomain));
  const spfPass = spf === 'pass' && aligned(envelopeDomain, fromDomain);
  const against = spf === 'fail' || spf === 'softfail' || (spf === 'pass' && envelopeDomain !== undefined && !aligned(envelopeDomain, fromDomain));
  const verdict: AuthenticationVerdict = dkimPass || spfPass ? 'pass' : against ? 'fail' : 'none';
  const dkim = verdicts.dkim.map((d) => `${d.domain}: ${d.result}`);
  return {
    verdict,
    ...(spf ? { spf } : {}),
    ...(envelopeDomain ? { envelopeDomain } : {}),
    ...(dkim.length > 0 ? { dkim } : verdicts.dkimAuthorPass ? { dkim: [`${fromDomain}: pass`] } : {}),
  };
}

function word(value: string | undefined): string | undefined {
  const first = value?.trim().split(/[\s(;]/, 1)[0]?.toLowerCase();
  return first ? first : undefined;
}

/**
 * SendGrid Inbound Parse: `SPF` (`pass`, `softfail`, …), `dkim` as a bare string such as
 * `{@acme.test : pass, @esp.test : fail}` (not JSON), and the SMTP `envelope` as JSON.
 */
export function sendgridVerdicts(fields: Record<string, unknown>, envelopeFrom: string | undefined): SenderVerdicts {
  const dkim: SenderVerdicts['dkim'] = [];
  for (const match of (typeof fields.dkim === 'string' ? fields.dkim : '').matchAll(/@([^\s:{},]+)\s*:\s*([A-Za-z]+)/g)) {
    dkim.push({ domain: match[1]!.toLowerCase(), result: match[2]!.toLowerCase() });
  }
  const spf = word(typeof fields.SPF === 'string' ? fields.SPF : undefined);
  return { ...(spf ? { spf } : {}), ...(envelopeFrom ? { envelopeFrom } : {}), dkim };
}

/**
 * Postmark inbound: its SpamAssassin run writes `X-Spam-Tests` (DKIM_VALID_AU = a valid DKIM
 * signature of the From domain; SPF_PASS, SPF_FAIL, SPF_SOFTFAIL…) and its MTA a
 * `Received-SPF: Pass (…) identity=mailfrom; …; envelope-from=…`. Only the topmost of each is
 * read: those are the receiving server's; copies further down came with the message and could
 * be written by anyone.
 */
export function postmarkVerdicts(headers: HeaderMap): SenderVerdicts {
  const tests = new Set((topmost(headers, 'x-spam-tests') ?? '').toUpperCase().split(/[\s,]+/).filter((t) => t !== ''));
  const received = topmost(headers, 'received-spf');
  const spfTest = ['PASS', 'FAIL', 'SOFTFAIL', 'NEUTRAL', 'NONE'].find((r) => tests.has(`SPF_${r}`))?.toLowerCase();
  const spf = word(received) ?? spfTest;
  const envelope = received ? /envelope-from\s*=\s*"?<?([^";>\s]+)/i.exec(received)?.[1] : undefined;
  const envelopeFrom = address(envelope) ?? address(topmost(headers, 'return-path'));
  return {
    ...(spf ? { spf } : {}),
    ...(envelopeFrom ? { envelopeFrom } : {}),
    dkim: [],
    ...(tests.has('DKIM_VALID_AU') ? { dkimAuthorPass: true } : {}),
  };
}

/** One `Authentication-Results` header (RFC 8601): who wrote it and each method's result. */
export interface AuthenticationResults {
  /** The authserv-id: the receiving server that did the checks, lower case. */
  authservId: string;
  results: Array<{ method: string; result: string; props: Record<string, string> }>;
}

/** Drops RFC 5322 comments (nested parentheses), as `spf=pass (sender IP is 1.2.3.4)` carries. */
function withoutComments(value: string): string {
  let text = value;
  for (let i = 0; i < 10 && /\([^()]*\)/.test(text); i++) text = text.replace(/\([^()]*\)/g, ' ');
  return text;
}

/** `mx.acme.test 1; spf=pass smtp.mailfrom=lead.test; dkim=pass header.d=lead.test; dmarc=pass header.from=lead.test`. */
export function parseAuthenticationResults(value: string): AuthenticationResults | undefined {
  const parts = withoutComments(value)
    .replace(/\s+/g, ' ')
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const head = parts.shift();
  const authservId = head?.split(' ')[0]?.replace(/^"|"$/g, '').toLowerCase();
  if (!authservId || authservId.includes('=')) return undefined;
  const results: AuthenticationResults['results'] = [];
  for (const part of parts) {
    const [first, ...rest] = part.split(' ');
    const match = /^([a-z0-9-]+)(?:\/\d+)?\s*=\s*([a-z]+)$/i.exec(first ?? '');
    if (!match) continue;
    const props: Record<string, string> = {};
    for (const token of rest) {
      const eq = token.indexOf('=');
      if (eq > 0) props[token.slice(0, eq).toLowerCase()] = token.slice(eq + 1).replace(/^"|"$/g, '');
    }
    results.push({ method: match[1]!.toLowerCase(), result: match[2]!.toLowerCase(), props });
  }
  return { authservId, results };
}

/**
 * The receiving server's own `Authentication-Results`: the topmost one whose authserv-id is one
 * of `authservIds` (the mailbox's server). Any other — one a sender wrote into the message
 * itself, one of a server further along — is not believed (RFC 8601, section 5).
 */
export function trustedAuthenticationResults(headers: HeaderMap, authservIds: string[]): AuthenticationResults | undefined {
  const ids = new Set(authservIds.map((id) => id.trim().toLowerCase()).filter((id) => id !== ''));
  for (const value of headers.get('authentication-results') ?? []) {
    const parsed = parseAuthenticationResults(value);
    if (parsed && ids.has(parsed.authservId)) return parsed;
  }
  return undefined;
}

export interface MailboxSenderAuthentication extends SenderAuthentication {
  dmarc?: string;
  /** Whose verdicts these are; absent when the mailbox's server wrote none. */
  authservId?: string;
}

/**
 * Judges a reply read from a mailbox by its server's verdicts: DMARC's own result when the
 * server checked it (pass or fail), else SPF and DKIM aligned with the From domain as
 * `judgeSender` does. No trusted header: `none` (nothing to judge by).
 */
export function judgeMailboxSender(sender: string, results: AuthenticationResults | undefined): MailboxSenderAuthentication {
  if (!results) return { verdict: 'none' };
  const of = (method: string) => results.results.filter((r) => r.method === method);
  const spf = of('spf')[0];
  const mailFrom = spf?.props['smtp.mailfrom'];
  const envelopeFrom = mailFrom ? (mailFrom.includes('@') ? mailFrom : `postmaster@${mailFrom}`) : undefined;
  const dkim = of('dkim')
    .map((r) => ({ domain: (r.props['header.d'] ?? r.props['header.i']?.replace(/^.*@/, '') ?? '').toLowerCase(), result: r.result }))
    .filter((d) => d.domain !== '');
  const judged = judgeSender(sender, { ...(spf ? { spf: spf.result } : {}), ...(envelopeFrom ? { envelopeFrom } : {}), dkim });
  const dmarc = of('dmarc')[0]?.result;
  const verdict: AuthenticationVerdict = dmarc === 'pass' ? 'pass' : dmarc === 'fail' ? 'fail' : judged.verdict;
  return { ...judged, verdict, ...(dmarc ? { dmarc } : {}), authservId: results.authservId };
}
