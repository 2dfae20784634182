/**
 * Inbound email as the providers post it (a lead's reply): Postmark's inbound JSON and SendGrid
 * Inbound Parse multipart. Each provider's own Message-ID form is here too, because a reply's
 * In-Reply-To names the Message-ID the provider gave our email, not the id its API returned.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export interface InboundEmail {
  from: string;
  fromName?: string;
  to: string;
  subject: string;
  text: string;
  /** The Message-ID (with brackets) of the email this one answers. */
  inReplyTo?: string;
  /** Extra raw header lines, e.g. `Auto-Submitted: auto-replied`. */
  extraHeaders?: Record<string, string>;
}

/** SendGrid's Message-ID is the X-Message-Id at one of its MTAs (the event webhook's `smtp-id`). */
export function sendgridMessageIdHeader(xMessageId: string): string {
  return `<${xMessageId}@ismtpd0004p1lon1.sendgrid.net>`;
}

/** Postmark's Message-ID is the API's MessageID at mtasv.net. */
export function postmarkMessageIdHeader(messageId: string): string {
  return `<${messageId}@mtasv.net>`;
}

function headerLines(email: InboundEmail, messageId: string): [string, string][] {
  const lines: [string, string][] = [
    ['Message-ID', messageId],
    ['Date', new Date().toUTCString()],
    ['From', email.fromName ? `${email.fromName} <${email.from}>` : email.from],
    ['To', email.to],
    ['Subject', email.subject],
  ];
  if (email.inReplyTo) lines.push(['In-Reply-To', email.inReplyTo], ['References', email.inReplyTo]);
  for (const [name, value] of Object.entries(email.extraHeaders ?? {})) lines.push([name, value]);
  return lines;
}

/** Postmark inbound webhook JSON (postmarkapp.com/developer/webhooks/inbound-webhook). */
export function postmarkInbound(email: InboundEmail): Record<string, unknown> {
  const messageId = `<${randomUUID()}@mail.acme.test>`;
  return {
    FromName: email.fromName ?? '',
    MessageStream: 'inbound',
    From: email.from,
    FromFull: { Email: email.from, Name: email.fromName ?? '', MailboxHash: '' },
    To: email.to,
    ToFull: [{ Email: email.to, Name: '', MailboxHash: '' }],
    Cc: '',
    CcFull: [],
    Bcc: '',
    BccFull: [],
    OriginalRecipient: email.to,
    Subject: email.subject,
    MessageID: randomUUID(),
    ReplyTo: '',
    MailboxHash: '',
    Date: new Date().toUTCString(),
    TextBody: email.text,
    HtmlBody: `<p>${email.text}</p>`,
    StrippedTextReply: email.text,
    Tag: '',
    Headers: headerLines(email, messageId)
      .filter(([name]) => !['From', 'To', 'Subject', 'Date'].includes(name))
      .map(([Name, Value]) => ({ Name, Value })),
    Attachments: [],
  };
}

/** A SendGrid Inbound Parse POST: the body and its content type (with the boundary). */
export function sendgridInbound(email: InboundEmail): { rawBody: string; contentType: string } {
  const boundary = `xYzZY${randomBytes(6).toString('hex')}`;
  const headers = headerLines(email, `<${randomUUID()}@mail.acme.test>`)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');
  const fields: Record<string, string> = {
    headers,
    dkim: '{@acme.test : pass}',
    to: email.to,
    from: email.fromName ? `${email.fromName} <${email.from}>` : email.from,
    text: email.text,
    html: `<p>${email.text}</p>`,
    sender_ip: '203.0.113.9',
    envelope: JSON.stringify({ to: [email.to], from: email.from }),
    attachments: '0',
    subject: email.subject,
    charsets: JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8', text: 'UTF-8', html: 'UTF-8' }),
    SPF: 'pass',
  };
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return { rawBody: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}
