import { describe, expect, test } from 'vitest';
import {
  aligned,
  judgeMailboxSender,
  judgeSender,
  organisationalDomain,
  parseAuthenticationResults,
  postmarkVerdicts,
  sendgridVerdicts,
  trustedAuthenticationResults,
} from './authentication.ts';
import { headerMapFromList, parseHeaderBlock } from './mailHeaders.ts';

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

describe('Authentication-Results (RFC 8601) of the mailbox server', () => {
  test('parses the authserv-id, each method, its result and properties, without comments', () => {
    expect(
      parseAuthenticationResults(
        'mx.google.com;\r\n       dkim=pass header.i=@lead.test header.s=s1 header.b=abc;\r\n       spf=pass (google.com: domain of ann@lead.test designates 1.2.3.4 as permitted sender) smtp.mailfrom=ann@lead.test;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=lead.test',
      ),
    ).toEqual({
      authservId: 'mx.google.com',
      results: [
        { method: 'dkim', result: 'pass', props: { 'header.i': '@lead.test', 'header.s': 's1', 'header.b': 'abc' } },
        { method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'ann@lead.test' } },
        { method: 'dmarc', result: 'pass', props: { 'header.from': 'lead.test' } },
      ],
    });
    expect(parseAuthenticationResults('mx.acme.test 1; none')).toEqual({ authservId: 'mx.acme.test', results: [] });
    // Microsoft's form without an authserv-id is not one a server can be named by.
    expect(parseAuthenticationResults('spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=lead.test; dkim=pass header.d=lead.test')).toBeUndefined();
  });

  test('believes only the topmost header of the mailbox’s own server', () => {
    const headers = parseHeaderBlock(
      [
        'Authentication-Results: relay.elsewhere.test; dmarc=pass header.from=lead.test',
        'Authentication-Results: MX.acme.test; spf=fail smtp.mailfrom=lead.test; dmarc=fail header.from=lead.test',
        'Authentication-Results: mx.acme.test; spf=pass smtp.mailfrom=lead.test; dmarc=pass header.from=lead.test',
        'From: ann@lead.test',
      ].join('\r\n'),
    );
    const trusted = trustedAuthenticationResults(headers, ['mx.acme.test']);
    expect(trusted?.results.find((r) => r.method === 'dmarc')?.result).toBe('fail');
    expect(trustedAuthenticationResults(headers, ['imap.acme.test'])).toBeUndefined();
  });

  test('judges by DMARC when the server checked it, else by aligned SPF and DKIM; nothing believed is none', () => {
    const judge = (value: string) => judgeMailboxSender('ann@lead.test', parseAuthenticationResults(value));
    expect(judge('mx.acme.test; dmarc=fail header.from=lead.test; dkim=pass header.d=lead.test')).toMatchObject({ verdict: 'fail', dmarc: 'fail' });
    expect(judge('mx.acme.test; spf=pass smtp.mailfrom=bounces.lead.test; dmarc=pass')).toMatchObject({ verdict: 'pass', spf: 'pass' });
    expect(judge('mx.acme.test; dkim=pass header.d=lead.test').verdict).toBe('pass');
    // SPF passes only for another domain: anyone can pass SPF for their own.
    expect(judge('mx.acme.test; spf=pass smtp.mailfrom=forger.test').verdict).toBe('fail');
    expect(judge('mx.acme.test; spf=softfail smtp.mailfrom=lead.test').verdict).toBe('fail');
    expect(judge('mx.acme.test; spf=neutral smtp.mailfrom=lead.test').verdict).toBe('none');
    expect(judgeMailboxSender('ann@lead.test', undefined)).toEqual({ verdict: 'none' });
  });
});
