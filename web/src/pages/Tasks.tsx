/**
 * The operator's inbox: tasks and outcome branches waiting for a person. Each card says what to
 * do (the title and description rendered for the lead by the server), whom to reach (phone and
 * email as click-to-call / mailto links, the lead's local time), when it is due and who enrolled
 * the lead. Keyboard: ↑/↓ (or k/j) move between cards, 1–9 record the card's nth outcome, and
 * after an outcome the focus lands on the next task, so a queue is worked without the mouse.
 */
import { Anchor, Badge, Button, Group, Kbd, Paper, SegmentedControl, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { get } from '../api/client.ts';
import type { Page, Task } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, leadName, relative } from '../components/format.ts';
import { recordOutcome } from '../lead/OutcomeModal.tsx';
import { Link } from '../router.tsx';
import { useLiveInterval } from '../live/LiveUpdates.tsx';

const TASKS_KEY = ['tasks'];

/** Whose tasks the inbox lists: a signed-in person starts on their own; a token (nobody) on all. */
type Scope = 'me' | 'all' | 'none';

function LeadContact({ lead }: { lead: Task['lead'] }) {
  return (
    <Group gap="md" wrap="wrap" data-testid="task-contact">
      {lead.phone && (
        <Anchor href={`tel:${lead.phone}`} size="sm" aria-label={`Call ${leadName(lead)} at ${lead.phone}`}>
          📞 {lead.phone}
        </Anchor>
      )}
      {lead.email && (
        <Anchor href={`mailto:${lead.email}`} size="sm" style={{ overflowWrap: 'anywhere' }} aria-label={`Email ${leadName(lead)} at ${lead.email}`}>
          ✉ {lead.email}
        </Anchor>
      )}
      {!lead.phone && !lead.email && (
        <Text size="sm" c="dimmed">
          No phone or email on file.
        </Text>
      )}
      {lead.timezone && (
        <Text size="sm" c="dimmed">
          Their time: {formatAt(new Date().toISOString(), lead.timezone)}
        </Text>
      )}
    </Group>
  );
}

function TaskCard({ task, index, selected, onSelect, onDone }: { task: Task; index: number; selected: boolean; onSelect: () => void; onDone: () => void }) {
  const auth = useAuth();
  const client = useQueryClient();
  const [note, setNote] = useState('');
  const save = useMutation({
    mutationFn: (outcome: string) => recordOutcome(task.id, { outcome, note: note.trim() || undefined }),
    onSuccess: () => {
      // The card goes at once so the next one takes its place (and the focus), then re-read.
      onDone();
      void client.invalidateQueries();
    },
  });
  const step = task.currentStep;
  const isTask = step?.type === 'task';
  const outcomes = step?.outcomes ?? [];
  const name = leadName(task.lead);
  const title = isTask ? (step?.title ?? step?.id) : `${step?.title ?? 'Record the outcome'}`;
  return (
    <Paper
      withBorder
      p="md"
      radius="md"
      data-testid="task"
      data-task-index={index}
      tabIndex={0}
      role="group"
      aria-label={`${title} — ${name}`}
      aria-current={selected ? 'true' : undefined}
      onFocus={onSelect}
      onKeyDown={(event: KeyboardEvent<HTMLDivElement>) => {
        if (event.target !== event.currentTarget || !auth.can('operator')) return;
        const n = Number(event.key);
        if (Number.isInteger(n) && n >= 1 && n <= outcomes.length) {
          event.preventDefault();
          save.mutate(outcomes[n - 1]!);
        }
      }}
      style={selected ? { outline: '2px solid var(--mantine-color-blue-6)', outlineOffset: 2 } : undefined}
    >
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap">
          <Text fw={600} data-testid="task-title">
            {title}
          </Text>
          <Badge variant="light">{isTask ? 'task' : 'call outcome'}</Badge>
        </Group>
        {step?.description && (
          <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} data-testid="task-description">
            {step.description}
          </Text>
        )}
        <Text size="sm">
          <Link to={`/leads/${task.lead.id}`}>{name}</Link>
          {task.lead.title ? `, ${task.lead.title}` : ''}
          {task.lead.company ? ` at ${task.lead.company}` : ''} · {task.sequenceName} · step {step?.name ?? step?.id}
        </Text>
        <LeadContact lead={task.lead} />
        <Text size="xs" c="dimmed" data-testid="task-assignee">
          {task.assignee ? `For ${task.assignee.name ?? task.assignee.email}` : 'Unassigned (the lead has no owner)'}
        </Text>
        <Text size="xs" c="dimmed" data-testid="task-due">
          {isTask
            ? task.dueAt
              ? `Due ${formatAt(task.dueAt)} (${relative(task.dueAt)}) — waiting since ${formatAt(task.updatedAt)}`
              : `Due now — waiting since ${formatAt(task.updatedAt)} (${relative(task.updatedAt)})`
            : task.nextRunAt
              ? `Due by ${formatAt(task.nextRunAt)} (${relative(task.nextRunAt)}); without an outcome the sequence goes the “else” way then`
              : `Waiting since ${formatAt(task.updatedAt)}`}
          {task.enrolledBy ? ` · enrolled by ${task.enrolledBy}` : ''}
        </Text>
        {auth.can('operator') ? (
          <>
            <TextInput size="xs" label="Note (optional, kept with the outcome)" value={note} onChange={(e) => setNote(e.currentTarget.value)} />
            <Group gap="xs">
              {outcomes.map((o, i) => (
                <Button key={o} size="xs" variant="light" loading={save.isPending && save.variables === o} disabled={save.isSuccess} onClick={() => save.mutate(o)}>
                  {i < 9 && <Kbd mr={6} size="xs">{i + 1}</Kbd>}
                  {o.replace(/_/g, ' ')}
                </Button>
              ))}
            </Group>
          </>
        ) : (
          <Text size="xs" c="dimmed">An operator records the outcome.</Text>
        )}
        <ErrorAlert error={save.error} title="The outcome was refused" />
      </Stack>
    </Paper>
  );
}

