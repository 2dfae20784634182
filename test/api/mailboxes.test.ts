/**
 * The mailboxes API (issue 16): create, list, get, patch, delete, workspace-scoped; a password
 * is never returned nor written to a log line (captured at debug level); `POST …/test` logs in
 * to a real SMTP server and a real IMAP server (Dovecot) and names what failed in one sentence —
 * DNS, connection, TLS, authentication; sequences may name only their workspace's mailboxes.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { parseConfig } from '../../src/config.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { releaseInboxLeases, recordInboxCheck, takeInboxLeases } from '../../src/db/inbox.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { KeyRing } from '../../src/secrets/keyRing.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { dovecotAvailable, startMailServers, type MailServers } from '../helpers/mailServers.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtpServer.ts';
import { OPEN_ALL_DAY } from './apiKit.ts';

const kinds = await databaseKinds();
const IMAP_PASSWORD = 'imap-secret-Vb71#q';
/** A real IMAP server for the IMAP sentences; under CI=true a missing Dovecot fails the run. */
const dovecot = dovecotAvailable();

describe.each(kinds)('mailboxes API on %s', (kind) => {
  let database: TestDatabase;
  let server: TestSmtpServer;
  let mail: MailServers | undefined;
  let runtime: Runtime;
  const lines: string[] = [];
  let admin: string;
  let otherAdmin: string;
  let viewer: string;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    server = await startSmtpServer();
    if (dovecot) mail = await startMailServers([{ user: 'rep@acme.test', password: IMAP_PASSWORD }]);
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    runtime = await createRuntime(parseConfig({}), {
      db: database.db,
      logger,
      worker: false,
      clock: new ManualClock('2026-03-04T15:00:00Z'),
      parts: {
        keyRing: new KeyRing(randomBytes(32)),
        probe: {
          // The test SMTP server's certificate and Dovecot's (each its own self-signed one).
          tls: { ca: mail ? [server.ca, mail.ca] : server.ca },
          timeoutMs: 5_000,
          // No network: these names resolve (imap.acme.test to a server whose certificate is not
          // for that name), every other is unknown to DNS.
          lookup: async (host) => {
            if (host === 'localhost' || host === '127.0.0.1' || host === 'imap.acme.test') return '127.0.0.1';
            throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
          },
        },
      },
    });
    await runtime.app.ready();
    const ws = await ensureWorkspace(database.db, `mbox-api-${kind}`);
    const other = await ensureWorkspace(database.db, `mbox-api-other-${kind}`);
    admin = (await createToken(database.db, ws.id, 'admin')).token;
    viewer = (await createToken(database.db, ws.id, 'viewer')).token;
    otherAdmin = (await createToken(database.db, other.id, 'admin')).token;
  });
  afterAll(async () => {
    await runtime?.close();
    await server?.close();
    await mail?.close();
    await database?.close();
  });

  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, token = admin) => {
    const response = await runtime.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    return { status: response.statusCode, text: response.body, body: response.body ? JSON.parse(response.body) : null };
  };
  const smtpOf = (over: Record<string, unknown> = {}) => ({ host: 'localhost', port: server.port, secure: false, user: server.user, password: server.password, ...over });
  const newMailbox = (name: string, over: Record<string, unknown> = {}) => ({
    name,
    fromEmail: `${name}@acme.test`,
    fromName: `Rep ${name}`,
    smtp: smtpOf(),
    imap: { host: '127.0.0.1', port: 1, secure: true, user: server.user, password: IMAP_PASSWORD },
    dailyLimit: 40,
    ...over,
  });

  it('creates, lists, patches and deletes a mailbox without ever returning or logging a password', async () => {
    const created = await call('POST', '/api/mailboxes', newMailbox('ana'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'ana',
      fromEmail: 'ana@acme.test',
      smtp: { host: 'localhost', port: server.port, secure: false, user: server.user, passwordSet: true },
      imap: { passwordSet: true },
      dailyLimit: 40,
      minGapSeconds: 60,
      timezone: null,
      today: { date: '2026-03-04', limit: 40, sent: 0 },
    });
    const id = created.body.id as string;
    const listed = await call('GET', '/api/mailboxes', undefined, viewer);
    const patched = await call('PATCH', `/api/mailboxes/${id}`, { dailyLimit: 10, warmup: { startLimit: 2, days: 5 }, smtp: { password: 'rotated-Pw-9921' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ dailyLimit: 10, warmup: { startLimit: 2, days: 5 }, warmupStartedOn: '2026-03-04', today: { limit: 2 } });
    expect((await call('GET', `/api/mailboxes/${id}`)).body.smtp.passwordSet).toBe(true);
    expect((await call('GET', `/api/mailboxes/${id}`, undefined, otherAdmin)).status).toBe(404);
    expect((await call('GET', '/api/mailboxes', undefined, otherAdmin)).body.items).toEqual([]);

    // Stored sealed: the table holds no password in the clear either.
    const [row] = await database.db.query<Record<string, unknown>>('select * from mailboxes where id = $1', [id]);
    for (const text of [created.text, listed.text, patched.text, JSON.stringify(row), lines.join('\n')]) {
      expect(text).not.toContain(server.password);
      expect(text).not.toContain(IMAP_PASSWORD);
      expect(text).not.toContain('rotated-Pw-9921');
    }
    expect((await call('DELETE', `/api/mailboxes/${id}`)).status).toBe(204);
    expect((await call('GET', `/api/mailboxes/${id}`)).status).toBe(404);
  });

  it("shows the IMAP watch's health: none without IMAP, then who watches and the last error", async () => {
    const plain = await call('POST', '/api/mailboxes', newMailbox('plainbox', { imap: null }));
    expect(plain.body.inbox).toBeNull();
    const watched = await call('POST', '/api/mailboxes', newMailbox('watchbox'));
    expect(watched.body.inbox).toEqual({ watching: false, checkedAt: null, lastError: null });
    // A watcher takes the inbox and fails to read it (what the inbox service records).
    const now = new Date('2026-03-04T15:00:00Z');
    const taken = await takeInboxLeases(database.db, { owner: 'api-test', until: new Date(now.getTime() + 60_000), now });
    expect(taken).toContain(watched.body.id);
    await recordInboxCheck(database.db, { mailboxId: watched.body.id, owner: 'api-test', now, error: 'connection refused' });
    const seen = await call('GET', `/api/mailboxes/${watched.body.id}`);
    expect(seen.body.inbox).toEqual({ watching: true, checkedAt: null, lastError: 'connection refused' });
    await recordInboxCheck(database.db, { mailboxId: watched.body.id, owner: 'api-test', now, error: null });
    expect((await call('GET', `/api/mailboxes/${watched.body.id}`)).body.inbox).toEqual({ watching: true, checkedAt: now.toISOString(), lastError: null });
    await releaseInboxLeases(database.db, 'api-test');
    for (const id of [plain.body.id, watched.body.id]) expect((await call('DELETE', `/api/mailboxes/${id}`)).status).toBe(204);
  });

  it('keeps the IMAP server’s authserv-id (for its Authentication-Results): default the host, kept by a PATCH that leaves it out', async () => {
    const plain = await call('POST', '/api/mailboxes', newMailbox('authplain'));
    expect(plain.body.imap.authservId).toBeNull();
    const named = await call('POST', '/api/mailboxes', newMailbox('authnamed', { imap: { ...newMailbox('x').imap, authservId: 'mx.acme.test' } }));
    expect(named.status).toBe(201);
    expect(named.body.imap.authservId).toBe('mx.acme.test');
    const patched = await call('PATCH', `/api/mailboxes/${named.body.id}`, { imap: { port: 2 } });
    expect(patched.body.imap).toMatchObject({ port: 2, authservId: 'mx.acme.test', passwordSet: true });
    const bad = await call('PATCH', `/api/mailboxes/${named.body.id}`, { imap: { authservId: 'mx acme; dmarc=pass' } });
    expect(bad.status).toBe(400);
    const cleared = await call('PATCH', `/api/mailboxes/${named.body.id}`, { imap: { authservId: null } });
    expect(cleared.body.imap).toMatchObject({ port: 2, authservId: null, passwordSet: true });
    for (const id of [plain.body.id, named.body.id]) expect((await call('DELETE', `/api/mailboxes/${id}`)).status).toBe(204);
  });

  it('answers bad input and duplicates with a clear 4xx, and only admins may add one', async () => {
    expect((await call('POST', '/api/mailboxes', newMailbox('bad', { dailyLimit: -1 }))).status).toBe(400);
    expect((await call('POST', '/api/mailboxes', newMailbox('bad', { timezone: 'Mars/Olympus' }))).status).toBe(400);
    expect((await call('POST', '/api/mailboxes', newMailbox('bad', { fromName: 'a\r\nBcc: x@y' }))).status).toBe(400);
    expect((await call('POST', '/api/mailboxes', newMailbox('viewer'), viewer)).status).toBe(403);
    expect((await call('POST', '/api/mailboxes', newMailbox('dup'))).status).toBe(201);
    const again = await call('POST', '/api/mailboxes', newMailbox('dup'));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('duplicate_mailbox');
  });

  it('tests the logins and says in one sentence what failed', async () => {
    const test = async (name: string, over: Record<string, unknown>) => {
      const created = await call('POST', '/api/mailboxes', newMailbox(name, { smtp: smtpOf(over), imap: null }));
      expect(created.status).toBe(201);
      const answer = await call('POST', `/api/mailboxes/${created.body.id}/test`);
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain(server.password);
      return answer.body as { ok: boolean; sentence: string; smtp: { stage?: string } };
    };
    expect(await test('works', {})).toMatchObject({ ok: true, sentence: 'SMTP login succeeded (no IMAP settings to check).' });
    const auth = await test('auth', { password: 'wrong-password' });
    expect(auth).toMatchObject({ ok: false, smtp: { stage: 'authentication' } });
    expect(auth.sentence).toBe(`SMTP: localhost:${server.port} refused the user name or password (authentication failed).`);
    const dns = await test('dns', { host: 'smtp.nowhere.test' });
    expect(dns).toMatchObject({ ok: false, smtp: { stage: 'dns' } });
    expect(dns.sentence).toBe('SMTP: the host name smtp.nowhere.test could not be resolved (DNS: ENOTFOUND).');
    const refused = await test('refused', { port: 1 });
    expect(refused).toMatchObject({ ok: false, smtp: { stage: 'connection' } });
    expect(refused.sentence).toMatch(/^SMTP: the connection to localhost:1 was refused/);
    // Implicit TLS against a STARTTLS port: the handshake fails.
    const tls = await test('tls', { secure: true });
    expect(tls).toMatchObject({ ok: false, smtp: { stage: 'tls' } });
    expect(tls.sentence).toMatch(/^SMTP: the TLS handshake with localhost:\d+ failed: the server did not answer in TLS \(a plain or STARTTLS port\? then set "secure": false\)\.$/);
    // An IMAP server that is not there: named as IMAP's failure.
    const both = await call('POST', '/api/mailboxes', newMailbox('imapdown'));
    const answer = (await call('POST', `/api/mailboxes/${both.body.id}/test`)).body;
    expect(answer.ok).toBe(false);
    expect(answer.smtp.ok).toBe(true);
    expect(answer.sentence).toMatch(/^IMAP: the connection to 127\.0\.0\.1:1 was refused/);
    expect(lines.join('\n')).not.toContain(server.password);
  }, 60_000);

  it.skipIf(!dovecot)('tests the IMAP login against a real Dovecot: authentication, TLS and DNS failures each in one sentence', async () => {
    const imapOf = (over: Record<string, unknown> = {}) => ({ host: 'localhost', port: mail!.imap.port, secure: false, user: 'rep@acme.test', password: IMAP_PASSWORD, ...over });
    const test = async (name: string, over: Record<string, unknown>) => {
      const created = await call('POST', '/api/mailboxes', newMailbox(name, { imap: imapOf(over) }));
      expect(created.status).toBe(201);
      const answer = await call('POST', `/api/mailboxes/${created.body.id}/test`);
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain(IMAP_PASSWORD);
      expect(answer.body.smtp.ok).toBe(true);
      return answer.body as { ok: boolean; sentence: string; imap: { ok: boolean; stage?: string; sentence: string } };
    };
    const where = `localhost:${mail!.imap.port}`;
    expect(await test('imapok', {})).toMatchObject({ ok: true, sentence: 'SMTP and IMAP logins succeeded.', imap: { ok: true, sentence: `IMAP: logged in to ${where} as rep@acme.test.` } });

    const auth = await test('imapauth', { password: 'wrong-password' });
    expect(auth).toMatchObject({ ok: false, imap: { ok: false, stage: 'authentication' } });
    expect(auth.sentence).toBe(`IMAP: ${where} refused the user name or password (authentication failed).`);

    // Implicit TLS against Dovecot's STARTTLS port: the server greets in plain text, the handshake fails.
    const plainPort = await test('imaptls', { secure: true });
    expect(plainPort).toMatchObject({ ok: false, imap: { ok: false, stage: 'tls' } });
    expect(plainPort.sentence).toBe(`IMAP: the TLS handshake with ${where} failed: the server did not answer in TLS (a plain or STARTTLS port? then set "secure": false).`);

    // A certificate that is not for the host name asked for (it names localhost and 127.0.0.1).
    const wrongName = await test('imapcert', { host: 'imap.acme.test' });
    expect(wrongName).toMatchObject({ ok: false, imap: { ok: false, stage: 'tls' } });
    expect(wrongName.sentence).toMatch(new RegExp(`^IMAP: the TLS handshake with imap\\.acme\\.test:${mail!.imap.port} failed: .*imap\\.acme\\.test`));

    const dns = await test('imapdns', { host: 'imap.invalid' });
    expect(dns).toMatchObject({ ok: false, imap: { ok: false, stage: 'dns' } });
    expect(dns.sentence).toBe('IMAP: the host name imap.invalid could not be resolved (DNS: ENOTFOUND).');

    for (const answer of [auth, plainPort, wrongName, dns]) expect(answer.sentence.split(/(?<=\.)\s+(?=[A-Z])/).length, answer.sentence).toBe(1);
    expect(lines.join('\n')).not.toContain(IMAP_PASSWORD);
  }, 60_000);

  it('lets a sequence name only its workspace’s mailboxes', async () => {
    const mine = (await call('POST', '/api/mailboxes', newMailbox('seqbox'))).body.id as string;
    const theirs = (await call('POST', '/api/mailboxes', newMailbox('theirs'), otherAdmin)).body.id as string;
    const definition = (mailboxes: string[]) => ({ name: 'Via mailboxes', ...OPEN_ALL_DAY, mailboxes, steps: [{ id: 'a', type: 'email', subject: 'Hi', body: 'Hi' }] });
    expect((await call('POST', '/api/sequences', definition([mine]))).status).toBe(201);
    const refused = await call('POST', '/api/sequences', definition([mine, theirs]));
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.problems).toEqual([{ path: '$.mailboxes[1]', message: expect.stringContaining(`Mailbox ${theirs} does not exist`) }]);
  });
});
