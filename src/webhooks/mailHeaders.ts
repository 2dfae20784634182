/**
 * Reading an inbound email's headers: addresses, header blocks in the shapes SendGrid and
 * Postmark deliver them, the ids a reply answers, and auto-replies. Pure: no I/O.
 */
import { isRecord, str } from './parse.ts';

/** `"Lee, Ann" <Ann@Acme.test>` or a bare address → `ann@acme.test`. */
export function parseEmailAddress(value: unknown): string | undefined {
  const text = str(value);
  if (!text) return undefined;
  const bracketed = [...text.matchAll(/<([^<>]*)>/g)].pop()?.[1];
  const candidate = (bracketed ?? text).trim().toLowerCase();
  return /^[^\s@<>",]+@[^\s@<>",]+$/.test(candidate) ? candidate : undefined;
}

/** Header names lower-cased, each with all its values in order. */
export type HeaderMap = Map<string, string[]>;

function addHeader(map: HeaderMap, name: string, value: string): void {
  const key = name.trim().toLowerCase();
  if (key === '') return;
  map.set(key, [...(map.get(key) ?? []), value.trim()]);
}

/** A raw RFC 5322 header block; continuation lines (leading whitespace) are unfolded. */
export function parseHeaderBlock(raw: unknown): HeaderMap {
  const map: HeaderMap = new Map();
  if (typeof raw !== 'string') return map;
  const unfolded = raw.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) addHeader(map, line.slice(0, colon), line.slice(colon + 1));
  }
  return map;
}

/** Postmark-style `[{Name, Value}]`. */
export function headerMapFromList(list: unknown): HeaderMap {
  const map: HeaderMap = new Map();
  if (!Array.isArray(list)) return map;
  for (const item of list) {
    if (isRecord(item) && typeof item.Name === 'string' && typeof item.Value === 'string') {
      addHeader(map, item.Name, item.Value);
    }
  }
  return map;
}

export function firstHeader(headers: HeaderMap, name: string): string | undefined {
  return str(headers.get(name)?.[0]);
}

/** Message ids in a header value, angle brackets stripped; bare ids are split on whitespace. */
export function messageIds(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] ?? '');
  const ids = bracketed.length > 0 ? bracketed : value.split(/[\s,]+/);
  return ids.filter((id) => id !== '');
}

/**
 * The ids an inbound email answers, most specific first: In-Reply-To, then References from the
 * newest (last) back to the thread root.
 */
export function replyTargets(headers: HeaderMap): string[] {
  const ids = [
    ...messageIds(firstHeader(headers, 'in-reply-to')),
    ...messageIds(firstHeader(headers, 'references')).reverse(),
  ];
  return [...new Set(ids)];
}

/**
 * Out-of-office notes, autoresponders and bounce notices (RFC 3834 and common de-facto headers).
 * They carry no intent from the lead, so they must not look like a reply to exit rules.
 */
export function isAutoReply(headers: HeaderMap, sender: string | undefined): boolean {
  const autoSubmitted = firstHeader(headers, 'auto-submitted')?.toLowerCase();
  if (autoSubmitted !== undefined && !autoSubmitted.startsWith('no')) return true;
  if (headers.has('x-autoreply') || headers.has('x-autorespond')) return true;
  const precedence = firstHeader(headers, 'precedence')?.toLowerCase();
  if (precedence === 'auto_reply' || precedence === 'bulk' || precedence === 'junk') return true;
  const contentType = firstHeader(headers, 'content-type') ?? '';
  if (/report-type\s*=\s*"?delivery-status/i.test(contentType)) return true;
  return sender !== undefined && /^(mailer-daemon|postmaster)@/.test(sender);
}