export function TasksPage() {
  const auth = useAuth();
  const person = Boolean(auth.me?.user);
  const [chosen, setScope] = useState<Scope | null>(null);
  const scope: Scope = chosen ?? (person ? 'me' : 'all');
  const fetched = useQuery({
    queryKey: [...TASKS_KEY, scope],
    queryFn: async () => (await get<Page<Task>>('/api/tasks', { limit: 200, assignee: scope })).items,
    refetchInterval: useLiveInterval(3_000),
  });
  // Tasks answered here: the server lists one until the engine has moved it on (a moment after
  // the outcome), so it is hidden meanwhile rather than coming back under the person's keys.
  const [answered, setAnswered] = useState<ReadonlySet<string>>(new Set());
  const keyOf = (t: Task) => `${t.id}:${t.currentStep?.id ?? ''}`;
  useEffect(() => {
    if (!fetched.data || answered.size === 0) return;
    const listed = new Set(fetched.data.map(keyOf));
    const still = [...answered].filter((k) => listed.has(k));
    if (still.length !== answered.size) setAnswered(new Set(still));
  }, [fetched.data, answered]);
  const visibleTasks = useMemo(() => fetched.data?.filter((t) => !answered.has(keyOf(t))), [fetched.data, answered]);
  const tasks = { ...fetched, data: visibleTasks };
  const [selected, setSelected] = useState(0);
  // Set after an outcome: once the list has changed, the card now at `selected` takes the focus.
  const focusNext = useRef(false);
  const listRef = useRef<HTMLDivElement>(null);
  const count = tasks.data?.length ?? 0;

  const focusCard = (index: number) => {
    const card = listRef.current?.querySelector<HTMLElement>(`[data-task-index="${index}"]`);
    card?.focus();
  };
  useEffect(() => {
    if (!focusNext.current || count === 0) return;
    focusNext.current = false;
    const index = Math.min(selected, count - 1);
    setSelected(index);
    focusCard(index);
  }, [visibleTasks, count, selected]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if ((event.target as HTMLElement).closest('input, textarea, button')) return;
    const step = event.key === 'ArrowDown' || event.key === 'j' ? 1 : event.key === 'ArrowUp' || event.key === 'k' ? -1 : 0;
    if (step === 0 || count === 0) return;
    event.preventDefault();
    const index = Math.max(0, Math.min(count - 1, selected + step));
    setSelected(index);
    focusCard(index);
  };

  return (
    <Stack>
      <Title order={2}>Tasks</Title>
      <Text c="dimmed" size="sm">
        Manual tasks and calls waiting for what a person did. One click (or key) records the outcome and moves the sequence on.
      </Text>
      <SegmentedControl
        aria-label="Whose tasks"
        data-testid="task-scope"
        value={scope}
        onChange={(v) => setScope(v as Scope)}
        data={[...(person ? [{ value: 'me', label: 'My tasks' }] : []), { value: 'all', label: 'All' }, { value: 'none', label: 'Unassigned' }]}
        style={{ alignSelf: 'flex-start' }}
      />
      {count > 0 && (
        <Text size="xs" c="dimmed" data-testid="task-keys">
          Keys: <Kbd size="xs">↑</Kbd>/<Kbd size="xs">↓</Kbd> or <Kbd size="xs">k</Kbd>/<Kbd size="xs">j</Kbd> move between tasks,{' '}
          <Kbd size="xs">1</Kbd>–<Kbd size="xs">9</Kbd> record the selected task’s outcome; the next task is selected after each.
        </Text>
      )}
      <ErrorAlert error={tasks.error} title="The inbox could not be loaded" />
      {tasks.isSuccess && count === 0 && (
        <EmptyState title="Inbox zero">
          {scope === 'me' ? 'Nothing waits for you: tasks follow the owner of their lead (see All and Unassigned). ' : 'Nothing waits here. '}
          Sequences with a <code>task</code> step (e.g. “Connect on LinkedIn”) or a branch on an{' '}
          <code>outcome</code> (e.g. after a call) put their work here.
        </EmptyState>
      )}
      <Stack ref={listRef} onKeyDown={onKeyDown} aria-label="Task queue" role="list">
        {visibleTasks?.map((t, i) => (
          <div role="listitem" key={`${t.id}-${t.currentStep?.id}`}>
            <TaskCard
              task={t}
              index={i}
              selected={i === selected}
              onSelect={() => setSelected(i)}
              onDone={() => {
                setSelected(i);
                focusNext.current = true;
                setAnswered((known) => new Set([...known, keyOf(t)]));
              }}
            />
          </div>
        ))}
      </Stack>
    </Stack>
  );
}
