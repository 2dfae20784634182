import { describe, expect, it } from 'vitest';
import { cachedDefinition, parseStoredDefinition } from './storedDefinitions.ts';
import { designExample } from './validate.fixtures.ts';

describe('stored definitions (parsed once per sequence version)', () => {
  it('parses a version once and answers the same parse for it after', () => {
    const id = 'seq-cache-test';
    expect(cachedDefinition(id, 1)).toBeUndefined();
    const parsed = parseStoredDefinition(id, 1, designExample);
    expect(parsed.name).toBe(designExample.name);
    expect(cachedDefinition(id, 1)).toBe(parsed);
    // A version never changes once written: what is stored is not read again.
    expect(parseStoredDefinition(id, 1, { not: 'a definition' })).toBe(parsed);
    expect(cachedDefinition(id, 2)).toBeUndefined();
  });

  it('remembers nothing for a version that does not parse', () => {
    expect(() => parseStoredDefinition('seq-broken-test', 1, { steps: 'no' })).toThrow();
    expect(cachedDefinition('seq-broken-test', 1)).toBeUndefined();
  });
});
