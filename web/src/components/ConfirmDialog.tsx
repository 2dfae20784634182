/**
 * Asks before an action that cannot be taken back (cancel, convert, delete): what will happen in
 * sentences, an optional reason the API keeps with the change, and a button named for the act.
 */
import { Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { ErrorAlert } from './ErrorAlert.tsx';

export function ConfirmDialog({
  opened,
  title,
  children,
  confirmLabel,
  withReason = false,
  pending = false,
  error,
  onConfirm,
  onClose,
}: {
  opened: boolean;
  title: string;
  /** What will happen, said plainly. */
  children: ReactNode;
  confirmLabel: string;
  /** Offer a "Reason" field (kept on the audit trail). */
  withReason?: boolean;
  pending?: boolean;
  error?: unknown;
  onConfirm: (reason: string | undefined) => void;
  onClose: () => void;
}) {
  const [reason, setReason] = useState('');
  return (
    <Modal opened={opened} onClose={onClose} title={title}>
      <Stack>
        <div data-testid="confirm-consequences">{typeof children === 'string' ? <Text size="sm">{children}</Text> : children}</div>
        {withReason && (
          <Textarea label="Reason (optional, kept on the timeline)" maxLength={500} autosize minRows={2} value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
        )}
        <ErrorAlert error={error} title="The server refused" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Keep it
          </Button>
          <Button color="red" loading={pending} onClick={() => onConfirm(reason.trim() || undefined)}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
