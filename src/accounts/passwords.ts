/**
 * Passwords: Argon2id (OWASP's parameters: 19 MiB, 2 passes), and a check against a fixed dummy
 * hash when the account is unknown, so an unknown email costs the same time as a wrong password.
 */
import { hash, verify } from '@node-rs/argon2';

/** The library's default algorithm is Argon2id (its enum is a `const enum`, which type stripping cannot read); a test checks the `$argon2id$` prefix. */
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 200;

/** A sentence for a password that cannot be used, or undefined when it can. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_MIN) return `The password needs at least ${PASSWORD_MIN} characters.`;
  if (password.length > PASSWORD_MAX) return `The password may have at most ${PASSWORD_MAX} characters.`;
  return undefined;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

/** Checks `password` against `stored`, or against a dummy hash when there is none (same cost, always false). */
export async function checkPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  if (!stored) {
    dummy ??= hashPassword('touchpoint-dummy-password');
    await verify(await dummy, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
