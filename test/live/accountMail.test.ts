/**
 * Account emails with live delivery, against the fake providers: a reset link goes out through
 * the deployment's provider (SendGrid, From EMAIL_FROM) when the person's workspace has no
 * mailbox; an invite of a workspace with its own SendGrid connection goes out under that
 * account's key; a provider refusal is a sentence in the invite's answer, and the reset's answer
 * never changes. (Through a mailbox: test/accounts/accountMail.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { KeyRing } from '../../src/secrets/keyRing.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { startLiveKit, type LiveKit } from './liveKit.ts';

const OWN_KEY = `SG.own-account-${randomBytes(6).toString('hex')}`;

describe('account emails through a provider', () => {
  let kit: LiveKit;
  let admin: string;
  let ownAdmin: string;

  beforeAll(async () => {
    kit = await startLiveKit({ parts: { keyRing: new KeyRing(randomBytes(32)) } });
    kit.fakes.sendgrid.otherAccountKeys.add(OWN_KEY);
    admin = (await createToken(kit.db, kit.workspaceId, 'admin')).token;
    const own = await ensureWorkspace(kit.db, 'own-sendgrid');
    ownAdmin = (await createToken(kit.db, own.id, 'admin')).token;
  });
  afterAll(async () => {
    await kit?.close();
  });

  const call = async (method: 'POST', url: string, body: unknown, token?: string) => {
    const response = await kit.runtime.app.inject({
      method,
      url,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      payload: JSON.stringify(body),
    });
    return { status: response.statusCode, body: JSON.parse(response.body) };
  };
  /** The SendGrid request that carried mail to `to`. */
  const sendOf = (to: string) => kit.fakes.sendgrid.requests.find((r) => r.path === '/v3/mail/send' && r.rawBody.includes(to));

  it('e-mails a reset link through the deployment provider, From EMAIL_FROM; an unknown address answers the same', async () => {
    const email = `reset-${randomBytes(3).toString('hex')}@team.test`;
    await kit.runtime.accounts.createUser({ email, workspace: 'live', role: 'viewer', password: 'correct horse battery' });
    const known = await call('POST', '/api/auth/password-reset', { email });
    const unknown = await call('POST', '/api/auth/password-reset', { email: `nobody-${email}` });
    expect(known).toEqual({ status: 202, body: expect.objectContaining({ mailed: true }) });
    expect(unknown).toEqual(known);
    const request = await waitFor(() => sendOf(email), 'the reset email at SendGrid');
    expect(request.headers.authorization).toBe(`Bearer ${kit.fakes.sendgrid.apiKey}`);
    expect(request.rawBody).toContain('sales@us.test');
    expect(request.rawBody).toMatch(/reset-password#token=[\w-]+/);
    expect(sendOf(`nobody-${email}`)).toBeUndefined();
  });

  it("e-mails an invite through the workspace's own SendGrid account, and says why when the provider refuses", async () => {
    expect((await call('POST', '/api/connections', { provider: 'sendgrid', apiKey: OWN_KEY }, ownAdmin)).status).toBe(201);
    const email = `invitee-${randomBytes(3).toString('hex')}@team.test`;
    const invite = await call('POST', '/api/invites', { email, role: 'operator' }, ownAdmin);
    expect(invite.body).toMatchObject({ emailed: true });
    const request = sendOf(email);
    expect(request?.headers.authorization).toBe(`Bearer ${OWN_KEY}`);
    expect(request?.rawBody).toContain(invite.body.url.split('#token=')[1]);

    kit.fakes.sendgrid.failNext({ status: 400 });
    const refused = await call('POST', '/api/invites', { email: `x-${email}`, role: 'viewer' }, admin);
    expect(refused.status).toBe(201);
    expect(refused.body).toMatchObject({ emailed: false, emailProblem: expect.stringMatching(/could not be sent \(400\).*Send the link yourself\.$/) });
  });
});
