/**
 * The day an out-of-office note says its writer is back (docs/MAILBOXES.md, "Auto-replies"):
 * "back on 14 December", "returning December 14th", "out until 12/14/2026", "zurück am 14.12.",
 * "bis zum 13. Dezember", "de retour le 14 décembre", "jusqu'au 13/12", "de vuelta el 14 de
 * diciembre", "hasta el 13 de diciembre". Pure: the caller hands in when the note arrived and
 * the zone its days are counted in.
 *
 * "Back on X" means X; "until X" means the day after X (the writer is away on X itself). A date
 * without a year is the next such day (a note of 20 December saying "back 3 January" means next
 * year). Nothing is guessed: no keyword before a date, a date that cannot be read one way only
 * (`05/06` in an English note), or a day in the past or more than `maxDays` ahead answers
 * undefined, and the caller pauses for its default number of days instead.
 */
import { DateTime } from 'luxon';

const MONTHS: Record<string, number> = {};
const NAMES: Array<[number, string[]]> = [
  [1, ['january', 'jan', 'januar', 'jänner', 'janvier', 'janv', 'enero', 'ene']],
  [2, ['february', 'feb', 'februar', 'février', 'fevrier', 'févr', 'fevr', 'febrero']],
  [3, ['march', 'mar', 'märz', 'maerz', 'mars', 'marzo']],
  [4, ['april', 'apr', 'avril', 'avr', 'abril', 'abr']],
  [5, ['may', 'mai', 'mayo']],
  [6, ['june', 'jun', 'juni', 'juin', 'junio']],
  [7, ['july', 'jul', 'juli', 'juillet', 'juil', 'julio']],
  [8, ['august', 'aug', 'août', 'aout', 'agosto', 'ago']],
  [9, ['september', 'sep', 'sept', 'septembre', 'septiembre', 'setiembre']],
  [10, ['october', 'oct', 'oktober', 'okt', 'octobre', 'octubre']],
  [11, ['november', 'nov', 'novembre', 'noviembre']],
  [12, ['december', 'dec', 'dezember', 'dez', 'décembre', 'decembre', 'déc', 'diciembre', 'dic']],
];
for (const [month, names] of NAMES) for (const name of names) MONTHS[name] = month;
const MONTH = `(${Object.keys(MONTHS).sort((a, b) => b.length - a.length).join('|')})\\.?`;
const WEEKDAYS = '(?:mon|tues|wednes|thurs|fri|satur|sun)day|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo';

// What introduces the day: `back` words name the day of return, `until` words the last day away.
const BACK = String.raw`back|return(?:ing|s)?|in the office|zurück|wieder (?:im büro|erreichbar|da)|de retour|retour|je reviens|reviens|de vuelta|regreso|vuelvo|volveré|volvere|estaré de vuelta`;
const UNTIL = String.raw`until|till|through|thru|bis(?: zum| einschließlich| einschliesslich| am)?|jusqu'au|jusqu’au|jusqu'à|hasta(?: el)?`;

interface Found {
  day: number;
  month: number;
  year?: number;
}

