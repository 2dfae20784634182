import { describe, expect, test } from 'vitest';
import { storableEvent, storableText } from './storable.ts';

describe('storableText', () => {
  test('NUL and lone surrogates become U+FFFD; pairs and everything else stay', () => {
    expect(storableText('a\u0000b')).toBe('a\ufffdb');
    expect(storableText('a\ud800b')).toBe('a\ufffdb');
    expect(storableText('a\udc00b')).toBe('a\ufffdb');
    expect(storableText('\ud83d\ude00 ok é')).toBe('\ud83d\ude00 ok é');
  });

  test('events keep their dates and shape', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const event = storableEvent({
      type: 'email.opened',
      providerEventId: 'x\u0000',
      provider: 'sendgrid',
      occurredAt: at,
      data: { 'k\u0000': ['v\ud800', 1, null, { deep: '\u0000' }] },
    });
    expect(event.occurredAt).toBe(at);
    expect(event.providerEventId).toBe('x\ufffd');
    expect(event.data).toEqual({ 'k\ufffd': ['v\ufffd', 1, null, { deep: '\ufffd' }] });
  });
});
