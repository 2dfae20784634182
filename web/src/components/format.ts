/** Dates for people: in a given IANA zone (the lead's) or the viewer's own. */
export function formatAt(iso: string | null | undefined, zone?: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  try {
    // dateStyle/timeStyle cannot be combined with timeZoneName, so the parts are spelled out.
    return new Intl.DateTimeFormat(undefined, {
      weekday: 'short',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone: zone ?? undefined,
      timeZoneName: 'short',
    }).format(date);
  } catch {
    return date.toLocaleString();
  }
}

export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ];
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, ms] of units) if (abs >= ms || unit === 'second') return rtf.format(Math.round(diff / ms), unit);
  return '';
}

export function leadName(lead: { firstName?: string | null; lastName?: string | null; email?: string | null; phone?: string | null } | undefined): string {
  if (!lead) return 'Unknown lead';
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ');
  return name || lead.email || lead.phone || 'Unnamed lead';
}

export const viewerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

const STATUS_COLORS: Record<string, string> = {
  active: 'green',
  waiting: 'yellow',
  paused: 'orange',
  completed: 'blue',
  converted: 'teal',
  cancelled: 'gray',
  exited: 'grape',
  failed: 'red',
  draft: 'gray',
  archived: 'dark',
  succeeded: 'green',
  skipped: 'gray',
  started: 'blue',
  unknown: 'orange',
};
export const statusColor = (status: string | undefined | null) => STATUS_COLORS[status ?? ''] ?? 'gray';
