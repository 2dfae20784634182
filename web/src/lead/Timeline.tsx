/**
 * The lead's consolidated timeline, newest first: sends with their rendered content, provider
 * events, manual activities and status changes. An email thread (its emails, the replies and
 * what happened to each) is one conversation where its newest item was (ThreadView). It polls
 * while the page is open, so a running sequence fills it live.
 */
import { Badge, Button, Chip, Group, Paper, SegmentedControl, Stack, Text, Timeline as MTimeline, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get } from '../api/client.ts';
import type { Page, TimelineItem } from '../api/types.ts';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, statusColor } from '../components/format.ts';
import { eventDetailLines, eventFamily, eventHeadline } from './eventText.ts';
import { ReplyClass } from './ReplyClass.tsx';
import { groupThreads, unverifiedSender } from './threads.ts';
import { ThreadView } from './ThreadView.tsx';
import { useLiveInterval } from '../live/LiveUpdates.tsx';

const KINDS = [
  { value: 'execution', label: 'Sends & steps' },
  { value: 'event', label: 'Events' },
  { value: 'activity', label: 'Activities' },
  { value: 'change', label: 'Status changes' },
];
const KIND_COLOR: Record<string, string> = { execution: 'indigo', event: 'cyan', activity: 'orange', change: 'gray' };

/** What was sent (subject and body, text, script) or what was written, as plain text. */
function contentOf(item: TimelineItem): string | null {
  const d = item.data;
  if (item.kind === 'execution') {
    const r = (d.rendered ?? null) as Record<string, unknown> | null;
    const error = d.errorMessage ? `Error: ${String(d.errorMessage)}` : '';
    if (!r) return error || null;
    const parts = [r.subject, r.body ?? r.text ?? r.html ?? r.script ?? r.title, error].filter(Boolean);
    return parts.map(String).join('\n\n') || null;
  }
  if (item.kind === 'activity') return (d.body as string | null) ?? null;
  return null;
}

/** A custom, meeting or recorded-outcome event's headline and detail lines; null for the catalogue's others. */
function eventView(item: TimelineItem, zone?: string | null): { family: string; headline: string; lines: string[] } | null {
  if (item.kind !== 'event' || typeof item.data.type !== 'string') return null;
  const type = item.data.type;
  const family = eventFamily(type);
  const details = (item.data.details ?? {}) as Record<string, unknown>;
  const headline = eventHeadline(type, details);
  if (!family || !headline) return null;
  return { family, headline, lines: eventDetailLines(type, details, (iso) => formatAt(iso, zone)) };
}

function Item({ item, zone, leadId }: { item: TimelineItem; zone?: string | null; leadId: string }) {
  const event = eventView(item, zone);
  const content = event ? event.lines.join('\n') || null : contentOf(item);
  const status = item.kind === 'execution' ? (item.data.status as string) : item.kind === 'change' ? (item.data.to as string) : null;
  const extra = [
    item.data.sequenceName ? String(item.data.sequenceName) : null,
    item.data.adapter ? `via ${String(item.data.adapter)}` : null,
  ].filter(Boolean);
  return (
    <>
      <Group gap={6} wrap="wrap" mb={2}>
        <Badge size="xs" variant="light" color={KIND_COLOR[item.kind]}>
          {item.kind}
        </Badge>
        {event && (
          <Badge size="xs" variant="outline" color={event.family === 'custom' ? 'teal' : event.family === 'outcome' ? 'orange' : 'pink'} data-testid="event-family">
            {event.family}
          </Badge>
        )}
        {item.channel && (
          <Badge size="xs" color="grape" variant="outline">
            {item.channel}
          </Badge>
        )}
        {status && (
          <Badge size="xs" color={statusColor(status)}>
            {status}
          </Badge>
        )}
      </Group>
      <Text size="sm" fw={500} title={event ? item.summary : undefined}>
        {event ? event.headline : item.summary}
      </Text>
      {content && (
        <Text size="sm" c="dimmed" style={{ whiteSpace: 'pre-wrap' }} lineClamp={6} data-testid={event ? 'event-details' : undefined}>
          {content}
        </Text>
      )}
      {item.kind === 'event' && unverifiedSender(item) ? (
        <Text size="xs" c="red.9" data-testid="sender-unverified">
          {unverifiedSender(item)}
        </Text>
      ) : null}
      {item.kind === 'event' && item.data.replyClass ? <ReplyClass item={item} leadId={leadId} /> : null}
      <Text size="xs" c="dimmed">
        {formatAt(item.at, zone)}
        {extra.length ? ` · ${extra.join(' · ')}` : ''}
      </Text>
    </>
  );
}

