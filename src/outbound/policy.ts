/**
 * What one attempt's result means for the delivery and its endpoint (docs/INTEGRATIONS.md,
 * "Retries"). Pure: it takes `now` and a random number, so its schedule is tested exactly.
 *
 * - 2xx: delivered.
 * - 410 Gone: failed, and the endpoint is disabled (`gone`): the receiver said it is gone.
 * - timeouts, network errors, 408, 429 and 5xx: retried with exponential backoff and ±20 %
 *   jitter (5 s, 20 s, 80 s, … capped at 4 h; a longer Retry-After is honoured) until the
 *   retry window (WEBHOOK_RETRY_HOURS, at least 24 h) after the event has passed; the last
 *   attempt falls on the window's end. Then failed.
 * - any other answer (3xx — redirects are not followed — and 4xx): the receiver refuses this
 *   message; retried the same way but at most OTHER_FAILURE_ATTEMPTS times in all, then failed.
 * - an address refused at delivery (private, DNS rebinding): retried like a network error, as
 *   the name may be fixed.
 */
import type { PostResult } from './post.ts';

export const BASE_DELAY_MS = 5_000;
export const MAX_DELAY_MS = 4 * 3600_000;
export const OTHER_FAILURE_ATTEMPTS = 5;

export type AttemptVerdict =
  | { status: 'delivered' }
  | { status: 'pending'; nextAttemptAt: Date }
  | { status: 'failed'; disableEndpoint?: 'gone' };

/** The pause before attempt `attempts + 1`, jittered by `random` ∈ [0, 1). */
export function backoffMs(attempts: number, random: number): number {
  const raw = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 4 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.8 + 0.4 * random));
}

/** Seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: Date): number | null {
  if (!header) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

function isTransient(result: PostResult): boolean {
  if (result.kind === 'unreachable') return true;
  return result.status === 408 || result.status === 429 || result.status >= 500;
}

export function judgeAttempt(args: {
  result: PostResult;
  attempts: number;
  createdAt: Date;
  now: Date;
  retryWindowMs: number;
  random: number;
}): AttemptVerdict {
  const { result, attempts, now } = args;
  if (result.kind === 'answered' && result.status >= 200 && result.status < 300) return { status: 'delivered' };
  if (result.kind === 'answered' && result.status === 410) return { status: 'failed', disableEndpoint: 'gone' };
  if (!isTransient(result) && attempts >= OTHER_FAILURE_ATTEMPTS) return { status: 'failed' };
  const windowEnd = args.createdAt.getTime() + args.retryWindowMs;
  if (now.getTime() >= windowEnd) return { status: 'failed' };
  const asked = result.kind === 'answered' ? retryAfterMs(result.retryAfter, now) : null;
  const wait = Math.max(backoffMs(attempts, args.random), asked ?? 0);
  return { status: 'pending', nextAttemptAt: new Date(Math.min(now.getTime() + wait, windowEnd)) };
}
