import { describe, expect, test } from 'vitest';
import { draftStep } from './draft.ts';
import { MockWriter } from './mock.ts';
import { OpenAiWriter } from './openai.ts';
import type { DraftRequest } from './types.ts';

const request: DraftRequest = {
  channel: 'email',
  template: { subject: 'Hi Lee', text: 'Hello Lee' },
  lead: { id: 'l1', firstName: 'Lee', company: 'Acme' },
  sequence: { name: 'Intro' },
};

function answering(status: number, body: unknown): typeof fetch {
  return async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const chat = (content: string) => ({ model: 'm-1', choices: [{ message: { role: 'assistant', content } }] });

describe('OpenAiWriter', () => {
  const writer = (fetch: typeof globalThis.fetch) => new OpenAiWriter({ apiKey: 'sk-secret', baseUrl: 'http://ai.test/v1/', model: 'm', fetch });

  test('reads the JSON it asked for, fenced or not, and the model that answered', async () => {
    const fenced = '```json\n{"subject": "Lee, a quick one", "body": "Hi Lee at Acme"}\n```';
    expect(await writer(answering(200, chat(fenced))).draft(request)).toEqual({ kind: 'drafted', subject: 'Lee, a quick one', text: 'Hi Lee at Acme', model: 'm-1' });
  });

  test('prose is the body; the template subject stays', async () => {
    expect(await writer(answering(200, chat('Hi Lee, quick one.'))).draft(request)).toMatchObject({ subject: 'Hi Lee', text: 'Hi Lee, quick one.' });
  });

  test('refusals and empty answers are failures with a code, and the key never leaks', async () => {
    const refused = await writer(answering(401, { error: { message: 'Incorrect API key provided: sk-secret' } })).draft(request);
    expect(refused).toMatchObject({ kind: 'failed', code: '401' });
    expect(JSON.stringify(refused)).not.toContain('sk-secret');
    expect(await writer(answering(200, chat('  '))).draft(request)).toMatchObject({ kind: 'failed', code: 'empty_draft' });
  });
});

describe('draftStep', () => {
  const definition = { name: 'Intro', steps: [] } as never;
  const email = { id: 'e', type: 'email', subject: 'Hi', body: 'Hello', useAiWriter: true } as const;

  test('steps without useAiWriter, and voice steps, are left alone', async () => {
    const plain = await draftStep(new MockWriter(), { ...email, useAiWriter: false }, { subject: 'Hi', text: 'Hello' }, { lead: request.lead, definition });
    expect(plain).toEqual({ content: { subject: 'Hi', text: 'Hello' }, notes: {} });
  });

  test('no writer, or one that throws, sends the template and says why', async () => {
    const none = await draftStep(undefined, email, { subject: 'Hi', text: 'Hello' }, { lead: request.lead, definition });
    expect(none).toMatchObject({ content: { text: 'Hello' }, notes: { aiDraft: false } });
    const throwing = { name: 'broken', draft: async () => Promise.reject(new Error('boom')) };
    const thrown = await draftStep(throwing, email, { subject: 'Hi', text: 'Hello' }, { lead: request.lead, definition });
    expect(thrown).toMatchObject({ content: { text: 'Hello' }, notes: { aiDraft: false, aiWriter: 'broken', aiFallback: 'boom' } });
  });

  test('the mock writer is deterministic', async () => {
    const a = await draftStep(new MockWriter(), email, { subject: 'Hi', text: 'Hello' }, { lead: request.lead, definition });
    const b = await draftStep(new MockWriter(), email, { subject: 'Hi', text: 'Hello' }, { lead: request.lead, definition });
    expect(a).toEqual(b);
    expect(a.notes).toMatchObject({ aiDraft: true, aiWriter: 'mock' });
    expect(a.content.text).toContain('Lee at Acme');
  });
});
