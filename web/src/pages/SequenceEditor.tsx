/** Create or edit a sequence: structured form and JSON side by side with the live graph. */
import { Badge, Button, Grid, Group, Loader, Select, Stack, Tabs, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { get } from '../api/client.ts';
import { startingDefinition } from '../../../src/core/workspaceDefaults.ts';
import type { SequenceDefinition, SequenceDetail, Workspace } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { isNotFound, looksLikeId, NotFound } from '../components/NotFound.tsx';
import { statusColor } from '../components/format.ts';
import { Link } from '../router.tsx';
import { TEMPLATES } from '../sequences/builder.ts';
import { SequenceGraph } from '../sequences/Graph.tsx';
import { ProblemList } from '../sequences/ProblemList.tsx';
import { moveStep, relink } from '../sequences/rewire.ts';
import { EMPTY_DEFINITION } from '../sequences/model.ts';
import { SequenceActions } from '../sequences/SequenceActions.tsx';
import { SequenceEnrollments } from '../sequences/Enrollments.tsx';
import { SequencePreview } from '../sequences/Preview.tsx';
import { SequenceSettings } from '../sequences/SequenceSettings.tsx';
import { SequenceStats } from '../sequences/Stats.tsx';
import { StepsEditor } from '../sequences/StepsEditor.tsx';
import { useSequenceDraft } from '../sequences/useSequenceDraft.ts';

export function SequenceEditorPage({ id }: { id: string }) {
  const isNew = id === 'new';
  const valid = isNew || looksLikeId(id);
  const sequence = useQuery({ queryKey: ['sequence', id], queryFn: () => get<SequenceDetail>(`/api/sequences/${id}`), enabled: !isNew && valid });
  // A new sequence opens on the workspace's default window, quiet hours and holidays (docs/SEQUENCES.md, "Workspace defaults").
  const workspaceId = useAuth().workspace?.id;
  const workspace = useQuery({ queryKey: ['workspace', workspaceId], queryFn: () => get<Workspace>(`/api/workspaces/${workspaceId}`), enabled: isNew && Boolean(workspaceId), staleTime: 60_000 });
  if (!valid || isNotFound(sequence.error)) return <NotFound what="Sequence" back="/sequences" backLabel="Back to the sequences" />;
  if (!isNew && sequence.isLoading) return <Loader role="status" aria-label="Loading the sequence" />;
  if (isNew && workspace.isLoading) return <Loader role="status" aria-label="Loading the workspace's defaults" />;
  if (!isNew && (sequence.error || !sequence.data)) {
    return (
      <Stack>
        <ErrorAlert error={sequence.error ?? new Error('No such sequence.')} title="This sequence cannot be shown" />
        <Link to="/sequences">Back to the sequences</Link>
      </Stack>
    );
  }
  const data = sequence.data;
  // Without the workspace (it could not be read) the server still fills what the draft leaves out.
  const start = (template: SequenceDefinition) => (workspace.data ? startingDefinition(template, workspace.data) : template);
  const initial = (data?.definition as SequenceDefinition | undefined) ?? start(EMPTY_DEFINITION);
  // Keyed by version so a save (a new version) starts a fresh draft from what the server stored.
  return <Editor key={`${id}:${data?.currentVersion ?? 0}`} sequence={data} initial={initial} start={start} />;
}

function Editor({ sequence, initial, start }: { sequence: SequenceDetail | undefined; initial: SequenceDefinition; start: (template: SequenceDefinition) => SequenceDefinition }) {
  const auth = useAuth();
  const readOnly = !auth.can('admin');
  const draft = useSequenceDraft(initial);
  const [selected, setSelected] = useState<string | null>(initial.steps?.[0]?.id ?? null);
  const [tab, setTab] = useState<string | null>('form');
  const { definition, validation } = draft;
  const problems = validation.data?.problems ?? [];
  // Ctrl/Cmd+Z and Ctrl/Cmd+Shift+Z (or Ctrl+Y) undo and redo edits, except while typing in a field (its own undo wins).
  useEffect(() => {
    if (readOnly) return;
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || (event.target as HTMLElement | null)?.closest('input, textarea, [contenteditable]')) return;
      const key = event.key.toLowerCase();
      if (key === 'z' && !event.shiftKey) (event.preventDefault(), draft.undo());
      else if ((key === 'z' && event.shiftKey) || key === 'y') (event.preventDefault(), draft.redo());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <Stack gap={0}>
          <Text size="sm">
            <Link to="/sequences">← Sequences</Link>
          </Text>
          <Group gap="xs">
            <Title order={2}>{sequence ? sequence.name : 'New sequence'}</Title>
            {sequence && <Badge color={statusColor(sequence.status)} data-testid="sequence-status">{sequence.status}</Badge>}
            {sequence && <Badge variant="outline">version {sequence.currentVersion}</Badge>}
          </Group>
        </Stack>
        <SequenceActions sequence={sequence} definition={definition} canSave={!draft.jsonError} readOnly={readOnly} />
      </Group>
      {readOnly && <Text size="sm" c="dimmed">Only admins edit sequences; you see them read-only.</Text>}
      {!readOnly && (
        <Group gap="xs" align="flex-end">
          <Button size="xs" variant="default" disabled={!draft.canUndo} onClick={draft.undo} title="Ctrl+Z">
            Undo
          </Button>
          <Button size="xs" variant="default" disabled={!draft.canRedo} onClick={draft.redo} title="Ctrl+Shift+Z">
            Redo
          </Button>
          {!sequence && (
            <Select
              size="xs"
              label="Start from a template"
              placeholder="Choose a template"
              data={TEMPLATES.map((t) => ({ value: t.key, label: t.label }))}
              onChange={(key) => {
                const template = TEMPLATES.find((t) => t.key === key);
                if (!template) return;
                draft.setDefinition(start(template.definition));
                setSelected(template.definition.steps[0]?.id ?? null);
              }}
              w={220}
            />
          )}
        </Group>
      )}
      <Group gap="xs" data-testid="validation">
        {validation.isFetching && <Loader size="xs" role="status" aria-label="Validating" />}
        {validation.data?.ok && <Badge color="green">valid</Badge>}
        {validation.data && !validation.data.ok && <Badge color="red">{problems.length} problem{problems.length === 1 ? '' : 's'}</Badge>}
        {(validation.data?.warnings ?? []).map((w, i) => (
          <Badge key={i} color="yellow" variant="light" title={w.message}>
            {w.path}: {w.message}
          </Badge>
        ))}
      </Group>
      <ErrorAlert error={validation.error} title="Validation is unavailable" />
      <ProblemList definition={definition} problems={problems} onOpen={(stepId) => (setSelected(stepId), setTab('form'))} />
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Tabs value={tab} onChange={setTab}>
            <Tabs.List>
              <Tabs.Tab value="form">Form</Tabs.Tab>
              <Tabs.Tab value="json">JSON</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="form" pt="sm">
              <Stack>
                <TextInput label="Sequence name" value={definition.name ?? ''} readOnly={readOnly} onChange={(e) => draft.setDefinition({ ...definition, name: e.currentTarget.value })} />
                <StepsEditor definition={definition} byStep={draft.byStep} selected={selected} onSelect={setSelected} readOnly={readOnly} onChange={draft.setDefinition} />
                <SequenceSettings definition={definition} readOnly={readOnly} onChange={draft.setDefinition} />
              </Stack>
            </Tabs.Panel>
            <Tabs.Panel value="json" pt="sm">
              <Stack gap="xs">
                <Textarea
                  label="Definition (JSON)"
                  description="Schedule, quiet hours, exit rules and steps; docs/SEQUENCES.md describes every field."
                  value={draft.jsonText}
                  onChange={(e) => draft.setJson(e.currentTarget.value)}
                  autosize
                  minRows={16}
                  maxRows={40}
                  readOnly={readOnly}
                  spellCheck={false}
                  styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
                  error={draft.jsonError ? `Not valid JSON: ${draft.jsonError}` : undefined}
                />
              </Stack>
            </Tabs.Panel>
          </Tabs>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <SequenceGraph
            definition={definition}
            problems={draft.byStep}
            selected={selected}
            onSelect={(s) => (setSelected(s), setTab('form'))}
            onRelink={readOnly ? undefined : (from, way, to) => draft.setDefinition(relink(definition, from, way, to), { now: true })}
            onMove={readOnly ? undefined : (step, after, way) => (draft.setDefinition(moveStep(definition, step, { after, way }), { now: true }), setSelected(step))}
          />
        </Grid.Col>
      </Grid>
      {sequence && (
        <Tabs defaultValue="stats">
          <Tabs.List>
            <Tabs.Tab value="stats">Funnel</Tabs.Tab>
            <Tabs.Tab value="enrollments">Enrollments &amp; versions</Tabs.Tab>
            <Tabs.Tab value="preview">Preview (dry run)</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="stats" pt="sm">
            <SequenceStats sequenceId={sequence.id} />
          </Tabs.Panel>
          <Tabs.Panel value="enrollments" pt="sm">
            <SequenceEnrollments sequence={sequence} />
          </Tabs.Panel>
          <Tabs.Panel value="preview" pt="sm">
            <SequencePreview sequence={sequence} />
          </Tabs.Panel>
        </Tabs>
      )}
    </Stack>
  );
}
