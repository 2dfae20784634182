/**
 * Live updates (docs/DASHBOARD.md, "Live updates"): GET /api/stream over a real HTTP listen on
 * 127.0.0.1 — refused without credentials, opened with `retry` and `ready`, heartbeats, a
 * timeline change announced within a deadline and only to its workspace, the lead filter, the
 * engine's steps, the API's own writes, the per-caller cap, a cookie naming its workspace in the
 * query, a signed-out, revoked or expired credential ending its stream at the next heartbeat,
 * the mailbox and webhook notices (a counted send, a delivery attempt), and the streams ended by
 * the app's close. On PostgreSQL, a change made through another
 * server process (another connection) reaches this one's stream through LISTEN/NOTIFY.
 * Every wait is for an event, never a duration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { person, signIn, workspaceOf } from '../accounts/kit.ts';
import { openTestDatabase, postgresReachable, type TestDatabase } from '../helpers/databases.ts';
import { openEventStream, type EventStreamClient, type StreamEvent } from '../helpers/eventStream.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

/**
 * How long a test waits for a notice. The stream has no polling of its own: a notice that
 * arrives at all was pushed by the change (the server gathers notices for 100 ms). The latency
 * itself is measured, not asserted (bench/events.ts), so a loaded machine cannot fail this.
 */
const DEADLINE_MS = 20_000;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const aboutLead = (leadId: string) => (e: StreamEvent) => e.data?.leadId === leadId;

