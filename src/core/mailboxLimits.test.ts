import { describe, expect, it } from 'vitest';
import { chooseMailbox, limitOn, mailboxDay, type MailboxStanding } from './mailboxLimits.ts';

describe('mailbox limits', () => {
  it('ramps the warm-up from startLimit to dailyLimit over its days', () => {
    const ramp = { startLimit: 5, days: 10 };
    expect(limitOn(50, '2026-03-01', ramp, '2026-03-01')).toBe(5);
    expect(limitOn(50, '2026-03-06', ramp, '2026-03-01')).toBe(27);
    expect(limitOn(50, '2026-03-11', ramp, '2026-03-01')).toBe(50);
    expect(limitOn(50, '2026-04-01', ramp, '2026-03-01')).toBe(50);
    expect(limitOn(3, '2026-03-01', ramp, '2026-03-01')).toBe(3); // never above the daily limit
    expect(limitOn(50, '2026-03-01')).toBe(50);
  });

  it('knows a 23-hour local day across DST', () => {
    const day = mailboxDay(new Date('2026-03-29T12:00:00Z'), 'Europe/Berlin');
    expect(day).toEqual({ day: '2026-03-29', start: new Date('2026-03-28T23:00:00Z'), end: new Date('2026-03-29T22:00:00Z') });
  });

  const standing = (id: string, over: Partial<MailboxStanding> = {}): MailboxStanding => ({
    id,
    name: id,
    limit: 10,
    sentToday: 0,
    dayEnd: new Date('2026-03-05T05:00:00Z'),
    lastSendAt: null,
    minGapSeconds: 0,
    ...over,
  });
  const now = new Date('2026-03-04T15:00:00Z');

  it('picks the mailbox with the fewest sends today, ties to the first listed', () => {
    expect(chooseMailbox([standing('a', { sentToday: 3 }), standing('b', { sentToday: 1 })], now)).toEqual({ kind: 'send', mailboxId: 'b' });
    expect(chooseMailbox([standing('a'), standing('b')], now)).toEqual({ kind: 'send', mailboxId: 'a' });
  });

  it('waits for the gap of a mailbox with room, else for the first day to end', () => {
    const gap = chooseMailbox([standing('a', { lastSendAt: new Date(now.getTime() - 30_000), minGapSeconds: 60 })], now);
    expect(gap).toMatchObject({ kind: 'wait', cause: 'gap', until: new Date(now.getTime() + 30_000), mailboxId: 'a' });
    const full = chooseMailbox([standing('a', { sentToday: 10 }), standing('b', { sentToday: 10, dayEnd: new Date('2026-03-05T04:00:00Z') })], now);
    expect(full).toMatchObject({ kind: 'wait', cause: 'limit', until: new Date('2026-03-05T04:00:00Z') });
    expect(full.kind === 'wait' && full.reason).toBe('mailbox_limit: all 2 mailboxes have reached their daily limits');
  });
});
