/**
 * The live stream's pure parts: the dashboard's SSE reader (events split across chunks, CRLF,
 * comments skipped) and the query keys each notice makes stale; the core's filter, folding and
 * wire text; the relay's payloads under PostgreSQL's limit and its refusal of its own or
 * malformed notices.
 */
import { describe, expect, it } from 'vitest';
import { foldNotices, noticeEvent, noticeMatches, parseTopics, type LiveNotice } from '../../src/core/live.ts';
import { batchOf, noticesFrom, payloadsOf } from '../../src/app/liveRelay.ts';
import { isLiveQuery, SseParser, staleKeys } from '../../web/src/live/sse.ts';

const W = '0190a6d2-0000-7000-8000-000000000001';
const OTHER = '0190a6d2-0000-7000-8000-000000000002';
const lead = (n: number) => `0190a6d2-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe('the dashboard reading the stream', () => {
  it('assembles events across chunks and line endings, skipping comments and the retry hint', () => {
    const parser = new SseParser();
    expect(parser.push('retry: 3000\n\nevent: ready\ndata: {"workspaceId":"w"}\n')).toEqual([]);
    expect(parser.push('\n: heartbeat\n\nevent: lead\r\ndata: {"leadId":"a"}\r\n\r\nevent: ta')).toEqual([
      { event: 'ready', data: '{"workspaceId":"w"}' },
      { event: 'lead', data: '{"leadId":"a"}' },
    ]);
    expect(parser.push('sk\ndata: {}\n\n')).toEqual([{ event: 'task', data: '{}' }]);
  });

  it('makes stale what each notice changed, never the sequence a person is editing', () => {
    expect(staleKeys({ event: 'lead', data: '{"leadId":"a"}' })).toEqual([{ key: ['lead', 'a'] }, { key: ['leads'] }, { sequenceStats: true }]);
    expect(staleKeys({ event: 'enrollment', data: '{"leadId":"a","enrollmentId":"e","sequenceId":"s"}' })).toEqual([
      { key: ['lead', 'a'] },
      { key: ['leads'] },
      { key: ['sequence', 's', 'enrollments'] },
      { key: ['sequence', 's', 'stats'] },
      { key: ['sequence', 's', 'trend'] },
    ]);
    expect(staleKeys({ event: 'task', data: '{"leadId":"a","enrollmentId":"e"}' })).toContainEqual({ key: ['tasks'] });
    expect(staleKeys({ event: 'reply', data: '{}' })).toContainEqual({ key: ['replies'] });
    expect(staleKeys({ event: 'workspace', data: '{}' })).toEqual([{ everything: true }]);
    expect(staleKeys({ event: 'lead', data: 'not json' })).toEqual([]);
    // The Mailboxes page's "sent today", and an endpoint's health and delivery log.
    expect(staleKeys({ event: 'mailbox', data: '{"mailboxId":"m"}' })).toEqual([{ key: ['mailboxes'] }]);
    expect(staleKeys({ event: 'webhook', data: '{"endpointId":"w"}' })).toEqual([{ key: ['webhook-endpoints'] }, { key: ['webhook-deliveries', 'w'] }]);
    expect(staleKeys({ event: 'webhook', data: '{}' })).toEqual([{ key: ['webhook-endpoints'] }, { key: ['webhook-deliveries'] }]);
    expect(staleKeys({ event: 'ended', data: '{"reason":"x"}' })).toEqual([]);
    expect(isLiveQuery(['mailboxes'])).toBe(true);
    expect(isLiveQuery(['webhook-deliveries', 'w'])).toBe(true);
    expect(isLiveQuery(['lead', 'a', 'timeline'])).toBe(true);
    expect(isLiveQuery(['sequence', 's', 'stats'])).toBe(true);
    expect(isLiveQuery(['sequence', 's'])).toBe(false);
    expect(isLiveQuery(['me'])).toBe(false);
  });
});

describe('notices in the core', () => {
  it('lets through its workspace, its lead and its topics; `workspace` always', () => {
    const notice: LiveNotice = { kind: 'lead', workspaceId: W, leadId: lead(1) };
    expect(noticeMatches({ workspaceId: W }, notice)).toBe(true);
    expect(noticeMatches({ workspaceId: OTHER }, notice)).toBe(false);
    expect(noticeMatches({ workspaceId: W, leadId: lead(2) }, notice)).toBe(false);
    const topics = parseTopics('task, reply');
    expect('topics' in topics && noticeMatches({ workspaceId: W, ...topics }, notice)).toBe(false);
    expect(noticeMatches({ workspaceId: W, leadId: lead(2), topics: new Set(['task'] as const) }, { kind: 'workspace', workspaceId: W })).toBe(true);
    expect(parseTopics('lead,nope')).toEqual({ unknown: ['nope'] });
    // Mailbox and webhook notices name no lead: a lead's stream does not hear them.
    const mailbox: LiveNotice = { kind: 'mailbox', workspaceId: W, mailboxId: lead(3) };
    expect(noticeMatches({ workspaceId: W }, mailbox)).toBe(true);
    expect(noticeMatches({ workspaceId: W, leadId: lead(1) }, mailbox)).toBe(false);
    const picked = parseTopics('mailbox,webhook');
    expect('topics' in picked && noticeMatches({ workspaceId: W, ...picked }, { kind: 'webhook', workspaceId: W, endpointId: lead(4) })).toBe(true);
    expect('topics' in picked && noticeMatches({ workspaceId: W, ...picked }, notice)).toBe(false);
  });

  it('folds duplicates, and a large burst into one `workspace` notice', () => {
    const same: LiveNotice = { kind: 'lead', workspaceId: W, leadId: lead(1) };
    expect(foldNotices([same, same, same], 10)).toEqual([same]);
    const many = Array.from({ length: 11 }, (_, i): LiveNotice => ({ kind: 'lead', workspaceId: W, leadId: lead(i) }));
    expect(foldNotices(many, 10)).toEqual([{ kind: 'workspace', workspaceId: W }]);
    expect(noticeEvent(same)).toBe(`event: lead\ndata: {"leadId":"${lead(1)}"}\n\n`);
  });
});

describe('the relay between processes', () => {
  it('cuts payloads below the NOTIFY limit and reads back only valid notices of others', () => {
    const notices = Array.from({ length: 400 }, (_, i): LiveNotice => ({ kind: 'enrollment', workspaceId: i % 2 ? W : OTHER, leadId: lead(i), enrollmentId: lead(i + 1000), sequenceId: lead(9) }));
    const payloads = payloadsOf('me', notices);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    expect(payloads.flatMap((p) => noticesFrom(p, 'someone else'))).toEqual(notices);
    expect(payloads.flatMap((p) => noticesFrom(p, 'me'))).toEqual([]);
    expect(noticesFrom('{"o":"x","n":[{"kind":"lead","workspaceId":"nope"}]}', 'me')).toEqual([]);
    expect(noticesFrom('not json', 'me')).toEqual([]);
    // Per workspace past 50 distinct: one `workspace` notice each.
    expect(batchOf(notices)).toEqual([
      { kind: 'workspace', workspaceId: OTHER },
      { kind: 'workspace', workspaceId: W },
    ]);
  });
});
