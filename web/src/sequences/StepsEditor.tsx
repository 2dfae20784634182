/** The list of steps: pick one to edit in its form, add, move or remove steps. */
import { Badge, Button, Group, Select, Stack } from '@mantine/core';
import { useState } from 'react';
import type { Problem, SequenceDefinition, Step } from '../api/types.ts';
import { insertStepAfter } from './builder.ts';
import { moveStep } from './rewire.ts';
import { STEP_TYPES } from './model.ts';
import type { PreviewContext } from '../editor/StepPreview.tsx';
import { StepForm } from './StepForm.tsx';

interface Props {
  definition: SequenceDefinition;
  byStep: Map<string, Problem[]>;
  selected: string | null;
  readOnly: boolean;
  onSelect: (id: string | null) => void;
  onChange: (definition: SequenceDefinition) => void;
}

/**
 * The rest of the definition a step's preview reads: the sender, the sequence's name, and for an
 * email without a subject the subject of the nearest email with one before it (the thread it
 * most likely answers; the engine answers the enrollment's previous email along its path).
 */
function previewContext(definition: SequenceDefinition, index: number): PreviewContext {
  const steps = Array.isArray(definition.steps) ? definition.steps : [];
  const thread = steps
    .slice(0, Math.max(0, index))
    .reverse()
    .find((s) => s.type === 'email' && typeof s.subject === 'string' && s.subject.trim() !== '')?.subject as string | undefined;
  const sender = definition.sender && typeof definition.sender === 'object' ? (definition.sender as PreviewContext['sender']) : undefined;
  return { sender, sequence: { name: definition.name, description: definition.description }, thread };
}

export function StepsEditor({ definition, byStep, selected, readOnly, onSelect, onChange }: Props) {
  const [type, setType] = useState<string | null>('email');
  const steps = Array.isArray(definition.steps) ? definition.steps : [];
  const index = steps.findIndex((s) => s.id === selected);
  const step = steps[index];
  const setSteps = (next: Step[]) => onChange({ ...definition, steps: next });

  return (
    <Stack gap="sm">
      <Group gap={6} role="list" aria-label="Steps">
        {steps.map((s, i) => (
          <Button
            key={`${s.id}-${i}`}
            role="listitem"
            size="compact-sm"
            variant={s.id === selected ? 'filled' : 'default'}
            color={byStep.has(s.id) ? 'red' : undefined}
            onClick={() => onSelect(s.id)}
            rightSection={byStep.has(s.id) ? <Badge size="xs" color="red">{byStep.get(s.id)!.length}</Badge> : undefined}
          >
            {i + 1}. {s.id}
          </Button>
        ))}
      </Group>
      {!readOnly && (
        <Group gap="xs" align="flex-end">
          <Select label="New step" data={STEP_TYPES} value={type} onChange={setType} w={140} allowDeselect={false} />
          <Button
            variant="light"
            onClick={() => {
              const inserted = insertStepAfter(definition, selected, (type ?? 'email') as Step['type']);
              onChange(inserted.definition);
              onSelect(inserted.id);
            }}
          >
            {step && step.type !== 'end' ? `Add after “${step.id}”` : 'Add step'}
          </Button>
        </Group>
      )}
      {step && (
        <StepForm
          step={step}
          stepIds={steps.map((s) => s.id)}
          problems={byStep.get(step.id) ?? []}
          readOnly={readOnly}
          preview={previewContext(definition, index)}
          onChange={(updated) => {
            const next = steps.slice();
            next[index] = updated;
            setSteps(next);
            if (updated.id !== step.id) onSelect(updated.id);
          }}
          onRemove={() => {
            setSteps(steps.filter((_, i) => i !== index));
            onSelect(steps[index + 1]?.id ?? steps[index - 1]?.id ?? null);
          }}
          onMove={(delta) => onChange(moveStep(definition, step.id, { index: index + delta }))}
        />
      )}
    </Stack>
  );
}
