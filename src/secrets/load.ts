/**
 * Where the key ring comes from (docs/SECURITY.md, "Stored credentials"): TOUCHPOINT_SECRET_KEY
 * (and TOUCHPOINT_SECRET_KEY_PREVIOUS) when set; else, on the embedded store only, a key
 * generated once into DATA_DIR/secret.key (mode 0600), beside the data it protects. On
 * PostgreSQL without a key there is no ring: credentials cannot be stored (the API says so),
 * and live delivery refuses to start (src/config.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { KeyRing, parseSecretKey } from './keyRing.ts';

export const KEY_FILE = 'secret.key';

export function loadKeyRing(config: Pick<Config, 'TOUCHPOINT_SECRET_KEY' | 'TOUCHPOINT_SECRET_KEY_PREVIOUS' | 'DATABASE_URL' | 'DATA_DIR'>): KeyRing | undefined {
  const previous = (config.TOUCHPOINT_SECRET_KEY_PREVIOUS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => parseSecretKey(k, 'TOUCHPOINT_SECRET_KEY_PREVIOUS'));
  if (config.TOUCHPOINT_SECRET_KEY) return new KeyRing(parseSecretKey(config.TOUCHPOINT_SECRET_KEY), previous);
  if (config.DATABASE_URL) return undefined;
  return new KeyRing(() => embeddedKey(config.DATA_DIR), previous);
}

/** Reads DATA_DIR/secret.key, creating it (0600, exclusive) when missing. */
function embeddedKey(dataDir: string): Buffer {
  const file = join(dataDir, KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first: read theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  return parseSecretKey(readFileSync(file, 'utf8'), file);
}
