/** What a delivery step says to one lead: its templates rendered with the lead, sender, sequence. */
import type { DeliveryStep, Lead, SequenceDefinition, TaskStep } from './definition.ts';
import { htmlToText, markdownToHtmlTemplate } from './emailBody.ts';
import { leadScope, missingVariables, renderForReading, renderTemplate, renderWithBlanks, VariableScope, type RenderMode, type TemplateScope } from './templates.ts';

export interface StepContent {
  /** Email: absent when the step answers in the thread (the engine writes `Re: …`). */
  subject?: string;
  /** The plain-text part (email), the message (sms) or the script (voice). */
  text: string;
  /** Email with `format` `markdown` or `html`: the HTML part, lead data escaped. */
  html?: string;
  /** Voice only: what is left on an answering machine. */
  voicemail?: string;
}

export interface ContentContext {
  lead: Lead;
  definition: SequenceDefinition;
}

function scopeOf({ lead, definition }: ContentContext): TemplateScope {
  return {
    lead: leadScope(lead),
    sender: { ...(definition.sender ?? {}) },
    sequence: { name: definition.name, description: definition.description },
  };
}

/** Every template the step may send, its A/B variants' included (a lead may get any of them). */
export function templatesOf(step: DeliveryStep): string[] {
  switch (step.type) {
    case 'email':
      return [step.subject, step.body, ...(step.variants ?? []).flatMap((v) => [v.subject, v.body])].filter((t): t is string => t !== undefined);
    case 'sms':
      return [step.text, ...(step.variants ?? []).map((v) => v.text)].filter((t): t is string => t !== undefined);
    case 'voice':
      return step.voicemail ? [step.script, step.voicemail] : [step.script];
  }
}

type Render = (template: string, scope: TemplateScope, mode?: RenderMode) => string;

/** Throws `TemplateError` when a variable without a default is empty for this lead. */
export function renderStepContent(step: DeliveryStep, context: ContentContext): StepContent {
  return renderWith(step, scopeOf(context), renderTemplate);
}

/** What a draft step's preview needs besides the step: the lead, and the sequence's sender and name. */
export interface DraftContext {
  lead: Lead;
  sender?: Record<string, unknown>;
  sequence?: { name?: string; description?: string };
}

/**
 * A draft step rendered for one lead, for the editor's preview: the variables the lead lacks
 * (without a default) print empty and are listed in `missing`, where a send would refuse. A
 * template that does not parse or goes over a limit still throws `TemplateError`.
 */
export function renderDraftContent(step: DeliveryStep, context: DraftContext): { content: StepContent; missing: string[] } {
  const scope: TemplateScope = {
    lead: leadScope(context.lead),
    sender: { ...(context.sender ?? {}) },
    sequence: { name: context.sequence?.name, description: context.sequence?.description },
  };
  const lookup = new VariableScope(scope);
  const missing = new Set<string>();
  const render: Render = (template, s, mode) => {
    const content = renderWithBlanks(template, s, mode); // parses first: a bad template throws its own sentence
    for (const name of missingVariables(template, lookup)) missing.add(name);
    return content;
  };
  return { content: renderWith(step, scope, render), missing: [...missing] };
}

function renderWith(step: DeliveryStep, scope: TemplateScope, render: Render): StepContent {
  switch (step.type) {
    case 'email': {
      const subject = step.subject?.trim() ? render(step.subject, scope) : undefined;
      switch (step.format) {
        case 'markdown':
          // The Markdown itself, rendered as text, is the plain part: Markdown reads as plain text.
          return { subject, text: render(step.body, scope), html: render(markdownToHtmlTemplate(step.body), scope, 'html') };
        case 'html': {
          const html = render(step.body, scope, 'html');
          return { subject, text: htmlToText(html), html };
        }
        default:
          return { subject, text: render(step.body, scope) };
      }
    }
    case 'sms':
      return { text: render(step.text, scope) };
    case 'voice':
      return {
        text: render(step.script, scope),
        voicemail: step.voicemail ? render(step.voicemail, scope) : undefined,
      };
  }
}

/** A task as the person doing it reads it: title and description rendered for the lead (blanks where it lacks a field). */
export function renderTaskText(step: TaskStep, context: ContentContext): { title: string; description: string | null } {
  const scope = scopeOf(context);
  return {
    title: renderForReading(step.title, scope).trim() || step.id,
    description: step.description ? renderForReading(step.description, scope).trim() || null : null,
  };
}

/**
 * Every variable some delivery step of the sequence would leave blank for this lead (but the
 * steps of `skippedChannels`, which it will not receive). Each
 * template is parsed once (`missingVariables` keeps them parsed); per lead only its variables
 * are looked up, in one scope.
 */
export function missingVariablesForLead(definition: SequenceDefinition, lead: Lead, skippedChannels: readonly string[] = []): string[] {
  const scope = new VariableScope(scopeOf({ lead, definition }));
  const missing = new Set<string>();
  for (const step of definition.steps) {
    if (step.type !== 'email' && step.type !== 'sms' && step.type !== 'voice') continue;
    if (skippedChannels.includes(step.type)) continue; // a step the lead will not receive renders nothing for it
    for (const template of templatesOf(step)) {
      try {
        for (const name of missingVariables(template, scope)) missing.add(name);
      } catch {
        missing.add(`(template of step "${step.id}" does not parse)`);
      }
    }
  }
  return [...missing];
}
