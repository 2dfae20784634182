/**
 * The step being edited, as one real lead will read it: rendered by the server from the unsaved
 * step (`POST /api/sequences/preview-step`, the engine's own templates), each A/B variant in its
 * tab, the email's HTML in a sandboxed frame (no scripts, no same-origin) with its plain-text
 * version, the variables the lead lacks, and the length, spam and SMS-part hints.
 */
import { Alert, Badge, Group, Paper, Select, Stack, Tabs, Text, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get, post } from '../api/client.ts';
import type { Body, Lead, Page, RenderedVariant, Step, StepPreviewResult } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { leadName } from '../components/format.ts';

export interface PreviewContext {
  sender?: { name?: string; email?: string; phone?: string };
  sequence?: { name?: string; description?: string };
  /** The subject template of the email a subject-less email answers. */
  thread?: string;
}

/** The lead chosen for previews, kept while the tab is open so each step shows the same person. */
const LEAD_KEY = 'touchpoint.preview.lead';

function useChosenLead() {
  const [chosen, setChosen] = useState<{ id: string; label: string } | null>(() => {
    try {
      return JSON.parse(sessionStorage.getItem(LEAD_KEY) ?? 'null') as { id: string; label: string } | null;
    } catch {
      return null;
    }
  });
  const choose = (lead: { id: string; label: string } | null) => {
    setChosen(lead);
    if (lead) sessionStorage.setItem(LEAD_KEY, JSON.stringify(lead));
    else sessionStorage.removeItem(LEAD_KEY);
  };
  return [chosen, choose] as const;
}

const labelOf = (lead: Lead) => `${leadName(lead)}${lead.email ? ` <${lead.email}>` : ''}`;

function LeadSelect({ chosen, onChoose }: { chosen: { id: string; label: string } | null; onChoose: (lead: { id: string; label: string } | null) => void }) {
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 250);
  // A search that is the chosen lead's own label is not a search: list the newest leads.
  const query = chosen && q === chosen.label ? '' : q;
  const leads = useQuery({ queryKey: ['leads', 'pick', query], queryFn: () => get<Page<Lead>>('/api/leads', { q: query || undefined, limit: 20 }) });
  const options = (leads.data?.items ?? []).map((l) => ({ value: l.id, label: labelOf(l) }));
  if (chosen && !options.some((o) => o.value === chosen.id)) options.unshift({ value: chosen.id, label: chosen.label });
  return (
    <Select
      label="Preview for lead"
      placeholder={leads.data?.items.length === 0 && !query ? 'No leads yet: add or import some' : 'Search by name, email or company'}
      data={options}
      value={chosen?.id ?? null}
      onChange={(id) => onChoose(id ? { id, label: options.find((o) => o.value === id)?.label ?? id } : null)}
      searchable
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options: all }) => all}
      nothingFoundMessage="No lead matches"
      clearable
    />
  );
}

/** The email's HTML, framed without scripts or our origin; the dashboard's CSP still applies (no outside images). */
function HtmlFrame({ html, title }: { html: string; title: string }) {
  const doc = `<!doctype html><meta charset="utf-8"><style>body{font:14px/1.5 system-ui,sans-serif;margin:12px;color:#1a1b1e;word-wrap:break-word}img{max-width:100%}</style>${html}`;
  return <iframe title={title} sandbox="" srcDoc={doc} style={{ width: '100%', minHeight: 220, border: '1px solid var(--mantine-color-gray-4)', borderRadius: 4, background: 'white' }} />;
}

function Hints({ rendered }: { rendered: RenderedVariant }) {
  const { email, sms, script, notes } = rendered.hints;
  return (
    <Stack gap={4}>
      <Group gap={6} data-testid="content-hints">
        {email && (
          <>
            <Badge variant="light" color="gray">subject {email.subjectCharacters} chars</Badge>
            <Badge variant="light" color="gray">{email.words} words</Badge>
            <Badge variant="light" color="gray">{email.links} {email.links === 1 ? 'link' : 'links'}</Badge>
          </>
        )}
        {sms && (
          <Text size="sm" data-testid="sms-segments">
            {sms.characters} characters · {sms.encoding} · {sms.segments} {sms.segments === 1 ? 'segment' : 'segments'} ({sms.perSegment} per segment, {sms.remaining} left)
          </Text>
        )}
        {script && (
          <Badge variant="light" color="gray">
            {script.words} words · about {script.seconds} s read aloud
          </Badge>
        )}
      </Group>
      {notes.map((note) => (
        <Text key={note} size="sm" c="orange.9">
          {note}
        </Text>
      ))}
    </Stack>
  );
}

