/**
 * An OpenAI-compatible chat-completions writer over plain `fetch` (any server speaking
 * `POST {base}/chat/completions`: OpenAI, Azure-style gateways, local model servers).
 */
import { type FetchLike, field, postJson, trimBaseUrl } from '../http.ts';
import type { AiWriter, DraftRequest, DraftResult } from './types.ts';

export interface OpenAiWriterOptions {
  apiKey: string;
  /** Includes the version prefix: `https://api.openai.com/v1`. */
  baseUrl: string;
  model: string;
  timeoutMs?: number;
  fetch?: FetchLike;
}

const SYSTEM = [
  'You personalise sales outreach messages.',
  'Rewrite the given message for this lead: keep every fact, link, name, date and the call to action;',
  'invent nothing about the lead or the sender; keep the language and a plain, friendly tone.',
].join(' ');

export class OpenAiWriter implements AiWriter {
  readonly name = 'openai';
  private readonly options: OpenAiWriterOptions & { timeoutMs: number };

  constructor(options: OpenAiWriterOptions) {
    this.options = { ...options, baseUrl: trimBaseUrl(options.baseUrl), timeoutMs: options.timeoutMs ?? 15_000 };
  }

  async draft(request: DraftRequest): Promise<DraftResult> {
    const { apiKey, baseUrl, model, timeoutMs, fetch } = this.options;
    const outcome = await postJson(
      `${baseUrl}/chat/completions`,
      { model, temperature: 0.4, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: prompt(request) }] },
      { headers: { authorization: `Bearer ${apiKey}` }, timeoutMs, fetch },
    );
    if (outcome.kind === 'transport') {
      return { kind: 'failed', code: outcome.code, message: `The AI writer did not answer (${outcome.code}).` };
    }
    if (outcome.status < 200 || outcome.status >= 300) {
      const detail = field(field(outcome.body, 'error'), 'message');
      const said = typeof detail === 'string' ? `: ${detail.replaceAll(apiKey, '[redacted]').slice(0, 200)}` : '.';
      return { kind: 'failed', code: String(outcome.status), message: `The AI writer refused (HTTP ${outcome.status})${said}` };
    }
    const choices = field(outcome.body, 'choices');
    const content = field(field(Array.isArray(choices) ? choices[0] : undefined, 'message'), 'content');
    if (typeof content !== 'string' || content.trim() === '') {
      return { kind: 'failed', code: 'empty_draft', message: 'The AI writer answered without a draft.' };
    }
    const draft = readDraft(content, request);
    const usedModel = field(outcome.body, 'model');
    return { kind: 'drafted', ...draft, model: typeof usedModel === 'string' ? usedModel : model };
  }
}

function prompt(request: DraftRequest): string {
  const { lead, template, sequence, sender, channel } = request;
  const facts = Object.entries({
    firstName: lead.firstName,
    lastName: lead.lastName,
    company: lead.company,
    title: lead.title,
    ...(lead.customFields ?? {}),
  }).filter(([, value]) => value !== undefined && value !== null && value !== '');
  const shape =
    channel === 'email'
      ? 'Answer with JSON only: {"subject": "...", "body": "..."} (plain text body, no signature block beyond the one given).'
      : 'Answer with JSON only: {"body": "..."}; at most 300 characters, plain text.';
  return [
    template.subject !== undefined ? `Subject: ${template.subject}` : undefined,
    `Message:\n${template.text}`,
    `Lead: ${JSON.stringify(Object.fromEntries(facts))}`,
    `Sequence: ${sequence.name}${sequence.description ? ` (${sequence.description})` : ''}`,
    sender?.name ? `Sender: ${sender.name}` : undefined,
    shape,
  ]
    .filter((line) => line !== undefined)
    .join('\n\n');
}

/** JSON as asked; a model that answered in prose still gave a usable body. */
function readDraft(content: string, request: DraftRequest): { subject?: string; text: string } {
  const stripped = content.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  try {
    const parsed: unknown = JSON.parse(stripped);
    const body = field(parsed, 'body');
    const subject = field(parsed, 'subject');
    if (typeof body === 'string' && body.trim() !== '') {
      const keptSubject = typeof subject === 'string' && subject.trim() !== '' ? subject.trim() : request.template.subject;
      return { ...(keptSubject !== undefined ? { subject: keptSubject } : {}), text: body.trim() };
    }
  } catch {
    // prose: fall through
  }
  return { ...(request.template.subject !== undefined ? { subject: request.template.subject } : {}), text: content.trim() };
}
