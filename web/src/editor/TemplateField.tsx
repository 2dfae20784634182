/**
 * A template's text field with the variable picker beside it: the chosen variable goes in at the
 * cursor (or over the selection), which the field remembers while the picker has the focus.
 */
import { Group, Stack, Textarea, TextInput } from '@mantine/core';
import { useRef } from 'react';
import { insertAt } from '../../../src/core/templateVariables.ts';
import { VariablePicker } from './VariablePicker.tsx';

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  multiline?: boolean;
  readOnly?: boolean;
  description?: string;
  placeholder?: string;
}

export function TemplateField({ label, value, onChange, multiline = false, readOnly = false, description, placeholder }: Props) {
  const input = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  // Where the cursor was when the field last had it; the end of the text before that.
  const selection = useRef<{ start: number; end: number } | null>(null);
  const remember = () => {
    const el = input.current;
    if (el) selection.current = { start: el.selectionStart ?? value.length, end: el.selectionEnd ?? value.length };
  };
  const insert = (tag: string) => {
    const at = selection.current ?? { start: value.length, end: value.length };
    const next = insertAt(value, tag, at.start, at.end);
    onChange(next.text);
    selection.current = { start: next.cursor, end: next.cursor };
    // After React has written the new value: the cursor goes just past what was inserted.
    requestAnimationFrame(() => {
      const el = input.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(next.cursor, next.cursor);
    });
  };
  const common = {
    label,
    description,
    placeholder,
    value,
    readOnly,
    onChange: (e: { currentTarget: { value: string } }) => onChange(e.currentTarget.value),
    onSelect: remember,
    onKeyUp: remember,
    onClick: remember,
    onBlur: remember,
  };
  return (
    <Stack gap={4}>
      {multiline ? <Textarea ref={input} autosize minRows={3} {...common} /> : <TextInput ref={input} {...common} />}
      {!readOnly && (
        <Group gap="xs">
          <VariablePicker fieldLabel={label} onInsert={insert} />
        </Group>
      )}
    </Stack>
  );
}
