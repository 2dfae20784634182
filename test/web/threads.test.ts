/** The lead timeline's thread grouping (web/src/lead/threads.ts): pure, on the API's item shape. */
import { describe, expect, it } from 'vitest';
import type { TimelineItem } from '../../web/src/api/types.ts';
import { bareSubject, groupThreads, unverifiedSender } from '../../web/src/lead/threads.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 2, 4, 15, minute)).toISOString();
const item = (over: Partial<TimelineItem> & Pick<TimelineItem, 'id' | 'kind'>, minute: number): TimelineItem => ({
  at: at(minute),
  enrollmentId: 'e1',
  channel: 'email',
  threadId: null,
  summary: '',
  data: {},
  ...over,
});
const send = (id: string, minute: number, subject: string, threadId = 'root@acme.test') =>
  item({ id, kind: 'execution', threadId, data: { stepType: 'email', status: 'succeeded', rendered: { subject, body: 'Hi' } } }, minute);
const event = (id: string, minute: number, type: string, executionId: string, details: Record<string, unknown> = {}) =>
  item({ id, kind: 'event', threadId: 'root@acme.test', data: { type, executionId, details } }, minute);
const change = (id: string, minute: number) => item({ id, kind: 'change', channel: null, enrollmentId: 'e1', data: { action: 'exit' } }, minute);

describe('the thread on the lead timeline', () => {
  it('folds a thread into one entry where its newest item was, oldest message first, with markers', () => {
    // Newest first, as the API answers.
    const items = [
      change('c2', 40),
      event('r1', 31, 'email.replied', 'x2', { text: 'Yes', from: 'ann@lead.test' }),
      send('x2', 30, 'Re: Hello'),
      change('c1', 20),
      event('o1', 12, 'email.opened', 'x1'),
      event('d1', 11, 'email.delivered', 'x1'),
      event('b1', 13, 'email.bounced', 'x1', { bounceType: 'soft' }),
      send('x1', 10, 'Hello'),
    ];
    const entries = groupThreads(items);
    expect(entries.map((e) => (e.type === 'item' ? e.item.id : `thread:${e.thread.id}`))).toEqual(['c2', 'thread:root@acme.test', 'c1']);
    const thread = entries[1]!.type === 'thread' ? entries[1]!.thread : undefined;
    expect(thread!.subject).toBe('Hello');
    expect(thread!.at).toBe(at(31));
    expect(thread!.messages.map((m) => [m.item.id, m.direction])).toEqual([
      ['x1', 'out'],
      ['x2', 'out'],
      ['r1', 'in'],
    ]);
    expect(thread!.messages[0]!.markers.map((m) => m.label)).toEqual(['delivered', 'opened', 'bounced (soft)']);
    expect(thread!.messages[1]!.markers.map((m) => m.label)).toEqual(['replied']);
  });

  it('puts an answer sent by hand from the inbox (an activity with the thread id) in the thread as a message we sent', () => {
    const answer = item(
      { id: 'a1', kind: 'activity', enrollmentId: null, threadId: 'root@acme.test', data: { activityKind: 'email', body: 'Tuesday?', actor: 'ana@acme.test', details: { subject: 'Re: Hello', text: 'Tuesday?' } } },
      40,
    );
    const note = item({ id: 'n1', kind: 'activity', enrollmentId: null, data: { activityKind: 'note', body: 'called' } }, 41);
    const entries = groupThreads([note, answer, event('r1', 31, 'email.replied', 'x1', { text: 'Yes' }), send('x1', 10, 'Hello')]);
    expect(entries.map((e) => (e.type === 'item' ? e.item.id : `thread:${e.thread.id}`))).toEqual(['n1', 'thread:root@acme.test']);
    const thread = entries[1]!.type === 'thread' ? entries[1]!.thread : undefined;
    expect(thread!.subject).toBe('Hello');
    expect(thread!.messages.map((m) => [m.item.id, m.direction])).toEqual([
      ['x1', 'out'],
      ['r1', 'in'],
      ['a1', 'out'],
    ]);
  });

  it('leaves a lone email a plain item, and shows an event whose email is on an older page as its own line', () => {
    expect(groupThreads([send('x1', 10, 'Hello'), change('c1', 5)]).map((e) => e.type)).toEqual(['item', 'item']);
    const entries = groupThreads([event('r1', 31, 'email.replied', 'x9', { subject: 'Re: Re: Hello' }), event('o1', 20, 'email.opened', 'x9')]);
    expect(entries).toHaveLength(1);
    const thread = entries[0]!.type === 'thread' ? entries[0]!.thread : undefined;
    expect(thread!.subject).toBe('Hello');
    expect(thread!.messages.map((m) => m.direction)).toEqual(['event', 'in']);
  });

  it('folds any run of Re: like the engine does', () => {
    expect(bareSubject('RE: re:Re :  Hello')).toBe('Hello');
    expect(bareSubject('Hello, Re: you')).toBe('Hello, Re: you');
  });

  it('says when the mailbox server could not verify a reply’s sender, and keeps an unverified reply in its thread', () => {
    const flagged = event('r1', 31, 'email.replied', 'x1', { authentication: { verdict: 'fail', spf: 'fail', dmarc: 'fail', authservId: '127.0.0.1' } });
    expect(unverifiedSender(flagged)).toBe('Sender not verified by 127.0.0.1: SPF fail; DMARC fail');
    expect(unverifiedSender(event('r2', 31, 'email.replied', 'x1', { authentication: { verdict: 'pass' } }))).toBeNull();
    const entries = groupThreads([event('u1', 32, 'email.reply_unverified', 'x1', {}), send('x1', 10, 'Hello')]);
    const thread = entries[0]!.type === 'thread' ? entries[0]!.thread : undefined;
    expect(thread!.messages.map((m) => m.direction)).toEqual(['out', 'in']);
    expect(thread!.messages[0]!.markers.map((m) => m.label)).toEqual(['unverified reply']);
  });
});
