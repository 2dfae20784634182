/**
 * The AI writer's endpoint as a second opinion on a reply's class (docs/ANALYTICS.md, "Reply
 * sentiment"): asked only when no rule recognised the reply. One OpenAI-compatible chat call with
 * a fixed JSON schema; the answer is validated against the class list, and anything else — no
 * answer in time, a refusal, prose, a class not on the list — is a failure value, after which the
 * rules' class stands. Never throws.
 */
import { isReplyClass, ownWords, REPLY_CLASSES, type ReplyClass } from '../../core/sentiment.ts';
import { type FetchLike, field, postJson, trimBaseUrl } from '../http.ts';

export interface ClassifyRequest {
  text: string;
  subject?: string;
}

export type ClassifyResult =
  | { kind: 'classified'; class: ReplyClass; model: string }
  | { kind: 'failed'; code: string; message: string };

export interface ReplyClassifier {
  /** `openai`, `mock`. */
  readonly name: string;
  classify(request: ClassifyRequest): Promise<ClassifyResult>;
}

/** A reply longer than this is cut: the first words say what it is, and tokens cost money. */
export const MAX_CLASSIFIED_CHARS = 4000;

const SYSTEM = [
  'You classify replies to sales outreach emails and text messages, in any language.',
  'Answer with JSON only: {"class": "<one of the classes>"}. Classes:',
  'interested (wants to talk, asks a question, asks for information),',
  'not_interested (declines),',
  'not_now (maybe later, bad timing, no budget now),',
  'out_of_office (an automatic absence reply),',
  'wrong_person (not the right contact, left the company, points to someone else),',
  'unsubscribe (asks not to be contacted again).',
].join(' ');

/** The fixed schema of the answer (OpenAI structured outputs; other servers may ignore it). */
const RESPONSE_FORMAT = {
  type: 'json_schema',
  json_schema: {
    name: 'reply_class',
    strict: true,
    schema: {
      type: 'object',
      properties: { class: { type: 'string', enum: [...REPLY_CLASSES] } },
      required: ['class'],
      additionalProperties: false,
    },
  },
} as const;

export interface OpenAiClassifierOptions {
  apiKey: string;
  /** Includes the version prefix: `https://api.openai.com/v1`. */
  baseUrl: string;
  model: string;
  timeoutMs?: number;
  fetch?: FetchLike;
}

export class OpenAiClassifier implements ReplyClassifier {
  readonly name = 'openai';
  private readonly options: OpenAiClassifierOptions & { timeoutMs: number };

  constructor(options: OpenAiClassifierOptions) {
    this.options = { ...options, baseUrl: trimBaseUrl(options.baseUrl), timeoutMs: options.timeoutMs ?? 5_000 };
  }

  async classify(request: ClassifyRequest): Promise<ClassifyResult> {
    const { apiKey, baseUrl, model, timeoutMs, fetch } = this.options;
    const reply = ownWords(request.text).trim().slice(0, MAX_CLASSIFIED_CHARS);
    const user = `${request.subject ? `Subject: ${request.subject.slice(0, 300)}\n\n` : ''}Reply:\n${reply}`;
    const outcome = await postJson(
      `${baseUrl}/chat/completions`,
      { model, temperature: 0, response_format: RESPONSE_FORMAT, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: user }] },
      { headers: { authorization: `Bearer ${apiKey}` }, timeoutMs, fetch },
    );
    if (outcome.kind === 'transport') return { kind: 'failed', code: outcome.code, message: `The AI classifier did not answer (${outcome.code}).` };
    if (outcome.status < 200 || outcome.status >= 300) {
      // The provider's own words may quote the key back; they are not kept.
      return { kind: 'failed', code: String(outcome.status), message: `The AI classifier refused (HTTP ${outcome.status}).` };
    }
    const choices = field(outcome.body, 'choices');
    const content = field(field(Array.isArray(choices) ? choices[0] : undefined, 'message'), 'content');
    const answered = typeof content === 'string' ? classOf(content) : undefined;
    if (!answered) {
      return { kind: 'failed', code: 'invalid_answer', message: `The AI classifier's answer is not one of ${REPLY_CLASSES.join(', ')}.` };
    }
    const usedModel = field(outcome.body, 'model');
    return { kind: 'classified', class: answered, model: typeof usedModel === 'string' ? usedModel : model };
  }
}

/** `{"class": "not_now"}`, fenced or not; nothing else is accepted. */
function classOf(content: string): ReplyClass | undefined {
  const stripped = content.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  try {
    const value = field(JSON.parse(stripped) as unknown, 'class');
    return isReplyClass(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The mock classifier: deterministic and crude, for tests and demos without a model. A reply that
 * asks something is `interested`, anything else `not_now`; its answers say `model: "mock"`.
 */
export class MockClassifier implements ReplyClassifier {
  readonly name = 'mock';

  async classify(request: ClassifyRequest): Promise<ClassifyResult> {
    return { kind: 'classified', class: ownWords(request.text).includes('?') ? 'interested' : 'not_now', model: 'mock' };
  }
}