export function LeadTimeline({ leadId, zone, leadEmail }: { leadId: string; zone?: string | null; leadEmail?: string | null }) {
  const [kinds, setKinds] = useState<string[]>([]);
  const [channel, setChannel] = useState('all');
  const timeline = useInfiniteQuery({
    queryKey: ['lead', leadId, 'timeline', kinds, channel],
    queryFn: ({ pageParam }) =>
      get<Page<TimelineItem>>(`/api/leads/${leadId}/timeline`, {
        kind: kinds.length ? kinds.join(',') : undefined,
        channel: channel === 'all' ? undefined : channel,
        cursor: pageParam,
        limit: 50,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: useLiveInterval(2_000),
  });
  const items = timeline.data?.pages.flatMap((p) => p.items) ?? [];
  const entries = groupThreads(items);
  const filtered = kinds.length > 0 || channel !== 'all';
  return (
    <Stack>
      <Title order={3}>Timeline</Title>
      <Group gap="xs" role="group" aria-label="Filter by kind">
        <Chip.Group multiple value={kinds} onChange={setKinds}>
          {KINDS.map((k) => (
            <Chip key={k.value} value={k.value} size="xs">
              {k.label}
            </Chip>
          ))}
        </Chip.Group>
      </Group>
      <SegmentedControl
        aria-label="Filter by channel"
        size="xs"
        value={channel}
        onChange={setChannel}
        data={[
          { value: 'all', label: 'All channels' },
          { value: 'email', label: 'Email' },
          { value: 'sms', label: 'SMS' },
          { value: 'voice', label: 'Voice' },
        ]}
      />
      <ErrorAlert error={timeline.error} title="The timeline could not be loaded" />
      {timeline.isSuccess && items.length === 0 && (
        <EmptyState title={filtered ? 'Nothing matches these filters' : 'Nothing has happened yet'}>
          Enroll this lead in a sequence (Leads → select → Enroll) or log an activity; sends, provider events and status changes appear
          here as they happen.
        </EmptyState>
      )}
      {items.length > 0 && (
        <Paper withBorder p="md" radius="md">
          <MTimeline bulletSize={14} lineWidth={2} data-testid="timeline">
            {entries.map((entry) =>
              entry.type === 'item' ? (
                <MTimeline.Item key={`${entry.item.kind}-${entry.item.id}`} data-testid="timeline-item" data-kind={entry.item.kind} color={KIND_COLOR[entry.item.kind]}>
                  <Item item={entry.item} zone={zone} leadId={leadId} />
                </MTimeline.Item>
              ) : (
                <MTimeline.Item key={`thread-${entry.thread.id}`} data-testid="timeline-item" data-kind="thread" color="indigo">
                  <ThreadView thread={entry.thread} zone={zone} leadId={leadId} leadEmail={leadEmail} />
                </MTimeline.Item>
              ),
            )}
          </MTimeline>
          {timeline.hasNextPage && (
            <Button variant="subtle" mt="sm" onClick={() => timeline.fetchNextPage()} loading={timeline.isFetchingNextPage}>
              Older items
            </Button>
          )}
        </Paper>
      )}
    </Stack>
  );
}
