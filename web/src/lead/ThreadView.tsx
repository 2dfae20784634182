/**
 * One email thread on the lead timeline, as a mail client shows a conversation: the subject
 * once, then each message oldest first — who sent it (the rep's mailbox, or the deployment's
 * provider), when, what happened to it (delivered, opened, replied, bounced) and its words; a
 * reply or auto-reply with its text and class; an answer an operator sent from the inbox, with
 * who wrote it. Collapsible to its subject line.
 */
import { Badge, Box, Button, Collapse, Group, Stack, Text } from '@mantine/core';
import { useId, useState } from 'react';
import type { TimelineItem } from '../api/types.ts';
import { formatAt, statusColor } from '../components/format.ts';
import { ReplyClass } from './ReplyClass.tsx';
import { bareSubject, unverifiedSender, type Thread, type ThreadMarker, type ThreadMessage } from './threads.ts';

const MARKER_COLOR: Record<string, string> = {
  'email.delivered': 'teal',
  'email.opened': 'blue',
  'email.clicked': 'indigo',
  'email.replied': 'green',
  'email.auto_replied': 'gray',
  'email.bounced': 'red',
  'email.reply_unverified': 'orange',
};

/** `Ana Ruiz <ana@acme.com> (mailbox Ana)`, or the provider that carried it. */
function senderOf(item: TimelineItem, leadEmail?: string | null): string {
  if (item.kind === 'execution') {
    const mailbox = item.data.mailbox as { name?: string | null; fromEmail?: string | null; fromName?: string | null; deleted?: boolean } | null | undefined;
    if (mailbox?.fromEmail) {
      const address = mailbox.fromName ? `${mailbox.fromName} <${mailbox.fromEmail}>` : mailbox.fromEmail;
      return `${address}${mailbox.name ? ` · mailbox ${mailbox.name}${mailbox.deleted ? ' (deleted)' : ''}` : ''}`;
    }
    return `the workspace's sender, via ${String(item.data.adapter ?? 'the email provider')}`;
  }
  const details = (item.data.details ?? {}) as Record<string, unknown>;
  if (item.kind === 'activity') {
    // An answer sent by hand from the inbox, through the thread's mailbox.
    const mailbox = (details.mailbox ?? {}) as { name?: string; fromEmail?: string; fromName?: string | null };
    const address = mailbox.fromName ? `${mailbox.fromName} <${mailbox.fromEmail}>` : String(mailbox.fromEmail ?? 'a mailbox');
    return `${address}${mailbox.name ? ` · mailbox ${mailbox.name}` : ''} · written by ${String(item.data.actor)}`;
  }
  const from = typeof details.from === 'string' ? details.from : leadEmail;
  return from ?? 'the lead';
}

function bodyOf(message: ThreadMessage): string | null {
  const { item } = message;
  if (item.kind === 'execution') {
    const r = (item.data.rendered ?? {}) as Record<string, unknown>;
    const error = item.data.errorMessage ? `Error: ${String(item.data.errorMessage)}` : '';
    return [r.text ?? r.body ?? r.html, error].filter(Boolean).map(String).join('\n\n') || null;
  }
  const details = (item.data.details ?? {}) as Record<string, unknown>;
  if (item.kind === 'activity') return typeof details.text === 'string' ? details.text : typeof item.data.body === 'string' ? item.data.body : null;
  if (item.data.type === 'email.auto_replied') {
    const back = typeof details.returnDate === 'string' ? `Back on ${details.returnDate}. ` : '';
    return `${back}${typeof details.text === 'string' ? details.text : ''}`.trim() || null;
  }
  if (typeof details.text === 'string') return details.text;
  if (typeof details.diagnostic === 'string') return details.diagnostic;
  return null;
}

function Markers({ markers, zone }: { markers: ThreadMarker[]; zone?: string | null }) {
  if (markers.length === 0) return null;
  return (
    <Group gap={4} wrap="wrap" data-testid="thread-markers">
      {markers.map((m) => (
        <Badge key={m.id} size="xs" variant="light" color={MARKER_COLOR[m.type] ?? 'gray'} title={formatAt(m.at, zone)}>
          {m.label} · {formatAt(m.at, zone)}
        </Badge>
      ))}
    </Group>
  );
}

