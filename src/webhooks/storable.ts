/**
 * PostgreSQL refuses two things a JSON body can carry: NUL (in `text` and `jsonb`) and a lone
 * UTF-16 surrogate (in `jsonb`, as the `\udXXX` escape JSON.stringify writes for it). A signed
 * event holding either would fail to insert and be answered 503 on every retry, so both become
 * U+FFFD before an event reaches the store; everything else is kept as it came.
 */
import type { InboundEvent } from '../core/events.ts';

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function storableText(value: string): string {
  return value.replace(UNSTORABLE, '\ufffd');
}

function storable(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storable);
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), storable(item)]));
  }
  return value;
}

export function storableEvent(event: InboundEvent): InboundEvent {
  return storable(event) as InboundEvent;
}
