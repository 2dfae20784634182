/**
 * `touchpoint_webhooks_total{provider,outcome}`, counted where each webhook is answered: a hook
 * on the answer of every `/webhooks/<provider>…` route reads its status (and, for a 200, the
 * per-event counts the route answers with: recorded, duplicate, unmatched). The webhook room
 * stays free of metrics; its status policy (src/webhooks/routes.ts) is what is counted.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics, WebhookOutcome } from './metrics.ts';

/** A post turned away, by its status. */
const REFUSALS: Record<number, WebhookOutcome> = { 401: 'rejected', 400: 'refused', 413: 'refused', 429: 'refused', 503: 'unavailable' };
const EVENT_OUTCOMES = ['recorded', 'duplicate', 'unmatched'] as const;

export function countWebhooks(metrics: Metrics): (app: FastifyInstance) => void {
  return (app) => {
    app.addHook('onSend', async (request, reply, payload) => {
      const route = request.routeOptions.url;
      if (!route?.startsWith('/webhooks/')) return payload;
      const provider = route.split('/')[2] ?? 'unknown';
      if (reply.statusCode === 200) {
        const counts = eventCounts(payload);
        for (const outcome of EVENT_OUTCOMES) metrics.webhook(provider, outcome, counts?.[outcome] ?? 0);
      } else {
        const outcome = REFUSALS[reply.statusCode];
        if (outcome) metrics.webhook(provider, outcome);
      }
      return payload;
    });
  };
}

function eventCounts(payload: unknown): Partial<Record<(typeof EVENT_OUTCOMES)[number], number>> | undefined {
  if (typeof payload !== 'string') return undefined;
  try {
    const body = JSON.parse(payload) as Record<string, unknown>;
    return Object.fromEntries(EVENT_OUTCOMES.map((k) => [k, typeof body[k] === 'number' ? body[k] : 0]));
  } catch {
    return undefined;
  }
}
