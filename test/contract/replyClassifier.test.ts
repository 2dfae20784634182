/**
 * The AI reply classifier against a fake OpenAI-compatible server on 127.0.0.1: the fixed schema
 * it asks for, the answer validated against the class list, every failure a value (never a
 * throw), the key never in a result, and the mock deterministic.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAiWriter, type FakeOpenAiWriter } from '../../src/devtools/fakes/index.ts';
import { MockClassifier, OpenAiClassifier } from '../../src/delivery/writer/classifier.ts';

/** The fake model: a pure function of the reply it is shown. */
function answer(messages: ReadonlyArray<{ role: string; content: string }>): string {
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  if (user.includes('pineapple')) return '```json\n{"class": "not_now"}\n```';
  if (user.includes('angry')) return '{"class": "furious"}';
  if (user.includes('prose')) return 'I would say this person is interested.';
  return '{"class": "wrong_person"}';
}

describe('OpenAiClassifier', () => {
  let fake: FakeOpenAiWriter;
  let classifier: OpenAiClassifier;

  beforeAll(async () => {
    fake = await startFakeOpenAiWriter({ reply: answer });
    classifier = new OpenAiClassifier({ apiKey: fake.apiKey, baseUrl: `${fake.baseUrl}/v1/`, model: 'gpt-test', timeoutMs: 2_000 });
  });
  beforeEach(() => fake.reset());
  afterAll(async () => fake?.close());

  it('asks with the fixed schema and temperature 0, and sends the lead\'s own words only', async () => {
    const result = await classifier.classify({ subject: 'Re: Quick question', text: 'Ask Maria in purchasing.\n\nOn Mon, Sam wrote:\n> Interested in a demo?' });
    expect(result).toEqual({ kind: 'classified', class: 'wrong_person', model: 'gpt-test' });
    const body = fake.requests[0]!.body as { temperature: number; response_format: { json_schema: { schema: { properties: { class: { enum: string[] } } } } }; messages: Array<{ role: string; content: string }> };
    expect(body.temperature).toBe(0);
    expect(body.response_format.json_schema.schema.properties.class.enum).toEqual(['interested', 'not_interested', 'not_now', 'out_of_office', 'wrong_person', 'unsubscribe']);
    const user = body.messages.find((m) => m.role === 'user')!.content;
    expect(user).toContain('Subject: Re: Quick question');
    expect(user).toContain('Ask Maria in purchasing.');
    expect(user).not.toContain('Interested in a demo');
  });

  it('reads a fenced answer', async () => {
    expect(await classifier.classify({ text: 'pineapple season, ask me again' })).toMatchObject({ kind: 'classified', class: 'not_now' });
  });

  it('refuses a class not on the list and prose', async () => {
    expect(await classifier.classify({ text: 'angry words' })).toMatchObject({ kind: 'failed', code: 'invalid_answer' });
    expect(await classifier.classify({ text: 'prose please' })).toMatchObject({ kind: 'failed', code: 'invalid_answer' });
  });

  it('a refusal or a server error is a failure that never carries the key', async () => {
    const wrongKey = new OpenAiClassifier({ apiKey: 'sk-wrong-secret', baseUrl: `${fake.baseUrl}/v1`, model: 'm' });
    const refused = await wrongKey.classify({ text: 'hello' });
    expect(refused).toMatchObject({ kind: 'failed', code: '401' });
    expect(JSON.stringify(refused)).not.toContain('sk-wrong-secret');
    fake.failNext({ status: 500 });
    expect(await classifier.classify({ text: 'hello' })).toMatchObject({ kind: 'failed', code: '500' });
  });

  it('no answer within the timeout is a failure, not a wait', async () => {
    fake.hangNext();
    const quick = new OpenAiClassifier({ apiKey: fake.apiKey, baseUrl: `${fake.baseUrl}/v1`, model: 'm', timeoutMs: 200 });
    expect(await quick.classify({ text: 'hello' })).toMatchObject({ kind: 'failed', code: 'timeout' });
  });

  it('a connection refused is a failure too', async () => {
    const nowhere = new OpenAiClassifier({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1', model: 'm', timeoutMs: 1_000 });
    expect(await nowhere.classify({ text: 'hello' })).toMatchObject({ kind: 'failed', code: 'network' });
  });
});

describe('MockClassifier', () => {
  it('is deterministic: a question is interested, anything else not_now', async () => {
    const mock = new MockClassifier();
    expect(await mock.classify({ text: 'Could you send the deck?' })).toEqual({ kind: 'classified', class: 'interested', model: 'mock' });
    expect(await mock.classify({ text: 'Hm.\n> Any questions?' })).toEqual({ kind: 'classified', class: 'not_now', model: 'mock' });
    expect(await mock.classify({ text: 'Could you send the deck?' })).toEqual(await mock.classify({ text: 'Could you send the deck?' }));
  });
});
