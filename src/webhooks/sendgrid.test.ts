import { describe, expect, it } from 'vitest';
import type { InboundEvent } from '../core/events.ts';
import { validDate, type TranslateResult } from './parse.ts';
import { translateSendGridEvents, translateSendGridInbound } from './sendgrid.ts';

const NOW = new Date('2030-01-01T00:00:00Z');

function events(result: TranslateResult): InboundEvent[] {
  if (!result.ok) throw new Error(result.error);
  return result.events;
}

const base = {
  email: 'Lead@Acme.test',
  timestamp: 1600112492,
  sg_message_id: 'LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0',
  'smtp-id': '<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>',
  category: ['outreach'],
  execution_id: 'exe_1',
};

describe('translateSendGridEvents', () => {
  it('maps a delivered event with every correlation field', () => {
    const [event] = events(
      translateSendGridEvents([{ ...base, event: 'delivered', response: '250 OK', sg_event_id: 'ZHJvcHBlZC0x' }]),
    );
    expect(event).toEqual({
      type: 'email.delivered',
      providerEventId: 'sendgrid:ZHJvcHBlZC0x',
      provider: 'sendgrid',
      occurredAt: new Date(1600112492 * 1000),
      providerMessageId: 'LRzXl_NHStOGhQ4kofSm_A',
      executionId: 'exe_1',
      address: { channel: 'email', value: 'lead@acme.test' },
      data: { event: 'delivered', response: '250 OK' },
    });
  });

  it.each([
    [{ event: 'open', useragent: 'Mozilla', ip: '1.2.3.4' }, 'email.opened', undefined],
    [{ event: 'click', url: 'https://acme.test/x' }, 'email.clicked', undefined],
    [{ event: 'bounce', type: 'bounce', status: '5.1.1', reason: '550 no such user' }, 'email.bounced', true],
    [{ event: 'bounce', reason: '550 no such user' }, 'email.bounced', true],
    [{ event: 'dropped', reason: 'Bounced Address' }, 'email.bounced', true],
    [{ event: 'dropped', reason: 'Invalid' }, 'email.bounced', true],
    [{ event: 'dropped', reason: 'Unsubscribed Address' }, 'email.unsubscribed', true],
    [{ event: 'dropped', reason: 'Spam Reporting Address' }, 'email.spam_reported', true],
    [{ event: 'spamreport' }, 'email.spam_reported', true],
    [{ event: 'unsubscribe' }, 'email.unsubscribed', true],
    [{ event: 'group_unsubscribe', asm_group_id: 42 }, 'email.unsubscribed', true],
  ])('maps %o to %s', (fields, type, suppress) => {
    const [event] = events(translateSendGridEvents([{ ...base, sg_event_id: 'e1', ...fields }]));
    expect(event?.type).toBe(type);
    expect(event?.suppress).toBe(suppress);
  });

  it('keeps the details exit rules and reports need', () => {
    const result = events(
      translateSendGridEvents([
        { ...base, sg_event_id: 'a', event: 'click', url: 'https://acme.test/x' },
        { ...base, sg_event_id: 'b', event: 'bounce', type: 'bounce', status: '5.1.1', reason: '550' },
        { ...base, sg_event_id: 'c', event: 'group_unsubscribe', asm_group_id: 42 },
      ]),
    );
    expect(result.map((e) => e.data)).toEqual([
      { event: 'click', url: 'https://acme.test/x' },
      { event: 'bounce', bounceType: 'hard', status: '5.1.1', reason: '550' },
      { event: 'group_unsubscribe', asmGroupId: '42' },
    ]);
  });

  it('ignores blocked bounces, our own drops and events that say nothing about the lead', () => {
    const ignored = [
      { event: 'bounce', type: 'blocked', status: '5.2.2', reason: '552 mailbox full' },
      { event: 'dropped', reason: 'Recipient List over Package Quota' },
      { event: 'dropped', reason: 'Invalid SMTPAPI header' },
      { event: 'processed' },
      { event: 'deferred', response: '400 try again', attempt: '1' },
      { event: 'group_resubscribe', asm_group_id: 42 },
      { event: 'something_new' },
    ];
    expect(events(translateSendGridEvents(ignored.map((f) => ({ ...base, ...f }))))).toEqual([]);
  });

  it('skips items without event or email, or that are not objects, and keeps the rest', () => {
    const body = [null, 7, 'x', [], { event: 'delivered' }, { email: 'a@b.test' }, { ...base, event: 'open' }];
    expect(events(translateSendGridEvents(body)).map((e) => e.type)).toEqual(['email.opened']);
  });

  it('rejects a body that is not an array', () => {
    for (const body of [undefined, null, {}, 'x', 1, { events: [] }]) {
      expect(translateSendGridEvents(body).ok).toBe(false);
    }
    expect(translateSendGridEvents([])).toEqual({ ok: true, events: [] });
  });

  it('derives a stable id when sg_event_id is missing', () => {
    const item = { email: 'x@y.test', timestamp: 1619651147, event: 'bounce', type: 'bounce', reason: '550' };
    const first = events(translateSendGridEvents([item]))[0];
    const again = events(translateSendGridEvents([{ ...item }]))[0];
    const other = events(translateSendGridEvents([{ ...item, timestamp: 1619651148 }]))[0];
    expect(first?.providerEventId).toMatch(/^sendgrid:h:[0-9a-f]{32}$/);
    expect(again?.providerEventId).toBe(first?.providerEventId);
    expect(other?.providerEventId).not.toBe(first?.providerEventId);
    // Async bounces may lack sg_message_id: no providerMessageId, and no custom args either.
    expect(first?.providerMessageId).toBeUndefined();
    expect(first?.executionId).toBeUndefined();
  });

  it('falls back to the injected clock only when the timestamp is unusable', () => {
    for (const timestamp of [undefined, 'soon', 1e20]) {
      const [event] = events(translateSendGridEvents([{ ...base, event: 'open', timestamp }], { now: NOW }));
      expect(event?.occurredAt).toEqual(NOW);
    }
    const [event] = events(translateSendGridEvents([{ ...base, event: 'open', timestamp: '1600112492' }]));
    expect(event?.occurredAt).toEqual(new Date(1600112492 * 1000));
  });
});

