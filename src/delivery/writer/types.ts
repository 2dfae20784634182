/**
 * The AI writer port (`useAiWriter: true`): drafts a personalised version of a step's rendered
 * template. A draft is a value; a failure is a value too, and the step then sends its template.
 */
import type { Lead } from '../../core/definition.ts';

export interface DraftRequest {
  channel: 'email' | 'sms';
  /** The step's template, already rendered for this lead: the facts the draft must keep. */
  template: { subject?: string; text: string };
  lead: Lead;
  sequence: { name: string; description?: string };
  sender?: { name?: string; email?: string };
}

export type DraftResult =
  | { kind: 'drafted'; subject?: string; text: string; model: string }
  | { kind: 'failed'; code: string; message: string };

export interface AiWriter {
  /** Recorded on the execution: `mock`, `openai`. */
  readonly name: string;
  draft(request: DraftRequest): Promise<DraftResult>;
}
