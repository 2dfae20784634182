/** The editor's working copy: the definition, its JSON text, and the server's validation of it. */
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { post } from '../api/client.ts';
import type { SequenceDefinition, Validation } from '../api/types.ts';
import { problemsByStep } from './model.ts';

export function useSequenceDraft(initial: SequenceDefinition) {
  const [definition, setDefinitionState] = useState<SequenceDefinition>(initial);
  const [jsonText, setJsonText] = useState(() => JSON.stringify(initial, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);

  const setDefinition = (next: SequenceDefinition) => {
    setDefinitionState(next);
    setJsonText(JSON.stringify(next, null, 2));
    setJsonError(null);
  };
  const setJson = (text: string) => {
    setJsonText(text);
    try {
      const parsed = JSON.parse(text) as SequenceDefinition;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('The document must be a JSON object.');
      setDefinitionState(parsed);
      setJsonError(null);
    } catch (error) {
      setJsonError((error as Error).message);
    }
  };

  const [debounced] = useDebouncedValue(definition, 400);
  const validation = useQuery({
    queryKey: ['validate', debounced],
    queryFn: () => post<Validation>('/api/sequences/validate', debounced),
    staleTime: Infinity,
  });
  const byStep = useMemo(() => problemsByStep(definition, validation.data?.problems ?? []), [definition, validation.data]);
  return { definition, setDefinition, jsonText, setJson, jsonError, validation, byStep };
}
