/** A structured form for one step, by type; edits go straight into the definition. */
import { Alert, Button, Group, Paper, SegmentedControl, Select, Stack, Switch, TagsInput, Text, TextInput, Textarea } from '@mantine/core';
import { leadConditionSchema } from '../../../src/core/definition.ts';
import type { Problem, Step } from '../api/types.ts';
import { StepPreview, type PreviewContext } from '../editor/StepPreview.tsx';
import { TemplateField } from '../editor/TemplateField.tsx';
import { VariantFields } from '../editor/VariantFields.tsx';
import type { PropertyCondition } from './customEvents.ts';
import { EventConditionFields } from './EventConditionFields.tsx';
import { outcomesOf, routesOf } from './rewire.ts';

/** How a lead condition compares, from the core's schema. */
const CONDITION_OPS = leadConditionSchema.shape.op.options;

interface Props {
  step: Step;
  stepIds: string[];
  problems: Problem[];
  readOnly: boolean;
  /** What an email, SMS or call step's preview needs from the rest of the definition. */
  preview: PreviewContext;
  onChange: (step: Step) => void;
  onRemove: () => void;
  onMove: (delta: -1 | 1) => void;
}

type When = { event?: string; step?: string; where?: PropertyCondition; outcome?: string[]; lead?: { field: string; op: string; value?: unknown } };

function text(step: Step, key: string): string {
  const v = step[key];
  return typeof v === 'string' ? v : '';
}

/** A task's routes with one outcome's jump set or, cleared, removed (no routes left: none written). */
function withRoute(routes: Record<string, string>, outcome: string, to: string | null): Record<string, string> | undefined {
  const next = { ...routes };
  if (to) next[outcome] = to;
  else delete next[outcome];
  return Object.keys(next).length > 0 ? next : undefined;
}

