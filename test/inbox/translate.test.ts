import { describe, expect, it } from 'vitest';
import { answerTo } from '../../src/devtools/mail/localMail.ts';
import { parseInboundMail } from '../../src/inbox/parse.ts';
import { translateInboundMail } from '../../src/inbox/translate.ts';

const mailbox = { id: 'mbx', workspaceId: 'ws-1', fromEmail: 'Rep@Acme.test', zone: 'Europe/Berlin' };
const receivedAt = new Date('2026-03-04T15:00:00Z');
const settings = { pauseDays: 3, maxPauseDays: 90 };
const sent = { from: 'rep@acme.test', to: ['ann@lead.test'], user: 'rep@acme.test', raw: 'Message-ID: <m1@acme.test>\r\nSubject: Quick question\r\n\r\nHi' };

async function translate(raw: string) {
  return translateInboundMail(await parseInboundMail(raw), mailbox, { raw, receivedAt, settings });
}

describe('translateInboundMail', () => {
  it('a reply: threaded, its own words, scoped to the mailbox workspace, keyed by its Message-ID', async () => {
    const t = await translate(answerTo(sent, 'rep@acme.test', receivedAt));
    expect(t.kind).toBe('event');
    if (t.kind !== 'event') return;
    expect(t.event).toMatchObject({ type: 'email.replied', provider: 'imap', workspaceId: 'ws-1', inReplyTo: ['m1@acme.test'], address: { value: 'ann@lead.test' } });
    expect(t.event.data.text).toBe('Thanks, this sounds interesting. Can we talk on Tuesday?');
    expect(t.event.providerEventId).toMatch(/^imap:ws-1:mid:/);
  });

  it('a bounce report: hard, the bounced Message-ID, the recipient, suppressing', async () => {
    const t = await translate(answerTo({ ...sent, to: ['bounce@lead.test'] }, 'rep@acme.test', receivedAt));
    if (t.kind !== 'event') throw new Error('skipped');
    expect(t.event).toMatchObject({ type: 'email.bounced', suppress: true, transient: false, inReplyTo: ['m1@acme.test'], address: { value: 'bounce@lead.test' } });
    expect(t.event.data).toMatchObject({ bounceType: 'hard', status: '5.1.1' });
  });

  it('an out-of-office: pauses until the stated day, or the default', async () => {
    const t = await translate(answerTo({ ...sent, to: ['ooo@lead.test'] }, 'rep@acme.test', receivedAt));
    if (t.kind !== 'event') throw new Error('skipped');
    expect(t.event.type).toBe('email.auto_replied');
    expect(t.event.data.returnDate).toBe('2026-03-11');
    const plain = await translate('From: x@lead.test\r\nTo: rep@acme.test\r\nSubject: Out of Office\r\nMessage-ID: <o@x>\r\n\r\nAway.');
    if (plain.kind !== 'event') throw new Error('skipped');
    expect(plain.event.pauseUntil?.toISOString()).toBe('2026-03-07T15:00:00.000Z');
  });

  it('skips the mailbox’s own mail and mailing lists', async () => {
    expect((await translate('From: rep@acme.test\r\nSubject: note\r\n\r\nx')).kind).toBe('skip');
    expect((await translate('From: news@lead.test\r\nList-Id: <news.lead.test>\r\nSubject: News\r\n\r\nx')).kind).toBe('skip');
  });
});
