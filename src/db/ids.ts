import { randomBytes } from 'node:crypto';

/**
 * A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits. Rows created
 * together get ids that sort together, so the index entries keyed by them share a few leaves
 * instead of landing on random ones (migration 006). Node 20 has no built-in for it; the
 * database's `uuidv7()` exists only on PostgreSQL 18 (PGlite), not on older servers.
 */
export function uuidv7(nowMs = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The canonical 8-4-4-4-12 hex form, the only one we write. Anything else that reaches a
 * `uuid` parameter (36 dashes echoed back in a provider's custom args) makes the server raise
 * 22P02, which a webhook would answer 503 on every retry; such a value simply names nothing.
 */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
