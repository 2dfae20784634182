/**
 * The replies inbox (docs/DASHBOARD.md, "Replies"): every reply across sequences, newest first,
 * as a thread — what we sent, then what they answered — with the lead, the sequence and step,
 * and the class. One click each: mark converted, log a meeting, pause the lead's running
 * sequence, move the lead to another sequence, snooze until tomorrow, and answer through the
 * mailbox that sent the thread (or, without one, from the person's own mail client). Refreshed as
 * things happen (live updates), polling every 5 seconds only while the stream is down.
 */
import { Anchor, Badge, Button, Group, Menu, Modal, Paper, SegmentedControl, Select, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { get, post, put } from '../api/client.ts';
import type { Answer, Body, Page } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, leadName, relative } from '../components/format.ts';
import { Link } from '../router.tsx';
import { useLiveInterval } from '../live/LiveUpdates.tsx';

type Reply = Answer<'/api/replies', 'get'>['items'][number];
type Sent = Answer<'/api/replies/{eventId}/respond', 'post'>;
type Sequences = Answer<'/api/sequences', 'get'>;

const CLASS_COLORS: Record<string, string> = { interested: 'green', positive: 'green', meeting: 'green', not_now: 'yellow', objection: 'orange', not_interested: 'red', unsubscribe: 'red', out_of_office: 'gray', wrong_person: 'gray' };
const LIVE = new Set(['active', 'waiting']);

/** 09:00 tomorrow in this browser's zone: "snooze until tomorrow". */
function tomorrowMorning(now = new Date()): string {
  const at = new Date(now);
  at.setDate(at.getDate() + 1);
  at.setHours(9, 0, 0, 0);
  return at.toISOString();
}

