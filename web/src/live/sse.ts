/**
 * Server-sent events read off a fetch body (the stream sends `Authorization` or
 * `X-Touchpoint-Workspace`, which an EventSource cannot), and which TanStack Query keys each
 * notice makes stale (docs/DASHBOARD.md, "Live updates"). Pure, tested in test/web/live.test.ts.
 */
import type { QueryKey } from '@tanstack/react-query';

export interface SseEvent {
  event: string;
  data: string;
}

/** Feeds text as it arrives; answers the complete events (comments and `retry:` are skipped). */
export class SseParser {
  private buffer = '';

  push(text: string): SseEvent[] {
    this.buffer += text.replace(/\r\n?/g, '\n');
    const events: SseEvent[] = [];
    let cut: number;
    while ((cut = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, cut);
      this.buffer = this.buffer.slice(cut + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) events.push({ event, data: data.join('\n') });
    }
    return events;
  }
}

/** What a notice makes stale: a key is a prefix (`['lead', id]` covers its timeline and enrollments). */
export type Stale = { key: QueryKey } | { everything: true } | { sequenceStats: true };

/** The per-sequence lists a change of its enrollments moves (never the definition an editor holds). */
const SEQUENCE_LISTS = new Set(['enrollments', 'stats', 'trend']);
/** The first parts of the keys live notices refresh; the rest (the signed-in person, drafts, settings) stay. */
const LIVE_ROOTS = new Set(['lead', 'leads', 'tasks', 'replies', 'metrics', 'executions', 'mailboxes', 'webhook-endpoints', 'webhook-deliveries']);

/** Whether a query shows something a notice can change (what `everything` refreshes). */
export function isLiveQuery(key: QueryKey): boolean {
  const [root, , part] = key;
  return LIVE_ROOTS.has(String(root)) || (root === 'sequence' && SEQUENCE_LISTS.has(String(part)));
}

export function staleKeys(event: SseEvent): Stale[] {
  let data: { leadId?: string; sequenceId?: string; endpointId?: string } = {};
  try {
    data = JSON.parse(event.data) as typeof data;
  } catch {
    return [];
  }
  const lead = (): Stale[] => (data.leadId ? [{ key: ['lead', data.leadId] }, { key: ['leads'] }] : [{ key: ['leads'] }]);
  switch (event.event) {
    case 'lead':
      // An open, a click or a reply counts in its sequence's figures (the notice does not say which).
      return [...lead(), { sequenceStats: true }];
    case 'enrollment':
      return [...lead(), ...(data.sequenceId ? [...SEQUENCE_LISTS].map((part): Stale => ({ key: ['sequence', data.sequenceId, part] })) : [])];
    case 'task':
      return [...lead(), { key: ['tasks'] }];
    case 'reply':
      return [...lead(), { key: ['replies'] }];
    case 'mailbox':
      return [{ key: ['mailboxes'] }];
    case 'webhook':
      // The endpoint's health and its delivery log (every endpoint's when the notice names none).
      return [{ key: ['webhook-endpoints'] }, { key: data.endpointId ? ['webhook-deliveries', data.endpointId] : ['webhook-deliveries'] }];
    case 'metrics':
      return [{ key: ['metrics'] }, { key: ['executions'] }];
    case 'workspace':
      return [{ everything: true }];
    default:
      return [];
  }
}