export function StepForm({ step, stepIds, problems, readOnly, preview, onChange, onRemove, onMove }: Props) {
  const set = (key: string, value: unknown) => {
    const copy: Step = { ...step, [key]: value };
    if (value === undefined || value === '') delete copy[key];
    onChange(copy);
  };
  const field = (key: string, label: string, multiline = false) =>
    multiline ? (
      <Textarea label={label} value={text(step, key)} onChange={(e) => set(key, e.currentTarget.value)} autosize minRows={3} readOnly={readOnly} />
    ) : (
      <TextInput label={label} value={text(step, key)} onChange={(e) => set(key, e.currentTarget.value)} readOnly={readOnly} />
    );
  /** A template field, with the variable picker. */
  const template = (key: string, label: string, multiline = false, extra: { description?: string; placeholder?: string } = {}) => (
    <TemplateField label={label} value={text(step, key)} onChange={(value) => set(key, value)} multiline={multiline} readOnly={readOnly} {...extra} />
  );
  const target = (key: string, label: string, clearable = false) => (
    <Select label={label} data={stepIds} value={text(step, key) || null} onChange={(v) => set(key, v ?? undefined)} clearable={clearable} readOnly={readOnly} />
  );
  const when = (step.when ?? {}) as When;
  const conditionKind = when.outcome ? 'outcome' : when.lead ? 'lead' : 'event';

  return (
    <Paper withBorder p="md" radius="md" data-testid={`step-form-${step.id}`}>
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={600}>
            {step.type} step “{step.id}”
          </Text>
          {!readOnly && (
            <Group gap={4}>
              <Button size="compact-xs" variant="default" onClick={() => onMove(-1)} aria-label="Move step up">↑</Button>
              <Button size="compact-xs" variant="default" onClick={() => onMove(1)} aria-label="Move step down">↓</Button>
              <Button size="compact-xs" color="red" variant="light" onClick={onRemove}>Remove</Button>
            </Group>
          )}
        </Group>
        {problems.map((p, i) => (
          <Alert key={i} color="red" p="xs" role="alert">
            <code>{p.path}</code> {p.message}
          </Alert>
        ))}
        <Group grow preventGrowOverflow={false} wrap="wrap">
          {field('id', 'Step id')}
          {field('name', 'Name (optional)')}
        </Group>
        {step.type === 'email' && (
          <>
            {template('subject', 'Subject (optional)', false, {
              description: 'Empty = reply in thread: sent as “Re: <previous subject>” in the thread of the lead\'s previous email.',
              placeholder: 'Reply in thread',
            })}
            <Select
              label="Body format"
              data={[
                { value: 'text', label: 'Plain text' },
                { value: 'markdown', label: 'Markdown (sent as text + HTML)' },
                { value: 'html', label: 'HTML (sent as HTML + derived text)' },
              ]}
              value={text(step, 'format') || 'text'}
              onChange={(v) => set('format', v === 'text' ? undefined : (v ?? undefined))}
              allowDeselect={false}
              readOnly={readOnly}
            />
            {template('body', 'Body', true)}
            <VariantFields step={step} readOnly={readOnly} onChange={(variants) => set('variants', variants)} />
            <Switch label="Draft with the AI writer" checked={step.useAiWriter === true} onChange={(e) => set('useAiWriter', e.currentTarget.checked)} disabled={readOnly} />
          </>
        )}
        {step.type === 'sms' && (
          <>
            {template('text', 'Text', true)}
            <VariantFields step={step} readOnly={readOnly} onChange={(variants) => set('variants', variants)} />
            <Switch label="Draft with the AI writer" checked={step.useAiWriter === true} onChange={(e) => set('useAiWriter', e.currentTarget.checked)} disabled={readOnly} />
          </>
        )}
        {step.type === 'voice' && (
          <>
            {template('script', 'Script spoken to a person', true)}
            {template('voicemail', 'Voicemail (optional)', true)}
          </>
        )}
        {step.type === 'wait' && (
          <>
            {field('duration', 'Duration (ISO-8601: PT30M, PT4H, P2D)')}
            <Switch label="Count days as business days" checked={step.businessDays === true} onChange={(e) => set('businessDays', e.currentTarget.checked)} disabled={readOnly} />
          </>
        )}
        {step.type === 'branch' && (
          <>
            <SegmentedControl
              aria-label="Condition"
              value={conditionKind}
              onChange={(kind) => set('when', kind === 'outcome' ? { outcome: ['connected'] } : kind === 'lead' ? { lead: { field: 'company', op: 'exists' } } : { event: 'email.opened' })}
              data={[
                { value: 'event', label: 'An event' },
                { value: 'outcome', label: 'An outcome' },
                { value: 'lead', label: 'A lead field' },
              ]}
              disabled={readOnly}
            />
            {conditionKind === 'event' && <EventConditionFields when={when} stepIds={stepIds} readOnly={readOnly} onChange={(next) => set('when', next)} />}
            {conditionKind === 'outcome' && (
              <TagsInput label="Outcomes that take the “then” way" value={when.outcome ?? []} onChange={(v) => set('when', { outcome: v })} readOnly={readOnly} />
            )}
            {conditionKind === 'lead' && when.lead && (
              <Group grow preventGrowOverflow={false} wrap="wrap">
                <TextInput label="Field" value={when.lead.field} onChange={(e) => set('when', { lead: { ...when.lead!, field: e.currentTarget.value } })} readOnly={readOnly} />
                <Select
                  label="Test"
                  data={CONDITION_OPS}
                  value={when.lead.op}
                  onChange={(v) => set('when', { lead: { ...when.lead!, op: v ?? 'exists' } })}
                  readOnly={readOnly}
                />
                <TextInput label="Value" value={String(when.lead.value ?? '')} onChange={(e) => set('when', { lead: { ...when.lead!, value: e.currentTarget.value } })} readOnly={readOnly} />
              </Group>
            )}
            {field('within', 'Wait at most (ISO-8601, e.g. PT4H)')}
            <Group grow preventGrowOverflow={false} wrap="wrap">
              {target('then', 'Then go to')}
              {target('else', 'Else go to')}
            </Group>
          </>
        )}
        {step.type === 'task' && (
          <>
            {field('title', 'Title')}
            {field('description', 'Description (optional)', true)}
            <TagsInput
              label="Outcomes"
              value={Array.isArray(step.outcomes) ? (step.outcomes as string[]) : []}
              onChange={(v) => set('outcomes', v)}
              readOnly={readOnly}
            />
            <Group grow preventGrowOverflow={false} wrap="wrap">
              {outcomesOf(step).map((outcome) => (
                <Select
                  key={outcome}
                  label={`When “${outcome}”, go to`}
                  placeholder="The next step"
                  data={stepIds}
                  value={routesOf(step)[outcome] ?? null}
                  onChange={(v) => set('routes', withRoute(routesOf(step), outcome, v))}
                  clearable
                  readOnly={readOnly}
                />
              ))}
            </Group>
          </>
        )}
        {step.type !== 'branch' && step.type !== 'end' && target('next', 'Then jump to (default: the next step)', true)}
        {(step.type === 'email' || step.type === 'sms' || step.type === 'voice') && <StepPreview step={step} context={preview} />}
      </Stack>
    </Paper>
  );
}
