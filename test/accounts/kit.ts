/** People for the account tests: accounts with passwords, signed in through the real login route. */
import type { Role } from '../../src/db/workspaces.ts';
import type { ApiKit } from '../api/apiKit.ts';

export const PASSWORD = 'correct horse battery';

let counter = 0;
export const uniqueEmail = (label: string) => `${label}-${Date.now().toString(36)}-${counter++}@team.test`;

/** Creates the person (or adds the membership) and answers their email. */
export async function person(kit: ApiKit, workspace: string, role: Role, email = uniqueEmail(role)): Promise<string> {
  await kit.runtime.accounts.createUser({ email, workspace, role, password: PASSWORD });
  return email;
}

/** Signs in through `POST /api/auth/login` and answers the session cookie's value. */
export async function signIn(kit: ApiKit, email: string, password = PASSWORD): Promise<string> {
  const response = await kit.call('POST', '/api/auth/login', { token: null, body: { email, password }, headers: { origin: 'http://localhost' } });
  if (response.status !== 200) throw new Error(`sign-in of ${email} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return sessionOf(response.headers)!;
}

export function sessionOf(headers: Record<string, unknown>): string | undefined {
  const raw = headers['set-cookie'];
  const line = (Array.isArray(raw) ? raw : [raw]).find((c) => typeof c === 'string' && c.startsWith('tp_session=')) as string | undefined;
  return line ? decodeURIComponent(line.split(';')[0]!.slice('tp_session='.length)) || undefined : undefined;
}

/** The workspace name of a kit's token (tokens of `main-…` and `other-…`). */
export async function workspaceOf(kit: ApiKit, token: string): Promise<{ id: string; name: string }> {
  return (await kit.call('GET', '/api/me', { token })).body.workspace;
}
