/**
 * The step editor's routes (docs/SEQUENCES.md, "Writing steps"): the variables a template may
 * print, with the workspace's own custom-field keys and no other workspace's; and a draft step
 * rendered for a real lead — every variant, the variables the lead lacks, a threaded subject,
 * the HTML and text parts, the hints — with a clear 400 for a draft that cannot be rendered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';

describe('the step editor API', () => {
  let database: TestDatabase;
  let kit: ApiKit;
  let ada: string;
  let bare: string;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    kit = await createApiKit(database.db);
    const created = await kit.call('POST', '/api/leads', {
      body: { email: 'ada@acme.test', phone: '+14155550123', firstName: 'Ada', company: 'Acme & <Co>', customFields: { industry: 'Rail', 'Deal Size': '12k' } },
    });
    ada = created.body.id;
    bare = (await kit.call('POST', '/api/leads', { body: { email: 'bare@acme.test', customFields: { industry: 'Mining' } } })).body.id;
    await kit.call('POST', '/api/leads', { token: kit.other.admin, body: { email: 'x@other.test', customFields: { secretKey: 'x' } } });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const preview = (body: Record<string, unknown>, token?: string) => kit.call('POST', '/api/sequences/preview-step', { token, body: { leadId: ada, ...body } });

  it('lists lead, custom (this workspace only, most used first), sender and sequence variables', async () => {
    const { status, body } = await kit.call('GET', '/api/leads/fields', { token: kit.tokens.viewer });
    expect(status).toBe(200);
    expect(body.customFields).toEqual([
      { key: 'industry', leads: 2 },
      { key: 'Deal Size', leads: 1 },
    ]);
    const paths = body.variables.map((v: { path: string }) => v.path);
    expect(paths).toEqual(expect.arrayContaining(['lead.firstName', 'lead.custom.industry', 'lead.custom["Deal Size"]', 'sender.name', 'sequence.name']));
    expect(paths.join(' ')).not.toContain('secretKey');
    expect((await kit.call('GET', '/api/leads/fields', { token: null })).status).toBe(401);
  });

  it('renders an email for the lead: HTML escaped, the plain part, the picker’s variables, the hints', async () => {
    const { status, body } = await preview({
      step: {
        id: 'intro',
        type: 'email',
        format: 'markdown',
        subject: 'Hi {{ lead.firstName | default: "there" }} from {{ sender.name }}',
        body: '**{{ lead.company }}** in {{ lead.custom.industry }} ({{ lead.custom["Deal Size"] }}). Free [demo](https://example.com/demo)?',
      },
      sender: { name: 'Bob' },
    });
    expect(status).toBe(200);
    expect(body.type).toBe('email');
    expect(body.variants).toHaveLength(1);
    const [email] = body.variants;
    expect(email).toMatchObject({ variant: null, subject: 'Hi Ada from Bob', threaded: false, missing: [] });
    expect(email.html).toContain('<strong>Acme &amp; &lt;Co&gt;</strong>');
    expect(email.text).toContain('**Acme & <Co>** in Rail (12k)');
    expect(email.hints.email).toMatchObject({ links: 1, spamWords: ['free'], subjectCharacters: 15 });
    expect(email.hints.notes.join(' ')).toContain('“free”');
  });

  it('shows the HTML part a plain-text email carries beside its text: escaped, its bare link a link', async () => {
    const { status, body } = await preview({
      step: { id: 'intro', type: 'email', subject: 'Hi', body: 'Hi {{ lead.firstName }} of {{ lead.company }},\n\nsee https://example.com/demo.' },
    });
    expect(status).toBe(200);
    const [email] = body.variants;
    expect(email.text).toBe('Hi Ada of Acme & <Co>,\n\nsee https://example.com/demo.');
    expect(email.html).toContain('<p>Hi Ada of Acme &amp; &lt;Co&gt;,</p>');
    expect(email.html).toContain('<a href="https://example.com/demo">https://example.com/demo</a>.');
    // SMS has no HTML part.
    const sms = await preview({ step: { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName }}' } });
    expect(sms.body.variants[0].html).toBeNull();
  });

  it('renders each variant, and lists the variables the lead lacks without refusing', async () => {
    const { status, body } = await preview({
      leadId: bare,
      step: {
        id: 'intro',
        type: 'email',
        subject: 'Hi {{ lead.firstName }}',
        body: 'About {{ lead.company | default: "your team" }}',
        variants: [{ id: 'a' }, { id: 'b', subject: 'Question for {{ lead.title }}', body: 'B body' }],
      },
    });
    expect(status).toBe(200);
    expect(body.variants.map((v: { variant: string; subject: string; text: string; missing: string[] }) => [v.variant, v.subject, v.text, v.missing])).toEqual([
      ['a', 'Hi ', 'About your team', ['lead.firstName']],
      ['b', 'Question for ', 'B body', ['lead.title']],
    ]);
    expect(body.missing).toEqual(['lead.firstName', 'lead.title']);
  });

  it('shows a subject-less email as a reply in the thread it answers', async () => {
    const { body } = await preview({ step: { id: 'bump', type: 'email', body: 'Any thoughts?' }, thread: 'Hi {{ lead.firstName }}' });
    expect(body.variants[0]).toMatchObject({ subject: 'Re: Hi Ada', threaded: true });
    const alone = await preview({ step: { id: 'bump', type: 'email', body: 'Any thoughts?' } });
    expect(alone.body.variants[0]).toMatchObject({ subject: null, threaded: true });
  });

  it('counts SMS parts and encoding, and times a call script', async () => {
    const gsm = await preview({ step: { id: 'nudge', type: 'sms', text: `Hi {{ lead.firstName }}, ${'x'.repeat(160)}` } });
    expect(gsm.body.variants[0].hints.sms).toMatchObject({ encoding: 'GSM-7', characters: 168, segments: 2, perSegment: 153 });
    const ucs = await preview({ step: { id: 'nudge', type: 'sms', text: 'Hi {{ lead.firstName }}, it’s me' } });
    expect(ucs.body.variants[0].hints.sms).toMatchObject({ encoding: 'UCS-2', segments: 1, perSegment: 70, nonGsm: ['’'] });
    expect(ucs.body.variants[0].hints.notes[0]).toContain('UCS-2');
    const call = await preview({ step: { id: 'call', type: 'voice', script: 'Hi {{ lead.firstName }}, this is {{ sender.name | default: "Bob" }}.', voicemail: 'Call me, {{ lead.firstName }}' } });
    expect(call.body.variants[0]).toMatchObject({ text: 'Hi Ada, this is Bob.', voicemail: 'Call me, Ada', hints: { script: { words: 5 } } });
  });

  it('answers 400 with the path and a sentence for a draft that cannot be rendered', async () => {
    const broken = await preview({ step: { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello {{ lead.firstName ' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_step');
    expect(broken.body.error.message).toMatch(/^The step cannot be previewed: \$\.step\.body: The template does not parse/);
    const fileTag = await preview({ step: { id: 'intro', type: 'sms', text: '{% render "x" %}' } });
    expect(fileTag.status).toBe(400);
    expect(fileTag.body.error.details.problems[0].path).toBe('$.step.text');
    const noBody = await preview({ step: { id: 'intro', type: 'email', subject: 'Hi' } });
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.message).toContain('$.step.body');
    const wait = await preview({ step: { id: 'pause', type: 'wait', duration: 'P1D' } });
    expect(wait.status).toBe(400);
    expect(wait.body.error.message).toContain('Only email, sms and voice steps');
    const link = await preview({ step: { id: 'intro', type: 'email', format: 'html', body: '<a href="javascript:alert(1)">x</a>' } });
    expect(link.status).toBe(400);
    const badLead = await preview({ leadId: 'nope', step: { id: 'intro', type: 'sms', text: 'Hi' } });
    expect(badLead.status).toBe(400);
  });

  it('is scoped to the workspace and open to viewers', async () => {
    const step = { id: 'nudge', type: 'sms', text: 'Hi {{ lead.firstName }}' };
    expect((await preview({ step }, kit.tokens.viewer)).status).toBe(200);
    const other = await preview({ step }, kit.other.admin);
    expect(other.status).toBe(404);
    expect(other.body.error.message).toContain(ada);
    expect((await preview({ step }, null as unknown as string)).status).toBe(401);
  });
});
