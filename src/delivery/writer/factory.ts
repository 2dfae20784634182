/**
 * Which writer `useAiWriter` steps get: the OpenAI-compatible API when a key is set; the mock
 * under mock delivery; none with live delivery and no key (steps send their template and say so,
 * because mock prose must never reach a real lead).
 */
import type { Config } from '../../config.ts';
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
