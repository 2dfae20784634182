/** Every validation problem, each naming the step it concerns, with a button to open that step. */
import { Alert, Anchor, List } from '@mantine/core';
import type { Problem, SequenceDefinition } from '../api/types.ts';
import { stepIndexOf } from './model.ts';

export function ProblemList({ definition, problems, onOpen }: { definition: SequenceDefinition; problems: Problem[]; onOpen: (stepId: string) => void }) {
  if (problems.length === 0) return null;
  return (
    <Alert color="red" title={`${problems.length} problem${problems.length === 1 ? '' : 's'} to fix before saving`} role="alert" data-testid="problems">
      <List size="sm">
        {problems.map((p, i) => {
          const index = stepIndexOf(p.path);
          const step = index === null ? undefined : definition.steps?.[index];
          return (
            <List.Item key={i}>
              {step ? (
                <Anchor component="button" type="button" size="sm" onClick={() => onOpen(step.id)}>
                  Step {index! + 1} “{step.id}”
                </Anchor>
              ) : (
                'Sequence'
              )}
              : <code>{p.path}</code> {p.message}
            </List.Item>
          );
        })}
      </List>
    </Alert>
  );
}
