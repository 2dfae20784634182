/**
 * How many SMS parts a text is billed and sent as (docs/SEQUENCES.md, "Writing steps"). A text
 * written only in the GSM 03.38 alphabet goes as GSM-7: 160 septets in one part, 153 per part
 * once it is split (the 7 others carry the header that joins the parts). One character outside
 * that alphabet (a curly quote ’, an emoji, most accents) turns the whole text into UCS-2: 70
 * UTF-16 units alone, 67 per part. Extension characters (€ [ ] { } \ ^ ~ | and form feed) take
 * two septets, an emoji two UTF-16 units; carriers never split such a pair across parts, so the
 * parts are packed the way a phone packs them rather than by dividing a length.
 */

/** The GSM 03.38 basic alphabet (the escape code itself left out: it is not a character one types). */
const GSM_BASIC = new Set(
  Array.from('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'),
);
/** The extension table: each costs the escape septet plus its own. */
const GSM_EXTENSION = new Set(Array.from('€[]{}\\^~|\f'));

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export const SMS_LIMITS = {
  'GSM-7': { single: 160, multipart: 153 },
  'UCS-2': { single: 70, multipart: 67 },
} as const;

export interface SmsSegments {
  encoding: SmsEncoding;
  /** Characters as a person counts them (code points). */
  characters: number;
  /** Septets (GSM-7) or UTF-16 units (UCS-2) the text takes. */
  units: number;
  /** Parts the text is sent as; 0 for an empty text. */
  segments: number;
  /** Units one part holds at this length: 160 or 153, 70 or 67. */
  perSegment: number;
  /** Units still free in the last part before another one starts. */
  remaining: number;
  /** The characters (distinct, first 10) that force UCS-2; empty for GSM-7. */
  nonGsm: string[];
}

function gsmCost(char: string): number | undefined {
  if (GSM_BASIC.has(char)) return 1;
  if (GSM_EXTENSION.has(char)) return 2;
  return undefined;
}

/** Parts needed for characters of the given costs when no character may straddle two parts. */
function pack(costs: readonly number[], size: number): { parts: number; lastFill: number } {
  let parts = 1;
  let fill = 0;
  for (const cost of costs) {
    if (fill + cost > size) {
      parts += 1;
      fill = 0;
    }
    fill += cost;
  }
  return { parts, lastFill: fill };
}

export function smsSegments(text: string): SmsSegments {
  const chars = Array.from(text);
  const nonGsm: string[] = [];
  for (const char of chars) {
    if (gsmCost(char) === undefined && !nonGsm.includes(char) && nonGsm.length < 10) nonGsm.push(char);
  }
  const encoding: SmsEncoding = nonGsm.length === 0 ? 'GSM-7' : 'UCS-2';
  const costs = chars.map((char) => (encoding === 'GSM-7' ? gsmCost(char)! : char.length));
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  const limits = SMS_LIMITS[encoding];
  if (units === 0) return { encoding, characters: 0, units: 0, segments: 0, perSegment: limits.single, remaining: limits.single, nonGsm };
  if (units <= limits.single) {
    return { encoding, characters: chars.length, units, segments: 1, perSegment: limits.single, remaining: limits.single - units, nonGsm };
  }
  const { parts, lastFill } = pack(costs, limits.multipart);
  return { encoding, characters: chars.length, units, segments: parts, perSegment: limits.multipart, remaining: limits.multipart - lastFill, nonGsm };
}