/** Date spellings, tried in order on the words right after a keyword. */
const FORMS: Array<{ pattern: RegExp; read: (m: RegExpExecArray, english: boolean) => Found | undefined }> = [
  // 2026-12-14
  { pattern: /^(\d{4})-(\d{1,2})-(\d{1,2})\b/, read: (m) => ({ year: +m[1]!, month: +m[2]!, day: +m[3]! }) },
  // 14.12. / 14.12.2026 / 14.12.26 (the dotted numeric date of German, French and Spanish)
  { pattern: /^(\d{1,2})\.(\d{1,2})\.(\d{2,4})?/, read: (m) => ({ day: +m[1]!, month: +m[2]!, year: year(m[3]) }) },
  // 14/12, 12/14/2026: day first unless only month-first can be right; English notes are month
  // first when both could be (12/05 is 5 December in New York), others day first.
  {
    pattern: /^(\d{1,2})\/(\d{1,2})(?:\/(\d{2,4}))?\b/,
    read: (m, english) => {
      const a = +m[1]!;
      const b = +m[2]!;
      if (a > 12 && b <= 12) return { day: a, month: b, year: year(m[3]) };
      if (b > 12 && a <= 12) return { day: b, month: a, year: year(m[3]) };
      if (a === b) return { day: a, month: b, year: year(m[3]) };
      return english ? undefined : { day: a, month: b, year: year(m[3]) };
    },
  },
  // 14 December, 14th of December, 14. Dezember, 14 décembre, 14 de diciembre (de 2026)
  {
    pattern: new RegExp(`^(\\d{1,2})(?:st|nd|rd|th|er|\\.|º)?\\s*(?:of\\s+|de\\s+)?${MONTH}(?:\\s+(?:de\\s+)?(\\d{4}))?`, 'i'),
    read: (m) => ({ day: +m[1]!, month: MONTHS[m[2]!.toLowerCase()]!, year: year(m[3]) }),
  },
  // December 14, December 14th, 2026
  {
    pattern: new RegExp(`^${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b(?:,?\\s+(\\d{4}))?`, 'i'),
    read: (m) => ({ day: +m[2]!, month: MONTHS[m[1]!.toLowerCase()]!, year: year(m[3]) }),
  },
];

function year(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const n = +text;
  return text.length === 2 ? 2000 + n : n;
}

// `\b` knows ASCII letters only ("volveré", "jusqu'à"): letters of any script bound the words here.
const KEYWORD = new RegExp(`(?<!\\p{L})(?:(${BACK})|(${UNTIL}))(?!\\p{L})`, 'giu');
// Words allowed between a keyword and its date: "back in the office on Monday, 14 December".
const FILLER = new RegExp(`^(?:\\s|,|:|(?:in the office|to the office|at work|im büro|au bureau|en la oficina|on|am|le|el|the|from|ab|dès|a partir del?|${WEEKDAYS})(?!\\p{L}))*`, 'iu');

export interface ReturnDate {
  /** The local day the writer is back, `YYYY-MM-DD`. */
  date: string;
  /** Its start in `zone`. */
  at: Date;
}

export function returnDate(
  text: string,
  args: { receivedAt: Date; zone: string; maxDays?: number; english?: boolean },
): ReturnDate | undefined {
  const received = DateTime.fromJSDate(args.receivedAt, { zone: args.zone });
  const english = args.english ?? !/[äöüßéèàçñ¿¡]|\b(?:bis|zurück|jusqu|hasta|retour|vuelta)\b/i.test(text);
  const flat = text.replace(/\s+/g, ' ');
  for (const keyword of flat.matchAll(KEYWORD)) {
    const after = flat.slice((keyword.index ?? 0) + keyword[0].length, (keyword.index ?? 0) + keyword[0].length + 80);
    const rest = after.slice(FILLER.exec(after)?.[0].length ?? 0);
    for (const form of FORMS) {
      const match = form.pattern.exec(rest);
      if (!match) continue;
      const found = form.read(match, english);
      if (!found) break;
      const day = resolveDay(found, received);
      if (!day) break;
      const back = keyword[2] !== undefined ? day.plus({ days: 1 }) : day;
      if (back <= received.startOf('day') || back > received.plus({ days: args.maxDays ?? 90 })) return undefined;
      return { date: back.toISODate()!, at: back.toJSDate() };
    }
  }
  return undefined;
}

/** The calendar day meant, in the note's zone; without a year, the next such day from a week ago. */
function resolveDay(found: Found, received: DateTime): DateTime | undefined {
  const make = (y: number) => DateTime.fromObject({ year: y, month: found.month, day: found.day }, { zone: received.zone });
  if (found.year !== undefined) {
    const day = make(found.year);
    return day.isValid ? day : undefined;
  }
  const thisYear = make(received.year);
  if (!thisYear.isValid) return undefined;
  return thisYear < received.startOf('day').minus({ days: 7 }) ? make(received.year + 1) : thisYear;
}
