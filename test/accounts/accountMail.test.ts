/**
 * Account emails through a workspace's mailbox, against a real SMTP server (smtp-server on
 * 127.0.0.1): a password reset link arrives and works, an invite's link arrives and the answer
 * says it was e-mailed; an unknown address answers exactly like a known one; a workspace with no
 * mailbox (on mock delivery) e-mails nothing; an SMTP refusal is a sentence in the answer; no
 * link, token or password reaches the log.
 */
import { Writable } from 'node:stream';
import { simpleParser } from 'mailparser';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKit, type ApiKit } from '../api/apiKit.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtpServer.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { PASSWORD, person, sessionOf, uniqueEmail, workspaceOf } from './kit.ts';

const kinds = await databaseKinds();
const tokenOf = (url: string) => new URL(url).hash.replace('#token=', '');

describe.each(kinds)('account emails through a mailbox on %s', (kind) => {
  let database: TestDatabase;
  let server: TestSmtpServer;
  let kit: ApiKit;
  let logs = '';
  let main: { id: string; name: string };
  let other: { id: string; name: string };

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    server = await startSmtpServer();
    const sink = new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) });
    // Mock delivery (the default): only the mailbox can send account emails.
    kit = await createApiKit(database.db, { logger: pino({ level: 'trace' }, sink), parts: { smtp: { tls: { ca: server.ca }, socketTimeoutMs: 5_000 } } });
    main = await workspaceOf(kit, kit.tokens.admin);
    other = await workspaceOf(kit, kit.other.admin);
    const mailbox = await kit.call('POST', '/api/mailboxes', {
      body: {
        name: 'team',
        fromEmail: 'team@acme.test',
        fromName: 'Acme Team',
        smtp: { host: 'localhost', port: server.port, secure: false, user: server.user, password: server.password },
        imap: null,
        dailyLimit: 40,
      },
    });
    expect(mailbox.status).toBe(201);
  });
  afterAll(async () => {
    await kit?.close();
    await server?.close();
    await database?.close();
  });

  /** The message that arrived for `to`, parsed (the link may be wrapped by the transfer encoding). */
  const arrived = async (to: string) => {
    const mail = await waitFor(() => server.received.find((m) => m.to.includes(to)), `an email to ${to}`);
    const parsed = await simpleParser(mail.raw);
    return { envelopeFrom: mail.from, from: parsed.from?.text ?? '', subject: parsed.subject ?? '', text: parsed.text ?? '' };
  };
  const linkIn = (text: string, page: string) => new RegExp(`https?://\\S+/${page}#token=[\\w-]+`).exec(text)?.[0];

  it('e-mails a password reset link through the workspace mailbox; the link sets the password', async () => {
    const email = await person(kit, main.name, 'operator', uniqueEmail('reset'));
    const answer = await kit.call('POST', '/api/auth/password-reset', { token: null, body: { email } });
    expect(answer.status).toBe(202);
    expect(answer.body.mailed).toBe(true);
    const mail = await arrived(email);
    expect(mail).toMatchObject({ envelopeFrom: 'team@acme.test', from: '"Acme Team" <team@acme.test>', subject: 'Reset your Touchpoint password' });
    const link = linkIn(mail.text, 'reset-password');
    expect(link).toBeDefined();
    const set = await kit.call('POST', '/api/auth/password', { token: null, body: { token: tokenOf(link!), password: 'a brand new password' } });
    expect(set.status).toBe(200);
    expect(sessionOf(set.headers)).toBeDefined();
  });

  it('answers an unknown address exactly like a known one, and sends it nothing', async () => {
    const known = await person(kit, main.name, 'viewer', uniqueEmail('known'));
    const unknown = uniqueEmail('nobody');
    // A person whose only workspace has no mailbox: the same answer, and (mock delivery) no email.
    const elsewhere = await person(kit, other.name, 'viewer', uniqueEmail('elsewhere'));
    const answers = await Promise.all([unknown, elsewhere, known].map((email) => kit.call('POST', '/api/auth/password-reset', { token: null, body: { email } })));
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(answer.body).toEqual(answers[2]!.body);
    }
    await arrived(known);
    expect(server.received.filter((m) => m.to.includes(unknown) || m.to.includes(elsewhere))).toEqual([]);
  });

  it('e-mails an invite link to the address the invite is for, and says so; the link creates the account', async () => {
    const email = uniqueEmail('invitee');
    const invite = await kit.call('POST', '/api/invites', { body: { email, role: 'operator' } });
    expect(invite.status).toBe(201);
    expect(invite.body).toMatchObject({ email, role: 'operator', emailed: true });
    expect(invite.body.emailProblem).toBeUndefined();
    const mail = await arrived(email);
    expect(mail.subject).toBe(`You are invited to ${main.name} on Touchpoint`);
    expect(mail.text).toContain('as operator');
    expect(linkIn(mail.text, 'accept-invite')).toBe(invite.body.url);
    const accepted = await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token: tokenOf(invite.body.url), password: PASSWORD } });
    expect(accepted.status).toBe(200);
  });

  it('says why an invite was not e-mailed: no email given, no mailbox in the workspace, or the server refused', async () => {
    const open = await kit.call('POST', '/api/invites', { body: { role: 'viewer' } });
    expect(open.body).toMatchObject({ email: null, emailed: false });
    expect(open.body.emailProblem).toBeUndefined();
    const noMailbox = await kit.call('POST', '/api/invites', { token: kit.other.admin, body: { email: uniqueEmail('far'), role: 'viewer' } });
    expect(noMailbox.status).toBe(201);
    expect(noMailbox.body).toMatchObject({ emailed: false, emailProblem: expect.stringContaining('send the link yourself') });
    const refused = await kit.call('POST', '/api/invites', { body: { email: `reject-${uniqueEmail('r')}`, role: 'viewer' } });
    expect(refused.status).toBe(201);
    expect(refused.body).toMatchObject({ emailed: false, emailProblem: expect.stringMatching(/550.*Send the link yourself\.$/) });
    expect(refused.body.url).toMatch(/accept-invite#token=/);
  });

  it('never logs a link, a token or a password', async () => {
    await waitFor(() => server.received.length >= 3, 'the emails of the tests above');
    const secrets = server.received.flatMap((m) => [...m.raw.matchAll(/#token=([\w-]+)/g)].map((x) => x[1]!));
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of [...secrets, server.password]) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/#token=/);
  });
});
