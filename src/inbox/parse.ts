/**
 * One raw message from an INBOX, parsed with mailparser into what the translator reads: its
 * headers, sender, subject, text, and for a delivery report (RFC 3464) the report's
 * `message/delivery-status` body and the headers of the message that bounced.
 */
import { simpleParser, type AddressObject } from 'mailparser';
import { parseHeaderBlock, type HeaderMap } from '../webhooks/mailHeaders.ts';

export interface InboundMail {
  headers: HeaderMap;
  /** The From address, lower-cased. */
  from?: string;
  subject?: string;
  /** The plain text (from the HTML when there is no text part). */
  text?: string;
  messageId?: string;
  date?: Date;
  contentType?: string;
  /** The `message/delivery-status` part of a report. */
  deliveryStatus?: string;
  /** The header block of the returned message (`message/rfc822` or `text/rfc822-headers`). */
  returnedHeaders?: HeaderMap;
}

function firstAddress(from: AddressObject | AddressObject[] | undefined): string | undefined {
  const list = Array.isArray(from) ? from : from ? [from] : [];
  for (const group of list) for (const entry of group.value) if (entry.address) return entry.address.toLowerCase();
  return undefined;
}

/** The header block of a message: everything before its first empty line. */
function headerBlock(raw: string): string {
  const end = raw.search(/\r?\n\r?\n/);
  return end < 0 ? raw : raw.slice(0, end);
}

export async function parseInboundMail(raw: Buffer | string): Promise<InboundMail> {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  const headers = parseHeaderBlock(parsed.headerLines.map((h) => h.line).join('\r\n'));
  let deliveryStatus: string | undefined;
  let returnedHeaders: HeaderMap | undefined;
  for (const part of parsed.attachments) {
    const type = part.contentType.toLowerCase();
    if (type === 'message/delivery-status' || type === 'message/global-delivery-status') deliveryStatus ??= part.content.toString('utf8');
    else if (type === 'message/rfc822' || type === 'text/rfc822-headers' || type === 'message/global-headers' || type === 'message/global') {
      returnedHeaders ??= parseHeaderBlock(headerBlock(part.content.toString('utf8')));
    }
  }
  const text = parsed.text ?? (typeof parsed.html === 'string' ? parsed.html.replace(/<[^>]+>/g, ' ') : undefined);
  return {
    headers,
    from: firstAddress(parsed.from),
    subject: parsed.subject,
    text,
    messageId: parsed.messageId?.replace(/^<|>$/g, ''),
    date: parsed.date,
    contentType: headers.get('content-type')?.[0],
    deliveryStatus,
    returnedHeaders,
  };
}