describe('GET /api/stream on PGlite', () => {
  let database: TestDatabase;
  let kit: ApiKit;
  let base: string;
  const streams: EventStreamClient[] = [];
  const open = async (token: string, query = '') => {
    const stream = await openEventStream(`${base}/api/stream${query}`, bearer(token));
    streams.push(stream);
    return stream;
  };
  const lead = async (token: string, email: string) => (await kit.call('POST', '/api/leads', { token, body: { email } })).body.id as string;
  const customEvent = (token: string, leadId: string) => kit.call('POST', '/api/events', { token, body: { leadId, type: 'custom.visited_pricing' } });

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    kit = await createApiKit(database.db, { env: { LIVE_HEARTBEAT_MS: '100', LIVE_STREAMS_PER_CALLER: '3' } });
    base = await kit.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await kit?.close();
    await database?.close();
  });
  const closeAll = () => {
    for (const stream of streams.splice(0)) stream.close();
  };

  it('refuses a stream without credentials, and names unknown topics', async () => {
    const anonymous = await fetch(`${base}/api/stream`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).error.code).toBe('unauthorized');
    const bad = await fetch(`${base}/api/stream?topics=lead,gossip`, { headers: bearer(kit.tokens.viewer) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toContain('gossip');
  });

  it('opens with a retry hint and `ready`, then sends a heartbeat comment', async () => {
    const stream = await open(kit.tokens.viewer);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers.get('cache-control')).toContain('no-cache');
    await stream.next((e) => e.event === 'retry', 'the retry hint');
    const ready = await stream.next((e) => e.event === 'ready', 'ready');
    expect(ready.data).toMatchObject({ workspaceId: (await workspaceOf(kit, kit.tokens.viewer)).id, heartbeatMs: 100 });
    await stream.next((e) => e.event === 'comment' && e.data === 'heartbeat', 'a heartbeat');
    closeAll();
  });

  it("announces a timeline change within the deadline, to its own workspace only", async () => {
    const mine = await open(kit.tokens.viewer);
    const theirs = await open(kit.other.viewer);
    await Promise.all([mine, theirs].map((s) => s.next((e) => e.event === 'ready', 'ready')));
    const ada = await lead(kit.tokens.admin, 'ada@live.test');
    const bob = await lead(kit.other.admin, 'bob@live.test');

    expect((await customEvent(kit.tokens.admin, ada)).status).toBe(201);
    const notice = await mine.next((e) => e.event === 'lead' && aboutLead(ada)(e), "ada's timeline", DEADLINE_MS);
    expect(notice.data).toEqual({ leadId: ada });

    // The other workspace hears its own change, and never ours (the bus delivers in order, so
    // had ours reached it, it would sit before its own).
    await customEvent(kit.other.admin, bob);
    await theirs.next((e) => e.event === 'lead' && aboutLead(bob)(e), "bob's timeline");
    await customEvent(kit.tokens.admin, ada);
    await mine.next((e) => e.event === 'lead' && aboutLead(ada)(e) && e !== notice, "ada's second change");
    expect(theirs.events.filter(aboutLead(ada))).toEqual([]);
    expect(mine.events.filter(aboutLead(bob))).toEqual([]);
    closeAll();
  });

  it("keeps one lead's notices with ?leadId=, and the kinds asked for with ?topics=", async () => {
    const grace = await lead(kit.tokens.admin, 'grace@live.test');
    const linus = await lead(kit.tokens.admin, 'linus@live.test');
    const onlyGrace = await open(kit.tokens.viewer, `?leadId=${grace}`);
    const onlyReplies = await open(kit.tokens.viewer, '?topics=reply');
    await Promise.all([onlyGrace, onlyReplies].map((s) => s.next((e) => e.event === 'ready', 'ready')));
    await customEvent(kit.tokens.admin, linus);
    await customEvent(kit.tokens.admin, grace);
    await onlyGrace.next(aboutLead(grace), "grace's change");
    expect(onlyGrace.events.filter(aboutLead(linus))).toEqual([]);
    // A logged activity is an API write: announced from its route (and not a reply).
    expect((await kit.call('POST', `/api/leads/${grace}/activities`, { body: { kind: 'note', body: 'Called back' } })).status).toBe(201);
    await onlyGrace.next((e) => aboutLead(grace)(e) && onlyGrace.events.filter(aboutLead(grace)).length >= 2, 'the activity');
    expect(onlyReplies.events.filter((e) => e.event === 'lead')).toEqual([]);
    closeAll();
  });

  it("announces the engine's steps: the enrollment, its lead, and the task it waits on", async () => {
    const sequence = await kit.call('POST', '/api/sequences', {
      body: { name: 'Live steps', ...OPEN_ALL_DAY, steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: 'Hello' }, { id: 'call', type: 'task', title: 'Call them' }, { id: 'done', type: 'end' }] },
    });
    expect(sequence.status).toBe(201);
    await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { body: { status: 'active' } });
    const leadId = await lead(kit.tokens.admin, 'margaret@live.test');
    const stream = await open(kit.tokens.viewer, '?topics=enrollment,task');
    await stream.next((e) => e.event === 'ready', 'ready');
    const enrolled = await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { body: { leadIds: [leadId] } });
    const enrollmentId = enrolled.body.enrolled[0].enrollmentId as string;
    await stream.next((e) => e.event === 'enrollment' && e.data.enrollmentId === enrollmentId, 'the enrollment');
    await kit.runtime.engine.dispatcher.drain();
    const task = await stream.next((e) => e.event === 'task' && e.data.enrollmentId === enrollmentId, 'the task');
    expect(task.data).toEqual({ leadId, enrollmentId });
    expect(stream.events.find((e) => e.event === 'enrollment')?.data).toEqual({ leadId, enrollmentId, sequenceId: sequence.body.id });
    closeAll();
  });

  it('holds at most LIVE_STREAMS_PER_CALLER streams per token', async () => {
    for (let i = 0; i < 3; i++) await open(kit.tokens.operator);
    const refused = await fetch(`${base}/api/stream`, { headers: bearer(kit.tokens.operator) });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error.message).toContain('3 open streams');
    closeAll();
  });

  it('takes a session cookie, with the workspace in the query (what an EventSource can send)', async () => {
    const main = await workspaceOf(kit, kit.tokens.admin);
    const session = await signIn(kit, await person(kit, main.name, 'viewer'));
    const stream = await openEventStream(`${base}/api/stream?workspace=${main.id}`, { cookie: `tp_session=${session}` });
    streams.push(stream);
    expect(stream.status).toBe(200);
    expect((await stream.next((e) => e.event === 'ready', 'ready')).data.workspaceId).toBe(main.id);
    const other = await workspaceOf(kit, kit.other.admin);
    const foreign = await fetch(`${base}/api/stream?workspace=${other.id}`, { headers: { cookie: `tp_session=${session}` } });
    expect(foreign.status).toBe(403);
    closeAll();
  });

  it('ends a stream whose session is signed out, and one whose token is revoked, at the next heartbeat', async () => {
    const main = await workspaceOf(kit, kit.tokens.admin);
    const session = await signIn(kit, await person(kit, main.name, 'viewer'));
    const cookie = await openEventStream(`${base}/api/stream?workspace=${main.id}`, { cookie: `tp_session=${session}` });
    streams.push(cookie);
    await cookie.next((e) => e.event === 'ready', 'ready');
    await cookie.next((e) => e.event === 'comment' && e.data === 'heartbeat', 'a heartbeat while signed in');
    expect((await kit.call('POST', '/api/auth/logout', { session })).status).toBeLessThan(300);
    expect((await cookie.next((e) => e.event === 'ended', 'ended after the sign-out')).data.reason).toContain('session ended');
    await cookie.ended;
    expect((await fetch(`${base}/api/stream?workspace=${main.id}`, { headers: { cookie: `tp_session=${session}` } })).status).toBe(401);

    const created = await kit.call('POST', '/api/tokens', { body: { name: 'a dashboard on the wall', role: 'viewer' } });
    const token = await open(created.body.token);
    await token.next((e) => e.event === 'ready', 'ready');
    expect((await kit.call('DELETE', `/api/tokens/${created.body.id}`)).status).toBeLessThan(300);
    expect((await token.next((e) => e.event === 'ended', 'ended after the revocation')).data.reason).toContain('revoked');
    await token.ended;
    closeAll();
  });

  it('ends a stream whose session expired (idle past SESSION_IDLE_HOURS on the clock)', async () => {
    const main = await workspaceOf(kit, kit.tokens.admin);
    const session = await signIn(kit, await person(kit, main.name, 'viewer'));
    const stream = await openEventStream(`${base}/api/stream?workspace=${main.id}`, { cookie: `tp_session=${session}` });
    streams.push(stream);
    await stream.next((e) => e.event === 'ready', 'ready');
    kit.clock.advance(73 * 3_600_000);
    expect((await stream.next((e) => e.event === 'ended', 'ended after the expiry')).data.reason).toContain('expired');
    await stream.ended;
    closeAll();
  });
});

