import { describe, expect, test } from 'vitest';
import { parseConfig } from '../config.ts';
import { publicBaseUrl, UnsubscribeTokens, unsubscribeLinks, unsubscribeTokens } from './unsubscribe.ts';

const id = '0b7e5a3c-1d2f-4a5b-8c9d-0e1f2a3b4c5d';

describe('unsubscribe tokens', () => {
  const tokens = new UnsubscribeTokens('secret');

  test('round-trip the execution id in a short, URL-safe token', () => {
    const token = tokens.sign(id);
    expect(token).toMatch(/^[\w-]{22}\.[\w-]{22}$/);
    expect(tokens.verify(token)).toBe(id);
  });

  test('anything altered, or signed with another secret, is refused', () => {
    const token = tokens.sign(id);
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [flipped, new UnsubscribeTokens('other').sign(id), `${token}.x`, 'x.y', '', token.replace('.', '')]) {
      expect(tokens.verify(bad)).toBeUndefined();
    }
    const otherId = new UnsubscribeTokens('secret').sign('1b7e5a3c-1d2f-4a5b-8c9d-0e1f2a3b4c5d');
    expect(tokens.verify(`${otherId.split('.')[0]}.${token.split('.')[1]}`)).toBeUndefined();
  });

  test('links use PUBLIC_URL; only execution ids get one', () => {
    const link = unsubscribeLinks('https://t.test', tokens);
    expect(link({ executionId: id })).toBe(`https://t.test/unsubscribe/${tokens.sign(id)}`);
    expect(link({ executionId: 'not-an-id' })).toBeUndefined();
  });
});

describe('configuration', () => {
  test('live delivery needs PUBLIC_URL and UNSUBSCRIBE_SECRET; mock delivery defaults both', () => {
    const live = parseConfig({ USE_MOCK_SEQUENCE_DELIVERY: 'false' });
    expect(() => publicBaseUrl(live)).toThrow(/PUBLIC_URL/);
    expect(() => unsubscribeTokens(live)).toThrow(/UNSUBSCRIBE_SECRET/);
    const mock = parseConfig({ PORT: '4000' });
    expect(publicBaseUrl(mock)).toBe('http://localhost:4000');
    // One generated secret per config, so signing and verifying in one runtime agree.
    expect(unsubscribeTokens(mock).verify(unsubscribeTokens(mock).sign(id))).toBe(id);
    expect(publicBaseUrl(parseConfig({ PUBLIC_URL: 'https://x.test/' }))).toBe('https://x.test');
  });
});
