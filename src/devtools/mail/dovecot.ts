/**
 * A real IMAP server for tests and `touchpoint fake-providers`: Debian's Dovecot, started from a
 * minimal `dovecot.conf` of its own in a temporary folder (never the system's configuration),
 * listening on 127.0.0.1 on a free port, STARTTLS with a self-signed certificate, users in a
 * passwd-file, mail in Maildirs under the same folder, logging to a file there.
 *
 * Dovecot runs in the foreground as our child, so stopping it is killing one process we own. As
 * root it cannot read mail as root (it refuses uid 0) nor log users in as root: it then reads
 * mail as the `dovecot` system user and logs in as `dovenull`, both made by the Debian package;
 * as anyone else, everything runs as the current user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Certificate } from './certificate.ts';
import { deliverToMaildir, ensureMaildir, type MailOwner } from './maildir.ts';

const CANDIDATES = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'];

/** The dovecot binary, if installed (Debian: `apt-get install dovecot-imapd`). */
export function findDovecot(): string | undefined {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  const which = spawnSync('sh', ['-c', 'command -v dovecot'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  return which.status === 0 && path !== '' ? path : undefined;
}

export interface MailUser {
  user: string;
  password: string;
}

export interface DovecotServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The folder holding the configuration, the log and the Maildirs. */
  readonly dir: string;
  /** The self-signed certificate Dovecot presents: trust it as the CA. */
  readonly ca: string;
  readonly users: MailUser[];
  /** The Maildir of one user (made on first delivery). */
  maildirOf(user: string): string;
  /** Places a raw message in a user's INBOX, as the MTA's local delivery would. */
  deliver(user: string, raw: string | Buffer): void;
  /** Stops the server (connections drop); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * Renumbers a user's INBOX: a new UIDVALIDITY and fresh UIDs, as after a server migration
   * or a rebuilt index. Stops and restarts the server around it.
   */
  resetUidValidity(user: string, uidValidity: number): Promise<void>;
  readonly log: () => string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function systemUser(name: string): MailOwner | undefined {
  const result = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  const fields = result.stdout.trim().split(':');
  return result.status === 0 && fields.length >= 4 ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

function groupName(gid: number): string {
  const result = spawnSync('getent', ['group', String(gid)], { encoding: 'utf8' });
  return result.stdout.split(':')[0] || String(gid);
}

/** Who reads mail and who logs in: the current user, or Debian's dovecot users under root. */
function identities(): { mail: MailOwner; internalUser: string; internalGroup: string; loginUser: string; chown: boolean } {
  const me = userInfo();
  if (me.uid !== 0) return { mail: { uid: me.uid, gid: me.gid }, internalUser: me.username, internalGroup: groupName(me.gid), loginUser: me.username, chown: false };
  const mail = systemUser('dovecot');
  if (!mail || !systemUser('dovenull')) throw new Error('Running as root, Dovecot needs the `dovecot` and `dovenull` users of its Debian package (apt-get install dovecot-imapd).');
  return { mail, internalUser: 'root', internalGroup: 'root', loginUser: 'dovenull', chown: true };
}

function configuration(dir: string, port: number, who: ReturnType<typeof identities>): string {
  return `# Made by Touchpoint's local mail server (src/devtools/mail/dovecot.ts); not the system's.
protocols = imap
# A stopped server drops its connections, as a restart or a crash does.
shutdown_clients = yes
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = touchpoint-${port}
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_internal_user = ${who.internalUser}
default_internal_group = ${who.internalGroup}
default_login_user = ${who.loginUser}
first_valid_uid = 1
mail_location = maildir:${dir}/mail/%u
passdb {
  driver = passwd-file
  args = ${dir}/users
}
userdb {
  driver = static
  args = uid=${who.mail.uid} gid=${who.mail.gid} home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
service stats {
  chroot =
}
`;
}

/** Resolves once the server greets on its port, or rejects at the deadline with its log. */
async function waitForGreeting(port: number, deadlineMs: number, log: () => string, child: ChildProcess): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Dovecot exited with ${child.exitCode}:\n${log()}`);
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(1000);
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('* OK'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (greeted) return;
    if (Date.now() > until) throw new Error(`Dovecot did not answer on 127.0.0.1:${port}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface DovecotOptions {
  users: MailUser[];
  certificate: Certificate;
  /** Default: a free port. */
  port?: number;
  /** Default: a new temporary folder, removed by close(). */
  dir?: string;
  binary?: string;
}

export async function startDovecot(options: DovecotOptions): Promise<DovecotServer> {
  const binary = options.binary ?? findDovecot();
  if (!binary) throw new Error('Dovecot is not installed (Debian: apt-get install dovecot-imapd).');
  const own = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tp-dovecot-'));
  const port = options.port ?? (await freePort());
  const who = identities();
  mkdirSync(join(dir, 'mail'), { recursive: true });
  // The login and mail processes run as other users under root: they must reach the folder.
  if (who.chown) {
    chmodSync(dir, 0o755);
    chownSync(join(dir, 'mail'), who.mail.uid, who.mail.gid);
  }
  writeFileSync(join(dir, 'cert.pem'), options.certificate.cert);
  writeFileSync(join(dir, 'key.pem'), options.certificate.key, { mode: 0o600 });
  // `{PLAIN}`: a test password; production Dovecot would keep SHA512-CRYPT or better here.
  writeFileSync(join(dir, 'users'), options.users.map((u) => `${u.user}:{PLAIN}${u.password}`).join('\n') + '\n', { mode: 0o644 });
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, configuration(dir, port, who));
  const log = () => (existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : '');
  const maildirOf = (user: string) => join(dir, 'mail', user);
  const owner = who.chown ? who.mail : undefined;
  for (const u of options.users) ensureMaildir(maildirOf(u.user), owner);

  let child: ChildProcess | undefined;
  const start = async () => {
    if (child && child.exitCode === null) return;
    rmSync(join(dir, 'run', 'master.pid'), { force: true });
    // Its own process group: stop() ends the master and the per-connection processes together.
    const started = spawn(binary, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    started.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child = started;
    await waitForGreeting(port, 15_000, () => `${stderr}\n${log()}`, started);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    // The whole group, as a crash or a restart of the host would: open IMAP sessions drop too.
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-running.pid!, name);
      } catch {
        running.kill(name);
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    dir,
    ca: options.certificate.cert,
    users: options.users,
    maildirOf,
    deliver: (user, raw) => void deliverToMaildir(maildirOf(user), raw, owner),
    start,
    stop,
    async resetUidValidity(user, uidValidity) {
      await stop();
      const maildir = maildirOf(user);
      // Dovecot's UIDs live in dovecot-uidlist and its indexes: without them it numbers anew,
      // under the UIDVALIDITY written here.
      for (const name of readdirSync(maildir)) {
        if (name.startsWith('dovecot')) rmSync(join(maildir, name), { force: true });
      }
      writeFileSync(join(maildir, 'dovecot-uidlist'), `3 V${uidValidity} N1\n`);
      if (owner) chownSync(join(maildir, 'dovecot-uidlist'), owner.uid, owner.gid);
      await start();
    },
    log,
    async close() {
      await stop();
      if (own) rmSync(dir, { recursive: true, force: true });
    },
  };
}
