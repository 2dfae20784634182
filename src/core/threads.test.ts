import { describe, expect, it } from 'vitest';
import { renderStepContent } from './content.ts';
import { sequenceDefinitionSchema } from './definition.ts';
import { linkProblems, linksOf, rewriteLinks, textToHtml, withOpenPixel } from './emailBody.ts';
import { simulate } from './simulate.ts';
import { newMessageId, replySubject, withSenderDomain, replyThreading, threadingHeaders } from './threads.ts';
import { validateDefinition } from './validate.ts';
import { email, expectProblem, problemsOf, wait, withSteps } from './validate.fixtures.ts';

describe('threads', () => {
  it('makes a Message-ID in the sender\'s domain', () => {
    expect(newMessageId('0b6c', 'Ann@Sales.Example.com')).toBe('0b6c@sales.example.com');
    expect(newMessageId('0b6c', 'nobody')).toBe('0b6c@touchpoint.invalid');
    // A mailbox chosen later re-anchors the id in its own domain, keeping the unique part.
    expect(withSenderDomain('0b6c@default.example', 'Ana@Rep.Example.org')).toBe('0b6c@rep.example.org');
    expect(withSenderDomain(withSenderDomain('0b6c@x.example', 'a@rep.example'), 'a@rep.example')).toBe('0b6c@rep.example');
  });

  it('writes Re: once, whatever the previous subject had', () => {
    expect(replySubject('Hi Ann')).toBe('Re: Hi Ann');
    expect(replySubject('Re: Hi Ann')).toBe('Re: Hi Ann');
    expect(replySubject('RE: re:Hi Ann')).toBe('Re: Hi Ann');
  });

  it('chains References and points In-Reply-To at the parent', () => {
    const second = replyThreading('b@x.test', { messageId: 'a@x.test', subject: 'Hi', references: [] });
    expect(second).toEqual({ messageId: 'b@x.test', inReplyTo: 'a@x.test', references: ['a@x.test'] });
    const third = replyThreading('c@x.test', { messageId: 'b@x.test', subject: 'Re: Hi', references: second.references });
    expect(threadingHeaders(third)).toEqual({ 'Message-ID': '<c@x.test>', 'In-Reply-To': '<b@x.test>', References: '<a@x.test> <b@x.test>' });
  });
});

describe('validation of subject-less emails', () => {
  it('refuses a subject-less email that can be the first one sent, naming the step and the way to it', () => {
    const problems = problemsOf(withSteps([wait('w', 'P1D'), email('a', { subject: undefined }), email('b', { subject: undefined })]));
    expectProblem(problems, '$.steps[1].subject', 'Email step "a" has no subject', '"w" → "a"');
    expect(problems.some((p) => p.path === '$.steps[2].subject')).toBe(false);
  });

  it('accepts a reply after an email with a subject, and refuses one a branch can reach first', () => {
    expect(validateDefinition(withSteps([email('a'), wait('w', 'P2D'), email('b', { subject: '' })])).ok).toBe(true);
    const branchy = withSteps([
      { id: 'b', type: 'branch', when: { lead: { field: 'x', op: 'exists' } }, within: 'PT0S', then: 'a', else: 'r' },
      email('a', { next: 'r' }),
      email('r', { subject: undefined }),
    ]);
    expectProblem(problemsOf(branchy), '$.steps[2].subject', 'can be the first email', '"b" → "r"');
  });

  it('refuses non-http(s) links in HTML and Markdown bodies, allows mailto and tel', () => {
    const html = problemsOf(withSteps([email('a', { format: 'html', body: '<a href="javascript:alert(1)">x</a> <a href="mailto:a@b.test">m</a>' })]));
    expectProblem(html, '$.steps[0].body', '"javascript:"');
    const markdown = problemsOf(withSteps([email('a', { format: 'markdown', body: '[x](data:text/html,hi) [ok](https://ok.test) [t](tel:+1555)' })]));
    expectProblem(markdown, '$.steps[0].body', '"data:"');
    expect(linkProblems('<a href="https://x.test">x</a><a href="{{ lead.site }}">s</a>')).toEqual([]);
  });

  it('tracking on plain-text emails is no warning: every email has an HTML part', () => {
    const result = validateDefinition({ ...withSteps([email('a')]), tracking: { opens: true, clicks: true } });
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => w.path)).not.toContain('$.tracking');
  });
});

