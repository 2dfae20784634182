/**
 * `GET /api/reports` against hand-counted fixtures on both stores: figures per UTC day from the
 * rollups (closed days) and live (today, and yesterday in its first hour), each message once per
 * measure on its first event, conversions and meetings credited as in the stats, the same totals
 * once the live day closes, late events and late changes to a closed day, today's kept closed
 * hours against the same day built from its rows, the upkeep's build,
 * every grouping, CSV, tenancy, bad input; and the owner grouping on its own fixture: each message
 * credited to the lead's owner when it was written (a reassignment after the sends moves nothing),
 * unowned leads under "(no owner)", the owner filter, tenancy.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventType, InboundEvent } from '../../src/core/events.ts';
import { reconcileUnknown } from '../../src/db/executions.ts';
import { LIVE_CACHE_MS } from '../../src/api/reports.ts';
import { buildClosedReportDays } from '../../src/db/reports.ts';
import { PASSWORD, person, signIn, workspaceOf } from '../accounts/kit.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

describe.each(kinds)('reports on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let sequenceId: string;
  let sends: Array<{ id: string; variant: string; enrollmentId: string }>;

  const ingest = async (event: Partial<InboundEvent> & Pick<InboundEvent, 'type'>) => {
    const result = await kit.runtime.engine.ingest({ providerEventId: `test:${randomUUID()}`, provider: 'sendgrid', occurredAt: kit.clock.now(), data: { text: 'Sounds good, call me?' }, ...event });
    expect(result.status).toBe('recorded');
  };
  const event = (type: EventType, index: number) => ingest({ type, executionId: sends[index]!.id });
  const report = async (query: string) => {
    const answer = await kit.call('GET', `/api/reports?${query}`, { token: kit.tokens.viewer });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  const pick = (row: Record<string, unknown>) => ({
    reached: row.reached, sent: row.sent, delivered: row.delivered, opened: row.opened, clicked: row.clicked, replied: row.replied,
    converted: row.converted, meetingBooked: row.meetingBooked,
  });

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
      `select x.id, x.variant, x.enrollment_id as "enrollmentId" from sequence_executions x join enrollments e on e.id = x.enrollment_id join leads l on l.id = e.lead_id
        where x.sequence_id = $1 and x.step_id = 'intro' order by l.email`,
      [sequenceId],
    );
    expect(sends).toHaveLength(4);

    // 1 March: four delivered, lead 0 opens.
    for (const i of [0, 1, 2, 3]) await event('email.delivered', i);
    await event('email.opened', 0);
    // 2 March: lead 0 opens again (not a new opened message), lead 1 replies and converts.
    kit.clock.set(new Date('2026-03-02T10:00:00Z'));
    await event('email.opened', 0);
    await event('email.replied', 1);
    const converted = await kit.call('PUT', `/api/sequences/enrollments/${sends[1]!.enrollmentId}`, { token: kit.tokens.operator, body: { action: 'convert' } });
    expect(converted.status).toBe(200);
    // 10 March (live): lead 2 clicks and books a meeting (twice: one meeting), lead 0 opens a
    // third time, lead 3 opens for the first time.
    kit.clock.set(new Date('2026-03-10T12:00:00Z'));
    await event('email.clicked', 2);
    await event('email.opened', 0);
    await event('email.opened', 3);
    for (const _ of [1, 2]) await ingest({ type: 'meeting.booked', provider: 'calcom', address: { channel: 'email', value: `r2-${kind}@acme.test` } });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const quiet = { reached: 0, sent: 0, delivered: 0, opened: 0, clicked: 0, replied: 0, converted: 0, meetingBooked: 0 };
  const expectedDays = {
    '2026-03-01': { ...quiet, reached: 4, sent: 4, delivered: 4, opened: 1 },
    '2026-03-02': { ...quiet, replied: 1, converted: 1 },
    '2026-03-10': { ...quiet, opened: 1, clicked: 1, meetingBooked: 1 },
  } as Record<string, ReturnType<typeof pick>>;
  const totals = { reached: 4, sent: 4, delivered: 4, opened: 2, clicked: 1, replied: 1, converted: 1, meetingBooked: 1 };

  it('counts each day by hand, from the rollup and live, with the same totals once the live days close', async () => {
    const byDay = await report('from=2026-03-01&to=2026-03-10');
    expect(byDay.rows.map((r: { key: string }) => r.key)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08', '09', '10'].map((d) => `2026-03-${d}`));
    for (const row of byDay.rows) expect(pick(row), row.key).toEqual(expectedDays[row.key] ?? quiet);
    expect(pick(byDay.totals)).toEqual(totals);
    expect(byDay.totals.rates).toMatchObject({ delivery: 1, open: 0.5, click: 0.25, reply: 0.25, conversion: 0.25, meeting: 0.25 });
    const [built] = await kit.db.query<{ n: number }>(`select count(*)::int as n from report_days_built where day between '2026-03-01' and '2026-03-10'`);
    expect(built!.n).toBe(9); // the 10th (today) is live

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
    expect(steps.rows.map((r: Record<string, unknown>) => [r.stepId, r.label, pick(r)])).toEqual([['intro', 'Reported / intro', totals]]);
    // The same counts as the sequence's stats (no step was visited twice).
    const stats = await kit.call('GET', `/api/sequences/${sequenceId}/stats`, { token: kit.tokens.viewer });
    expect(pick(stats.body.steps.find((s: { stepId: string }) => s.stepId === 'intro'))).toEqual(totals);

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
    expect(lines[0]).toBe(
      'key,label,sequenceId,stepId,variant,reached,sent,failed,skipped,delivered,opened,clicked,replied,bounced,optedOut,converted,meetingBooked,' +
        'deliveryRate,openRate,clickRate,replyRate,bounceRate,optOutRate,conversionRate,meetingRate',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(`${sequenceId}/intro,Reported / intro,${sequenceId},intro,,4,4,0,0,4,2,1,1,0,0,1,1,1,0.5,0.25,0.25,0,0,0.25,0.25`);
  });

  it('reads a day live until an hour after its end, counts a late event on the day it lands and rebuilds a closed day a late change touched', async () => {
    const period = 'from=2026-03-01&to=2026-03-21';
    const builtDays = async () =>
      (
        await kit.db.query<{ first: string; last: string; dirty: number }>(
          `select to_char(min(day), 'YYYY-MM-DD') as first, to_char(max(day), 'YYYY-MM-DD') as last,
             (select count(*)::int from report_days_dirty d where d.workspace_id = b.workspace_id) as dirty
           from report_days_built b where workspace_id = (select workspace_id from sequences where id = $1) group by workspace_id`,
          [sequenceId],
        )
      )[0]!;
    const day = (report: { rows: Array<{ key: string }> }, key: string) => pick(report.rows.find((r) => r.key === key)!);

    // Lead 3 answers the 1 March email just before midnight on the 20th: it counts on the 20th.
    kit.clock.set(new Date('2026-03-20T23:30:00Z'));
    await event('email.replied', 3);
    // Half an hour after midnight the 20th is still live (a send started at 23:59 may be finishing)…
    kit.clock.set(new Date('2026-03-21T00:30:00Z'));
    const live = await report(period);
    expect(await builtDays()).toMatchObject({ first: '2026-03-01', last: '2026-03-19', dirty: 0 });
    expect(day(live, '2026-03-20')).toEqual({ ...quiet, replied: 1 });
    expect(day(live, '2026-03-01')).toEqual(expectedDays['2026-03-01']);
    expect(pick(live.totals)).toEqual({ ...totals, replied: 2 });
    // …and an hour after it, built: the same figures from the rollup.
    kit.clock.set(new Date('2026-03-21T01:30:00Z'));
    const closed = await report(period);
    expect(await builtDays()).toMatchObject({ last: '2026-03-20' });
    expect(closed).toEqual(live);
    const closedSteps = await report(`${period}&groupBy=step`);

    // A closed, built day's execution changes status (as a send left `unknown` by a crash, then
    // reconciled by its provider's event): the day is marked, built again, and reads the change.
    const intro = sends[0]!.id;
    await kit.db.query(`update sequence_executions set status = 'unknown' where id = $1`, [intro]);
    expect(await builtDays()).toMatchObject({ dirty: 1 });
    const unknown = await report(period);
    expect(await builtDays()).toMatchObject({ last: '2026-03-20', dirty: 0 });
    expect(day(unknown, '2026-03-01')).toEqual({ ...expectedDays['2026-03-01'], sent: 3 });
    expect((await report(`${period}&groupBy=step`)).rows[0].sent).toBe(3);
    await reconcileUnknown(kit.db, intro, undefined, kit.clock.now());
    expect(await report(period)).toEqual(closed);
    expect(await report(`${period}&groupBy=step`)).toEqual(closedSteps);

    // The worker's upkeep builds the closed days nobody asked for, from the workspace's first activity.
    kit.clock.set(new Date('2026-03-25T02:00:00Z'));
    await kit.runtime.reports.tick();
    expect(await builtDays()).toEqual({ first: '2026-03-01', last: '2026-03-24', dirty: 0 });
    expect(await buildClosedReportDays(kit.db, { now: kit.clock.now(), maxDays: 731 })).toBe(0);
    expect(pick((await report('from=2026-03-01&to=2026-03-25')).totals)).toEqual({ ...totals, replied: 2 });
  });

  it("answers today's figures from an aggregate kept ten seconds", async () => {
    kit.clock.set(new Date('2026-03-26T09:00:00Z'));
    const today = 'from=2026-03-26&to=2026-03-26';
    expect(pick((await report(today)).totals)).toEqual(quiet);
    await event('email.clicked', 3); // lead 3's first click, today
    expect(pick((await report(today)).totals)).toEqual(quiet); // kept: up to LIVE_CACHE_MS behind
    kit.clock.advance(LIVE_CACHE_MS);
    expect(pick((await report(today)).totals)).toEqual({ ...quiet, clicked: 1 });
    expect(pick((await report(`${today}&groupBy=step`)).rows[0])).toEqual({ ...quiet, clicked: 1 });
  });

  it("keeps today's closed hours aggregated, and a report across the hour boundary equals the same day computed from the rows", async () => {
    const today = 'from=2026-03-27&to=2026-03-27';
    const prefixUntil = async () =>
      (await kit.db.query<{ until: string }>(`select to_char(until at time zone 'UTC', 'HH24:MI') as until from report_day_prefixes_built where day = '2026-03-27'`))[0]?.until;
    // 08:30: a new lead is enrolled and sent the intro, delivered; lead 2 opens for the first time.
    kit.clock.set(new Date('2026-03-27T08:30:00Z'));
    const [leadId] = (await kit.call('POST', '/api/leads/import', { body: `email\nr4-${kind}@acme.test`, headers: { 'content-type': 'text/csv' } })).body.leadIds;
    await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds: [leadId] } });
    await kit.runtime.engine.dispatcher.drain();
    const [send] = await kit.db.query<{ id: string }>(`select x.id from sequence_executions x join enrollments e on e.id = x.enrollment_id where e.lead_id = $1`, [leadId]);
    await ingest({ type: 'email.delivered', executionId: send!.id });
    await event('email.opened', 2);
    // 09:10: hour 8 ended more than five minutes ago: kept; the rows since 09:00 are read live.
    kit.clock.set(new Date('2026-03-27T09:10:00Z'));
    const morning = { ...quiet, reached: 1, sent: 1, delivered: 1, opened: 1 };
    expect(pick((await report(today)).totals)).toEqual(morning);
    expect(await prefixUntil()).toBe('09:00');
    // 09:50, in the live hour: the new lead replies; lead 0 opens again (not a new opened message).
    kit.clock.set(new Date('2026-03-27T09:50:00Z'));
    await ingest({ type: 'email.replied', executionId: send!.id });
    await event('email.opened', 0);
    expect(pick((await report(today)).totals)).toEqual({ ...morning, replied: 1 });
    // 10:10: hour 9 is added to the kept hours; 10:20, live: the new lead clicks.
    kit.clock.set(new Date('2026-03-27T10:10:00Z'));
    expect(pick((await report(today)).totals)).toEqual({ ...morning, replied: 1 });
    expect(await prefixUntil()).toBe('10:00');
    kit.clock.set(new Date('2026-03-27T10:20:00Z'));
    await ingest({ type: 'email.clicked', executionId: send!.id });
    const day = { ...morning, replied: 1, clicked: 1 };
    const live = { byDay: await report(today), bySteps: await report(`${today}&groupBy=variant`) };
    expect(pick(live.byDay.totals)).toEqual(day);

    // A late change to an execution of a kept hour (a send left `unknown`) marks the day: the kept
    // hours are built again from the rows, and read the change; then reconciled, the same figures.
    await kit.db.query(`update sequence_executions set status = 'unknown' where id = $1`, [send!.id]);
    kit.clock.advance(LIVE_CACHE_MS);
    expect(pick((await report(today)).totals)).toEqual({ ...day, sent: 0 });
    await reconcileUnknown(kit.db, send!.id, undefined, kit.clock.now());
    kit.clock.advance(LIVE_CACHE_MS);
    expect(await report(today)).toEqual(live.byDay);

    // The next day, once the 27th is built from its rows in one aggregate: the same report.
    kit.clock.set(new Date('2026-03-28T01:30:00Z'));
    expect(await report(today)).toEqual(live.byDay);
    expect(await report(`${today}&groupBy=variant`)).toEqual(live.bySteps);
    expect(await prefixUntil()).toBeUndefined(); // a built day's kept hours are dropped
  });

  it('keeps workspaces apart and refuses bad input with a 400', async () => {
    const other = await kit.call('GET', '/api/reports?from=2026-03-01&to=2026-03-10', { token: kit.other.viewer });
    expect(other.status).toBe(200);
    expect(pick(other.body.totals)).toEqual(quiet);
    expect((await kit.call('GET', '/api/reports', { token: null })).status).toBe(401);
    for (const query of ['from=2026-03-10&to=2026-03-01', 'groupBy=mailbox2', 'owner=nobody', 'owner=me', 'from=2026-02-30', 'from=yesterday', 'from=2020-01-01&to=2026-03-01', 'format=xml', 'sequenceId=nope']) {
      const answer = await kit.call('GET', `/api/reports?${query}`, { token: kit.tokens.viewer });
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code, query).toBeTypeOf('string');
    }
  });
});

describe.each(kinds)('reports by owner on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let ada: { id: string; email: string };
  let bob: { id: string; email: string; session: string };
  let outsider: string;
  let leads: string[];
  let enrollments: string[];
  let sequenceId: string;

  const report = async (query: string, auth: { token?: string; session?: string } = { token: kit.tokens.viewer }) => {
    const answer = await kit.call('GET', `/api/reports?${query}`, auth);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  const pick = (row: Record<string, unknown>) => ({ reached: row.reached, sent: row.sent, delivered: row.delivered, replied: row.replied, converted: row.converted });
  const byLabel = (body: { rows: Array<Record<string, unknown>> }) => Object.fromEntries(body.rows.map((r) => [r.label as string, pick(r)]));
  const sendOf = async (lead: number, step: string) =>
    (await kit.db.query<{ id: string }>(`select id from sequence_executions where lead_id = $1 and step_id = $2`, [leads[lead], step]))[0]!.id;
  const ingest = async (type: EventType, executionId: string) => {
    const result = await kit.runtime.engine.ingest({ providerEventId: `test:${randomUUID()}`, provider: 'sendgrid', occurredAt: kit.clock.now(), data: { text: 'Tell me more' }, type, executionId });
    expect(result.status).toBe('recorded');
  };
  const setOwner = async (lead: number, ownerId: string | null) => {
    const moved = await kit.call('PATCH', `/api/leads/${leads[lead]}`, { body: { ownerId } });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
  };

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db, { start: '2026-04-01T10:00:00Z' });
    const workspace = await workspaceOf(kit, kit.tokens.admin);
    const adaEmail = await person(kit, workspace.name, 'operator', `ada-${kind}@owners.test`);
    ada = { id: (await kit.call('GET', '/api/me', { session: await signIn(kit, adaEmail, PASSWORD) })).body.user.id, email: adaEmail };
    await kit.db.query(`update users set name = 'Ada Lovelace' where id = $1`, [ada.id]);
    const bobEmail = await person(kit, workspace.name, 'viewer', `bob-${kind}@owners.test`);
    const bobSession = await signIn(kit, bobEmail, PASSWORD);
    bob = { id: (await kit.call('GET', '/api/me', { session: bobSession })).body.user.id, email: bobEmail, session: bobSession };
    const otherWorkspace = await workspaceOf(kit, kit.other.admin);
    const outsiderEmail = await person(kit, otherWorkspace.name, 'admin', `outsider-${kind}@owners.test`);
    outsider = (await kit.call('GET', '/api/me', { session: await signIn(kit, outsiderEmail, PASSWORD) })).body.user.id;

    // Leads 0 and 1 Ada's, 2 Bob's, 3 nobody's.
    leads = [];
    for (const [i, ownerId] of [ada.id, ada.id, bob.id, null].entries()) {
      const created = await kit.call('POST', '/api/leads', { body: { email: `o${i}-${kind}@acme.test`, ownerId } });
      expect(created.status).toBe(201);
      leads.push(created.body.id);
    }
    sequenceId = (
      await kit.call('POST', '/api/sequences', {
        body: {
          name: 'Owned',
          ...OPEN_ALL_DAY,
          exitOn: [],
          steps: [
            { id: 'intro', type: 'email', subject: 'Hi', body: 'hi' },
            { id: 'gap', type: 'wait', duration: 'P1D' },
            { id: 'follow', type: 'email', subject: 'Again', body: 'again' },
            { id: 'hold', type: 'wait', duration: 'P60D' },
          ],
        },
      })
    ).body.id;
    await kit.call('PATCH', `/api/sequences/${sequenceId}`, { body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds: leads } });
    await kit.runtime.engine.dispatcher.drain();
    enrollments = [];
    for (const lead of leads) enrollments.push((await kit.db.query<{ id: string }>(`select id from enrollments where lead_id = $1`, [lead]))[0]!.id);

    // 1 April: the four intros, delivered. Then lead 0 goes to Bob and lead 2 to nobody.
    for (const i of [0, 1, 2, 3]) await ingest('email.delivered', await sendOf(i, 'intro'));
    kit.clock.set(new Date('2026-04-01T12:00:00Z'));
    await setOwner(0, bob.id);
    await setOwner(2, null);
    // 2 April: the follow-ups go out under the new owners, delivered; lead 0 answers the intro
    // (Ada's message), lead 1 the follow-up (Ada's); lead 0 converts (credited to its last
    // message, the follow-up: Bob's).
    kit.clock.set(new Date('2026-04-02T11:00:00Z'));
    await kit.runtime.engine.dispatcher.drain();
    for (const i of [0, 1, 2, 3]) await ingest('email.delivered', await sendOf(i, 'follow'));
    await ingest('email.replied', await sendOf(0, 'intro'));
    await ingest('email.replied', await sendOf(1, 'follow'));
    kit.clock.set(new Date('2026-04-02T11:30:00Z'));
    const converted = await kit.call('PUT', `/api/sequences/enrollments/${enrollments[0]}`, { token: kit.tokens.operator, body: { action: 'convert' } });
    expect(converted.status).toBe(200);
    // Noon on the 2nd: the 1st is closed (built into the rollup), the 2nd is live.
    kit.clock.set(new Date('2026-04-02T12:00:00Z'));
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const period = 'from=2026-04-01&to=2026-04-02';
  const adaLabel = () => `Ada Lovelace <${ada.email}>`;
  // Counted by hand: Ada wrote the intros of leads 0 and 1 and lead 1's follow-up; Bob lead 2's
  // intro and lead 0's follow-up; nobody lead 3's intro and the follow-ups of leads 2 and 3. The
  // wait between them is reached too (its row is written when it ends, on the 2nd, next to the
  // follow-up's, under the same owner).
  const expected = () => ({
    [adaLabel()]: { reached: 4, sent: 3, delivered: 3, replied: 2, converted: 0 },
    [bob.email]: { reached: 3, sent: 2, delivered: 2, replied: 0, converted: 1 },
    '(no owner)': { reached: 5, sent: 3, delivered: 3, replied: 0, converted: 0 },
  });

  it("credits each message to the lead's owner when it was written, closed days and live alike, unowned leads under (no owner)", async () => {
    const owners = await report(`${period}&groupBy=owner`);
    expect(byLabel(owners)).toEqual(expected());
    expect(owners.rows.map((r: { key: string; label: string }) => [r.label, r.key])).toEqual(
      expect.arrayContaining([['(no owner)', ''], [adaLabel(), ada.id], [bob.email, bob.id]]),
    );
    expect(pick(owners.totals)).toEqual({ reached: 12, sent: 8, delivered: 8, replied: 2, converted: 1 });
    // The closed 1st from the rollup alone: the intros under the owners of that morning.
    const first = await report('from=2026-04-01&to=2026-04-01&groupBy=owner');
    expect(byLabel(first)).toEqual({
      [adaLabel()]: { reached: 2, sent: 2, delivered: 2, replied: 0, converted: 0 },
      [bob.email]: { reached: 1, sent: 1, delivered: 1, replied: 0, converted: 0 },
      '(no owner)': { reached: 1, sent: 1, delivered: 1, replied: 0, converted: 0 },
    });
    // The same totals as the day grouping; per step, the sequence stats' counts (every step
    // reached by its first visit, not only the first step).
    expect((await report(period)).totals).toEqual(owners.totals);
    const steps = await report(`${period}&groupBy=step`);
    const stats = await kit.call('GET', `/api/sequences/${sequenceId}/stats`, { token: kit.tokens.viewer });
    expect(steps.rows.map((r: Record<string, unknown>) => [r.stepId, pick(r)])).toEqual(
      ['follow', 'gap', 'intro'].map((stepId) => [stepId, pick(stats.body.steps.find((s: { stepId: string }) => s.stepId === stepId))]),
    );
    expect(steps.rows.map((r: Record<string, unknown>) => [r.stepId, r.reached])).toEqual([['follow', 4], ['gap', 4], ['intro', 4]]);

    // Once both days are closed and built: the same report.
    kit.clock.set(new Date('2026-04-03T02:00:00Z'));
    expect(await report(`${period}&groupBy=owner`)).toEqual(owners);
  });

  it('keeps past figures where they were when leads are reassigned later, even when the days are built again from the rows', async () => {
    kit.clock.set(new Date('2026-04-03T02:00:00Z'));
    const before = await report(`${period}&groupBy=owner`);
    await setOwner(1, bob.id);
    await setOwner(3, ada.id);
    await setOwner(0, null);
    expect(await report(`${period}&groupBy=owner`)).toEqual(before);
    // Dropping the rollups makes the next report aggregate the rows again: the stamps, not the leads' owners now.
    await kit.db.query(`delete from report_days_built where workspace_id = (select workspace_id from leads where id = $1)`, [leads[0]]);
    expect(byLabel(await report(`${period}&groupBy=owner`))).toEqual(expected());
  });

  it('filters by owner: a member, me, none; with the day, week, sequence, channel and owner groupings', async () => {
    kit.clock.set(new Date('2026-04-03T02:00:00Z'));
    const ofAda = await report(`${period}&owner=${ada.id}`);
    expect(pick(ofAda.totals)).toEqual(expected()[adaLabel()]);
    expect(ofAda.rows.map((r: Record<string, unknown>) => [r.key, r.sent])).toEqual([
      ['2026-04-01', 2],
      ['2026-04-02', 1],
    ]);
    expect(pick((await report(`${period}&groupBy=channel&owner=none`)).totals)).toEqual(expected()['(no owner)']);
    // The owners' rollup has no step, variant or mailbox: those groupings take no owner filter.
    for (const groupBy of ['step', 'variant', 'mailbox']) {
      const refused = await kit.call('GET', `/api/reports?${period}&groupBy=${groupBy}&owner=none`, { token: kit.tokens.viewer });
      expect(refused.status, groupBy).toBe(400);
      expect(refused.body.error.message).toContain('"owner" filters reports grouped by day, week, sequence, channel, owner');
    }
    const mine = await report(`${period}&groupBy=owner&owner=me`, { session: bob.session });
    expect(byLabel(mine)).toEqual({ [bob.email]: expected()[bob.email] });
    const tokenMe = await kit.call('GET', `/api/reports?${period}&owner=me`, { token: kit.tokens.viewer });
    expect(tokenMe.status).toBe(400);
    expect(tokenMe.body.error.message).toContain('signed-in person');
    // Upper-case ids name the same member.
    expect(pick((await report(`${period}&groupBy=sequence&owner=${ada.id.toUpperCase()}`)).totals)).toEqual(expected()[adaLabel()]);
  });

  it('answers CSV with the owner labels', async () => {
    const answer = await kit.call('GET', `/api/reports?${period}&groupBy=owner&format=csv`, { token: kit.tokens.viewer });
    expect(answer.status).toBe(200);
    const lines = (answer.body as string).trim().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines.some((l) => l.startsWith(`${ada.id},Ada Lovelace <${ada.email}>,,,,4,3,0,0,3,0,0,2,0,0,0,0,1,`))).toBe(true);
    expect(lines.some((l) => l.startsWith(',(no owner),,,,5,3,'))).toBe(true);
  });

  it('keeps workspaces apart', async () => {
    const other = await kit.call('GET', `/api/reports?${period}&groupBy=owner`, { token: kit.other.viewer });
    expect(other.status).toBe(200);
    expect(other.body.rows).toEqual([]);
    expect(pick(other.body.totals)).toEqual({ reached: 0, sent: 0, delivered: 0, replied: 0, converted: 0 });
    // Another workspace asking for Ada's figures, and this one for its outsider's: nothing.
    expect((await kit.call('GET', `/api/reports?${period}&owner=${ada.id}`, { token: kit.other.viewer })).body.totals.sent).toBe(0);
    expect((await report(`${period}&owner=${outsider}`)).totals.sent).toBe(0);
  });
});
