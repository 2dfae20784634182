/**
 * A/B variants of an email or SMS step (docs/SEQUENCES.md, "A/B variants"): each variant's own
 * subject, body or text, with the picker; what a variant leaves empty comes from the step. A
 * test has 2 to 10 variants, so the first click adds two and removing the second-last ends it.
 */
import { Button, Group, Paper, Stack, Text } from '@mantine/core';
import { MAX_VARIANTS } from '../../../src/core/definition.ts';
import type { Step } from '../api/types.ts';
import { TemplateField } from './TemplateField.tsx';

type Variant = { id: string; weight?: number; subject?: string; body?: string; text?: string };

function nextId(variants: Variant[]): string {
  for (let i = 0; ; i++) {
    const id = String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String(Math.floor(i / 26)) : '');
    if (!variants.some((v) => v.id === id)) return id;
  }
}

export function VariantFields({ step, readOnly, onChange }: { step: Step; readOnly: boolean; onChange: (variants: Variant[] | undefined) => void }) {
  const variants = Array.isArray(step.variants) ? (step.variants as Variant[]) : [];
  const fields: [keyof Variant, string, boolean][] = step.type === 'email' ? [['subject', 'Subject', false], ['body', 'Body', true]] : [['text', 'Text', true]];
  const update = (index: number, key: keyof Variant, value: string) =>
    onChange(
      variants.map((v, i) => {
        if (i !== index) return v;
        const copy = { ...v, [key]: value };
        if (value === '') delete copy[key]; // empty: the step's own text
        return copy;
      }),
    );
  const add = () => (variants.length === 0 ? onChange([{ id: 'a' }, { id: 'b' }]) : onChange([...variants, { id: nextId(variants) }]));
  const remove = (index: number) => {
    const rest = variants.filter((_, i) => i !== index);
    onChange(rest.length < 2 ? undefined : rest);
  };

  return (
    <Stack gap="xs">
      {variants.map((variant, index) => (
        <Paper key={`${variant.id}-${index}`} withBorder p="xs" radius="sm" data-testid={`variant-${variant.id}`}>
          <Stack gap={6}>
            <Group justify="space-between">
              <Text size="sm" fw={600}>
                Variant {variant.id}
              </Text>
              {!readOnly && (
                <Button size="compact-xs" variant="subtle" color="red" onClick={() => remove(index)} aria-label={`Remove variant ${variant.id}`}>
                  Remove
                </Button>
              )}
            </Group>
            {fields.map(([key, label, multiline]) => (
              <TemplateField
                key={key}
                label={`Variant ${variant.id}: ${label.toLowerCase()}`}
                placeholder={`Empty: the step's ${label.toLowerCase()}`}
                value={typeof variant[key] === 'string' ? (variant[key] as string) : ''}
                onChange={(value) => update(index, key, value)}
                multiline={multiline}
                readOnly={readOnly}
              />
            ))}
          </Stack>
        </Paper>
      ))}
      {!readOnly && variants.length < MAX_VARIANTS && (
        <Group>
          <Button size="xs" variant="default" onClick={add}>
            {variants.length === 0 ? 'Add A/B variants' : 'Add a variant'}
          </Button>
        </Group>
      )}
    </Stack>
  );
}
