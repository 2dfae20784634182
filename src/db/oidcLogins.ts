/**
 * Single sign-on attempts in flight (migration 020): what the callback must check, kept on the
 * server between the redirect to the provider and its answer. Taken once: the read deletes.
 */
import type { Queryable } from './db.ts';

export interface OidcLogin {
  browserHash: string;
  codeVerifier: string;
  nonce: string;
  expiresAt: Date;
}

export async function insertOidcLogin(
  db: Queryable,
  args: { stateHash: string; browserHash: string; codeVerifier: string; nonce: string; now: Date; expiresAt: Date },
): Promise<void> {
  await db.query(
    `insert into oidc_logins (state_hash, browser_hash, code_verifier, nonce, created_at, expires_at) values ($1, $2, $3, $4, $5, $6)`,
    [args.stateHash, args.browserHash, args.codeVerifier, args.nonce, args.now, args.expiresAt],
  );
}

/**
 * Deletes and answers the attempt with this state: two callbacks racing with the same URL get
 * it once between them. Expiry is the caller's to judge (it holds the clock).
 */
export async function takeOidcLogin(db: Queryable, stateHash: string): Promise<OidcLogin | undefined> {
  const [row] = await db.query<OidcLogin>(
    `delete from oidc_logins where state_hash = $1
     returning browser_hash as "browserHash", code_verifier as "codeVerifier", nonce, expires_at as "expiresAt"`,
    [stateHash],
  );
  return row;
}

/** Forgets attempts nobody finished (run as new ones start, so the table stays small). */
export async function deleteExpiredOidcLogins(db: Queryable, now: Date): Promise<void> {
  await db.query('delete from oidc_logins where expires_at <= $1', [now]);
}
