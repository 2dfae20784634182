/**
 * The mock writer: deterministic, so tests and the embedded demo show the same draft every time,
 * and marked, so nobody mistakes it for a model's text.
 */
import type { AiWriter, DraftRequest, DraftResult } from './types.ts';

export class MockWriter implements AiWriter {
  readonly name = 'mock';

  async draft(request: DraftRequest): Promise<DraftResult> {
    const { lead, template } = request;
    const who = lead.company ? `${lead.firstName ?? 'your team'} at ${lead.company}` : (lead.firstName ?? 'you');
    const text = request.channel === 'sms' ? template.text : `${template.text}\n\n(Written for ${who} by the mock AI writer.)`;
    return { kind: 'drafted', ...(template.subject !== undefined ? { subject: template.subject } : {}), text, model: 'mock' };
  }
}
