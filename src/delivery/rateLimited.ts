/**
 * Per-channel and per-sender rate limits as a decorator around the delivery adapters, so the
 * executor does not change. A send waits (bounded) for a slot in every bucket it belongs to;
 * it is spread, never dropped. Only if no slot comes within `maxWaitMs` does it answer a
 * retryable `rate_limited` failure, which the executor reschedules like a provider's 429.
 *
 * The algorithm is GCRA (one timestamp per bucket): a send conforms when at least one emission
 * interval (1 s / rate) has passed since the previous conforming send, so the measured rate
 * over any second never exceeds the limit. A send takes its slots in all its buckets (sender
 * and account) in one step, so a slot is never held while waiting for another. With REDIS_URL the check is one Lua script on the
 * Redis clock, shared by every worker on every machine; without it, the same check runs in
 * process (the embedded default has one process). Both run 2% under the configured rate, so a
 * few milliseconds of jitter between our check and the provider's clock never tips a second over.
 */
import type { Redis } from 'ioredis';
import type { DeliveryAdapters, DeliveryResult } from './types.ts';

const HEADROOM = 1.02;

export interface ChannelLimits {
  /** Sends per second for the whole account (0 = no limit). */
  perSecond: number;
  /** Sends per second from one sender address or number (0 = no limit). */
  perSenderPerSecond: number;
}

export interface RateLimits {
  email: ChannelLimits;
  sms: ChannelLimits;
  voice: ChannelLimits;
  maxWaitMs: number;
}

/** A bucket: its key and its rate in sends per second. */
export type Bucket = [key: string, perSecond: number];

/**
 * Takes a slot in every bucket at the same instant, or in none: answers 0 when the send may go
 * now, else how many ms until every bucket could let it through.
 */
export interface Limiter {
  acquire(buckets: Bucket[]): Promise<number>;
  close(): Promise<void>;
}

export class MemoryLimiter implements Limiter {
  private readonly next = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}
  async acquire(buckets: Bucket[]): Promise<number> {
    const now = this.now();
    const wait = Math.max(0, ...buckets.map(([key]) => (this.next.get(key) ?? 0) - now));
    if (wait > 0) return Math.ceil(wait);
    for (const [key, perSecond] of buckets) this.next.set(key, now + (1000 / perSecond) * HEADROOM);
    return 0;
  }
  async close(): Promise<void> {}
}

// KEYS = buckets; ARGV = their emission intervals in microseconds. Redis' own clock, so workers
// on machines with skewed clocks share one timeline. Returns 0 (all taken) or the wait in µs.
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local allowed = tonumber(redis.call('GET', key) or '0')
  if allowed - now > wait then wait = allowed - now end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[i])
  redis.call('SET', key, tostring(now + interval), 'PX', math.ceil(interval / 1000) + 1000)
end
return 0`;

export class RedisLimiter implements Limiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}
  async acquire(buckets: Bucket[]): Promise<number> {
    const keys = buckets.map(([key]) => `${this.prefix}:${key}`);
    const intervals = buckets.map(([, perSecond]) => Math.ceil((1_000_000 / perSecond) * HEADROOM));
    const waitUs = await this.redis.eval(GCRA, keys.length, ...keys, ...intervals);
    return Math.ceil(Number(waitUs) / 1000);
  }
  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

class RateLimitTimeout extends Error {
  constructor(readonly retryAfterMs: number) {
    super('rate limit slot not available in time');
  }
}

/** Waits until every bucket lets the send through at once, or gives up at the deadline. */
async function waitForSlots(limiter: Limiter, all: Bucket[], maxWaitMs: number): Promise<void> {
  const buckets = all.filter(([, perSecond]) => perSecond > 0);
  if (buckets.length === 0) return;
  const deadline = Date.now() + maxWaitMs;
  const fastest = Math.max(...buckets.map(([, perSecond]) => perSecond));
  for (;;) {
    const waitMs = await limiter.acquire(buckets);
    if (waitMs === 0) return;
    if (Date.now() + waitMs > deadline) throw new RateLimitTimeout(waitMs);
    // Jitter spreads waiters that were told the same time, so they do not all retry at once.
    await new Promise((resolve) => setTimeout(resolve, waitMs + Math.floor(Math.random() * Math.min(50, 1000 / fastest))));
  }
}

export function rateLimitedAdapters(adapters: DeliveryAdapters, limiter: Limiter, limits: RateLimits): DeliveryAdapters {
  const gate = async (channel: 'email' | 'sms' | 'voice', sender: string, call: () => Promise<DeliveryResult>): Promise<DeliveryResult> => {
    const l = limits[channel];
    const buckets: Bucket[] = [
      [`${channel}:sender:${sender}`, l.perSenderPerSecond],
      [`${channel}:account`, l.perSecond],
    ];
    try {
      await waitForSlots(limiter, buckets, limits.maxWaitMs);
    } catch (error) {
      // Nothing went out, so both are plain retryable failures, never an unknown outcome.
      if (error instanceof RateLimitTimeout) {
        return { kind: 'failed', retryable: true, code: 'rate_limited', message: 'Rate limit busy; the send is rescheduled.', retryAfterMs: error.retryAfterMs };
      }
      return { kind: 'failed', retryable: true, code: 'rate_limiter_unavailable', message: `Rate limiter unavailable: ${(error as Error).message}` };
    }
    return call();
  };
  const { email, sms, voice, ledger, mailbox } = adapters;
  return {
    ledger,
    // A mailbox paces itself (its minimum gap and daily limit, counted in the database).
    ...(mailbox ? { mailbox } : {}),
    email: { adapter: email.adapter, send: (m) => gate('email', m.from.email, () => email.send(m)) },
    sms: { adapter: sms.adapter, send: (m) => gate('sms', m.from, () => sms.send(m)) },
    voice: { adapter: voice.adapter, dial: (c) => gate('voice', c.from, () => voice.dial(c)) },
  };
}

/** Limits from config; the rate limiter waits at most a third of the lease, so a waiting send never outlives its lease. */
export function rateLimitsFromConfig(config: {
  RATE_LIMIT_EMAIL_PER_SECOND: number;
  RATE_LIMIT_EMAIL_PER_SENDER_PER_SECOND: number;
  RATE_LIMIT_SMS_PER_SECOND: number;
  RATE_LIMIT_SMS_PER_SENDER_PER_SECOND: number;
  RATE_LIMIT_VOICE_PER_SECOND: number;
  RATE_LIMIT_VOICE_PER_SENDER_PER_SECOND: number;
  RATE_LIMIT_MAX_WAIT_MS: number;
  LEASE_SECONDS: number;
}): RateLimits {
  return {
    email: { perSecond: config.RATE_LIMIT_EMAIL_PER_SECOND, perSenderPerSecond: config.RATE_LIMIT_EMAIL_PER_SENDER_PER_SECOND },
    sms: { perSecond: config.RATE_LIMIT_SMS_PER_SECOND, perSenderPerSecond: config.RATE_LIMIT_SMS_PER_SENDER_PER_SECOND },
    voice: { perSecond: config.RATE_LIMIT_VOICE_PER_SECOND, perSenderPerSecond: config.RATE_LIMIT_VOICE_PER_SENDER_PER_SECOND },
    maxWaitMs: Math.min(config.RATE_LIMIT_MAX_WAIT_MS, (config.LEASE_SECONDS * 1000) / 3),
  };
}
