/**
 * `touchpoint users`: accounts from the command line, for scripts and for the embedded default
 * (which sends no email): create a person with a role in a workspace, and print a one-time link
 * that sets a password.
 */
import { parseArgs } from 'node:util';
import { AccountError, createAccounts } from '../accounts/accounts.ts';
import { accountSettingsOf } from '../accounts/settings.ts';
import type { Config } from '../config.ts';
import { findUserByEmail } from '../db/users.ts';
import { ROLES, type Role } from '../db/workspaces.ts';
import { CliError } from './errors.ts';
import { withDatabase } from './commands.ts';

class UsersError extends CliError {}

const USAGE = 'Use: touchpoint users create --email EMAIL [--workspace NAME] [--role admin|operator|viewer]  (password on stdin, or a set-password link is printed)\n     touchpoint users reset-password --email EMAIL';

/** The password piped on stdin (first line), or undefined for a terminal or an empty stdin. */
async function passwordFromStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const line = text.split(/\r?\n/)[0] ?? '';
  return line === '' ? undefined : line;
}

export async function runUsers(config: Config, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, workspace: { type: 'string', default: 'default' }, role: { type: 'string', default: 'viewer' } },
  });
  if (!values.email || !/^[^\s@]+@[^\s@]+$/.test(values.email)) throw new UsersError(`--email must be an email address.\n${USAGE}`);
  const email = values.email;
  if (sub === 'create') {
    if (!ROLES.includes(values.role as Role)) throw new UsersError(`--role must be one of ${ROLES.join(', ')}.`);
    const password = await passwordFromStdin();
    const created = await withDatabase(config, async (db) => {
      const accounts = createAccounts(db, accountSettingsOf(config), () => new Date());
      try {
        return await accounts.createUser({ email, workspace: values.workspace!, role: values.role as Role, password, zone: config.WORKSPACE_TIMEZONE });
      } catch (error) {
        if (error instanceof AccountError) throw new UsersError(error.message);
        throw error;
      }
    });
    console.log(`${created.user.email} is ${values.role === 'admin' ? 'an' : 'a'} ${values.role} of workspace "${created.workspace.name}".`);
    if (created.link) console.log(`Set the password with this one-time link (valid until ${created.link.expiresAt.toISOString()}):\n  ${created.link.url}`);
    return 0;
  }
  if (sub === 'reset-password') {
    const link = await withDatabase(config, async (db) => {
      const user = await findUserByEmail(db, email);
      if (!user) return undefined;
      return createAccounts(db, accountSettingsOf(config), () => new Date()).passwordLink(user.id, 'touchpoint users reset-password');
    });
    if (!link) throw new UsersError(`No account has the email ${email}.`);
    console.log(`A one-time link to set a new password for ${email} (valid until ${link.expiresAt.toISOString()}; older links stop working):\n  ${link.url}`);
    return 0;
  }
  throw new UsersError(USAGE);
}
