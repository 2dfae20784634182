import { describe, expect, it } from 'vitest';
import { emailHints, HINT_LIMITS, scriptHints, smsHints, spamWordsIn, wordCount } from './contentHints.ts';

describe('writing hints', () => {
  it('finds spam-prone words as whole words, case-blind', () => {
    expect(spamWordsIn('A FREE trial, Risk-Free, act now!')).toEqual(['act now', 'free', 'risk-free']);
    expect(spamWordsIn('freedom and carefree cashews')).toEqual([]);
  });

  it('counts words, not punctuation', () => {
    expect(wordCount('  Hi Ada — how are you?  ')).toBe(5);
    expect(wordCount('')).toBe(0);
  });

  it('says nothing about a short plain email', () => {
    expect(emailHints({ subject: 'Quick question', text: 'Hi Ada, do you have 10 minutes?' })).toEqual({
      subjectCharacters: 14,
      words: 7,
      characters: 31,
      links: 0,
      spamWords: [],
      notes: [],
    });
  });

  it('flags a long or shouting subject, a long body, many links and spam words', () => {
    const body = `${'word '.repeat(HINT_LIMITS.emailWords + 1)} https://a.test https://b.test https://c.test guaranteed`;
    const hints = emailHints({ subject: `${'X'.repeat(61)}`, text: body });
    expect(hints.links).toBe(3);
    expect(hints.notes).toHaveLength(5);
    expect(hints.notes.join('\n')).toMatch(/61 characters[\s\S]*capitals[\s\S]*205 words[\s\S]*3 links[\s\S]*“guaranteed”/);
  });

  it('counts the HTML part’s links when there is one', () => {
    expect(emailHints({ subject: 'x', text: 'see https://a.test', html: '<a href="https://a.test">a</a> <a href="mailto:x@y.z">m</a>' }).links).toBe(2);
  });

  it('says why an SMS went UCS-2 and when it takes more than two parts', () => {
    expect(smsHints('Hi').notes).toEqual([]);
    expect(smsHints('It’s 👋').notes[0]).toBe('“’” “👋” are not in the GSM-7 alphabet, so the whole text goes as UCS-2 (70 characters a part instead of 160).');
    expect(smsHints('a'.repeat(307)).notes).toEqual(['The text is sent as 3 parts, each billed as one message.']);
  });

  it('times a call script at 150 words a minute', () => {
    expect(scriptHints('word '.repeat(150))).toEqual({ words: 150, seconds: 60, notes: [] });
    expect(scriptHints('word '.repeat(160)).notes[0]).toContain('about 64 s');
    expect(scriptHints('word '.repeat(300)).seconds).toBe(120);
  });
});
