/**
 * Retry delays for retryable delivery failures: exponential with "equal jitter" (half fixed,
 * half random), so a burst of failures does not retry in lockstep. `random` is injected.
 */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** What the provider asked for (`Retry-After`, rate-limit reset); never retry sooner. */
  retryAfterMs?: number;
  random?: () => number;
}

export function retryDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 30_000, maxMs = 3_600_000, retryAfterMs, random = Math.random } = options;
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}