const HEADERS = [
  'Received: by mx0047p1mdw1.sendgrid.net with SMTP id 6WCVv7KAWn',
  'From: "Lee, Ann" <Ann.Lee@Acme.test>',
  'To: sales@reply.us.test',
  'Subject: Re: Hi',
  'Date: Mon, 15 Jan 2024 12:30:00 -0500',
  'Message-ID: <CAF=abc123@mail.gmail.com>',
  'In-Reply-To: <LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>',
  'References: <root@us.test>',
  '\t<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>',
  'Content-Type: multipart/alternative; boundary="000"',
  '',
].join('\r\n');

const inbound = {
  headers: HEADERS,
  from: '"Lee, Ann" <Ann.Lee@Acme.test>',
  to: 'sales@reply.us.test',
  subject: 'Re: Hi',
  text: 'Sounds good, call me Tuesday.\n\nOn Mon… wrote:\n> Hi',
  envelope: '{"to":["sales@reply.us.test"],"from":"bounces+123@acme.test"}',
  SPF: 'pass',
};

describe('translateSendGridInbound', () => {
  it('a From that SPF/DKIM contradict is email.reply_unverified, with the verdicts', () => {
    const forged = { ...inbound, SPF: 'pass', dkim: '{@forger.test : pass}', envelope: JSON.stringify({ from: 'x@forger.test', to: ['sales@reply.us.test'] }) };
    const result = translateSendGridInbound(forged);
    expect(result.ok && result.events[0]).toMatchObject({
      type: 'email.reply_unverified',
      data: { authentication: { verdict: 'fail', spf: 'pass', envelopeDomain: 'forger.test', dkim: ['forger.test: pass'] } },
    });
  });

  it('turns a reply into email.replied with the thread ids', () => {
    expect(translateSendGridInbound(inbound)).toEqual({
      ok: true,
      events: [
        {
          type: 'email.replied',
          providerEventId: 'sendgrid-inbound:CAF=abc123@mail.gmail.com',
          provider: 'sendgrid',
          occurredAt: new Date('2024-01-15T17:30:00Z'),
          address: { channel: 'email', value: 'ann.lee@acme.test' },
          inReplyTo: ['LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net', 'root@us.test'],
          data: {
            messageId: 'CAF=abc123@mail.gmail.com',
            subject: 'Re: Hi',
            to: 'sales@reply.us.test',
            text: inbound.text,
            authentication: { verdict: 'pass', spf: 'pass', envelopeDomain: 'acme.test' },
          },
        },
      ],
    });
  });

  it('falls back to the envelope sender and a stable hash id', () => {
    const fields = { from: 'garbage', envelope: '{"from":"Lee@Acme.test"}', text: 'hi' };
    const [first] = events(translateSendGridInbound(fields, { now: NOW }));
    const [again] = events(translateSendGridInbound({ ...fields }, { now: NOW }));
    expect(first?.address).toEqual({ channel: 'email', value: 'lee@acme.test' });
    expect(first?.providerEventId).toMatch(/^sendgrid-inbound:h:[0-9a-f]{32}$/);
    expect(again?.providerEventId).toBe(first?.providerEventId);
    expect(first?.occurredAt).toEqual(NOW);
    expect(first?.inReplyTo).toEqual([]);
  });

  it.each([
    'Auto-Submitted: auto-replied',
    'Auto-Submitted: auto-generated',
    'X-Autoreply: yes',
    'X-Autorespond: Out of office',
    'Precedence: auto_reply',
    'Precedence: bulk',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="x"',
  ])('emits nothing for an auto-reply (%s)', (header) => {
    expect(translateSendGridInbound({ ...inbound, headers: `${header}\r\n${HEADERS}` })).toEqual({
      ok: true,
      events: [],
    });
  });

  it('treats Auto-Submitted: no and a mailer-daemon sender correctly', () => {
    expect(events(translateSendGridInbound({ ...inbound, headers: `Auto-Submitted: no\r\n${HEADERS}` }))).toHaveLength(1);
    expect(events(translateSendGridInbound({ ...inbound, from: 'MAILER-DAEMON@mx.acme.test' }))).toEqual([]);
  });

  it('caps the stored text', () => {
    const [event] = events(translateSendGridInbound({ ...inbound, text: 'x'.repeat(50_000) }));
    expect((event?.data.text as string).length).toBe(10_000);
  });

  it('rejects input without a sender or that is not an object', () => {
    expect(translateSendGridInbound({ subject: 'hi' }).ok).toBe(false);
    expect(translateSendGridInbound({ from: 'x', envelope: '{not json' }).ok).toBe(false);
    for (const body of [null, undefined, 'x', [], 5]) expect(translateSendGridInbound(body).ok).toBe(false);
  });
});

describe('validDate', () => {
  it('takes only times PostgreSQL can store, so a signed event with a wild timestamp is recorded at now', () => {
    expect(validDate(new Date('2026-03-04T15:00:00Z'))).toEqual(new Date('2026-03-04T15:00:00Z'));
    for (const wild of ['+010000-01-01T00:00:00.000Z', '-004713-11-23T23:59:59.999Z', '0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', 'not a date']) {
      expect(validDate(new Date(wild))).toBeUndefined();
    }
    const now = new Date('2026-03-04T15:00:00Z');
    const result = translateSendGridEvents([{ event: 'delivered', email: 'a@b.test', timestamp: 8.64e12, sg_event_id: 'x', sg_message_id: 'm' }], { now });
    expect(result.ok && result.events[0]?.occurredAt).toEqual(now);
  });
});