function MoveDialog({ reply, onClose }: { reply: Reply; onClose: () => void }) {
  const client = useQueryClient();
  const [chosen, setChosen] = useState<string | null>(null);
  const sequences = useQuery({ queryKey: ['sequences', 'active'], queryFn: () => get<Sequences>('/api/sequences', { status: 'active', limit: 200 }) });
  const options = (sequences.data?.items ?? []).filter((s) => s.id !== reply.sequence?.id).map((s) => ({ value: s.id, label: s.name }));
  const move = useMutation({
    mutationFn: async () => {
      // The reply usually ended its sequence already; one still running is cancelled first.
      if (reply.enrollment && LIVE.has(reply.enrollment.status)) {
        await put(`/api/sequences/enrollments/${reply.enrollment.id}`, { action: 'cancel', reason: 'moved to another sequence from the replies inbox' });
      }
      const result = await post<Answer<'/api/sequences/{id}/enrollments', 'post'>>(`/api/sequences/${chosen}/enrollments`, {
        leadIds: [reply.lead!.id],
      } satisfies Body<'/api/sequences/{id}/enrollments', 'post'>);
      const skipped = result.skipped[0];
      if (skipped) throw new Error(skipped.message);
      return result;
    },
    onSuccess: () => {
      void client.invalidateQueries();
      onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title={`Move ${leadName(reply.lead ?? undefined)} to another sequence`}>
      <Stack>
        <Select label="Sequence" placeholder="Choose an active sequence" data={options} value={chosen} onChange={setChosen} searchable nothingFoundMessage="No other active sequence" />
        {reply.enrollment && LIVE.has(reply.enrollment.status) && <Text size="sm">Their running sequence “{reply.sequence?.name}” is cancelled first.</Text>}
        <ErrorAlert error={move.error} title="Not moved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Keep as is
          </Button>
          <Button disabled={!chosen} loading={move.isPending} onClick={() => move.mutate()}>
            Enroll in this sequence
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function MeetingDialog({ reply, onClose }: { reply: Reply; onClose: () => void }) {
  const client = useQueryClient();
  const [note, setNote] = useState('');
  const log = useMutation({
    mutationFn: () => post(`/api/leads/${reply.lead!.id}/activities`, { kind: 'meeting', outcome: 'booked', body: note.trim() || undefined }),
    onSuccess: () => {
      void client.invalidateQueries();
      onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title={`Log a meeting with ${leadName(reply.lead ?? undefined)}`}>
      <Stack>
        <Textarea label="Note (optional, kept on the timeline)" placeholder="e.g. Demo on Thursday at 10" autosize minRows={2} value={note} onChange={(e) => setNote(e.currentTarget.value)} />
        <ErrorAlert error={log.error} title="Not logged" />
        <Group justify="flex-end">
          <Button loading={log.isPending} onClick={() => log.mutate()}>
            Log meeting
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** A fresh key per draft: a double click sends once; a changed draft is a new answer. */
const draftKey = () => (globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`).toString();

/** `Re: <subject>` as the server makes it, shown before sending. */
const reSubject = (subject: string | null | undefined) => `Re: ${(subject ?? '').replace(/^\s*(?:re\s*:\s*)+/i, '').trim()}`;

/**
 * The answer box: written here, sent through the thread's mailbox (`POST /api/replies/{id}/respond`),
 * then shown on the lead's thread. Without a mailbox (an SMS reply, a provider thread) a mailto link.
 */
function AnswerBox({ reply, onClose }: { reply: Reply; onClose: () => void }) {
  const client = useQueryClient();
  const name = leadName(reply.lead ?? undefined);
  const defaultSubject = reSubject(reply.subject ?? reply.answered?.subject);
  const [text, setText] = useState('');
  const [subject, setSubject] = useState(defaultSubject);
  const [key, setKey] = useState(draftKey);
  const [sent, setSent] = useState<Sent | null>(null);
  const send = useMutation({
    mutationFn: () =>
      post<Sent>(`/api/replies/${reply.id}/respond`, {
        text,
        ...(subject.trim() && subject.trim() !== defaultSubject ? { subject: subject.trim() } : {}),
        idempotencyKey: key,
      } satisfies Body<'/api/replies/{eventId}/respond', 'post'>),
    onSuccess: (answer) => {
      setSent(answer);
      setText('');
      setKey(draftKey());
      void client.invalidateQueries({ queryKey: ['lead', reply.lead?.id] });
    },
  });
  const mailbox = reply.mailbox!;
  return (
    <Paper withBorder p="sm" radius="sm" data-testid="answer-box">
      <Stack gap="xs">
        <Text size="sm">
          From <b>{mailbox.fromEmail}</b> (mailbox {mailbox.name}) to <b>{reply.lead?.email}</b>, in the same thread
        </Text>
        <TextInput size="sm" label="Subject" value={subject} onChange={(e) => { setSubject(e.currentTarget.value); setKey(draftKey()); }} />
        <Textarea
          label={`Your answer to ${name}`}
          autosize
          minRows={3}
          value={text}
          onChange={(e) => {
            setText(e.currentTarget.value);
            setKey(draftKey());
            setSent(null);
          }}
        />
        <ErrorAlert error={send.error} title="Not sent" />
        {sent && (
          <Text size="sm" fw={500} role="status" data-testid="answer-sent">
            Sent from {sent.from.email} at {formatAt(sent.sentAt)}: it shows in the thread on {name}’s timeline.
          </Text>
        )}
        <Group justify="flex-end" gap="xs">
          <Button size="xs" variant="default" onClick={onClose}>
            Close
          </Button>
          <Button size="xs" disabled={text.trim() === ''} loading={send.isPending} onClick={() => send.mutate()}>
            Send answer
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

/** Where there is no mailbox to answer from: the person's own mail client, with the subject filled in. */
function MailtoLink({ reply }: { reply: Reply }) {
  const email = reply.lead?.email;
  if (reply.channel !== 'email' || !email) return null;
  const subject = encodeURIComponent(reSubject(reply.subject ?? reply.answered?.subject));
  return (
    <Anchor size="xs" href={`mailto:${email}?subject=${subject}`} aria-label={`Email from your mail client: ${leadName(reply.lead ?? undefined)}`}>
      Email from your mail client
    </Anchor>
  );
}

function ReplyCard({ reply }: { reply: Reply }) {
  const auth = useAuth();
  const client = useQueryClient();
  const [dialog, setDialog] = useState<'move' | 'meeting' | 'convert' | null>(null);
  const [answering, setAnswering] = useState(false);
  const act = useMutation({
    mutationFn: async (action: 'convert' | 'pause' | 'snooze' | 'unsnooze') => {
      if (action === 'convert') return post(`/api/leads/${reply.lead!.id}/convert`);
      if (action === 'pause') return put(`/api/sequences/enrollments/${reply.enrollment!.id}`, { action: 'pause', reason: 'paused from the replies inbox' });
      return put(`/api/replies/${reply.id}/snooze`, { until: action === 'snooze' ? tomorrowMorning() : null });
    },
    onSuccess: () => {
      setDialog(null);
      void client.invalidateQueries();
    },
  });
  const lead = reply.lead;
  const name = leadName(lead ?? undefined);
  return (
    <Paper withBorder p="md" radius="md" component="li" aria-label={`Reply from ${name}`} data-testid="reply">
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs" wrap="wrap">
            {lead ? (
              <Link to={`/leads/${lead.id}`}>
                <Text fw={600} span>
                  {name}
                </Text>
              </Link>
            ) : (
              <Text fw={600}>Unknown lead</Text>
            )}
            {lead?.company && (
              <Text size="sm" c="dimmed" span>
                {lead.company}
              </Text>
            )}
            {reply.class && (
              <Badge color={CLASS_COLORS[reply.class] ?? 'gray'} variant="light" title={`Class given by ${reply.classSource ?? 'nobody'}`}>
                {reply.class.replace(/_/g, ' ')}
              </Badge>
            )}
            {lead && <Badge variant="outline">{lead.status.replace(/_/g, ' ')}</Badge>}
          </Group>
          <Text size="sm" c="dimmed" title={formatAt(reply.receivedAt)}>
            {reply.channel === 'sms' ? 'SMS' : 'Email'} · {relative(reply.receivedAt)}
          </Text>
        </Group>
        <Text size="sm" c="dimmed">
          {reply.sequence ? (
            <>
              <Link to={`/sequences/${reply.sequence.id}`}>{reply.sequence.name}</Link> · step {reply.stepId ?? '?'}
              {reply.enrollment && ` · sequence ${reply.enrollment.status}`}
            </>
          ) : (
            'Not matched to a sequence'
          )}
        </Text>
        {reply.answered && (
          <Paper bg="gray.0" p="xs" radius="sm" data-testid="reply-answered">
            <Text size="xs" c="dimmed">
              We sent{reply.answered.sentAt ? ` ${relative(reply.answered.sentAt)}` : ''}:
            </Text>
            {reply.answered.subject && (
              <Text size="sm" fw={500}>
                {reply.answered.subject}
              </Text>
            )}
            <Text size="sm" lineClamp={3} style={{ whiteSpace: 'pre-wrap' }}>
              {reply.answered.text}
            </Text>
          </Paper>
        )}
        <div data-testid="reply-text">
          {reply.subject && (
            <Text size="sm" fw={500}>
              {reply.subject}
            </Text>
          )}
          <Text style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{reply.text || '(no text)'}</Text>
        </div>
        {reply.snoozedUntil && <Text size="sm">Snoozed until {formatAt(reply.snoozedUntil)}</Text>}
        {auth.can('operator') && lead && (
          <Group gap="xs" wrap="wrap">
            {reply.mailbox ? (
              <Button size="xs" variant={answering ? 'filled' : 'light'} aria-expanded={answering} onClick={() => setAnswering((a) => !a)}>
                Answer
              </Button>
            ) : (
              <MailtoLink reply={reply} />
            )}
            <Button size="xs" onClick={() => setDialog('convert')} disabled={lead.status === 'converted'}>
              {lead.status === 'converted' ? 'Converted' : 'Mark converted'}
            </Button>
            <Button size="xs" variant="light" onClick={() => setDialog('meeting')}>
              Log meeting
            </Button>
            {reply.enrollment && LIVE.has(reply.enrollment.status) && (
              <Button size="xs" variant="light" onClick={() => act.mutate('pause')}>
                Pause sequence
              </Button>
            )}
            <Button size="xs" variant="light" onClick={() => setDialog('move')}>
              Move to sequence…
            </Button>
            {reply.snoozedUntil ? (
              <Button size="xs" variant="subtle" onClick={() => act.mutate('unsnooze')}>
                Unsnooze
              </Button>
            ) : (
              <Menu>
                <Menu.Target>
                  <Button size="xs" variant="subtle">
                    Snooze
                  </Button>
                </Menu.Target>
                <Menu.Dropdown>
                  <Menu.Item onClick={() => act.mutate('snooze')}>Until tomorrow 09:00</Menu.Item>
                </Menu.Dropdown>
              </Menu>
            )}
          </Group>
        )}
        {answering && reply.mailbox && lead && <AnswerBox reply={reply} onClose={() => setAnswering(false)} />}
        <ErrorAlert error={act.error} title="The server refused" />
      </Stack>
      {dialog === 'move' && <MoveDialog reply={reply} onClose={() => setDialog(null)} />}
      {dialog === 'meeting' && <MeetingDialog reply={reply} onClose={() => setDialog(null)} />}
      <ConfirmDialog
        opened={dialog === 'convert'}
        title={`Mark ${name} converted?`}
        confirmLabel="Mark converted"
        pending={act.isPending}
        error={act.error}
        onConfirm={() => act.mutate('convert')}
        onClose={() => setDialog(null)}
      >
        {`${name} becomes a customer: every running sequence of theirs that stops on a conversion ends, and this cannot be undone.`}
      </ConfirmDialog>
    </Paper>
  );
}

export function RepliesPage() {
  const [snoozed, setSnoozed] = useState<'hide' | 'only'>('hide');
  const replies = useQuery({
    queryKey: ['replies', snoozed],
    queryFn: () => get<Page<Reply>>('/api/replies', { snoozed, limit: 100 }),
    refetchInterval: useLiveInterval(5_000),
  });
  const items = replies.data?.items ?? [];
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Replies</Title>
        <SegmentedControl
          aria-label="Which replies"
          value={snoozed}
          onChange={(v) => setSnoozed(v as 'hide' | 'only')}
          data={[
            { value: 'hide', label: 'Inbox' },
            { value: 'only', label: 'Snoozed' },
          ]}
        />
      </Group>
      <ErrorAlert error={replies.error} title="The replies could not be loaded" />
      {replies.isSuccess && items.length === 0 && (
        <EmptyState title={snoozed === 'hide' ? 'No replies yet' : 'Nothing snoozed'}>
          {snoozed === 'hide'
            ? 'When a lead answers an email or a text, the reply lands here with the message it answers, newest first.'
            : 'Snoozed replies wait here until their time, then come back to the inbox.'}
        </EmptyState>
      )}
      <Stack component="ul" gap="sm" p={0} m={0} style={{ listStyle: 'none' }} aria-label="Replies">
        {items.map((reply) => (
          <ReplyCard key={reply.id} reply={reply} />
        ))}
      </Stack>
    </Stack>
  );
}
