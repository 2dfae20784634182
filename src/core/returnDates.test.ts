import { describe, expect, it } from 'vitest';
import { returnDate } from './returnDates.ts';

// A note that arrived on Wednesday 2 December 2026, 10:00 in Berlin.
const receivedAt = new Date('2026-12-02T09:00:00Z');
const zone = 'Europe/Berlin';
const day = (text: string, extra: { english?: boolean; receivedAt?: Date } = {}) => returnDate(text, { receivedAt, zone, ...extra })?.date;

describe('returnDate', () => {
  it.each([
    ['I am out of the office and back on 14 December.', '2026-12-14'],
    ['Back on Monday, 14th of December 2026.', '2026-12-14'],
    ["I'm returning December 14th.", '2026-12-14'],
    ['Out of office until 13 December.', '2026-12-14'],
    ['I will be back in the office on 2026-12-14.', '2026-12-14'],
    ['Back 2026-12-14', '2026-12-14'],
    ['Ich bin ab dem 1.12. im Urlaub und ab 14.12. zurück; zurück am 14.12.', '2026-12-14'],
    ['Ich bin bis zum 13. Dezember nicht im Büro.', '2026-12-14'],
    ['Ich bin bis einschließlich 13.12.2026 abwesend.', '2026-12-14'],
    ['Je suis absent, de retour le 14 décembre.', '2026-12-14'],
    ["Je suis absente jusqu'au 13/12.", '2026-12-14'],
    ['Estoy fuera de la oficina. Estaré de vuelta el 14 de diciembre.', '2026-12-14'],
    ['Estoy de vacaciones hasta el 13 de diciembre de 2026.', '2026-12-14'],
    ['Out until 12/13/2026.', '2026-12-14'],
  ])('%s → %s', (text, expected) => {
    expect(day(text)).toBe(expected);
  });

  it('reads a date without a year as the next such day', () => {
    expect(day('Back on 4 January.', { receivedAt: new Date('2026-12-20T09:00:00Z') })).toBe('2027-01-04');
  });

  it('answers nothing when it cannot be sure: no keyword, an ambiguous English date, the past, too far', () => {
    expect(day('I am away. 14 December is a good day.')).toBeUndefined();
    expect(day('Back on 05/06.')).toBeUndefined();
    expect(day('Back on 1 December 2026.')).toBeUndefined();
    expect(day('Back on 14 December 2027.')).toBeUndefined();
  });

  it('answers the start of that day in the zone', () => {
    expect(returnDate('back on 14 December', { receivedAt, zone })?.at.toISOString()).toBe('2026-12-13T23:00:00.000Z');
  });
});
