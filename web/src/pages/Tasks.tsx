/** The operator's inbox: tasks and outcome branches waiting for a person, each with one-click outcomes. */
import { Badge, Button, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get } from '../api/client.ts';
import type { Page, Task } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, leadName, relative } from '../components/format.ts';
import { recordOutcome } from '../lead/OutcomeModal.tsx';
import { Link } from '../router.tsx';

function TaskRow({ task }: { task: Task }) {
  const auth = useAuth();
  const client = useQueryClient();
  const save = useMutation({
    mutationFn: (outcome: string) => recordOutcome(task.id, { outcome }),
    onSuccess: () => client.invalidateQueries(),
  });
  const step = task.currentStep;
  const isTask = step?.type === 'task';
  return (
    <Paper withBorder p="md" radius="md" data-testid="task">
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap">
          <Text fw={600}>{isTask ? (step?.title ?? step?.id) : `Outcome for ${step?.name ?? step?.id ?? 'a branch'}`}</Text>
          <Badge variant="light">{isTask ? 'task' : 'branch'}</Badge>
        </Group>
        <Text size="sm">
          <Link to={`/leads/${task.lead.id}`}>{leadName(task.lead)}</Link>
          {task.lead.company ? ` (${task.lead.company})` : ''} · {task.sequenceName} · step {step?.id}
        </Text>
        <Text size="xs" c="dimmed">
          Waiting since {formatAt(task.updatedAt)} ({relative(task.updatedAt)})
          {!isTask && task.nextRunAt ? ` · without an outcome, goes the “else” way ${relative(task.nextRunAt)}` : ''}
        </Text>
        {auth.can('operator') ? (
          <Group gap="xs">
            {(step?.outcomes ?? []).map((o) => (
              <Button key={o} size="xs" variant="light" loading={save.isPending && save.variables === o} disabled={save.isSuccess} onClick={() => save.mutate(o)}>
                {o.replace(/_/g, ' ')}
              </Button>
            ))}
          </Group>
        ) : (
          <Text size="xs" c="dimmed">An operator records the outcome.</Text>
        )}
        <ErrorAlert error={save.error} title="The outcome was refused" />
      </Stack>
    </Paper>
  );
}

export function TasksPage() {
  const tasks = useQuery({
    queryKey: ['tasks'],
    queryFn: async () => (await get<Page<Task>>('/api/tasks', { limit: 200 })).items,
    refetchInterval: 3_000,
  });
  return (
    <Stack>
      <Title order={2}>Tasks</Title>
      <Text c="dimmed" size="sm">
        Manual tasks and branches waiting for what a person did. One click records the outcome and moves the sequence on.
      </Text>
      <ErrorAlert error={tasks.error} title="The inbox could not be loaded" />
      {tasks.isSuccess && tasks.data.length === 0 && (
        <EmptyState title="Inbox zero">
          Nothing waits for you. Sequences with a <code>task</code> step (e.g. “Connect on LinkedIn”) or a branch on an{' '}
          <code>outcome</code> (e.g. after a call) put their work here.
        </EmptyState>
      )}
      {tasks.data?.map((t) => <TaskRow key={`${t.id}-${t.currentStep?.id}`} task={t} />)}
    </Stack>
  );
}
