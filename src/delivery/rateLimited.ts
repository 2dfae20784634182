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
import type { Admission, DeliveryAdapters, DeliveryResult, GateRequest, SendGate } from './types.ts';

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
  /**
   * Takes the next free slot in every bucket for the send `key` (a visit's idempotency key),
   * now or later: answers 0 when it may go now, else the ms until its slot, which stays held
   * for `key`. The same key asking again once its slot has come answers 0 and takes nothing
   * more; one that comes back more than `STALE_RESERVATION_MS` after its slot (a stall) gives
   * it up and takes a new one, so late sends never bunch up over the rate.
   */
  reserve(buckets: Bucket[], key: string): Promise<number>;
  close(): Promise<void>;
}

/** How late a reserved slot may still be used. */
export const STALE_RESERVATION_MS = 500;
/** How early a reserved slot may be used (clock granularity between the engine and the limiter). */
const EARLY_MS = 2;

export class MemoryLimiter implements Limiter {
  private readonly next = new Map<string, number>();
  /** Slots held for sends deferred to them, by visit key. */
  private readonly reserved = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}
  async reserve(buckets: Bucket[], key: string): Promise<number> {
    const now = this.now();
    const held = this.reserved.get(key);
    if (held !== undefined) {
      if (held - now > EARLY_MS) return Math.ceil(held - now);
      this.reserved.delete(key);
      if (now - held <= STALE_RESERVATION_MS) return 0;
    }
    const slot = Math.max(now, ...buckets.map(([b]) => this.next.get(b) ?? 0));
    for (const [b, perSecond] of buckets) this.next.set(b, slot + (1000 / perSecond) * HEADROOM);
    if (slot <= now) return 0;
    if (this.reserved.size > 100_000) this.forgetStale(now);
    this.reserved.set(key, slot);
    return Math.ceil(slot - now);
  }
  private forgetStale(now: number): void {
    for (const [key, slot] of this.reserved) if (now - slot > STALE_RESERVATION_MS) this.reserved.delete(key);
  }
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

// KEYS = buckets, then the reservation's key; ARGV = the buckets' emission intervals (µs), then
// EARLY and STALE (µs). Returns 0 (go now) or the wait until the send's slot in µs.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS - 1
local early = tonumber(ARGV[n + 1])
local stale = tonumber(ARGV[n + 2])
local res = KEYS[n + 1]
local held = redis.call('GET', res)
if held then
  held = tonumber(held)
  if held - now > early then return held - now end
  redis.call('DEL', res)
  if now - held <= stale then return 0 end
end
local slot = now
for i = 1, n do
  local allowed = tonumber(redis.call('GET', KEYS[i]) or '0')
  if allowed > slot then slot = allowed end
end
for i = 1, n do
  local interval = tonumber(ARGV[i])
  redis.call('SET', KEYS[i], tostring(slot + interval), 'PX', math.ceil((slot - now + interval) / 1000) + 1000)
end
if slot <= now then return 0 end
redis.call('SET', res, tostring(slot), 'PX', math.ceil((slot - now + stale) / 1000) + 1000)
return slot - now`;

export class RedisLimiter implements Limiter {
  async reserve(buckets: Bucket[], key: string): Promise<number> {
    const keys = [...buckets.map(([b]) => `${this.prefix}:${b}`), `${this.prefix}:res:${key}`];
    const intervals = buckets.map(([, perSecond]) => Math.ceil((1_000_000 / perSecond) * HEADROOM));
    const waitUs = await this.redis.eval(RESERVE, keys.length, ...keys, ...intervals, EARLY_MS * 1000, STALE_RESERVATION_MS * 1000);
    return Math.ceil(Number(waitUs) / 1000);
  }
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
  const { email, sms, voice, ledger } = adapters;
  return {
    ledger,
    email: { adapter: email.adapter, send: (m) => gate('email', m.from.email, () => email.send(m)) },
    sms: { adapter: sms.adapter, send: (m) => gate('sms', m.from, () => sms.send(m)) },
    voice: { adapter: voice.adapter, dial: (c) => gate('voice', c.from, () => voice.dial(c)) },
  };
}

/**
 * The rate limits as a gate the executor asks before a round's intents (docs/ENGINE.md,
 * "Limit-aware claims"): a send whose buckets have room goes now; one that must wait is
 * deferred to its reserved slot, so it never holds its round and is not claimed before then.
 * A limiter that cannot answer (Redis away) defers the send by a second: nothing went out.
 */
export function rateLimitGate(limiter: Limiter, limits: RateLimits): SendGate {
  const admitOne = async (request: GateRequest): Promise<Admission> => {
    const l = limits[request.channel];
    const buckets = ([
      [`${request.channel}:sender:${request.sender}`, l.perSenderPerSecond],
      [`${request.channel}:account`, l.perSecond],
    ] as Bucket[]).filter(([, perSecond]) => perSecond > 0);
    if (buckets.length === 0) return { kind: 'now' };
    try {
      const waitMs = await limiter.reserve(buckets, request.key);
      return waitMs === 0 ? { kind: 'now' } : { kind: 'later', afterMs: waitMs, reason: 'rate_limited' };
    } catch {
      return { kind: 'later', afterMs: 1000, reason: 'rate_limiter_unavailable' };
    }
  };
  return {
    // Started in the round's order, and both limiters take them in that order (the memory one
    // synchronously, Redis one connection's commands in turn): slots follow the claim order.
    admit: (requests) => Promise.all(requests.map(admitOne)),
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
