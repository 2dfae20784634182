/**
 * Delivering into a Maildir as an MTA's local delivery agent does: the message is written under
 * `tmp/`, then renamed into `new/` (a rename is atomic, so the IMAP server never sees half a
 * message). Run as root, the files are handed to the user the IMAP server reads mail as.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface MailOwner {
  uid: number;
  gid: number;
}

let counter = 0;

/** Creates `cur/`, `new/` and `tmp/` under `dir` (owned by `owner` when given). */
export function ensureMaildir(dir: string, owner?: MailOwner): void {
  for (const sub of ['', 'cur', 'new', 'tmp']) {
    const path = join(dir, sub);
    mkdirSync(path, { recursive: true, mode: 0o700 });
    if (owner) chownSync(path, owner.uid, owner.gid);
  }
}

/** Writes one raw RFC 5322 message into the Maildir's `new/`; answers the file's name. */
export function deliverToMaildir(dir: string, raw: string | Buffer, owner?: MailOwner): string {
  ensureMaildir(dir, owner);
  const name = `${Date.now()}.M${process.pid}P${(counter += 1)}R${randomBytes(4).toString('hex')}.${hostname().replace(/[/:]/g, '_')}`;
  const temporary = join(dir, 'tmp', name);
  writeFileSync(temporary, typeof raw === 'string' ? raw.replace(/\r\n/g, '\n') : raw, { mode: 0o600 });
  if (owner) chownSync(temporary, owner.uid, owner.gid);
  renameSync(temporary, join(dir, 'new', name));
  return name;
}