describe('mailbox and webhook notices on PGlite', () => {
  let database: TestDatabase;
  let kit: ApiKit;
  let base: string;
  let receiver: Receiver;
  const streams: EventStreamClient[] = [];
  const open = async () => {
    const stream = await openEventStream(`${base}/api/stream?topics=mailbox,webhook`, bearer(kit.tokens.viewer));
    streams.push(stream);
    await stream.next((e) => e.event === 'ready', 'ready');
    return stream;
  };

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    kit = await createApiKit(database.db, { env: { WEBHOOKS_ALLOW_PRIVATE: 'true' }, start: new Date().toISOString() });
    base = await kit.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    receiver = await startReceiver({ verifySignatures: false });
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await receiver?.close();
    await kit?.close();
    await database?.close();
  });

  it('announces a mailbox changed through the API, and each send the engine counts against it', async () => {
    const edits = await open();
    const created = await kit.call('POST', '/api/mailboxes', { body: { name: 'Live', fromEmail: 'live@acme.test', smtp: { host: '127.0.0.1', port: 1, secure: false, user: 'u', password: 'not-real' }, dailyLimit: 20 } });
    expect(created.status).toBe(201);
    const mailboxId = created.body.id as string;
    // A new one is not named yet (the list refetches); an edit names its mailbox.
    await edits.next((e) => e.event === 'mailbox', 'the new mailbox');
    expect((await kit.call('PATCH', `/api/mailboxes/${mailboxId}`, { body: { dailyLimit: 25 } })).status).toBe(200);
    await edits.next((e) => e.event === 'mailbox' && e.data.mailboxId === mailboxId, 'the edited mailbox', DEADLINE_MS);

    const sends = await open();
    const lead = (await kit.call('POST', '/api/leads', { body: { email: 'counted@live.test' } })).body.id;
    const sequence = await kit.call('POST', '/api/sequences', {
      body: { name: 'Through a mailbox', ...OPEN_ALL_DAY, mailboxes: [mailboxId], steps: [{ id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' }, { id: 'w', type: 'wait', duration: 'P7D' }] },
    });
    await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { body: { leadIds: [lead] } });
    await kit.runtime.engine.dispatcher.drain();
    await sends.next((e) => e.event === 'mailbox' && e.data.mailboxId === mailboxId, 'the counted send', DEADLINE_MS);
    expect((await kit.call('GET', `/api/mailboxes/${mailboxId}`)).body.today.sent).toBe(1);
  });

  it('announces each webhook delivery attempt with its endpoint', async () => {
    const created = await kit.call('POST', '/api/webhook-endpoints', { body: { url: receiver.url, events: ['*'] } });
    expect(created.status).toBe(201);
    const attempts = await open();
    const lead = (await kit.call('POST', '/api/leads', { body: { email: 'hooked@live.test' } })).body.id;
    expect((await kit.call('POST', '/api/events', { body: { leadId: lead, type: 'custom.visited_pricing' } })).status).toBe(201);
    expect(await kit.runtime.deliverer.drain()).toBeGreaterThan(0);
    await attempts.next((e) => e.event === 'webhook' && e.data.endpointId === created.body.id, 'the delivery attempt', DEADLINE_MS);
    expect(receiver.posts.length).toBeGreaterThan(0);
  });
});

