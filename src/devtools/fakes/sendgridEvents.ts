/**
 * Realistic SendGrid Event Webhook items (providers.md §1): custom args flattened to top-level
 * keys, `sg_message_id` = X-Message-Id + `.filterdrecv…` suffix, the body an array with `\r\n`.
 */
import { randomBytes } from 'node:crypto';

export type SendGridEventKind =
  | 'processed'
  | 'deferred'
  | 'delivered'
  | 'open'
  | 'click'
  | 'bounce'
  | 'dropped'
  | 'spamreport'
  | 'unsubscribe'
  | 'group_unsubscribe';

export interface SendGridEventInput {
  /** The X-Message-Id the send returned. */
  messageId: string;
  email: string;
  /** The send's custom_args; they come back as top-level keys. */
  customArgs?: Record<string, string>;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Click: the link followed. */
  url?: string;
  /** Bounce: `bounce` (hard) or `blocked`. */
  bounceType?: 'bounce' | 'blocked';
  /** Async bounces may arrive without sg_message_id (providers.md §1). */
  omitMessageId?: boolean;
  /** Merged last: override any field. */
  extra?: Record<string, unknown>;
}

export function sendgridEvent(kind: SendGridEventKind, input: SendGridEventInput): Record<string, unknown> {
  const base: Record<string, unknown> = {
    ...input.customArgs,
    email: input.email,
    timestamp: input.timestamp ?? Math.floor(Date.now() / 1000),
    event: kind,
    sg_event_id: randomBytes(16).toString('base64url'),
    'smtp-id': `<${input.messageId}@ismtpd0004p1lon1.sendgrid.net>`,
    category: ['outreach'],
  };
  if (!input.omitMessageId) base.sg_message_id = `${input.messageId}.filterdrecv-7bf4c8d9b5-x2kqp-1-65A5B3C1-2B.0`;
  return { ...base, ...kindFields(kind, input), ...input.extra };
}

function kindFields(kind: SendGridEventKind, input: SendGridEventInput): Record<string, unknown> {
  switch (kind) {
    case 'processed':
      return { pool: { name: 'outreach', id: 210 } };
    case 'deferred':
      return { response: '421 4.7.0 Try again later', attempt: '1' };
    case 'delivered':
      return { response: '250 2.0.0 OK  1600112492 x12si1534583qkj.15 - gsmtp', tls: 1, ip: '168.245.10.1' };
    case 'open':
      return { useragent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', ip: '203.0.113.7', sg_machine_open: false };
    case 'click':
      return {
        url: input.url ?? 'https://us.test/pricing',
        url_offset: { index: 0, type: 'html' },
        useragent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)',
        ip: '203.0.113.7',
      };
    case 'bounce':
      return input.bounceType === 'blocked'
        ? {
            type: 'blocked',
            status: '5.7.1',
            reason: '554 5.7.1 Service unavailable; client host blocked',
            bounce_classification: 'Reputation',
          }
        : {
            type: 'bounce',
            status: '5.1.1',
            reason: "550 5.1.1 The email account that you tried to reach does not exist.",
            bounce_classification: 'Invalid Address',
          };
    case 'dropped':
      return { reason: 'Bounced Address', status: '5.0.0' };
    case 'group_unsubscribe':
      return { asm_group_id: 1 };
    case 'spamreport':
    case 'unsubscribe':
      return {};
  }
}

/** The wire form: a JSON array, `\r\n` between items and after the closing bracket. */
export function sendgridBody(events: readonly Record<string, unknown>[]): string {
  return `[${events.map((event) => JSON.stringify(event)).join(',\r\n')}]\r\n`;
}
