/**
 * Secrets at rest (docs/SECURITY.md, "Stored credentials"): mailbox passwords and provider
 * credentials are sealed with AES-256-GCM before they reach the database. Each sealed value
 * names the key it was sealed under (the first 8 bytes of the key's SHA-256, in hex), so a key
 * can be rotated: the current key seals, the current and the previous keys open.
 *
 * Format: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts). `context` is bound in as
 * additional data (e.g. `mailbox:<id>:smtp`), so a sealed value copied onto another row or
 * field does not open there.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class SecretKeyError extends Error {}

/** A 32-byte key from its base64 or hex spelling; throws a SecretKeyError naming the problem. */
export function parseSecretKey(text: string, name = 'TOUCHPOINT_SECRET_KEY'): Buffer {
  const value = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(value)
      ? Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
      : undefined;
  if (!key || key.length !== 32) {
    throw new SecretKeyError(`${name} must be 32 random bytes written as 64 hex digits or base64; generate one with \`openssl rand -base64 32\`.`);
  }
  return key;
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export class KeyRing {
  private loaded: { current: { id: string; key: Buffer }; byId: Map<string, Buffer> } | undefined;

  /**
   * `current` seals; `previous` keys only open values sealed before a rotation. `current` may be
   * a function: the key is then read on first use (the embedded key file is made only when a
   * credential is first stored or read).
   */
  constructor(
    private readonly current: Buffer | (() => Buffer),
    private readonly previous: Buffer[] = [],
  ) {
    if (Buffer.isBuffer(current)) this.keys();
  }

  private keys() {
    if (this.loaded) return this.loaded;
    const current = typeof this.current === 'function' ? this.current() : this.current;
    const byId = new Map<string, Buffer>();
    for (const key of [current, ...this.previous]) {
      if (key.length !== 32) throw new SecretKeyError('A secret key must be 32 bytes.');
      byId.set(keyIdOf(key), key);
    }
    this.loaded = { current: { id: keyIdOf(current), key: current }, byId };
    return this.loaded;
  }

  get currentKeyId(): string {
    return this.keys().current.id;
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const { current } = this.keys();
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, current.id, b64(iv), b64(cipher.getAuthTag()), b64(body)].join('.');
  }

  open(sealed: string, context: string): string {
    const [version, keyId, iv, tag, body, ...rest] = sealed.split('.');
    if (version !== VERSION || !keyId || iv === undefined || tag === undefined || body === undefined || rest.length > 0) {
      throw new SecretKeyError('A stored secret is not in a format this version reads.');
    }
    const key = this.keys().byId.get(keyId);
    if (!key) {
      throw new SecretKeyError(
        `A stored secret was sealed under key ${keyId}, which is neither TOUCHPOINT_SECRET_KEY nor one of TOUCHPOINT_SECRET_KEY_PREVIOUS.`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError('A stored secret failed its integrity check (altered, or moved from another record).');
    }
  }

  /** Whether a sealed value was sealed under an older key (`touchpoint secrets rotate` reseals it). */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.keys().current.id;
  }
}

function b64(buffer: Buffer): string {
  return buffer.toString('base64url');
}