function Rendered({ rendered, type, lead }: { rendered: RenderedVariant; type: StepPreviewResult['type']; lead: string }) {
  return (
    <Stack gap="xs" data-testid="rendered-variant">
      {rendered.missing.length > 0 && (
        <Alert color="yellow" title={`${lead} has no value for ${rendered.missing.length === 1 ? 'a variable' : 'some variables'}`} data-testid="missing-variables">
          {rendered.missing.join(', ')} {rendered.missing.length === 1 ? 'is' : 'are'} empty for this lead and {rendered.missing.length === 1 ? 'has' : 'have'} no fallback: the preview leaves
          a blank, and enrolling this lead would be refused. Add a fallback with “Insert variable”, e.g. {'{{ lead.firstName | default: "there" }}'}, or fill the field in.
        </Alert>
      )}
      {type === 'email' && (
        <Text size="sm">
          <Text span fw={600}>
            Subject:{' '}
          </Text>
          <span data-testid="preview-subject">{rendered.subject ?? '(reply in the thread of the previous email; none comes before this step)'}</span>
          {rendered.threaded && rendered.subject && (
            <Badge ml="xs" size="xs" variant="outline">
              in thread
            </Badge>
          )}
        </Text>
      )}
      {rendered.html !== null && <HtmlFrame html={rendered.html} title={`Email as ${lead} sees it${rendered.variant ? `, variant ${rendered.variant}` : ''}`} />}
      {rendered.html !== null && (
        <Text size="xs" fw={600}>
          Plain-text version
        </Text>
      )}
      <Paper withBorder p="xs" radius="sm" bg="gray.0">
        <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} data-testid="preview-text">
          {rendered.text}
        </Text>
      </Paper>
      {rendered.voicemail !== null && (
        <>
          <Text size="xs" fw={600}>
            Voicemail
          </Text>
          <Paper withBorder p="xs" radius="sm" bg="gray.0">
            <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
              {rendered.voicemail}
            </Text>
          </Paper>
        </>
      )}
      <Hints rendered={rendered} />
    </Stack>
  );
}

export function StepPreview({ step, context }: { step: Step; context: PreviewContext }) {
  const [chosen, choose] = useChosenLead();
  const body = chosen
    ? ({ leadId: chosen.id, step, sender: context.sender, sequence: context.sequence, thread: context.thread } satisfies Body<'/api/sequences/preview-step', 'post'>)
    : null;
  // Rendered a moment after typing stops, not on every key.
  const [debounced] = useDebouncedValue(JSON.stringify(body), 300);
  const preview = useQuery({
    queryKey: ['step-preview', debounced],
    queryFn: () => post<StepPreviewResult>('/api/sequences/preview-step', JSON.parse(debounced)),
    enabled: body !== null && debounced !== 'null',
    placeholderData: keepPreviousData,
    retry: false,
  });
  const lead = chosen?.label.replace(/ <.*>$/, '') ?? '';
  const variants = preview.data?.variants ?? [];

  return (
    <Paper withBorder p="sm" radius="md" data-testid="step-preview" aria-label="Preview">
      <Stack gap="xs">
        <Title order={4} size="h5">
          Preview
        </Title>
        <LeadSelect chosen={chosen} onChoose={choose} />
        {step.useAiWriter === true && (
          <Text size="sm" c="dimmed">
            The AI writer drafts this {step.type === 'sms' ? 'text' : 'body'} for each lead when it is sent; the preview shows the template it starts from.
          </Text>
        )}
        {!chosen && <Text size="sm" c="dimmed">Choose a lead to see this step as they will read it, rendered by the server from what is on screen (nothing is saved or sent).</Text>}
        {chosen && <ErrorAlert error={preview.error} title="This step cannot be previewed" labels={{ step: 'This step' }} />}
        {chosen && preview.data && !preview.error && variants.length === 1 && <Rendered rendered={variants[0]!} type={preview.data.type} lead={lead} />}
        {chosen && preview.data && !preview.error && variants.length > 1 && (
          <Tabs defaultValue={variants[0]!.variant ?? ''} keepMounted={false}>
            <Tabs.List>
              {variants.map((v) => (
                <Tabs.Tab key={v.variant} value={v.variant ?? ''}>
                  Variant {v.variant}
                  {v.missing.length > 0 ? ' ⚠' : ''}
                </Tabs.Tab>
              ))}
            </Tabs.List>
            {variants.map((v) => (
              <Tabs.Panel key={v.variant} value={v.variant ?? ''} pt="xs">
                <Rendered rendered={v} type={preview.data.type} lead={lead} />
              </Tabs.Panel>
            ))}
          </Tabs>
        )}
      </Stack>
    </Paper>
  );
}
