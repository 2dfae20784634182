import { Badge, Tooltip } from '@mantine/core';
import type { Lead } from '../api/types.ts';
import { completeness } from './completeness.ts';

export function CompletenessBadge({ lead }: { lead: Pick<Lead, 'email' | 'phone' | 'timezone'> }) {
  const { score, missing } = completeness(lead);
  const label = score === 3 ? 'complete' : `${score}/3`;
  const color = score === 3 ? 'green' : score === 2 ? 'yellow' : 'red';
  const why = score === 3 ? 'Email, phone and time zone present and valid' : missing.join(', ');
  return (
    <Tooltip label={why}>
      <Badge color={color} variant="light" aria-label={`Data completeness: ${why}`} tabIndex={0}>
        {label}
      </Badge>
    </Tooltip>
  );
}
