/**
 * A fake OpenAI-compatible chat API (`POST /v1/chat/completions`) for the AI writer. The draft
 * is a pure function of the request's messages, so tests can assert it exactly.
 */
import { createHash } from 'node:crypto';
import { bearerToken, FakeServer, type FakeReply, isObject, type RecordedRequest } from './server.ts';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface FakeWriterOptions {
  apiKey?: string;
  /** Replace the default draft; must stay deterministic. */
  reply?: (messages: readonly ChatMessage[]) => string;
}

/** The default draft: a digest of the whole prompt, then the last user message's first line. */
export function defaultDraft(messages: readonly ChatMessage[]): string {
  const digest = createHash('sha256').update(JSON.stringify(messages)).digest('hex').slice(0, 8);
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  const firstLine = lastUser?.content.split('\n')[0]?.trim() ?? '';
  return `Draft ${digest}: ${firstLine}`;
}

export class FakeOpenAiWriter extends FakeServer {
  readonly apiKey: string;
  private readonly reply: (messages: readonly ChatMessage[]) => string;
  private completions = 0;

  constructor(options: FakeWriterOptions = {}) {
    super();
    this.apiKey = options.apiKey ?? 'sk-fake-writer-key';
    this.reply = options.reply ?? defaultDraft;
  }

  protected override resetState(): void {
    this.completions = 0;
  }

  protected override errorBody(status: number): unknown {
    if (status === 401) return openAiError('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    if (status === 429) return openAiError('Rate limit reached for requests.', 'requests', 'rate_limit_exceeded');
    if (status >= 500) return openAiError('The server had an error while processing your request.', 'server_error', null);
    return openAiError(`Error ${status}.`, 'invalid_request_error', null);
  }

  protected override handle(request: RecordedRequest): FakeReply {
    if (request.method !== 'POST' || request.path !== '/v1/chat/completions') {
      return { status: 404, body: openAiError(`Unknown request URL: ${request.method} ${request.path}.`, 'invalid_request_error', 'unknown_url') };
    }
    if (bearerToken(request.headers) !== this.apiKey) return { status: 401, body: this.errorBody(401) };
    const body = request.body;
    if (!isObject(body)) return { status: 400, body: openAiError('We could not parse the JSON body of your request.', 'invalid_request_error', null) };
    if (typeof body.model !== 'string' || body.model === '') {
      return { status: 400, body: openAiError('you must provide a model parameter', 'invalid_request_error', null, 'model') };
    }
    const messages = body.messages;
    const valid =
      Array.isArray(messages) &&
      messages.length > 0 &&
      messages.every((m) => isObject(m) && typeof m.role === 'string' && typeof m.content === 'string');
    if (!valid) {
      return { status: 400, body: openAiError("'messages' must be a non-empty array of {role, content}.", 'invalid_request_error', null, 'messages') };
    }

    const chat = messages as ChatMessage[];
    const content = this.reply(chat);
    this.completions += 1;
    const promptTokens = tokens(chat.map((m) => m.content).join(' '));
    const completionTokens = tokens(content);
    return {
      status: 200,
      body: {
        id: `chatcmpl-fake${this.completions}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      },
    };
  }
}

export async function startFakeOpenAiWriter(options: FakeWriterOptions = {}): Promise<FakeOpenAiWriter> {
  return new FakeOpenAiWriter(options).start();
}

function openAiError(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

/** A rough count (about four characters a token); only the shape of `usage` matters here. */
function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
