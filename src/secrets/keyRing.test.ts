import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRing, parseSecretKey, SecretKeyError } from './keyRing.ts';
import { loadKeyRing } from './load.ts';

describe('key ring', () => {
  it('seals with AES-256-GCM, bound to its context, and opens with the key it names', () => {
    const ring = new KeyRing(randomBytes(32));
    const sealed = ring.seal('app-password', 'mailbox:1:smtp');
    expect(sealed).toMatch(/^v1\.[0-9a-f]{16}\./);
    expect(sealed).not.toContain('app-password');
    expect(ring.open(sealed, 'mailbox:1:smtp')).toBe('app-password');
    expect(() => ring.open(sealed, 'mailbox:2:smtp')).toThrow(SecretKeyError);
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => ring.open(tampered, 'mailbox:1:smtp')).toThrow(/integrity/);
  });

  it('rotates: a previous key still opens, the current one seals, an unknown key is named', () => {
    const old = randomBytes(32);
    const sealedBefore = new KeyRing(old).seal('pw', 'c');
    const rotated = new KeyRing(randomBytes(32), [old]);
    expect(rotated.open(sealedBefore, 'c')).toBe('pw');
    expect(rotated.isStale(sealedBefore)).toBe(true);
    expect(rotated.isStale(rotated.seal('pw', 'c'))).toBe(false);
    expect(() => new KeyRing(randomBytes(32)).open(sealedBefore, 'c')).toThrow(/TOUCHPOINT_SECRET_KEY_PREVIOUS/);
  });

  it('reads a key as hex or base64 and refuses anything but 32 bytes', () => {
    const key = randomBytes(32);
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(() => parseSecretKey('short')).toThrow(/32 random bytes/);
  });

  it('generates the embedded key once, mode 0600, on first use only', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tp-key-')), 'data');
    const ring = loadKeyRing({ DATA_DIR: dir, DATABASE_URL: undefined, TOUCHPOINT_SECRET_KEY: undefined, TOUCHPOINT_SECRET_KEY_PREVIOUS: undefined })!;
    expect(() => statSync(join(dir, 'secret.key'))).toThrow(); // nothing written until needed
    const sealed = ring.seal('pw', 'c');
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    const again = loadKeyRing({ DATA_DIR: dir, DATABASE_URL: undefined, TOUCHPOINT_SECRET_KEY: undefined, TOUCHPOINT_SECRET_KEY_PREVIOUS: undefined })!;
    expect(again.open(sealed, 'c')).toBe('pw');
    // PostgreSQL without a key: no ring (the API answers 409, live mode refuses to start).
    expect(loadKeyRing({ DATA_DIR: dir, DATABASE_URL: 'postgres://x@127.0.0.1/x', TOUCHPOINT_SECRET_KEY: undefined, TOUCHPOINT_SECRET_KEY_PREVIOUS: undefined })).toBeUndefined();
  });
});