describe('GET /api/stream and the app closing', () => {
  it('ends open streams, so the close does not wait on them', async () => {
    const database = await openTestDatabase('pglite');
    const kit = await createApiKit(database.db);
    const base = await kit.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const stream = await openEventStream(`${base}/api/stream`, bearer(kit.tokens.viewer));
    await stream.next((e) => e.event === 'ready', 'ready');
    await kit.close();
    await stream.ended;
    await database.close();
  });
});

const postgres = await postgresReachable();

describe.skipIf(!postgres)('GET /api/stream across processes on PostgreSQL', () => {
  let database: TestDatabase;
  let kit: ApiKit;
  let second: Runtime;

  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    const env = { LOG_LEVEL: 'silent', DATABASE_URL: database.url!, TOUCHPOINT_SECRET_KEY: 'ab'.repeat(32) };
    kit = await createApiKit(database.db, { env: { DATABASE_URL: database.url! } });
    // Another server process: its own pool, its own bus, its own listening session.
    second = await createRuntime(parseConfig(env), { db: await openDatabase({ databaseUrl: database.url! }), worker: false });
  });
  afterAll(async () => {
    const db = second?.db;
    await second?.close();
    await db?.close();
    await kit?.close();
    await database?.close();
  });

  it("announces a change another process committed, through LISTEN/NOTIFY", async () => {
    const base = await kit.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const stream = await openEventStream(`${base}/api/stream?topics=lead`, bearer(kit.tokens.viewer));
    try {
      await stream.next((e) => e.event === 'ready', 'ready');
      const created = await second.app.inject({ method: 'POST', url: '/api/leads', headers: { ...bearer(kit.tokens.admin), 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'far@live.test' }) });
      const leadId = JSON.parse(created.body).id as string;
      const event = await second.app.inject({
        method: 'POST',
        url: '/api/events',
        headers: { ...bearer(kit.tokens.admin), 'content-type': 'application/json' },
        payload: JSON.stringify({ leadId, type: 'custom.visited_pricing' }),
      });
      expect(event.statusCode).toBe(201);
      // From the commit (the answer) to this process's stream: a batch each side and one NOTIFY.
      await stream.next(aboutLead(leadId), 'the other process’s change', DEADLINE_MS);
    } finally {
      stream.close();
    }
  });
});
