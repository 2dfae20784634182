/**
 * Realistic Postmark webhook objects (providers.md §2): one per POST, routed by `RecordType`,
 * each with MessageID, MessageStream and the Metadata given at send time.
 */
import { randomUUID } from 'node:crypto';

export type PostmarkRecordType = 'Delivery' | 'Open' | 'Click' | 'Bounce' | 'SpamComplaint' | 'SubscriptionChange';

export interface PostmarkEventInput {
  messageId: string;
  recipient: string;
  metadata?: Record<string, string>;
  messageStream?: string;
  /** ISO instant; default now. */
  at?: string;
  /** Bounce: `HardBounce` (default), `SoftBounce`, `Transient`, `Blocked`. */
  bounceType?: keyof typeof BOUNCE_TYPE_CODES;
  /** Click: the link followed. */
  link?: string;
  /** SubscriptionChange: false lifts a suppression. */
  suppressSending?: boolean;
  extra?: Record<string, unknown>;
}

const BOUNCE_TYPE_CODES = { HardBounce: 1, Transient: 2, Blocked: 16, SoftBounce: 4096 } as const;

let bounceIds = 4_200_000_000;

export function postmarkEvent(recordType: PostmarkRecordType, input: PostmarkEventInput): Record<string, unknown> {
  const at = input.at ?? new Date().toISOString();
  const base = {
    RecordType: recordType,
    ServerID: 23,
    MessageID: input.messageId,
    MessageStream: input.messageStream ?? 'outbound',
    Tag: '',
    Metadata: input.metadata ?? {},
  };
  return { ...base, ...recordFields(recordType, input, at), ...input.extra };
}

function recordFields(recordType: PostmarkRecordType, input: PostmarkEventInput, at: string): Record<string, unknown> {
  const client = { Name: 'Chrome 120.0', Company: 'Google', Family: 'Chrome' };
  const geo = { CountryISOCode: 'US', Country: 'United States', City: 'Austin', IP: '203.0.113.7' };
  switch (recordType) {
    case 'Delivery':
      return { Recipient: input.recipient, DeliveredAt: at, Details: 'smtp;250 2.0.0 OK' };
    case 'Open':
      return { FirstOpen: true, Recipient: input.recipient, ReceivedAt: at, ReadSeconds: 5, Platform: 'Desktop', UserAgent: 'Mozilla/5.0', Client: client, OS: { Name: 'macOS' }, Geo: geo };
    case 'Click':
      return { Recipient: input.recipient, ReceivedAt: at, ClickLocation: 'HTML', OriginalLink: input.link ?? 'https://us.test/pricing', Platform: 'Desktop', UserAgent: 'Mozilla/5.0', Client: client, OS: { Name: 'macOS' }, Geo: geo };
    case 'Bounce':
    case 'SpamComplaint': {
      const type = recordType === 'SpamComplaint' ? 'SpamComplaint' : (input.bounceType ?? 'HardBounce');
      const typeCode = recordType === 'SpamComplaint' ? 512 : BOUNCE_TYPE_CODES[input.bounceType ?? 'HardBounce'];
      bounceIds += 1;
      return {
        ID: bounceIds,
        Type: type,
        TypeCode: typeCode,
        Name: recordType === 'SpamComplaint' ? 'Spam complaint' : 'Hard bounce',
        Email: input.recipient,
        From: 'sales@us.test',
        BouncedAt: at,
        Inactive: type === 'HardBounce' || type === 'SpamComplaint',
        CanActivate: true,
        Description: recordType === 'SpamComplaint' ? 'The subscriber explicitly marked this message as spam.' : 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
        Details: recordType === 'SpamComplaint' ? '' : "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        Subject: 'Hi',
        DumpAvailable: false,
      };
    }
    case 'SubscriptionChange': {
      const suppress = input.suppressSending ?? true;
      return {
        ChangedAt: at,
        Recipient: input.recipient,
        Origin: 'Recipient',
        SuppressSending: suppress,
        SuppressionReason: suppress ? 'ManualSuppression' : null,
      };
    }
  }
}

/** Postmark keeps one trace id across retries of the same webhook. */
export function newTraceId(): string {
  return randomUUID();
}
