import { describe, expect, it } from 'vitest';
import { translatePostmarkEvent, translatePostmarkInbound } from './postmark.ts';
import type { InboundEvent } from '../core/events.ts';
import type { TranslateResult } from './parse.ts';

const NOW = new Date('2030-01-01T00:00:00Z');
const MESSAGE_ID = 'b7bc2f4a-e38e-4336-af7d-e6c392c2f817';

function events(result: TranslateResult): InboundEvent[] {
  if (!result.ok) throw new Error(result.error);
  return result.events;
}

const delivery = {
  RecordType: 'Delivery',
  ServerID: 23,
  MessageStream: 'outbound',
  MessageID: MESSAGE_ID,
  Recipient: 'Lead@Acme.test',
  Tag: 'outreach',
  DeliveredAt: '2024-01-15T17:01:06Z',
  Details: 'smtp;250 2.0.0 OK',
  Metadata: { execution_id: 'exe_1' },
};

function bounce(TypeCode: number, Type: string, Inactive: boolean) {
  return {
    RecordType: 'Bounce',
    ID: 692560173,
    Type,
    TypeCode,
    MessageID: MESSAGE_ID,
    MessageStream: 'outbound',
    Email: 'lead@acme.test',
    BouncedAt: '2024-01-15T17:02:00Z',
    Inactive,
    Description: 'The server was unable to deliver your message',
    Details: 'smtp;550 5.1.1 user unknown',
    Metadata: { execution_id: 'exe_1' },
  };
}

describe('translatePostmarkEvent', () => {
  it('maps a delivery with every correlation field', () => {
    expect(translatePostmarkEvent(delivery)).toEqual({
      ok: true,
      events: [
        {
          type: 'email.delivered',
          providerEventId: `postmark:Delivery:${MESSAGE_ID}:2024-01-15T17:01:06Z`,
          provider: 'postmark',
          occurredAt: new Date('2024-01-15T17:01:06Z'),
          providerMessageId: MESSAGE_ID,
          executionId: 'exe_1',
          address: { channel: 'email', value: 'lead@acme.test' },
          data: { recordType: 'Delivery', messageStream: 'outbound', details: 'smtp;250 2.0.0 OK' },
        },
      ],
    });
  });

  it('maps opens and clicks, each open its own event', () => {
    const open = {
      RecordType: 'Open',
      MessageID: MESSAGE_ID,
      Recipient: 'lead@acme.test',
      FirstOpen: true,
      ReceivedAt: '2024-01-15T18:00:00Z',
      UserAgent: 'Mozilla/5.0',
      Metadata: {},
    };
    const [first] = events(translatePostmarkEvent(open));
    const [second] = events(translatePostmarkEvent({ ...open, FirstOpen: false, ReceivedAt: '2024-01-16T09:00:00Z' }));
    expect(first).toMatchObject({ type: 'email.opened', data: { firstOpen: true, userAgent: 'Mozilla/5.0' } });
    expect(first?.executionId).toBeUndefined();
    expect(second?.providerEventId).not.toBe(first?.providerEventId);

    const click = {
      RecordType: 'Click',
      MessageID: MESSAGE_ID,
      Recipient: 'lead@acme.test',
      ReceivedAt: '2024-01-15T18:01:00Z',
      OriginalLink: 'https://acme.test/x',
      ClickLocation: 'HTML',
    };
    expect(events(translatePostmarkEvent(click))[0]).toMatchObject({
      type: 'email.clicked',
      data: { url: 'https://acme.test/x', clickLocation: 'HTML' },
    });
  });

  it.each([
    [1, 'HardBounce', false, 'email.bounced'],
    [100000, 'BadEmailAddress', false, 'email.bounced'],
    [100001, 'SpamComplaint', true, 'email.spam_reported'],
    [16, 'Unsubscribe', false, 'email.unsubscribed'],
    [100006, 'Blocked', true, 'email.bounced'],
  ])('treats bounce TypeCode %i (%s, Inactive %s) as %s with suppression', (code, type, inactive, expected) => {
    const [event] = events(translatePostmarkEvent(bounce(code, type, inactive)));
    expect(event).toMatchObject({ type: expected, suppress: true, address: { value: 'lead@acme.test' } });
    expect(event?.providerEventId).toBe(`postmark:Bounce:${MESSAGE_ID}:692560173`);
    expect(event?.data).toMatchObject({ bounceType: type, typeCode: code });
  });

  it.each([
    [2, 'Transient'],
    [4096, 'SoftBounce'],
    [100006, 'Blocked'],
    [256, 'DnsError'],
    [512, 'SpamNotification'],
    [64, 'AutoResponder'],
  ])('emits nothing for a non-permanent bounce (%i %s) so soft bounces never exit', (code, type) => {
    expect(translatePostmarkEvent(bounce(code, type, false))).toEqual({ ok: true, events: [] });
  });

  it('maps a spam complaint record', () => {
    const complaint = { ...bounce(100001, 'SpamComplaint', true), RecordType: 'SpamComplaint' };
    expect(events(translatePostmarkEvent(complaint))[0]).toMatchObject({
      type: 'email.spam_reported',
      suppress: true,
      providerEventId: `postmark:SpamComplaint:${MESSAGE_ID}:692560173`,
    });
  });

  it('types subscription changes by reason and ignores reactivations', () => {
    const change = {
      RecordType: 'SubscriptionChange',
      MessageID: MESSAGE_ID,
      ServerID: 23,
      MessageStream: 'outbound',
      ChangedAt: '2024-01-15T19:00:00Z',
      Recipient: 'lead@acme.test',
      Origin: 'Recipient',
      SuppressSending: true,
      SuppressionReason: 'ManualSuppression',
      Metadata: { execution_id: 'exe_1' },
    };
    const type = (patch: object) => events(translatePostmarkEvent({ ...change, ...patch }))[0]?.type;
    expect(type({})).toBe('email.unsubscribed');
    expect(type({ SuppressionReason: 'HardBounce' })).toBe('email.bounced');
    expect(type({ SuppressionReason: 'SpamComplaint' })).toBe('email.spam_reported');
    expect(events(translatePostmarkEvent(change))[0]).toMatchObject({
      suppress: true,
      executionId: 'exe_1',
      providerEventId: `postmark:SubscriptionChange:${MESSAGE_ID}:2024-01-15T19:00:00Z`,
      data: { suppressionReason: 'ManualSuppression', origin: 'Recipient' },
    });
    expect(translatePostmarkEvent({ ...change, SuppressSending: false })).toEqual({ ok: true, events: [] });
  });

  it('prefers the trace id, and derives a stable hash without MessageID or time', () => {
    expect(events(translatePostmarkEvent(delivery, { traceId: 'tr-1' }))[0]?.providerEventId).toBe(
      'postmark:trace:tr-1',
    );
    const bare = { RecordType: 'Delivery', Recipient: 'lead@acme.test' };
    const first = events(translatePostmarkEvent(bare, { now: NOW }))[0];
    expect(first?.providerEventId).toMatch(/^postmark:Delivery:h:[0-9a-f]{32}$/);
    expect(events(translatePostmarkEvent({ ...bare }))[0]?.providerEventId).toBe(first?.providerEventId);
    expect(first?.occurredAt).toEqual(NOW);
  });

  it('ignores unknown record types and rejects bodies that are not records', () => {
    expect(translatePostmarkEvent({ RecordType: 'Inbound' })).toEqual({ ok: true, events: [] });
    for (const body of [null, [], 'x', 3, {}, { RecordType: 7 }]) expect(translatePostmarkEvent(body).ok).toBe(false);
  });
});

