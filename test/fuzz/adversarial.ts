/**
 * Inputs an attacker or a broken client sends: random JSON, and JSON built to hurt (nesting past
 * any parser's comfort, prototype keys, strings that are almost ids, numbers at the edges), CSV
 * that breaks quoting and caps, and headers that lie. Shared by the API and webhook fuzz suites.
 */
import fc from 'fast-check';

/** A run's size: FUZZ_RUNS per route (default 40) and a time budget per route in ms. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 40);
export const FUZZ_MS_PER_ROUTE = Number(process.env.FUZZ_MS_PER_ROUTE ?? 8_000);

export const fuzzOptions = { numRuns: FUZZ_RUNS, interruptAfterTimeLimit: FUZZ_MS_PER_ROUTE, markInterruptAsFailure: false };

/** Strings that look like what a field expects but are not: ids, dates, numbers, injections. */
export const nearMiss = fc.constantFrom(
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  'NaN',
  'null',
  'true',
  "'; drop table leads; --",
  '\u0000',
  '\ud800',
  '%',
  '%00',
  '../../../../etc/passwd',
  '{% include "package.json" %}',
  '{{ lead | json }}',
  '9'.repeat(40),
  '-'.repeat(36),
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  '00000000-0000-0000-0000-000000000000',
  '2026-02-30T25:00:00Z',
  'P999999Y',
  'Mars/Base',
  '=cmd|"/c calc"!A1',
  '<script>alert(1)</script>',
  'a'.repeat(70_000),
);

export const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), nearMiss);

/** JSON text nested `depth` levels deep, as arrays or objects (built as text: no stack needed). */
export function deeplyNested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Request bodies at their nastiest: every suite sends each of these to every route once. */
export const HOSTILE_JSON_TEXTS = [
    deeplyNested(5_000, 'object'),
    deeplyNested(100_000, 'array'),
    `{"customFields":${deeplyNested(5_000, 'object')},"email":"deep@acme.test"}`,
    '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
    '{"email":"a@b.test","email":"c@d.test"}',
    `[${'1,'.repeat(200_000)}1]`,
    `{"s":"${'x'.repeat(1_000_000)}"}`,
    '{"n":1e400,"m":-0,"k":123456789012345678901234567890}',
    '{"a":"\\ud800"}',
    '\ufeff{"name":"bom"}',
    '{"unterminated": ',
    'null',
    '""',
    '[]',
    '{}',
  ];

/** Raw request bodies that are JSON in name only, or JSON at its nastiest. */
export const hostileJsonText = fc.oneof(
  fc.constantFrom(...HOSTILE_JSON_TEXTS),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
);

/** Values for any field of a body: random JSON, near misses, and hostile shapes. */
export const anyValue = fc.oneof(
  fc.jsonValue(),
  nearMiss,
  fc.constantFrom<unknown>(null, [], {}, -1, 0, 1e308, Number.MAX_SAFE_INTEGER + 2, { __proto__: { polluted: true } }, Array(5_000).fill('x')),
);

/** A valid body with one field replaced, so validation goes past the first check. */
export function mutate(valid: unknown): fc.Arbitrary<unknown> {
  if (!valid || typeof valid !== 'object' || Array.isArray(valid)) return fc.oneof(fc.jsonValue(), fc.constant(valid));
  const keys = Object.keys(valid as object);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys, 'extra', '__proto__', 'constructor'), anyValue).map(([key, value]) => {
      const copy: Record<string, unknown> = { ...(valid as object) };
      Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
      return copy;
    }),
    fc.constant(valid),
  );
}

/** CSV an import endpoint may be handed. */
export const hostileCsv = fc.oneof(
  fc.constantFrom(
    '',
    '\ufeffemail,phone\nx@acme.test,+14155550100\n',
    'email,email,email\na@b.test,c@d.test,e@f.test\n',
    'email\n"unterminated@acme.test\n',
    'email,firstName\n=cmd|"/c calc"!A1,"x""y"\n',
    `email,${Array.from({ length: 2_000 }, (_, i) => `c${i}`).join(',')}\nx@acme.test\n`,
    `email,notes\nx@acme.test,"${'y'.repeat(200_000)}"\n`,
    `email\n${'a\n'.repeat(100_000)}`,
    'email;phone\r\nx@acme.test;+1\r\n',
    'phone,customField\n+14155550100,{"a":1}\n',
    '\u0000\u0001\u0002',
  ),
  fc
    .array(fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.emailAddress(), nearMiss.filter((s) => s.length < 100)), { minLength: 1, maxLength: 5 }), {
      minLength: 1,
      maxLength: 8,
    })
    .map((rows) => rows.map((r) => r.map((cell) => (/[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)).join(',')).join('\n')),
);

/** Header sets a client should never trust: broken credentials, lying content types. */
export const hostileHeaders = fc.record(
  {
    authorization: fc.oneof(
      fc.constantFrom('', 'Bearer', 'Bearer ', 'Bearer tp_', 'Basic', 'Basic !!!', 'Basic ' + Buffer.from(':').toString('base64'), `Bearer ${'x'.repeat(10_000)}`),
      fc.string({ maxLength: 60 }).map((s) => `Bearer ${headerSafe(s)}`),
    ),
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'text/csv',
      'text/plain',
      'application/xml',
      'multipart/form-data',
      'multipart/form-data; boundary=',
      'application/x-www-form-urlencoded',
      '*/*',
      'application/json, text/plain',
    ),
    accept: fc.constantFrom('*/*', 'text/html', 'application/json', ''),
    'x-forwarded-for': fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('', 'unknown', '1.1.1.1, 2.2.2.2')),
  },
  { requiredKeys: [] },
);

/** Header values can only carry visible ASCII, space and tab; anything else is dropped. */
export function headerSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e]/g, '');
}
