/**
 * Which writer `useAiWriter` steps get: the OpenAI-compatible API when a key is set; the mock
 * under mock delivery; none with live delivery and no key (steps send their template and say so,
 * because mock prose must never reach a real lead).
 */
import type { Config } from '../../config.ts';
import { OpenAiClassifier, type ReplyClassifier } from './classifier.ts';
import { MockWriter } from './mock.ts';
import { OpenAiWriter } from './openai.ts';
import type { AiWriter } from './types.ts';

export function createWriter(config: Config): AiWriter | undefined {
  if (config.AI_WRITER_API_KEY) {
    return new OpenAiWriter({
      apiKey: config.AI_WRITER_API_KEY,
      baseUrl: config.AI_WRITER_BASE_URL,
      model: config.AI_WRITER_MODEL,
      timeoutMs: config.AI_WRITER_TIMEOUT_MS,
    });
  }
  return config.USE_MOCK_SEQUENCE_DELIVERY ? new MockWriter() : undefined;
}

/**
 * Who gives a second opinion on a reply no rule recognised: the AI writer's endpoint when its key
 * is set; otherwise nobody (the rules' class stands). The mock classifier is never picked here:
 * a guessed class would steer real sequences.
 */
export function createReplyClassifier(config: Config): ReplyClassifier | undefined {
  if (!config.AI_WRITER_API_KEY) return undefined;
  return new OpenAiClassifier({
    apiKey: config.AI_WRITER_API_KEY,
    baseUrl: config.AI_WRITER_BASE_URL,
    model: config.AI_WRITER_MODEL,
    timeoutMs: config.AI_REPLY_CLASSIFIER_TIMEOUT_MS,
  });
}
