/**
 * Wording helpers shared by the validator: JSON paths, value descriptions, "did you mean".
 * Every user-supplied string passes through `quote`, so a problem always stays on one line.
 */

export interface Problem {
  /** A JSON path such as `$`, `$.steps[2].duration` or `$.schedule.holidays[0]`. */
  path: string;
  /** One sentence: what is wrong and how to fix it. */
  message: string;
}

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_QUOTED = 60;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && IDENTIFIER.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

export function problem(path: readonly PropertyKey[], message: string): Problem {
  return { path: formatPath(path), message };
}

/** JSON-quotes text, shortened so a pasted essay does not become the error message. */
export function quote(text: string): string {
  const short = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED - 1)}…` : text;
  return JSON.stringify(short);
}

/** A short phrase for any value; never walks into it, so deep or cyclic input is harmless. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'number' || typeof value === 'bigint') return `the number ${String(value)}`;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own properties only: a key named `constructor` or `__proto__` must not find the prototype's. */
export function own(record: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

export function lookup(root: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let current: unknown = root;
  for (const segment of path) {
    if (typeof segment === 'number' && Array.isArray(current) && segment < current.length) {
      current = current[segment];
    } else if (typeof segment === 'string' && isRecord(current) && Object.prototype.hasOwnProperty.call(current, segment)) {
      current = current[segment];
    } else {
      return { found: false, value: undefined };
    }
  }
  return { found: true, value: current };
}

export function listOf(items: readonly string[], limit = 20): string {
  if (items.length <= limit) return items.join(', ');
  return `${items.slice(0, limit).join(', ')}, … (${items.length} in all)`;
}

/** Optimal string alignment distance: a swapped pair of letters ("stpes") counts as one typo. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest known word, if it is close enough to be a plausible typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
  if (word.length > 100) return undefined;
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  for (const candidate of known) {
    if (candidate.toLowerCase() === lower) return candidate;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= bestDistance) {
      best = candidate;
      bestDistance = distance - 1;
    }
  }
  return best;
}

const FIELD_LABELS: Record<string, string> = {
  id: 'Step id',
  type: 'Step type',
  next: '"next" target',
  then: '"then" target',
  else: '"else" target',
  duration: 'Duration',
  within: '"within" duration',
  timezone: 'Time zone',
  fallbackTimezone: 'Fallback time zone',
  start: 'Start time',
  end: 'End time',
  event: 'Event',
  op: 'Operator',
  onError: '"onError" policy',
  onUnknownDelivery: '"onUnknownDelivery" policy',
  email: 'Email address',
  step: 'Condition step',
};

const ITEM_LABELS: Record<string, string> = {
  days: 'Day',
  holidays: 'Holiday',
  exitOn: 'Exit trigger',
  channels: 'Channel',
  outcomes: 'Outcome',
  outcome: 'Outcome',
};

/** A noun phrase for the field at `path` that can start a sentence. */
export function fieldLabel(path: readonly PropertyKey[]): { text: string; named: boolean } {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (last === undefined) return { text: 'The definition', named: true };
  if (parent === 'routes' && typeof last === 'string') return { text: `Route ${quote(last)} target`, named: true };
  if (typeof last === 'number') {
    const item = typeof parent === 'string' ? ITEM_LABELS[parent] : undefined;
    if (item) return { text: item, named: true };
    return { text: `Item ${last} of "${String(parent)}"`, named: false };
  }
  const label = typeof last === 'string' && Object.prototype.hasOwnProperty.call(FIELD_LABELS, last) ? FIELD_LABELS[last] : undefined;
  return label ? { text: label, named: true } : { text: quote(String(last)), named: false };
}

/** "Duration "2 days"" for known fields, "The value "x" of "foo"" otherwise. */
export function valueSubject(path: readonly PropertyKey[], value: string): string {
  const label = fieldLabel(path);
  return label.named ? `${label.text} ${quote(value)}` : `The value ${quote(value)} of ${label.text}`;
}
