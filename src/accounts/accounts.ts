/**
 * Accounts: sign-in with a lockout, sessions, invites and password links. The API (and the CLI)
 * call it; it calls the store through `src/db` and never reaches upward. Time comes from the
 * injected `now`, so expiry is tested by moving a clock, not by waiting.
 */
import type { Db } from '../db/db.ts';
import { findUsableLink, insertLink, revokePasswordLinks, revokeSetupInvites, takeLink, type AccountLink } from '../db/accountLinks.ts';
import { findLiveSession, insertSession, revokeSession, revokeUserSessions, touchSession, type SessionRow } from '../db/sessions.ts';
import {
  addMembership,
  clearLoginFailures,
  countUsers,
  ensureUser,
  findUser,
  findUserByEmail,
  loginFailures,
  membershipsOf,
  recordLoginFailure,
  setPasswordHash,
  type User,
} from '../db/users.ts';
import { ensureWorkspace, type Role } from '../db/workspaces.ts';
import { checkPassword, hashPassword, passwordProblem } from './passwords.ts';
import { hashSecret, newSecret } from './secrets.ts';

export interface AccountSettings {
  sessionIdleMs: number;
  sessionMaxMs: number;
  loginMaxFailures: number;
  lockoutMs: number;
  /** Where links point: PUBLIC_URL, or http://localhost:PORT on the embedded default. */
  baseUrl: string;
  inviteTtlMs?: number;
  passwordLinkTtlMs?: number;
}

/** An account email (a reset link, an invite) and the workspaces whose mailbox or connection may send it, in order. */
export interface AccountMail {
  to: string;
  subject: string;
  text: string;
  key: string;
  workspaceIds: string[];
}

/** Sends account emails through a mailbox or a provider (src/app/accountMailer.ts). */
export interface AccountMailer {
  /** Whether any account email can go out on this deployment: the same answer for every address. */
  canSend(): Promise<boolean>;
  /** Whether one for these workspaces can. */
  canSendFor(workspaceIds: string[]): Promise<boolean>;
  /** Sends, answering how; undefined when nothing can send for these workspaces; throws when the send failed. */
  send(mail: AccountMail): Promise<{ via: 'mailbox' | 'provider'; from: string } | undefined>;
}

export type LoginResult =
  | { ok: true; sessionToken: string; sessionId: string; user: User; expiresAt: Date }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number };

export interface SignedIn {
  session: SessionRow;
}

export type AcceptResult =
  | { ok: true; user: User; workspaceId: string; role: Role; created: boolean }
  | { ok: false; reason: 'invalid_link' | 'password_needed' | 'email_needed' | 'email_mismatch' | 'sign_in_needed'; message: string };

/** `last_seen_at` moves at most once a minute per session: the idle limit is counted in hours. */
const TOUCH_EVERY_MS = 60_000;
const DAY = 86_400_000;

