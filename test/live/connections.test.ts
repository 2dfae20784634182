/**
 * Per-workspace provider connections (issue 16): the API stores credentials sealed and never
 * answers them (nor logs them); a workspace with its own SendGrid, Postmark or Telnyx account
 * sends through it, one without through the deployment's default; a changed connection's adapter
 * is rebuilt; the connection's webhook URL is verified with the connection's own key or
 * credentials (the deployment's and another workspace's are refused) and reaches only its
 * workspace's leads. Live adapters against the fake providers, on both stores.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { insertLeads } from '../../src/db/leads.ts';
import { FakeSendGrid } from '../../src/devtools/fakes/sendgrid.ts';
import { FakeTelnyx } from '../../src/devtools/fakes/telnyx.ts';
import { KeyRing } from '../../src/secrets/keyRing.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { OPEN, startLiveKit, type LiveKit } from './liveKit.ts';

const kinds = await databaseKinds();
const OWN_KEY = `SG.own-account-${randomBytes(6).toString('hex')}`;
const OWN_POSTMARK = `pm-own-${randomBytes(6).toString('hex')}`;
const OWN_TELNYX = `KEYown-${randomBytes(6).toString('hex')}`;
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe.each(kinds)('provider connections on %s', (kind) => {
  let database: TestDatabase;
  let kit: LiveKit;
  /** The workspace's own SendGrid account: its key pair signs what that account posts. */
  const ownAccount = new FakeSendGrid(OWN_KEY);
  let admin: string;
  let viewer: string;
  let otherAdmin: string;
  let otherWorkspaceId: string;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await startLiveKit({ db: database.db, parts: { keyRing: new KeyRing(randomBytes(32)) } });
    kit.fakes.sendgrid.otherAccountKeys.add(OWN_KEY);
    admin = (await createToken(database.db, kit.workspaceId, 'admin')).token;
    viewer = (await createToken(database.db, kit.workspaceId, 'viewer')).token;
    const other = await ensureWorkspace(database.db, `conn-other-${kind}`);
    otherWorkspaceId = other.id;
    otherAdmin = (await createToken(database.db, other.id, 'admin')).token;
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, token = admin) => {
    const response = await kit.runtime.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    return { status: response.statusCode, text: response.body, body: response.body ? JSON.parse(response.body) : null };
  };
  const keyOfSend = (to: string) => {
    const request = kit.fakes.sendgrid.requests.filter((r) => r.path === '/v3/mail/send' && JSON.stringify(r.body).includes(to)).at(-1);
    return request?.headers.authorization;
  };

  it('stores a connection sealed, answers no credential, refuses bad input with a 4xx', async () => {
    expect((await call('POST', '/api/connections', { provider: 'sendgrid', apiKey: OWN_KEY }, viewer)).status).toBe(403);
    expect((await call('POST', '/api/connections', { provider: 'sendgrid' })).body.error.code).toBe('missing_fields');
    expect((await call('POST', '/api/connections', { provider: 'sendgrid', apiKey: 'k', serverToken: 'x' })).body.error.code).toBe('unknown_fields');
    expect((await call('POST', '/api/connections', { provider: 'sendgrid', apiKey: 'k', webhookPublicKey: 'not-a-key' })).status).toBe(400);

    const created = await call('POST', '/api/connections', { provider: 'sendgrid', apiKey: OWN_KEY, webhookPublicKey: ownAccount.publicKeyBase64 });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(OWN_KEY);
    expect(created.body).toMatchObject({ provider: 'sendgrid', secretsSet: ['apiKey'], settings: { webhookPublicKey: ownAccount.publicKeyBase64 } });
    expect(created.body.webhooks.events).toBe(`https://touchpoint.test/webhooks/sendgrid/${created.body.id}`);
    const [row] = await database.db.query<{ secret: string }>('select secret_sealed as secret from provider_connections where id = $1', [created.body.id]);
    expect(row!.secret).toMatch(/^v1\./);
    expect(row!.secret).not.toContain(OWN_KEY);

    expect((await call('POST', '/api/connections', { provider: 'sendgrid', apiKey: 'SG.second' })).status).toBe(409);
    const listed = await call('GET', '/api/connections', undefined, viewer);
    expect(listed.body.items.map((c: { id: string }) => c.id)).toEqual([created.body.id]);
    expect(listed.text).not.toContain(OWN_KEY);
    // Another workspace sees nothing of it.
    expect((await call('GET', `/api/connections/${created.body.id}`, undefined, otherAdmin)).status).toBe(404);
    expect((await call('PATCH', `/api/connections/${created.body.id}`, { apiKey: 'x' }, otherAdmin)).status).toBe(404);
    expect((await call('DELETE', `/api/connections/${created.body.id}`, undefined, otherAdmin)).status).toBe(404);
    expect((await call('GET', '/api/connections', undefined, otherAdmin)).body.items).toEqual([]);
  });

  it("sends through the workspace's own account, others through the default; a change rebuilds the adapter", async () => {
    const definition = { name: `conn ${kind}`, ...OPEN, steps: [{ id: 'hi', type: 'email', subject: 'Hi', body: 'Hi there' }] };
    const sequenceId = await kit.addSequence(definition);
    const mine = `own-${kind}@lead.test`;
    await kit.enroll(sequenceId, await kit.addLead({ email: mine }));
    await kit.drain();
    expect(keyOfSend(mine)).toBe(`Bearer ${OWN_KEY}`);
    const [sent] = await database.db.query<{ metadata: Record<string, unknown> }>(
      `select x.metadata from sequence_executions x join leads l on l.id = x.lead_id where l.email = $1`,
      [mine],
    );
    expect(sent!.metadata).toMatchObject({ provider: 'sendgrid' });

    // The other workspace has no connection: the deployment's key.
    const theirs = `default-${kind}@lead.test`;
    const [lead] = await insertLeads(database.db, otherWorkspaceId, [{ email: theirs, timezone: 'America/New_York' }]);
    const { createSequence } = await import('../../src/db/sequences.ts');
    const { validateDefinition } = await import('../../src/core/validate.ts');
    const parsed = validateDefinition(definition);
    if (!parsed.ok) throw new Error('bad definition');
    const other = await createSequence(database.db, otherWorkspaceId, parsed.definition, 'active');
    await kit.runtime.engine.enroll({ workspaceId: otherWorkspaceId, sequenceId: other.id, leadIds: [lead!.id], actor: 'test' });
    await kit.drain();
    expect(keyOfSend(theirs)).toBe(`Bearer ${kit.fakes.sendgrid.apiKey}`);

    // A new key through PATCH: the next send uses it (this process forgets its cache at once).
    const [connection] = (await call('GET', '/api/connections')).body.items;
    const rotated = `${OWN_KEY}-2`;
    kit.fakes.sendgrid.otherAccountKeys.add(rotated);
    expect((await call('PATCH', `/api/connections/${connection.id}`, { apiKey: rotated })).status).toBe(200);
    const again = `own2-${kind}@lead.test`;
    await kit.enroll(sequenceId, await kit.addLead({ email: again }));
    await kit.drain();
    expect(keyOfSend(again)).toBe(`Bearer ${rotated}`);
  });

  it("verifies the connection's webhook with its own key and keeps its events in its workspace", async () => {
    const [connection] = (await call('GET', '/api/connections')).body.items;
    const url = `/webhooks/sendgrid/${connection.id}`;
    const lead = `own-${kind}@lead.test`;
    const [execution] = await database.db.query<{ id: string; leadId: string }>(
      `select x.id, x.lead_id as "leadId" from sequence_executions x join leads l on l.id = x.lead_id where l.email = $1`,
      [lead],
    );
    const body = JSON.stringify([{ email: lead, timestamp: kit.seconds(), event: 'open', sg_event_id: `ev-${kind}`, execution_id: execution!.id }]);
    const post = (headers: Record<string, string>, path = url) =>
      kit.runtime.app.inject({ method: 'POST', url: path, payload: body, headers: { 'content-type': 'application/json', ...headers } });
    // The deployment's key does not speak for this account, nor does the account's key for the default route.
    expect((await post(kit.fakes.sendgrid.sign(body, kit.seconds()))).statusCode).toBe(401);
    expect((await post(ownAccount.sign(body, kit.seconds()), '/webhooks/sendgrid')).statusCode).toBe(401);
    expect((await post(ownAccount.sign(body, kit.seconds()), '/webhooks/sendgrid/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    const accepted = await post(ownAccount.sign(body, kit.seconds()));
    expect(accepted.statusCode).toBe(200);
    expect(JSON.parse(accepted.body)).toMatchObject({ recorded: 1 });
    expect(await kit.events(execution!.leadId)).toContainEqual({ type: 'email.opened', provider: 'sendgrid' });

    // A bounce for an address both workspaces hold, reported by this workspace's account, suppresses only here.
    const shared = `default-${kind}@lead.test`;
    await insertLeads(database.db, kit.workspaceId, [{ email: shared, timezone: 'America/New_York' }]);
    const bounce = JSON.stringify([{ email: shared, timestamp: kit.seconds(), event: 'bounce', type: 'bounce', sg_event_id: `bn-${kind}`, reason: '550 no such user' }]);
    const answered = await kit.runtime.app.inject({ method: 'POST', url, payload: bounce, headers: { 'content-type': 'application/json', ...ownAccount.sign(bounce, kit.seconds()) } });
    expect(answered.statusCode).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ recorded: 1 });
    const bounced = await database.db.query<{ workspaceId: string }>(
      `select e.workspace_id as "workspaceId" from events e join leads l on l.id = e.lead_id where e.type = 'email.bounced' and lower(l.email) = $1`,
      [shared],
    );
    expect(bounced.map((b) => b.workspaceId)).toEqual([kit.workspaceId]);
    expect(otherWorkspaceId).not.toBe(kit.workspaceId);
  });

  it('deletes a connection: the workspace falls back to the default account', async () => {
    const [connection] = (await call('GET', '/api/connections')).body.items;
    expect((await call('DELETE', `/api/connections/${connection.id}`)).status).toBe(204);
    expect((await call('GET', `/api/connections/${connection.id}`)).status).toBe(404);
    const definition = { name: `conn after ${kind}`, ...OPEN, steps: [{ id: 'hi', type: 'email', subject: 'Hi', body: 'Hi' }] };
    const sequenceId = await kit.addSequence(definition);
    const after = `after-${kind}@lead.test`;
    await kit.enroll(sequenceId, await kit.addLead({ email: after }));
    await kit.drain();
    expect(keyOfSend(after)).toBe(`Bearer ${kit.fakes.sendgrid.apiKey}`);
  });

  it("sends through the workspace's own Postmark server; its webhooks open only with its own credentials", async () => {
    // The other workspace has a Postmark connection too, with credentials of its own.
    const theirs = await call('POST', '/api/connections', { provider: 'postmark', serverToken: 'pm-theirs', webhookUser: 'their-hooks', webhookPassword: 'their-hook-password' }, otherAdmin);
    expect(theirs.status).toBe(201);
    const created = await call('POST', '/api/connections', { provider: 'postmark', serverToken: OWN_POSTMARK, webhookUser: 'own-hooks', webhookPassword: 'own-hook-password' });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(OWN_POSTMARK);
    expect(created.text).not.toContain('own-hook-password');
    expect(created.body).toMatchObject({ provider: 'postmark', secretsSet: ['serverToken', 'webhookPassword'], settings: { webhookUser: 'own-hooks' } });
    expect(created.body.webhooks).toEqual({
      events: `https://touchpoint.test/webhooks/postmark/${created.body.id}`,
      inbound: `https://touchpoint.test/webhooks/postmark/${created.body.id}/inbound`,
    });
    kit.fakes.postmark.otherServerTokens.add(OWN_POSTMARK);

    // The deployment's EMAIL_PROVIDER is SendGrid; this workspace's only email account is Postmark.
    const email = `pm-own-${kind}@lead.test`;
    const sequenceId = await kit.addSequence({ name: `pm conn ${kind}`, ...OPEN, steps: [{ id: 'hi', type: 'email', subject: 'Hi', body: 'Hi there' }] });
    await kit.enroll(sequenceId, await kit.addLead({ email }));
    await kit.drain();
    const request = kit.fakes.postmark.requests.filter((r) => r.path === '/email' && JSON.stringify(r.body).includes(email)).at(-1);
    expect(request?.headers['x-postmark-server-token']).toBe(OWN_POSTMARK);
    expect(kit.fakes.sendgrid.sent.some((m) => m.to === email)).toBe(false);
    const sent = kit.fakes.postmark.sent.find((m) => m.to === email)!;
    const [execution] = await database.db.query<{ id: string; leadId: string; metadata: Record<string, unknown> }>(
      `select x.id, x.lead_id as "leadId", x.metadata from sequence_executions x join leads l on l.id = x.lead_id where l.email = $1`,
      [email],
    );
    expect(execution!.metadata).toMatchObject({ provider: 'postmark', connectionId: created.body.id });

    const body = JSON.stringify(kit.fakes.postmark.event('Open', sent.messageId, { at: kit.clock.now().toISOString() }));
    const post = (headers: Record<string, string>, path = `/webhooks/postmark/${created.body.id}`) =>
      kit.runtime.app.inject({ method: 'POST', url: path, payload: body, headers: { 'content-type': 'application/json', ...headers } });
    const own = basic('own-hooks', 'own-hook-password');
    // The deployment's credentials, the other workspace's, and a wrong password: refused here.
    expect((await post(kit.fakes.postmark.sign())).statusCode).toBe(401);
    expect((await post(basic('their-hooks', 'their-hook-password'))).statusCode).toBe(401);
    expect((await post(basic('own-hooks', 'their-hook-password'))).statusCode).toBe(401);
    // This workspace's credentials open neither the default route nor the other workspace's.
    expect((await post(own, '/webhooks/postmark')).statusCode).toBe(401);
    expect((await post(own, `/webhooks/postmark/${theirs.body.id}`)).statusCode).toBe(401);
    expect(await kit.events(execution!.leadId)).toEqual([]);
    const accepted = await post(own);
    expect(accepted.statusCode).toBe(200);
    expect(JSON.parse(accepted.body)).toMatchObject({ recorded: 1 });
    expect(await kit.events(execution!.leadId)).toContainEqual({ type: 'email.opened', provider: 'postmark' });
  });

  it("sends texts through the workspace's own Telnyx account; its webhooks verify only with its own key", async () => {
    const ownAccount = new FakeTelnyx(OWN_TELNYX); // never started: its key pair signs what that account posts
    const otherAccount = new FakeTelnyx('KEYtheirs');
    const theirs = await call('POST', '/api/connections', { provider: 'telnyx', apiKey: 'KEYtheirs', publicKey: otherAccount.publicKeyBase64 }, otherAdmin);
    expect(theirs.status).toBe(201);
    const created = await call('POST', '/api/connections', { provider: 'telnyx', apiKey: OWN_TELNYX, publicKey: ownAccount.publicKeyBase64, messagingProfileId: 'mp-own' });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(OWN_TELNYX);
    expect(created.body.webhooks).toEqual({ events: `https://touchpoint.test/webhooks/telnyx/${created.body.id}` });
    kit.fakes.telnyx.otherAccountKeys.add(OWN_TELNYX);

    const phone = kind === 'pglite' ? '+15552220101' : '+15552220102';
    const sequenceId = await kit.addSequence({ name: `telnyx conn ${kind}`, ...OPEN, steps: [{ id: 'text', type: 'sms', text: 'Hi from our own number' }] });
    const leadId = await kit.addLead({ phone });
    await kit.enroll(sequenceId, leadId);
    await kit.drain();
    const request = kit.fakes.telnyx.requests.filter((r) => r.path === '/v2/messages' && (r.body as { to?: string }).to === phone).at(-1);
    expect(request?.headers.authorization).toBe(`Bearer ${OWN_TELNYX}`);
    // Its messages report to the connection's own webhook URL, under its messaging profile.
    expect(request?.body).toMatchObject({ webhook_url: `https://touchpoint.test/webhooks/telnyx/${created.body.id}`, messaging_profile_id: 'mp-own' });
    const [execution] = await database.db.query<{ metadata: Record<string, unknown> }>('select metadata from sequence_executions where lead_id = $1', [leadId]);
    expect(execution!.metadata).toMatchObject({ provider: 'telnyx', connectionId: created.body.id });

    const message = kit.fakes.telnyx.messages.find((m) => m.to === phone)!;
    const raw = JSON.stringify(kit.stamp(kit.fakes.telnyx.messageEvent('message.finalized', message.id)));
    const post = (headers: Record<string, string>, path = `/webhooks/telnyx/${created.body.id}`) =>
      kit.runtime.app.inject({ method: 'POST', url: path, payload: raw, headers: { 'content-type': 'application/json', ...headers } });
    // Signed by the deployment's key, or by the other workspace's account: refused here.
    expect((await post(kit.fakes.telnyx.sign(raw, kit.seconds()))).statusCode).toBe(401);
    expect((await post(otherAccount.sign(raw, kit.seconds()))).statusCode).toBe(401);
    // This account's signature opens neither the default route nor the other workspace's.
    expect((await post(ownAccount.sign(raw, kit.seconds()), '/webhooks/telnyx')).statusCode).toBe(401);
    expect((await post(ownAccount.sign(raw, kit.seconds()), `/webhooks/telnyx/${theirs.body.id}`)).statusCode).toBe(401);
    expect(await kit.events(leadId)).toEqual([]);
    const accepted = await post(ownAccount.sign(raw, kit.seconds()));
    expect(accepted.statusCode).toBe(200);
    expect(JSON.parse(accepted.body)).toMatchObject({ recorded: 1 });
    expect(await kit.events(leadId)).toEqual([{ type: 'sms.delivered', provider: 'telnyx' }]);
  });
});
