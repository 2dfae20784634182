import { describe, expect, it } from 'vitest';
import { smsSegments } from './smsSegments.ts';

describe('SMS parts', () => {
  it('fits 160 GSM-7 characters in one part and 153 per part beyond', () => {
    expect(smsSegments('')).toMatchObject({ encoding: 'GSM-7', segments: 0 });
    expect(smsSegments('a'.repeat(160))).toMatchObject({ encoding: 'GSM-7', units: 160, segments: 1, perSegment: 160, remaining: 0 });
    expect(smsSegments('a'.repeat(161))).toMatchObject({ segments: 2, perSegment: 153, remaining: 145 });
    expect(smsSegments('a'.repeat(306))).toMatchObject({ segments: 2, remaining: 0 });
    expect(smsSegments('a'.repeat(307))).toMatchObject({ segments: 3 });
  });

  it('counts extension characters as two septets and never splits one across parts', () => {
    expect(smsSegments('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', characters: 80, units: 160, segments: 1 });
    expect(smsSegments('€'.repeat(81))).toMatchObject({ units: 162, segments: 2 });
    // 152 plain septets, then a pair that would straddle the first part's end: it moves whole.
    expect(smsSegments(`${'a'.repeat(152)}[${'a'.repeat(152)}`)).toMatchObject({ units: 306, segments: 3 });
    expect(smsSegments('£ ¥ è Ä ñ @ _ Δ \n')).toMatchObject({ encoding: 'GSM-7' });
  });

  it('switches the whole text to UCS-2 for one character outside GSM-7: 70, then 67 per part', () => {
    const curly = smsSegments(`It’s ${'a'.repeat(65)}`);
    expect(curly).toMatchObject({ encoding: 'UCS-2', characters: 70, units: 70, segments: 1, perSegment: 70, nonGsm: ['’'] });
    expect(smsSegments(`It’s ${'a'.repeat(66)}`)).toMatchObject({ segments: 2, perSegment: 67 });
    expect(smsSegments('ç'.repeat(134))).toMatchObject({ segments: 2, remaining: 0 });
  });

  it('counts an emoji as two UTF-16 units and one character, kept whole in a part', () => {
    expect(smsSegments('👋')).toMatchObject({ encoding: 'UCS-2', characters: 1, units: 2, segments: 1, nonGsm: ['👋'] });
    expect(smsSegments(`${'a'.repeat(66)}👋`)).toMatchObject({ units: 68, segments: 1 });
    expect(smsSegments(`${'a'.repeat(70)}👋`)).toMatchObject({ units: 72, segments: 2 });
    expect(smsSegments(`${'a'.repeat(66)}👋${'a'.repeat(5)}`)).toMatchObject({ units: 73, segments: 2, remaining: 67 - 7 });
  });
});