export function createAccounts(db: Db, settings: AccountSettings, now: () => Date, mailer?: AccountMailer) {
  const inviteTtl = settings.inviteTtlMs ?? 7 * DAY;
  const passwordTtl = settings.passwordLinkTtlMs ?? DAY;
  const link = (page: string, token: string) => `${settings.baseUrl}/${page}#token=${token}`;

  async function startSession(user: User, meta: { address?: string; userAgent?: string }) {
    const sessionToken = newSecret();
    const at = now();
    const expiresAt = new Date(at.getTime() + settings.sessionMaxMs);
    const sessionId = await insertSession(db, { tokenHash: hashSecret(sessionToken), userId: user.id, now: at, expiresAt, ...meta });
    return { sessionToken, sessionId, expiresAt };
  }

  /** An invite to `workspaceId` as `role`; `email` null lets whoever opens it choose (the first admin). */
  const invite = async (args: { workspaceId: string; role: Role; email: string | null; createdBy: string; ttlMs?: number }) => {
    const token = newSecret();
    const at = now();
    const expiresAt = new Date(at.getTime() + (args.ttlMs ?? inviteTtl));
    const id = await insertLink(db, { kind: 'invite', tokenHash: hashSecret(token), workspaceId: args.workspaceId, role: args.role, email: args.email, createdBy: args.createdBy, now: at, expiresAt });
    return { id, url: link('accept-invite', token), expiresAt };
  };

  /** A one-time link that sets the person's password (older open ones are revoked). */
  const passwordLink = async (userId: string, createdBy: string) => {
    const token = newSecret();
    const at = now();
    await revokePasswordLinks(db, userId, at);
    const expiresAt = new Date(at.getTime() + passwordTtl);
    await insertLink(db, { kind: 'password', tokenHash: hashSecret(token), userId, createdBy, now: at, expiresAt });
    return { url: link('reset-password', token), expiresAt };
  };

  return {
    settings,

    /**
     * Email + password. The answer is the same for an unknown email and a wrong password, and
     * costs the same (a dummy hash is checked); the lockout counts per submitted address either way.
     */
    async login(args: { email: string; password: string; address?: string; userAgent?: string }): Promise<LoginResult> {
      const key = args.email.trim().toLowerCase();
      const at = now();
      const state = await loginFailures(db, key);
      if (state?.lockedUntil && state.lockedUntil > at) {
        return { ok: false, reason: 'locked', retryAfterSeconds: Math.ceil((state.lockedUntil.getTime() - at.getTime()) / 1000) };
      }
      const user = await findUserByEmail(db, key);
      const good = await checkPassword(user?.passwordHash, args.password);
      if (!user || !good) {
        const lockedUntil = await recordLoginFailure(db, { email: key, now: at, windowMs: settings.lockoutMs, limit: settings.loginMaxFailures, lockMs: settings.lockoutMs });
        if (lockedUntil) return { ok: false, reason: 'locked', retryAfterSeconds: Math.ceil((lockedUntil.getTime() - at.getTime()) / 1000) };
        return { ok: false, reason: 'invalid' };
      }
      if (state) await clearLoginFailures(db, key);
      return { ok: true, user, ...(await startSession(user, args)) };
    },

    /** A session for a person already proven (single sign-on, a just-accepted invite). */
    startSession,

    /** The live session behind a cookie value, or undefined (unknown, revoked, idle or past its end). */
    async session(cookieValue: string): Promise<SessionRow | undefined> {
      if (cookieValue.length > 100) return undefined;
      const at = now();
      const found = await findLiveSession(db, hashSecret(cookieValue), at, settings.sessionIdleMs);
      if (found && at.getTime() - new Date(found.lastSeenAt).getTime() > TOUCH_EVERY_MS) await touchSession(db, found.id, at);
      return found;
    },

    async logout(sessionId: string): Promise<void> {
      await revokeSession(db, sessionId, now());
    },

    invite,

    /** What an invite link offers, for the accept page; undefined when it cannot be used. */
    async peekLink(token: string): Promise<AccountLink | undefined> {
      return token.length > 100 ? undefined : findUsableLink(db, hashSecret(token), now());
    },

    /**
     * Takes an invite once: creates the account (a password is needed) or attaches an existing
     * one — only for that person signed in (`signedInAs`). The link proves nothing about who
     * opens it (its creator holds it too), so it must never sign anyone into an account that
     * exists already.
     */
    async acceptInvite(args: { token: string; email?: string; password?: string; name?: string; signedInAs?: { userId: string; email: string } }): Promise<AcceptResult> {
      const invalid = { ok: false as const, reason: 'invalid_link' as const, message: 'This invite link is unknown, used, revoked or expired; ask an admin for a new one.' };
      if (args.token.length > 100) return invalid;
      const preview = await findUsableLink(db, hashSecret(args.token), now());
      if (!preview || preview.kind !== 'invite') return invalid;
      const email = preview.email ?? args.email?.trim() ?? args.signedInAs?.email;
      if (!email) return { ok: false, reason: 'email_needed', message: 'This invite lets you choose the email of the account: send `email`.' };
      if (preview.email && args.email && args.email.trim().toLowerCase() !== preview.email.toLowerCase()) {
        return { ok: false, reason: 'email_mismatch', message: `This invite is for ${preview.email}.` };
      }
      const existing = await findUserByEmail(db, email);
      if (existing && existing.id !== args.signedInAs?.userId) {
        return { ok: false, reason: 'sign_in_needed', message: `An account with the email ${existing.email} exists: sign in as ${existing.email}, then open this link again to add the workspace to it.` };
      }
      if (!existing) {
        const problem = args.password === undefined ? 'Choose a password for the new account: send `password`.' : passwordProblem(args.password);
        if (problem) return { ok: false, reason: 'password_needed', message: problem };
      }
      const hash = existing ? undefined : await hashPassword(args.password!);
      const raced = new Error('account created meanwhile');
      try {
        return await db.transaction(async (tx) => {
          const taken = await takeLink(tx, hashSecret(args.token), now());
          if (!taken || taken.kind !== 'invite') return invalid;
          const user = await ensureUser(tx, email, args.name);
          // Someone made this account between the check above and now: theirs, not ours (rolled back).
          if (!existing && user.passwordHash) throw raced;
          if (hash) await setPasswordHash(tx, user.id, hash);
          const role = await addMembership(tx, taken.workspaceId!, user.id, taken.role!);
          return { ok: true as const, user, workspaceId: taken.workspaceId!, role, created: !existing };
        });
      } catch (error) {
        if (error !== raced) throw error;
        return { ok: false, reason: 'sign_in_needed', message: `An account with the email ${email} exists: sign in as it, then open this link again.` };
      }
    },

    passwordLink,

    /**
     * "Forgot my password". Answers at once whether account email can go out on this deployment
     * at all — never whether the account exists — and `delivery`, the lookup, link and send,
     * which the caller lets run after answering: an unknown address and a known one answer alike
     * and as fast (an SMTP session would otherwise tell them apart by time).
     */
    async requestPasswordReset(email: string): Promise<{ mailed: boolean; delivery: Promise<void> }> {
      if (!mailer || !(await mailer.canSend())) return { mailed: false, delivery: Promise.resolve() };
      const delivery = (async () => {
        const user = await findUserByEmail(db, email.trim());
        if (!user) return;
        // Oldest membership first: that workspace's mailbox (or connection) sends.
        const workspaceIds = (await membershipsOf(db, user.id)).map((m) => m.workspaceId);
        // No route for this person: no link either (a new one would void a printed one for nothing).
        if (!(await mailer.canSendFor(workspaceIds))) return;
        const { url } = await passwordLink(user.id, 'password reset');
        await mailer.send({
          to: user.email,
          subject: 'Reset your Touchpoint password',
          text: `Someone (hopefully you) asked to reset the password of ${user.email}.\n\nSet a new one here within 24 hours:\n${url}\n\nIf it was not you, ignore this email.`,
          key: `password-reset:${user.id}:${now().getTime()}`,
          workspaceIds,
        });
      })();
      return { mailed: true, delivery };
    },

    /**
     * E-mails an invite's link to the address it is for, through the workspace's mailbox or a
     * provider. Answers whether it went out, and why not in a sentence (never the link).
     */
    async mailInvite(args: { to: string; url: string; workspaceId: string; workspaceName: string; role: Role; invitedBy: string; expiresAt: Date; inviteId: string }): Promise<{ emailed: boolean; problem?: string }> {
      if (!mailer) return { emailed: false, problem: 'This deployment sends no email: send the link yourself.' };
      try {
        const sent = await mailer.send({
          to: args.to,
          subject: `You are invited to ${args.workspaceName} on Touchpoint`,
          text:
            `${args.invitedBy} invites you to the workspace "${args.workspaceName}" on Touchpoint, as ${args.role}.\n\n` +
            `Accept here (the link works once, until ${args.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC):\n${args.url}\n\n` +
            'If you did not expect this, ignore this email.',
          key: `invite:${args.inviteId}`,
          workspaceIds: [args.workspaceId],
        });
        return sent ? { emailed: true } : { emailed: false, problem: 'No mailbox or email provider can send for this workspace: send the link yourself.' };
      } catch (error) {
        return { emailed: false, problem: `${(error as Error).message} Send the link yourself.` };
      }
    },

    /** Sets a password through a link, once; every other session of the person ends. */
    async setPasswordWithLink(token: string, password: string): Promise<{ ok: true; user: User } | { ok: false; message: string }> {
      const problem = passwordProblem(password);
      if (problem) return { ok: false, message: problem };
      const hash = await hashPassword(password);
      return db.transaction(async (tx) => {
        const taken = token.length > 100 ? undefined : await takeLink(tx, hashSecret(token), now());
        if (!taken || taken.kind !== 'password') return { ok: false as const, message: 'This link is unknown, used or expired; ask for a new one.' };
        await setPasswordHash(tx, taken.userId!, hash);
        await revokeUserSessions(tx, taken.userId!, now());
        await clearLoginFailures(tx, (await findUser(tx, taken.userId!))!.email.toLowerCase());
        return { ok: true as const, user: (await findUser(tx, taken.userId!))! };
      });
    },

    /** `touchpoint users create`: the account and its membership, with a password or without (then a link). */
    async createUser(args: { email: string; workspace: string; role: Role; password?: string; zone?: string }) {
      if (args.password !== undefined) {
        const problem = passwordProblem(args.password);
        if (problem) throw new AccountError(problem);
      }
      const hash = args.password === undefined ? undefined : await hashPassword(args.password);
      const workspace = await ensureWorkspace(db, args.workspace, args.zone);
      const user = await db.transaction(async (tx) => {
        const user = await ensureUser(tx, args.email);
        if (hash) await setPasswordHash(tx, user.id, hash);
        await addMembership(tx, workspace.id, user.id, args.role);
        return user;
      });
      return { user, workspace, link: hash ? undefined : await passwordLink(user.id, 'touchpoint users create') };
    },

    /**
     * The first start: while the store has no account, the `default` workspace and a fresh
     * one-time link to create its first admin (links printed on earlier starts are revoked).
     */
    async firstAdminLink(zone: string): Promise<{ url: string; expiresAt: Date } | undefined> {
      if ((await countUsers(db)) > 0) return undefined;
      const workspace = await ensureWorkspace(db, 'default', zone);
      await revokeSetupInvites(db, workspace.id, now());
      const { url, expiresAt } = await invite({ workspaceId: workspace.id, role: 'admin', email: null, createdBy: 'first start' });
      return { url, expiresAt };
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;

export class AccountError extends Error {}