function Message({ message, thread, zone, leadId, leadEmail }: { message: ThreadMessage; thread: Thread; zone?: string | null; leadId: string; leadEmail?: string | null }) {
  const { item, direction } = message;
  const rendered = (item.data.rendered ?? {}) as Record<string, unknown>;
  const details = (item.data.details ?? {}) as Record<string, unknown>;
  const subject = item.kind === 'execution' ? rendered.subject : details.subject;
  // The subject is said once, at the top; a message shows its own only when it changed it.
  const ownSubject = typeof subject === 'string' && bareSubject(subject) !== thread.subject ? subject : null;
  const status = item.kind === 'execution' ? String(item.data.status) : item.kind === 'activity' ? 'sent by hand' : null;
  const what =
    direction === 'out'
      ? `Sent by ${senderOf(item, leadEmail)}`
      : direction === 'in'
        ? `${item.data.type === 'email.auto_replied' ? 'Automatic reply' : item.data.type === 'email.reply_unverified' ? 'Unverified reply' : 'Reply'} from ${senderOf(item, leadEmail)}`
        : String(item.summary);
  const body = bodyOf(message);
  const unverified = direction === 'in' ? unverifiedSender(item) : null;
  return (
    <Box
      data-testid="thread-message"
      data-direction={direction}
      data-kind={item.kind}
      pl="sm"
      py={4}
      style={{ borderLeft: `3px solid var(--mantine-color-${direction === 'out' ? 'indigo' : direction === 'in' ? 'green' : 'gray'}-6)` }}
    >
      <Group gap={6} wrap="wrap">
        <Text size="sm" fw={500}>
          {what}
        </Text>
        {status && (
          <Badge size="xs" color={statusColor(status)}>
            {status}
          </Badge>
        )}
        {unverified && (
          <Badge size="xs" color="orange" variant="filled" title={unverified} data-testid="sender-unverified">
            sender not verified
          </Badge>
        )}
      </Group>
      {unverified && (
        <Text size="xs" c="red.9">
          {unverified}
        </Text>
      )}
      <Text size="xs" c="dimmed">
        {formatAt(item.at, zone)}
        {item.kind === 'execution' && item.data.stepId ? ` · step "${String(item.data.stepId)}"` : ''}
      </Text>
      {ownSubject && (
        <Text size="sm" fs="italic">
          {ownSubject}
        </Text>
      )}
      {body && (
        <Text size="sm" c="dimmed" style={{ whiteSpace: 'pre-wrap' }} lineClamp={6} data-testid="thread-text">
          {body}
        </Text>
      )}
      <Markers markers={message.markers} zone={zone} />
      {item.kind === 'event' && item.data.replyClass ? <ReplyClass item={item} leadId={leadId} /> : null}
    </Box>
  );
}

export function ThreadView({ thread, zone, leadId, leadEmail }: { thread: Thread; zone?: string | null; leadId: string; leadEmail?: string | null }) {
  const [open, setOpen] = useState(true);
  const bodyId = useId();
  const sent = thread.messages.filter((m) => m.direction === 'out').length;
  const received = thread.messages.filter((m) => m.direction === 'in').length;
  const sequenceName = thread.messages.map((m) => m.item.data.sequenceName).find((n) => typeof n === 'string');
  return (
    <Stack gap={4} data-testid="thread">
      <Group gap={6} wrap="wrap">
        <Badge size="xs" variant="light" color="indigo">
          email thread
        </Badge>
        <Text size="xs" c="dimmed" data-testid="thread-count">
          {sent} sent · {received} received
          {sequenceName ? ` · ${String(sequenceName)}` : ''}
        </Text>
      </Group>
      <Group gap="xs" justify="space-between" wrap="nowrap">
        <Text size="sm" fw={600} data-testid="thread-subject">
          {thread.subject}
        </Text>
        <Button size="compact-xs" variant="subtle" aria-expanded={open} aria-controls={bodyId} onClick={() => setOpen((o) => !o)}>
          {open ? 'Collapse thread' : `Show ${thread.messages.length} messages`}
        </Button>
      </Group>
      <Collapse expanded={open} id={bodyId}>
        <Stack gap="xs" mt={4}>
          {thread.messages.map((m) => (
            <Message key={`${m.item.kind}-${m.item.id}`} message={m} thread={thread} zone={zone} leadId={leadId} leadEmail={leadEmail} />
          ))}
        </Stack>
      </Collapse>
      <Text size="xs" c="dimmed">
        Last {formatAt(thread.at, zone)}
      </Text>
    </Stack>
  );
}
