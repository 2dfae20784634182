/**
 * `GET /api/reports` against hand-counted fixtures on both stores: figures per UTC day from the
 * rollup (closed days) and live (the last two), each message once per measure on its first
 * event, the same totals once the live days close, every grouping, CSV, tenancy, bad input.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventType } from '../../src/core/events.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

describe.each(kinds)('reports on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let sequenceId: string;
  let sends: Array<{ id: string; variant: string }>;

  const event = async (type: EventType, index: number) => {
    const result = await kit.runtime.engine.ingest({ type, providerEventId: `test:${randomUUID()}`, provider: 'sendgrid', occurredAt: kit.clock.now(), executionId: sends[index]!.id, data: { text: 'Sounds good, call me?' } });
    expect(result.status).toBe('recorded');
  };
  const report = async (query: string) => {
    const answer = await kit.call('GET', `/api/reports?${query}`, { token: kit.tokens.viewer });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  const pick = (row: Record<string, unknown>) => ({ reached: row.reached, sent: row.sent, delivered: row.delivered, opened: row.opened, clicked: row.clicked, replied: row.replied });

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db, { start: '2026-03-01T10:00:00Z' });
    const csv = ['email', ...[0, 1, 2, 3].map((i) => `r${i}-${kind}@acme.test`)].join('\n');
    const leadIds = (await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body.leadIds;
    sequenceId = (
      await kit.call('POST', '/api/sequences', {
        body: {
          name: 'Reported',
          ...OPEN_ALL_DAY,
          exitOn: [],
          steps: [
            { id: 'intro', type: 'email', subject: 'Hi', body: 'hi', variants: [{ id: 'a' }, { id: 'b', subject: 'Hello' }] },
            { id: 'hold', type: 'wait', duration: 'P60D' },
          ],
        },
      })
    ).body.id;
    await kit.call('PATCH', `/api/sequences/${sequenceId}`, { body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds } });
    await kit.runtime.engine.dispatcher.drain();
    sends = await kit.db.query(
      `select x.id, x.variant from sequence_executions x join enrollments e on e.id = x.enrollment_id join leads l on l.id = e.lead_id
        where x.sequence_id = $1 and x.step_id = 'intro' order by l.email`,
      [sequenceId],
    );
    expect(sends).toHaveLength(4);

    // 1 March: four delivered, lead 0 opens.
    for (const i of [0, 1, 2, 3]) await event('email.delivered', i);
    await event('email.opened', 0);
    // 2 March: lead 0 opens again (not a new opened message), lead 1 replies.
    kit.clock.set(new Date('2026-03-02T10:00:00Z'));
    await event('email.opened', 0);
    await event('email.replied', 1);
    // 10 March (live): lead 2 clicks, lead 0 opens a third time, lead 3 opens for the first time.
    kit.clock.set(new Date('2026-03-10T12:00:00Z'));
    await event('email.clicked', 2);
    await event('email.opened', 0);
    await event('email.opened', 3);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const expectedDays = {
    '2026-03-01': { reached: 4, sent: 4, delivered: 4, opened: 1, clicked: 0, replied: 0 },
    '2026-03-02': { reached: 0, sent: 0, delivered: 0, opened: 0, clicked: 0, replied: 1 },
    '2026-03-10': { reached: 0, sent: 0, delivered: 0, opened: 1, clicked: 1, replied: 0 },
  } as Record<string, ReturnType<typeof pick>>;
  const quiet = { reached: 0, sent: 0, delivered: 0, opened: 0, clicked: 0, replied: 0 };
  const totals = { reached: 4, sent: 4, delivered: 4, opened: 2, clicked: 1, replied: 1 };

  it('counts each day by hand, from the rollup and live, with the same totals once the live days close', async () => {
    const byDay = await report('from=2026-03-01&to=2026-03-10');
    expect(byDay.rows.map((r: { key: string }) => r.key)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08', '09', '10'].map((d) => `2026-03-${d}`));
    for (const row of byDay.rows) expect(pick(row), row.key).toEqual(expectedDays[row.key] ?? quiet);
    expect(pick(byDay.totals)).toEqual(totals);
    expect(byDay.totals.rates).toMatchObject({ delivery: 1, open: 0.5, click: 0.25, reply: 0.25 });
    const [built] = await kit.db.query<{ n: number }>(`select count(*)::int as n from report_days_built where day between '2026-03-01' and '2026-03-10'`);
    expect(built!.n).toBe(8); // the 9th and 10th are live

    expect(await report('from=2026-03-01&to=2026-03-10')).toEqual(byDay);
    kit.clock.set(new Date('2026-03-13T09:00:00Z'));
    const closed = await report('from=2026-03-01&to=2026-03-10');
    expect(closed).toEqual(byDay);
    kit.clock.set(new Date('2026-03-10T12:00:00Z'));
  });

  it('groups by week, step, variant, sequence and channel', async () => {
    const weeks = await report('from=2026-03-01&to=2026-03-10&groupBy=week');
    expect(weeks.rows.map((r: Record<string, unknown>) => [r.key, r.opened, r.replied])).toEqual([
      ['2026-02-23', 1, 0],
      ['2026-03-02', 0, 1],
      ['2026-03-09', 1, 0],
    ]);

    const steps = await report('from=2026-03-01&to=2026-03-10&groupBy=step');
    // A wait writes no execution: it is the enrollment sleeping, so it has no row here.
    expect(steps.rows.map((r: Record<string, unknown>) => [r.stepId, r.label, pick(r)])).toEqual([
      ['intro', 'Reported / intro', { reached: 4, sent: 4, delivered: 4, opened: 2, clicked: 1, replied: 1 }],
    ]);

    const variants = await report('from=2026-03-01&to=2026-03-10&groupBy=variant');
    const sentPerVariant = Object.fromEntries(variants.rows.filter((r: { variant: string }) => r.variant !== '').map((r: { variant: string; sent: number }) => [r.variant, r.sent]));
    const expected: Record<string, number> = {};
    for (const s of sends) expected[s.variant] = (expected[s.variant] ?? 0) + 1;
    expect(sentPerVariant).toEqual(expected);

    const sequences = await report(`from=2026-03-01&to=2026-03-10&groupBy=sequence`);
    expect(sequences.rows).toHaveLength(1);
    expect(sequences.rows[0]).toMatchObject({ key: sequenceId, label: 'Reported', sent: 4 });

    const channels = await report('from=2026-03-01&to=2026-03-10&groupBy=channel');
    expect(channels.rows.map((r: Record<string, unknown>) => [r.key, r.sent])).toEqual([['email', 4]]);
    const emailOnly = await report(`from=2026-03-01&to=2026-03-10&channel=email&sequenceId=${sequenceId}`);
    expect(pick(emailOnly.totals)).toEqual(totals);
    expect(pick((await report('from=2026-03-01&to=2026-03-10&channel=sms')).totals)).toEqual(quiet);

    const mailboxes = await report('from=2026-03-01&to=2026-03-10&groupBy=mailbox');
    expect(mailboxes.rows).toHaveLength(1);
    expect(mailboxes.rows[0]).toMatchObject({ key: '', sent: 4 });
  });

  it('answers CSV', async () => {
    const answer = await kit.call('GET', '/api/reports?from=2026-03-01&to=2026-03-10&groupBy=step&format=csv', { token: kit.tokens.viewer });
    expect(answer.status).toBe(200);
    expect(String(answer.headers['content-type'])).toContain('text/csv');
    const lines = (answer.body as string).trim().split('\r\n');
    expect(lines[0]).toBe('key,label,sequenceId,stepId,variant,reached,sent,failed,skipped,delivered,opened,clicked,replied,bounced,optedOut,deliveryRate,openRate,clickRate,replyRate,bounceRate,optOutRate');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(`${sequenceId}/intro,Reported / intro,${sequenceId},intro,,4,4,0,0,4,2,1,1,0,0,1,0.5,0.25,0.25,0,0`);
  });

  it('keeps workspaces apart and refuses bad input with a 400', async () => {
    const other = await kit.call('GET', '/api/reports?from=2026-03-01&to=2026-03-10', { token: kit.other.viewer });
    expect(other.status).toBe(200);
    expect(pick(other.body.totals)).toEqual(quiet);
    expect((await kit.call('GET', '/api/reports', { token: null })).status).toBe(401);
    for (const query of ['from=2026-03-10&to=2026-03-01', 'groupBy=owner', 'from=2026-02-30', 'from=yesterday', 'from=2020-01-01&to=2026-03-01', 'format=xml', 'sequenceId=nope']) {
      const answer = await kit.call('GET', `/api/reports?${query}`, { token: kit.tokens.viewer });
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code, query).toBeTypeOf('string');
    }
  });
});
