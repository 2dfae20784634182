/** The editor's working copy: the definition, its JSON text, its undo/redo history, and the server's validation of it. */
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { post } from '../api/client.ts';
import type { SequenceDefinition, Validation } from '../api/types.ts';
import { record, redo as redoOf, startHistory, undo as undoOf, type History } from './builder.ts';
import { problemsByStep } from './model.ts';

export function useSequenceDraft(initial: SequenceDefinition) {
  const [history, setHistory] = useState<History<SequenceDefinition>>(() => startHistory(initial));
  const definition = history.present;
  const setDefinitionState = (next: SequenceDefinition) => setHistory((h) => record(h, next));
  const [jsonText, setJsonText] = useState(() => JSON.stringify(initial, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);

  // A structural edit (a drag in the graph, undo, redo) is validated at once; typing waits for a pause.
  const [unhurried, setUnhurried] = useState<SequenceDefinition | null>(null);
  /** `now`: validate without waiting for a pause in typing (a drag in the graph). */
  const setDefinition = (next: SequenceDefinition, { now = false }: { now?: boolean } = {}) => {
    if (now) setUnhurried(next);
    setDefinitionState(next);
    setJsonText(JSON.stringify(next, null, 2));
    setJsonError(null);
  };
  /** Steps back or forth through the edits (form and JSON alike); the JSON text follows. */
  const travel = (move: (h: History<SequenceDefinition>) => History<SequenceDefinition>) => {
    const next = move(history);
    if (next === history) return;
    setHistory(next);
    setUnhurried(next.present);
    setJsonText(JSON.stringify(next.present, null, 2));
    setJsonError(null);
  };
  const undo = () => travel(undoOf);
  const redo = () => travel(redoOf);
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
  const checked = unhurried === definition ? definition : debounced;
  const validation = useQuery({
    queryKey: ['validate', checked],
    queryFn: () => post<Validation>('/api/sequences/validate', checked),
    staleTime: Infinity,
  });
  const byStep = useMemo(() => problemsByStep(definition, validation.data?.problems ?? []), [definition, validation.data]);
  return {
    definition,
    setDefinition,
    jsonText,
    setJson,
    jsonError,
    validation,
    byStep,
    undo,
    redo,
    canUndo: history.past.length > 0,
    canRedo: history.future.length > 0,
  };
}
