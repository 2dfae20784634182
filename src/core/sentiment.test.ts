import { describe, expect, it } from 'vitest';
import { LABELLED_REPLIES } from './sentiment.fixtures.ts';
import { classifyByRules, REPLY_CLASSES } from './sentiment.ts';

/** The bar the rules must clear on the labelled set (docs/ANALYTICS.md, "Reply sentiment"). */
const MIN_ACCURACY = 0.9;

describe('reply classification by rules', () => {
  const results = LABELLED_REPLIES.map((r) => ({ ...r, got: classifyByRules(r.text, r.subject).class }));
  const wrong = results.filter((r) => r.got !== r.label);

  it('has a labelled set of at least 60 replies covering every class and language', () => {
    expect(LABELLED_REPLIES.length).toBeGreaterThanOrEqual(60);
    for (const lang of ['en', 'de', 'fr', 'es'] as const) {
      for (const label of ['out_of_office', 'unsubscribe'] as const) {
        expect(LABELLED_REPLIES.filter((r) => r.lang === lang && r.label === label).length, `${lang} ${label}`).toBeGreaterThanOrEqual(2);
      }
    }
    for (const label of REPLY_CLASSES) expect(LABELLED_REPLIES.some((r) => r.label === label)).toBe(true);
  });

  it(`classifies at least ${MIN_ACCURACY * 100} % of the labelled set right`, () => {
    const accuracy = 1 - wrong.length / results.length;
    expect(accuracy, `wrong: ${JSON.stringify(wrong.map((w) => [w.lang, w.label, w.got, w.text]), null, 1)}`).toBeGreaterThanOrEqual(MIN_ACCURACY);
  });

  it('never misses an unsubscribe request (a legal obligation) nor calls anything else one', () => {
    expect(results.filter((r) => (r.label === 'unsubscribe') !== (r.got === 'unsubscribe')).map((r) => r.text)).toEqual([]);
  });

  it('reads what the lead wrote, not our quoted message below it', () => {
    expect(classifyByRules('Sounds good, call me.\n\nOn Tue, Mar 3 Sam wrote:\n> reply STOP to unsubscribe').class).toBe('interested');
  });

  it('falls back to interested, saying no rule matched', () => {
    expect(classifyByRules('Who is this?')).toEqual({ class: 'interested', rule: null });
  });
});