const inbound = {
  From: 'Ann Lee <Ann.Lee@Acme.test>',
  FromName: 'Ann Lee',
  FromFull: { Email: 'Ann.Lee@Acme.test', Name: 'Ann Lee', MailboxHash: '' },
  To: 'sales@reply.us.test',
  Subject: 'Re: Hi',
  MessageID: '22c74902-a0c1-4511-804f-341342852c90',
  Date: 'Mon, 15 Jan 2024 12:30:00 -0500',
  TextBody: 'Sounds good.\n\nOn Mon… wrote:\n> Hi',
  StrippedTextReply: 'Sounds good.',
  Headers: [
    { Name: 'X-Spam-Status', Value: 'No' },
    { Name: 'Message-ID', Value: '<CAF=abc123@mail.gmail.com>' },
    { Name: 'In-Reply-To', Value: `<${MESSAGE_ID}@mtasv.net>` },
    { Name: 'References', Value: `<root@us.test> <${MESSAGE_ID}@mtasv.net>` },
  ],
};

describe('translatePostmarkInbound', () => {
  it('a From that SPF/DKIM contradict is email.reply_unverified, with the verdicts', () => {
    const verdicts = [
      { Name: 'X-Spam-Tests', Value: 'HTML_MESSAGE,SPF_SOFTFAIL' },
      { Name: 'Received-SPF', Value: 'SoftFail (acme.test: ...) identity=mailfrom; envelope-from=ann.lee@acme.test' },
    ];
    const result = translatePostmarkInbound({ ...inbound, Headers: [...verdicts, ...(inbound.Headers as unknown[])] });
    expect(result.ok && result.events[0]).toMatchObject({
      type: 'email.reply_unverified',
      data: { authentication: { verdict: 'fail', spf: 'softfail', envelopeDomain: 'acme.test' } },
    });
  });

  it('turns a reply into email.replied', () => {
    expect(translatePostmarkInbound(inbound)).toEqual({
      ok: true,
      events: [
        {
          type: 'email.replied',
          providerEventId: 'postmark-inbound:22c74902-a0c1-4511-804f-341342852c90',
          provider: 'postmark',
          occurredAt: new Date('2024-01-15T17:30:00Z'),
          address: { channel: 'email', value: 'ann.lee@acme.test' },
          inReplyTo: [`${MESSAGE_ID}@mtasv.net`, 'root@us.test'],
          data: {
            messageId: 'CAF=abc123@mail.gmail.com',
            subject: 'Re: Hi',
            to: 'sales@reply.us.test',
            text: 'Sounds good.',
            authentication: { verdict: 'none' },
          },
        },
      ],
    });
  });

  it('falls back to From, the Message-ID header, TextBody and the clock', () => {
    const { FromFull: _f, MessageID: _m, StrippedTextReply: _s, Date: _d, ...rest } = inbound;
    const [event] = events(translatePostmarkInbound(rest, { now: NOW }));
    expect(event).toMatchObject({
      providerEventId: 'postmark-inbound:CAF=abc123@mail.gmail.com',
      address: { value: 'ann.lee@acme.test' },
      occurredAt: NOW,
      data: { text: inbound.TextBody },
    });
  });

  it('emits nothing for an auto-reply', () => {
    const Headers = [...inbound.Headers, { Name: 'Auto-Submitted', Value: 'auto-replied' }];
    expect(translatePostmarkInbound({ ...inbound, Headers })).toEqual({ ok: true, events: [] });
  });

  it('rejects input without a sender or that is not a record', () => {
    expect(translatePostmarkInbound({ Subject: 'x' }).ok).toBe(false);
    for (const body of [null, [], 'x']) expect(translatePostmarkInbound(body).ok).toBe(false);
  });
});
