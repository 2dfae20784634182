/** Validation problems shown next to their field, in words, once each. */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../web/src/api/client.ts';
import { fieldErrors, humanise, pathSegments } from '../../web/src/components/fieldErrors.ts';

const problems = (...list: Array<[string, string]>) =>
  new ApiError(400, 'validation_failed', 'The request body is not valid: …', { problems: list.map(([path, message]) => ({ in: 'body', path, message })) });

describe('field errors', () => {
  it('puts each problem under its field and the rest in words, without repeats', () => {
    const error = problems(
      ['$.phone', '"123" is not a valid phone number; write it in E.164, e.g. +14155550123.'],
      ['$.timezone', 'is not a known IANA time zone such as "America/New_York"'],
      ['$', 'A lead needs an email or a phone number.'],
      ['$', 'A lead needs an email or a phone number.'],
      ['$.customFields.plan', 'must be text'],
    );
    const result = fieldErrors(error, { phone: 'Phone', email: 'Email' });
    expect(result.byField).toEqual({ phone: '"123" is not a valid phone number; write it in E.164, e.g. +14155550123.' });
    expect(result.general).toEqual([
      'Timezone is not a known IANA time zone such as "America/New_York".',
      'A lead needs an email or a phone number.',
      'Custom fields must be text.',
    ]);
  });

  it('keeps a plain error as its message', () => {
    expect(fieldErrors(new ApiError(409, 'conflict', 'Already there.')).general).toEqual(['Already there.']);
    expect(fieldErrors(null)).toEqual({ byField: {}, general: [] });
  });

  it('reads paths and keys', () => {
    expect(pathSegments('$.steps[1].id')).toEqual(['steps', '1', 'id']);
    expect(pathSegments('$')).toEqual([]);
    expect(humanise('firstName')).toBe('First name');
  });
});
