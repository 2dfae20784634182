/**
 * Where the AI writer meets a step: after rendering, before the intent, so the draft is what
 * the execution row stores and the timeline shows. A failure never blocks the send: the
 * rendered template goes out and the row says why.
 */
import type { StepContent } from '../../core/content.ts';
import type { DeliveryStep, Lead, SequenceDefinition } from '../../core/definition.ts';
import type { AiWriter } from './types.ts';

export interface Drafted {
  content: StepContent;
  /** Merged into the execution's `rendered`: `aiDraft`, the writer, and a fallback's reason. */
  notes: Record<string, unknown>;
}

export async function draftStep(
  writer: AiWriter | undefined,
  step: DeliveryStep,
  content: StepContent,
  context: { lead: Lead; definition: SequenceDefinition },
): Promise<Drafted> {
  if (step.type === 'voice' || !step.useAiWriter) return { content, notes: {} };
  if (!writer) return { content, notes: { aiDraft: false, aiFallback: 'no AI writer is configured (AI_WRITER_API_KEY)' } };
  const { definition, lead } = context;
  let result;
  try {
    result = await writer.draft({
      channel: step.type,
      template: { ...(content.subject !== undefined ? { subject: content.subject } : {}), text: content.text },
      lead,
      sequence: { name: definition.name, description: definition.description },
      sender: definition.sender,
    });
  } catch (error) {
    result = { kind: 'failed' as const, code: 'writer_error', message: error instanceof Error ? error.message : String(error) };
  }
  if (result.kind === 'failed') {
    return { content, notes: { aiDraft: false, aiWriter: writer.name, aiFallback: result.message, aiErrorCode: result.code } };
  }
  const drafted: StepContent = { ...content, text: result.text, ...(step.type === 'email' && result.subject ? { subject: result.subject } : {}) };
  return { content: drafted, notes: { aiDraft: true, aiWriter: writer.name, aiModel: result.model, template: { subject: content.subject, text: content.text } } };
}
