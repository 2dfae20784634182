/**
 * A reply's sentiment class on the timeline, with who gave it (rules, AI, operator), and the
 * operator's correction (docs/ANALYTICS.md, "Reply sentiment"): the corrected class is kept and
 * counted, and acts on the lead's sequences (an exitOn listing it, a waiting reply branch).
 */
import { Badge, Group, Select, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { REPLY_CLASSES } from '../../../src/core/sentiment.ts';
import { put } from '../api/client.ts';
import type { ReplyClassCorrection, TimelineItem } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

const CLASS_COLOR: Record<string, string> = {
  interested: 'green',
  not_interested: 'red',
  not_now: 'yellow',
  out_of_office: 'gray',
  wrong_person: 'orange',
  unsubscribe: 'dark',
};
const label = (c: string) => c.replace(/_/g, ' ');

export function ReplyClass({ item, leadId }: { item: TimelineItem; leadId: string }) {
  const auth = useAuth();
  const client = useQueryClient();
  const current = String(item.data.replyClass);
  const source = String(item.data.replyClassSource ?? 'rules');
  const machine = item.data.replyClassMachine ? String(item.data.replyClassMachine) : null;
  const correct = useMutation({
    mutationFn: (replyClass: string) => put<ReplyClassCorrection>(`/api/replies/${item.id}/class`, { class: replyClass }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['lead', leadId] }),
  });
  return (
    <>
      <Group gap={6} data-testid="reply-class">
        <Badge size="sm" color={CLASS_COLOR[current] ?? 'gray'} data-testid="reply-class-badge">
          {label(current)}
        </Badge>
        <Text size="xs" c="dimmed">
          {source === 'operator' ? `corrected${machine && machine !== current ? ` (was ${label(machine)})` : ''}` : `by ${source === 'ai' ? 'the AI' : 'the rules'}`}
        </Text>
        {auth.can('operator') && (
          <Select
            size="xs"
            w={170}
            aria-label="Correct the reply class"
            data={REPLY_CLASSES.map((c) => ({ value: c, label: label(c) }))}
            value={current}
            allowDeselect={false}
            disabled={correct.isPending}
            onChange={(value) => value && value !== current && correct.mutate(value)}
          />
        )}
      </Group>
      <ErrorAlert error={correct.error} title="The class was not corrected" />
    </>
  );
}
