/**
 * The sequence's `mailboxes`: the reps' accounts its emails go out from (docs/MAILBOXES.md). None
 * picked leaves the field out, so the deployment's email provider sends. An id whose mailbox was
 * deleted stays visible (named so) until someone removes it, rather than vanishing silently.
 */
import { MultiSelect } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client.ts';
import type { Mailbox, SequenceDefinition } from '../api/types.ts';

interface Props {
  definition: SequenceDefinition;
  readOnly: boolean;
  onChange: (definition: SequenceDefinition) => void;
}

export function MailboxPicker({ definition, readOnly, onChange }: Props) {
  const mailboxes = useQuery({ queryKey: ['mailboxes'], queryFn: async () => (await get<{ items: Mailbox[] }>('/api/mailboxes')).items });
  const chosen = definition.mailboxes ?? [];
  const known = new Map((mailboxes.data ?? []).map((m) => [m.id, m]));
  const data = [
    ...(mailboxes.data ?? []).map((m) => ({ value: m.id, label: `${m.name} <${m.fromEmail}>` })),
    ...chosen.filter((id) => mailboxes.isSuccess && !known.has(id)).map((id) => ({ value: id, label: `Deleted mailbox ${id.slice(0, 8)}` })),
  ];
  return (
    <MultiSelect
      label="Mailboxes"
      description="Send its emails from these, rotating new enrollments across those with room today; none: the deployment's email provider"
      placeholder={chosen.length ? undefined : mailboxes.data?.length === 0 ? 'No mailboxes yet (see Mailboxes)' : 'The email provider'}
      data={data}
      value={chosen}
      onChange={(ids) => {
        const copy: SequenceDefinition = { ...definition, mailboxes: ids };
        if (ids.length === 0) delete copy.mailboxes; // an empty list is refused; absent means the provider
        onChange(copy);
      }}
      error={mailboxes.error ? 'The mailboxes could not be loaded' : undefined}
      readOnly={readOnly}
      searchable
      clearable
      data-testid="sequence-mailboxes"
    />
  );
}
