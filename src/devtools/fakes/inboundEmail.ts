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
  /**
   * What the provider's SPF/DKIM checks found (default `pass`): `softfail` is a forged From
   * sent from a server the domain does not list; `foreign` a forged From sent through the
   * forger's own domain, which passes SPF and DKIM for that domain only; `none` a domain that
   * publishes neither.
   */
  authentication?: 'pass' | 'softfail' | 'foreign' | 'none';
}

const FORGER = 'mailer@forger.test';

function envelopeSender(email: InboundEmail): string {
  return email.authentication === 'foreign' ? FORGER : email.from;
}

/** The Inbound Parse `SPF` and `dkim` fields (dkim is a bare string, not JSON). */
function sendgridVerdictFields(email: InboundEmail): { SPF: string; dkim: string } {
  const domain = email.from.split('@')[1];
  switch (email.authentication ?? 'pass') {
    case 'pass':
      return { SPF: 'pass', dkim: `{@${domain} : pass}` };
    case 'softfail':
      return { SPF: 'softfail', dkim: 'none' };
    case 'foreign':
      return { SPF: 'pass', dkim: '{@forger.test : pass}' };
    case 'none':
      return { SPF: 'none', dkim: 'none' };
  }
}

/** The headers Postmark's MTA and SpamAssassin put on top of an inbound message. */
function postmarkVerdictHeaders(email: InboundEmail): Array<{ Name: string; Value: string }> {
  const receivedSpf = (result: string) =>
    `${result} (${email.from.split('@')[1]}: ...) identity=mailfrom; client-ip=203.0.113.9; helo=mail.sender.test; envelope-from=${envelopeSender(email)}; receiver=inbound.postmarkapp.com`;
  const [tests, spf] = {
    pass: ['DKIM_SIGNED,DKIM_VALID,DKIM_VALID_AU,HTML_MESSAGE,SPF_HELO_PASS,\tSPF_PASS', 'Pass'],
    softfail: ['HTML_MESSAGE,SPF_HELO_NONE,SPF_SOFTFAIL', 'SoftFail'],
    foreign: ['DKIM_SIGNED,DKIM_VALID,HTML_MESSAGE,SPF_HELO_PASS,SPF_PASS', 'Pass'],
    none: ['HTML_MESSAGE,SPF_HELO_NONE,SPF_NONE', 'None'],
  }[email.authentication ?? 'pass'];
  return [
    { Name: 'X-Spam-Checker-Version', Value: 'SpamAssassin 3.4.0 (2014-02-07) on\tp-pm-inboundg02a-aws-useast1a' },
    { Name: 'X-Spam-Status', Value: 'No' },
    { Name: 'X-Spam-Score', Value: '-0.1' },
    { Name: 'X-Spam-Tests', Value: tests! },
    { Name: 'Received-SPF', Value: receivedSpf(spf!) },
  ];
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
    Headers: [
      ...postmarkVerdictHeaders(email),
      ...headerLines(email, messageId)
        .filter(([name]) => !['From', 'To', 'Subject', 'Date'].includes(name))
        .map(([Name, Value]) => ({ Name, Value })),
    ],
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
    dkim: sendgridVerdictFields(email).dkim,
    to: email.to,
    from: email.fromName ? `${email.fromName} <${email.from}>` : email.from,
    text: email.text,
    html: `<p>${email.text}</p>`,
    sender_ip: '203.0.113.9',
    envelope: JSON.stringify({ to: [email.to], from: envelopeSender(email) }),
    attachments: '0',
    subject: email.subject,
    charsets: JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8', text: 'UTF-8', html: 'UTF-8' }),
    SPF: sendgridVerdictFields(email).SPF,
  };
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return { rawBody: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}
