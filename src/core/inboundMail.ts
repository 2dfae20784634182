/**
 * What an email that arrived in a mailbox is (docs/MAILBOXES.md, "Replies, bounces and
 * auto-replies"): a delivery status notification (RFC 3464), an auto-reply (RFC 3834 and the
 * out-of-office habits of common mail systems), bulk mail, or a person's reply. Pure: the IMAP
 * watcher (src/inbox) parses the message and hands in its headers and texts.
 */

/** Header names lower-cased, each with all its values in order (as webhooks/mailHeaders.ts reads them). */
export type Headers = ReadonlyMap<string, readonly string[]>;

function first(headers: Headers, name: string): string | undefined {
  const value = headers.get(name)?.[0]?.trim();
  return value ? value : undefined;
}

// ── Delivery status notifications (RFC 3464) ──────────────────────────────────────────────

export interface RecipientStatus {
  recipient?: string;
  action?: string;
  /** `5.1.1`, `4.2.2`… */
  status?: string;
  diagnostic?: string;
}

/** The per-recipient groups of a `message/delivery-status` body (the first group is per message). */
export function parseDeliveryStatus(text: string): RecipientStatus[] {
  const groups = text.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ').split(/\n\s*\n/);
  const recipients: RecipientStatus[] = [];
  for (const group of groups) {
    const fields = new Map<string, string>();
    for (const line of group.split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const recipient = fields.get('final-recipient') ?? fields.get('original-recipient');
    if (!recipient && !fields.has('status')) continue;
    const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(fields.get('status') ?? '')?.[1];
    recipients.push({
      recipient: recipient ? addressOf(recipient.replace(/^[^;]*;/, '')) : undefined,
      action: fields.get('action')?.toLowerCase(),
      status,
      diagnostic: fields.get('diagnostic-code')?.replace(/^[^;]*;\s*/, ''),
    });
  }
  return recipients;
}

function addressOf(value: string): string | undefined {
  const match = /[^\s<>"@;]+@[^\s<>";]+/.exec(value);
  return match ? match[0].toLowerCase() : undefined;
}

export interface Bounce {
  /** `hard`: the address does not take mail (5.x.x, action failed); `soft`: a temporary failure (4.x.x or delayed). */
  bounceType: 'hard' | 'soft';
  recipient?: string;
  status?: string;
  diagnostic?: string;
}

/**
 * The bounce a report describes, or undefined when it reports none (a `delivered` or `relayed`
 * notice). One report may list several recipients; ours carry one, and the worst status wins.
 */
export function bounceOf(recipients: RecipientStatus[]): Bounce | undefined {
  let soft: Bounce | undefined;
  for (const r of recipients) {
    const klass = r.status?.[0];
    const failed = r.action === 'failed' || (r.action === undefined && (klass === '5' || klass === '4'));
    const delayed = r.action === 'delayed';
    if (!failed && !delayed) continue;
    const found = { recipient: r.recipient, status: r.status, diagnostic: r.diagnostic };
    // A failed action with a 5.x.x status is permanent; a 4.x.x status, or a delay, is not.
    if (failed && klass !== '4') return { bounceType: 'hard', ...found };
    soft ??= { bounceType: 'soft', ...found };
  }
  return soft;
}

/** Whether the Content-Type is an RFC 3464 delivery report. */
export function isDeliveryReport(contentType: string | undefined): boolean {
  return /multipart\/report/i.test(contentType ?? '') && /report-type\s*=\s*"?delivery-status/i.test(contentType ?? '');
}

// ── Auto-replies (RFC 3834 and common out-of-office notes) ────────────────────────────────

// Subjects mail systems give their out-of-office notes (Outlook/Exchange, Gmail users' own
// wording, Apple Mail, GMX/web.de, Orange, Zimbra…) in English, German, French and Spanish.
const AUTO_REPLY_SUBJECTS = [
  /^\s*(?:automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|out of (?:the )?office|ooo\b|away from (?:the )?office|on vacation|on leave|vacation reply)/i,
  /^\s*(?:automatische antwort|abwesenheitsnotiz|abwesenheit|autoantwort|automatische abwesenheitsnachricht|nicht im b[üu]ro|au[sß]er haus)/i,
  /^\s*(?:r[ée]ponse automatique|absence du bureau|message d'absence|absent du bureau|je suis absent)/i,
  /^\s*(?:respuesta autom[áa]tica|fuera de la oficina|ausente|mensaje de ausencia|respuesta de ausencia)/i,
];

// How an out-of-office note opens, when its subject and headers say nothing: only the first
// lines are read, so a person who mentions a holiday in a real answer is not taken for one.
const AUTO_REPLY_OPENINGS = [
  /\b(?:i am|i'm|i will be) (?:currently )?(?:out of (?:the )?office|away|on (?:annual )?leave|on vacation|on holiday|travell?ing with limited access)/i,
  /\bthank you for your (?:e-?mail|message)\.? i am (?:currently )?(?:out|away)/i,
  /\bich bin (?:derzeit |zurzeit |momentan |bis .{1,40}?)?(?:nicht im b[üu]ro|abwesend|im urlaub|au[sß]er haus)/i,
  /\bje suis (?:actuellement )?(?:absent|absente|en cong[ée]s?|en vacances|hors du bureau)/i,
  /\b(?:estoy|me encuentro) (?:actualmente )?(?:fuera de la oficina|ausente|de vacaciones|de viaje)/i,
];

export type AutoReplyReason = 'auto-submitted' | 'x-autoreply' | 'precedence' | 'subject' | 'text';

/**
 * Why this is an auto-reply, or undefined. RFC 3834's `Auto-Submitted` (any value but `no`),
 * `X-Autoreply` / `X-Autorespond`, `Precedence: auto_reply`, Exchange's `X-Auto-Response-Suppress`
 * on a note whose subject says so, an out-of-office subject, or an opening line that says so.
 */
export function autoReplyReason(headers: Headers, subject: string | undefined, text: string | undefined): AutoReplyReason | undefined {
  const submitted = first(headers, 'auto-submitted')?.toLowerCase();
  if (submitted !== undefined && !submitted.startsWith('no')) return 'auto-submitted';
  if (headers.has('x-autoreply') || headers.has('x-autorespond') || headers.has('x-autoresponder')) return 'x-autoreply';
  if (first(headers, 'precedence')?.toLowerCase() === 'auto_reply') return 'precedence';
  if (subject && AUTO_REPLY_SUBJECTS.some((p) => p.test(subject))) return 'subject';
  const opening = (text ?? '').trim().slice(0, 400);
  if (opening && AUTO_REPLY_OPENINGS.some((p) => p.test(opening))) return 'text';
  return undefined;
}

/**
 * Mail that is nobody's answer: mailing lists and newsletters (`List-Id`, `List-Unsubscribe`,
 * `Precedence: bulk|list|junk`). It is neither a reply nor an auto-reply.
 */
export function isBulkMail(headers: Headers): boolean {
  const precedence = first(headers, 'precedence')?.toLowerCase();
  if (precedence === 'bulk' || precedence === 'list' || precedence === 'junk') return true;
  return headers.has('list-id') || headers.has('list-unsubscribe');
}

/** Senders that speak for a mail system, not a person. */
export function isSystemSender(address: string | undefined): boolean {
  return address !== undefined && /^(?:mailer-daemon|postmaster|mail-daemon|mail\.delivery\.subsystem)@/i.test(address);
}

// ── The reply's own words ─────────────────────────────────────────────────────────────────

// Lines that start the quoted original in the common clients, in EN/DE/FR/ES.
const QUOTE_HEADERS = [
  /^\s*On\b.{0,200}\bwrote:\s*$/i,
  /^\s*Am\b.{0,200}\bschrieb.{0,100}:\s*$/i,
  /^\s*Le\b.{0,200}\ba [ée]crit\s*:\s*$/i,
  /^\s*El\b.{0,200}\bescribi[óo]\s*:\s*$/i,
  /^\s*-{2,}\s*(?:Original Message|Urspr[üu]ngliche Nachricht|Message d'origine|Mensaje original)\s*-{2,}\s*$/i,
  /^\s*(?:From|Von|De|Envoy[ée] par)\s*:\s.+$/i,
  /^\s*_{10,}\s*$/,
];

/**
 * The text a person wrote above the quoted original: cut at the first attribution line ("On …
 * wrote:", "Am … schrieb …:", "Le … a écrit :", "El … escribió:", an Outlook header block or
 * separator), and without `>` lines. A reply that is all quote keeps its text unchanged rather
 * than becoming empty.
 */
export function stripQuoted(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  // An attribution folded over two lines ("On Mon, … Ann <ann@x>\nwrote:") is read joined.
  let end = lines.length;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const joined = i + 1 < lines.length ? `${line} ${lines[i + 1]!}` : line;
    if (QUOTE_HEADERS.some((p) => p.test(line)) || (/^\s*(?:On|Am|Le|El)\b/i.test(line) && QUOTE_HEADERS.slice(0, 4).some((p) => p.test(joined)))) {
      end = i;
      break;
    }
  }
  const own = lines.slice(0, end).filter((line) => !/^\s*>/.test(line)).join('\n').trim();
  return own === '' ? text.trim() : own;
}
