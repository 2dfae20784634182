import { describe, expect, test } from 'vitest';
import { aligned, judgeSender, organisationalDomain, postmarkVerdicts, sendgridVerdicts } from './authentication.ts';
import { headerMapFromList } from './mailHeaders.ts';

describe('organisational domains and alignment', () => {
  test.each([
    ['mail.acme.test', 'acme.test'],
    ['acme.test', 'acme.test'],
    ['a.b.acme.co.uk', 'acme.co.uk'],
    ['acme.com.au', 'acme.com.au'],
    ['ACME.test.', 'acme.test'],
  ])('%s → %s', (domain, org) => expect(organisationalDomain(domain)).toBe(org));

  test('relaxed alignment: same organisational domain', () => {
    expect(aligned('bounce.acme.test', 'acme.test')).toBe(true);
    expect(aligned('acme.test', 'mail.acme.test')).toBe(true);
    expect(aligned('acme.co.uk', 'other.co.uk')).toBe(false);
    expect(aligned('forger.test', 'acme.test')).toBe(false);
    expect(aligned(undefined, 'acme.test')).toBe(false);
  });
});

describe('judgeSender', () => {
  const lead = 'lee@acme.test';
  test.each([
    ['aligned DKIM pass', { spf: 'softfail', dkim: [{ domain: 'acme.test', result: 'pass' }] }, 'pass'],
    ['aligned SPF pass', { spf: 'pass', envelopeFrom: 'bounces@mail.acme.test', dkim: [] }, 'pass'],
    ['SpamAssassin DKIM_VALID_AU', { dkim: [], dkimAuthorPass: true }, 'pass'],
    ['SPF softfail, no DKIM', { spf: 'softfail', envelopeFrom: lead, dkim: [] }, 'fail'],
    ['SPF fail, DKIM for another domain', { spf: 'fail', dkim: [{ domain: 'forger.test', result: 'pass' }] }, 'fail'],
    ['SPF pass for the forger only', { spf: 'pass', envelopeFrom: 'x@forger.test', dkim: [{ domain: 'forger.test', result: 'pass' }] }, 'fail'],
    ['nothing published', { spf: 'none', envelopeFrom: lead, dkim: [] }, 'none'],
    ['neutral', { spf: 'neutral', dkim: [{ domain: 'acme.test', result: 'fail' }] }, 'none'],
    ['no verdicts at all', { dkim: [] }, 'none'],
    ['SPF pass with an unknown envelope', { spf: 'pass', dkim: [] }, 'none'],
  ] as const)('%s → %s', (_name, verdicts, verdict) => {
    expect(judgeSender(lead, { ...verdicts, dkim: [...verdicts.dkim] }).verdict).toBe(verdict);
  });
});

describe('reading the providers’ verdicts', () => {
  test('SendGrid: SPF field, bare-string dkim with several signatures, envelope sender', () => {
    expect(sendgridVerdicts({ SPF: 'pass', dkim: '{@acme.test : pass, @esp.test : fail}' }, 'lee@acme.test')).toEqual({
      spf: 'pass',
      envelopeFrom: 'lee@acme.test',
      dkim: [
        { domain: 'acme.test', result: 'pass' },
        { domain: 'esp.test', result: 'fail' },
      ],
    });
    expect(sendgridVerdicts({ dkim: 'none', SPF: 42 }, undefined)).toEqual({ dkim: [] });
    expect(sendgridVerdicts({}, undefined)).toEqual({ dkim: [] });
  });

  test('Postmark: only the topmost X-Spam-Tests and Received-SPF count; copies carried in the message do not', () => {
    const headers = headerMapFromList([
      { Name: 'X-Spam-Tests', Value: 'HTML_MESSAGE,SPF_HELO_NONE,\tSPF_SOFTFAIL' },
      { Name: 'Received-SPF', Value: 'SoftFail (acme.test: ...) identity=mailfrom; client-ip=203.0.113.9; envelope-from=lee@acme.test; receiver=x' },
      { Name: 'Message-ID', Value: '<x@forger.test>' },
      // Forged by the sender further down the header block:
      { Name: 'X-Spam-Tests', Value: 'DKIM_SIGNED,DKIM_VALID,DKIM_VALID_AU,SPF_PASS' },
      { Name: 'Received-SPF', Value: 'Pass (sender SPF authorized) envelope-from=lee@acme.test' },
    ]);
    const verdicts = postmarkVerdicts(headers);
    expect(verdicts).toEqual({ spf: 'softfail', envelopeFrom: 'lee@acme.test', dkim: [] });
    expect(judgeSender('lee@acme.test', verdicts).verdict).toBe('fail');
  });

  test('Postmark: SPF from X-Spam-Tests when there is no Received-SPF; DKIM_VALID_AU is a pass', () => {
    const verdicts = postmarkVerdicts(headerMapFromList([{ Name: 'X-Spam-Tests', Value: 'DKIM_SIGNED,DKIM_VALID,DKIM_VALID_AU,SPF_PASS' }]));
    expect(verdicts).toEqual({ spf: 'pass', dkim: [], dkimAuthorPass: true });
    expect(judgeSender('lee@acme.test', verdicts)).toMatchObject({ verdict: 'pass' });
    expect(postmarkVerdicts(headerMapFromList([]))).toEqual({ dkim: [] });
  });
});
