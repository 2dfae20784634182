import { Badge, Tooltip } from '@mantine/core';
import type { LeadStatus } from '../api/types.ts';

/** The lifecycle in rank order, with what each status means (docs/API.md, "Lead status"). */
export const LEAD_STATUSES: Array<{ value: LeadStatus; label: string; color: string; meaning: string }> = [
  { value: 'new', label: 'new', color: 'gray', meaning: 'Nothing has been sent to this lead yet.' },
  { value: 'contacted', label: 'contacted', color: 'blue', meaning: 'At least one email, text or call went out.' },
  { value: 'replied', label: 'replied', color: 'green', meaning: 'The lead answered an email or a text.' },
  { value: 'bounced', label: 'bounced', color: 'orange', meaning: 'The email address bounced; no more email goes to it.' },
  { value: 'opted_out', label: 'opted out', color: 'red', meaning: 'The lead unsubscribed, reported spam or texted STOP.' },
  { value: 'converted', label: 'converted', color: 'teal', meaning: 'Marked converted by an operator.' },
];

export function LeadStatusBadge({ status }: { status: LeadStatus | string }) {
  const known = LEAD_STATUSES.find((s) => s.value === status);
  return (
    <Tooltip label={known?.meaning ?? status}>
      <Badge color={known?.color ?? 'gray'} variant="light" data-testid="lead-status" tabIndex={0}>
        {known?.label ?? status}
      </Badge>
    </Tooltip>
  );
}