describe('HTML and Markdown bodies', () => {
  const definition = sequenceDefinitionSchema.parse(withSteps([email('a')]));
  const lead = { id: 'l1', firstName: 'Ann <script>alert(1)</script> & [x](javascript:y)', company: 'A&B' };

  it('renders Markdown to HTML with lead data escaped, and keeps the Markdown as the text part', () => {
    const step = { id: 'a', type: 'email' as const, subject: 'Hi {{ lead.company }}', format: 'markdown' as const, useAiWriter: false,
      body: 'Hi **{{ lead.firstName }}**,\n\nSee [our site](https://us.test/?a=1&b={{ lead.company }}).' };
    const content = renderStepContent(step, { lead, definition });
    expect(content.subject).toBe('Hi A&B');
    expect(content.html).toContain('<strong>Ann &lt;script&gt;alert(1)&lt;/script&gt; &amp; [x](javascript:y)</strong>');
    expect(content.html).not.toContain('href="javascript');
    expect(content.html).toContain('href="https://us.test/?a=1&amp;b=A&amp;B"');
    expect(content.text).toContain('Hi **Ann <script>alert(1)</script> & [x](javascript:y)**');
  });

  it('derives the text part of an HTML body', () => {
    const step = { id: 'a', type: 'email' as const, subject: 'Hi', format: 'html' as const, useAiWriter: false,
      body: '<p>Hello {{ lead.company }},</p><p><a href="https://us.test/demo">Book a demo</a></p>' };
    const content = renderStepContent(step, { lead, definition });
    expect(content.html).toContain('Hello A&amp;B,');
    expect(content.text).toBe('Hello A&B,\n\nBook a demo [https://us.test/demo]');
  });

  it('makes the HTML part of a plain-text body: escaped, paragraphs and line breaks kept, bare URLs linked, no styling', () => {
    const text = 'Hi Ann <script>alert(1)</script> & co,\nsecond line.\n\nSee https://us.test/a?b=1&c=2. Or (https://us.test/Foo_(bar)), mailto:x@y.test\n\n\nThanks';
    const html = textToHtml(text);
    expect(html).toBe(
      '<div dir="auto">\n<p>Hi Ann &lt;script&gt;alert(1)&lt;/script&gt; &amp; co,<br>\nsecond line.</p>\n' +
        '<p>See <a href="https://us.test/a?b=1&amp;c=2">https://us.test/a?b=1&amp;c=2</a>. Or (<a href="https://us.test/Foo_(bar)">https://us.test/Foo_(bar)</a>), mailto:x@y.test</p>\n' +
        '<p>Thanks</p>\n</div>',
    );
    expect(html).not.toMatch(/style=|<script/);
    expect(linksOf(html)).toEqual(['https://us.test/a?b=1&c=2', 'https://us.test/Foo_(bar)']);
    // A URL with a quote or an angle bracket after it stops there; a javascript: "link" stays text.
    expect(linksOf(textToHtml('x https://a.test/"onmouseover="y <https://b.test/> javascript:alert(1)'))).toEqual(['https://a.test/', 'https://b.test/']);
    expect(textToHtml('bare https:// only')).not.toContain('<a ');
  });

  it('rewrites only http(s) links and adds the pixel before </body>', () => {
    const html = '<html><body><a href="https://a.test/x?y=1&amp;z=2">a</a> <a href=\'mailto:m@x.test\'>m</a> <a name="n">n</a></body></html>';
    const out = withOpenPixel(rewriteLinks(html, (url) => `https://t.test/c?u=${encodeURIComponent(url)}`), 'https://t.test/o');
    expect(out).toContain('href="https://t.test/c?u=https%3A%2F%2Fa.test%2Fx%3Fy%3D1%26z%3D2"');
    expect(out).toContain("href='mailto:m@x.test'");
    expect(out).toMatch(/<img src="https:\/\/t.test\/o"[^>]*><\/body>/);
  });
});

describe('simulate', () => {
  it('shows the threaded subject, and says when a reply has no thread', () => {
    const definition = sequenceDefinitionSchema.parse(
      withSteps([email('a', { subject: 'Hi {{ lead.firstName }}' }), wait('w', 'P1D'), email('b', { subject: undefined }), wait('w2', 'P1D'), email('c', { subject: undefined })]),
    );
    const entries = simulate({ definition, lead: { id: 'l', firstName: 'Ann', email: 'ann@acme.test', timezone: 'UTC' }, start: new Date('2026-03-04T10:00:00Z') });
    const sends = entries.filter((e) => e.action === 'send').map((e) => e.detail.replace(/^email at .*?: /, ''));
    expect(sends).toEqual(['Hi Ann', 'Re: Hi Ann', 'Re: Hi Ann']);
  });
});
