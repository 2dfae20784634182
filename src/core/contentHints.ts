/**
 * Hints for the person writing a step (docs/SEQUENCES.md, "Writing steps"): lengths, words, links,
 * spam-prone words, SMS parts, a call script's speaking time. Advice, never a refusal: the
 * validator decides what cannot be sent, these say what may read badly. Pure; the server computes
 * them for the preview, so the dashboard shows one verdict.
 */
import { linksOf } from './emailBody.ts';
import { smsSegments, type SmsSegments } from './smsSegments.ts';

/**
 * Words and phrases that spam filters and wary readers weigh against a cold email. Short on
 * purpose: the usual suspects of the published lists (HubSpot's and Mailchimp's spam-trigger
 * words), matched as whole words, case-blind. A hit is a hint to reword, not a verdict.
 */
export const SPAM_WORDS = [
  '100% free',
  'act now',
  'apply now',
  'best price',
  'buy now',
  'cash',
  'cheap',
  'click here',
  'congratulations',
  'dear friend',
  'double your',
  'earn money',
  'exclusive deal',
  'free',
  'guarantee',
  'guaranteed',
  'limited time',
  'miracle',
  'no cost',
  'no obligation',
  'once in a lifetime',
  'order now',
  'risk-free',
  'special promotion',
  'urgent',
  'winner',
] as const;

/** Past these a hint says so: phones cut subjects near 40–60 characters; cold emails that get answers are short. */
export const HINT_LIMITS = {
  subjectChars: 60,
  emailWords: 200,
  emailLinks: 2,
  smsSegments: 2,
  /** A call script read aloud at about 150 words a minute; past a minute a person stops listening. */
  scriptSeconds: 60,
  wordsPerMinute: 150,
} as const;

export interface EmailHints {
  subjectCharacters: number;
  words: number;
  characters: number;
  links: number;
  spamWords: string[];
  notes: string[];
}

export interface SmsHints extends SmsSegments {
  notes: string[];
}

export interface ScriptHints {
  words: number;
  /** Seconds it takes to read aloud at `HINT_LIMITS.wordsPerMinute`. */
  seconds: number;
  notes: string[];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SPAM_PATTERNS = SPAM_WORDS.map((word) => ({ word, pattern: new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(word)}($|[^\\p{L}\\p{N}])`, 'iu') }));

export function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

export function spamWordsIn(text: string): string[] {
  return SPAM_PATTERNS.filter(({ pattern }) => pattern.test(text)).map(({ word }) => word);
}

const URL = /\bhttps?:\/\/[^\s<>()]+/gi;

/** Links in the HTML part when there is one, else web addresses written in the text. */
export function linkCount(text: string, html?: string): number {
  return html !== undefined ? linksOf(html).length : (text.match(URL) ?? []).length;
}

export function emailHints(email: { subject?: string | null; text: string; html?: string | null }): EmailHints {
  const subject = email.subject ?? '';
  const words = wordCount(email.text);
  const links = linkCount(email.text, email.html ?? undefined);
  const spamWords = spamWordsIn(`${subject}\n${email.text}`);
  const notes: string[] = [];
  if (subject.length > HINT_LIMITS.subjectChars) notes.push(`The subject has ${subject.length} characters; phones show about ${HINT_LIMITS.subjectChars}, so the end may be cut.`);
  if (/\p{Lu}{4,}/u.test(subject) && subject === subject.toUpperCase()) notes.push('The subject is in capitals, which reads as shouting and as spam.');
  if (words > HINT_LIMITS.emailWords) notes.push(`The body has ${words} words; cold emails that get answers are usually under ${HINT_LIMITS.emailWords}.`);
  if (links > HINT_LIMITS.emailLinks) notes.push(`The email has ${links} links; more than ${HINT_LIMITS.emailLinks} look like marketing to spam filters.`);
  if (spamWords.length > 0) notes.push(`Spam-prone words: ${spamWords.map((w) => `“${w}”`).join(', ')}; consider rewording.`);
  return { subjectCharacters: subject.length, words, characters: email.text.length, links, spamWords, notes };
}

export function smsHints(text: string): SmsHints {
  const segments = smsSegments(text);
  const notes: string[] = [];
  if (segments.encoding === 'UCS-2') {
    notes.push(`${segments.nonGsm.map((c) => `“${c}”`).join(' ')} ${segments.nonGsm.length === 1 ? 'is' : 'are'} not in the GSM-7 alphabet, so the whole text goes as UCS-2 (70 characters a part instead of 160).`);
  }
  if (segments.segments > HINT_LIMITS.smsSegments) notes.push(`The text is sent as ${segments.segments} parts, each billed as one message.`);
  return { ...segments, notes };
}

export function scriptHints(text: string): ScriptHints {
  const words = wordCount(text);
  const seconds = Math.round((words / HINT_LIMITS.wordsPerMinute) * 60);
  const notes = seconds > HINT_LIMITS.scriptSeconds ? [`Read aloud the script takes about ${seconds} s; past a minute people stop listening.`] : [];
  return { words, seconds, notes };
}
