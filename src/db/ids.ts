import { randomBytes } from 'node:crypto';

/** The millisecond and counter of the last id `uuidv7()` made in this process. */
const last = { ms: 0, counter: 0 };

/**
 * A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits. Rows created
 * together get ids that sort together, so the index entries keyed by them share a few leaves
 * instead of landing on random ones (migration 006). Node 20 has no built-in for it; the
 * database's `uuidv7()` exists only on PostgreSQL 18 (PGlite), not on older servers. Without
 * `nowMs` the ids are monotonic within the process (below); with it, as of that millisecond.
 */
export function uuidv7(nowMs?: number): string {
  const bytes = randomBytes(16);
  if (nowMs === undefined) {
    // Monotonic within the process (RFC 9562, 6.2 method 1: the 12 bits after the version are a
    // counter within one millisecond): ids made one after the other sort in that order, so rows
    // created together — an enroll call's enrollments, due at the same instant — are claimed in
    // the order they were created (the claim breaks ties by id; docs/ENGINE.md).
    const now = Date.now();
    if (now > last.ms) {
      last.ms = now;
      last.counter = bytes.readUInt16BE(6) & 0x3ff; // a random start, leaving room to count up
    } else if (last.counter < 0xfff) {
      last.counter += 1;
    } else {
      last.ms += 1; // 4,096 ids in one millisecond: borrow the next one
      last.counter = 0;
    }
    bytes.writeUIntBE(last.ms, 0, 6);
    bytes.writeUInt16BE(0x7000 | last.counter, 6); // version 7 and the counter
  } else {
    bytes.writeUIntBE(nowMs, 0, 6);
  }
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
