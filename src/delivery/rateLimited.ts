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
 * Redis clock (`RedisLimiter`, src/delivery/redisLimiter.ts), shared by every worker on every machine; without it, the same check runs in
 * process (the embedded default has one process). Both run 2% under the configured rate, so a
 * few milliseconds of jitter between our check and the provider's clock never tips a second over.
 */
import type { Admission, DeliveryAdapters, DeliveryResult, GateRequest, SendGate } from './types.ts';

export const HEADROOM = 1.02;

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
   * For the send `key` (a visit's idempotency key): answers 0 when it may go now (its place is
   * taken), else the ms until it should ask again. A send that must wait is given the next
   * place in each bucket's queue (spaced one emission interval apart) and keeps it: asking
   * again with the same key at that time answers 0 if every bucket's window has room. The
   * window, not the queue, is what admits a send: at most `floor(rate)` sends in any
   * `floor(rate) / rate` seconds (plus the headroom), counted over the sends actually let
   * through, so a send that comes back late never bunches up with the next ones over the rate.
   * A send at the head of its queue that the window turns back by a slip of SLIP_MIN_MS or more
   * moves every place kept behind it back by the slip (a stall costs its length once).
   */
  reserve(buckets: Bucket[], key: string): Promise<number>;
  /**
   * Places for sends known to be queued behind one just deferred (the rest of its step's
   * backlog, docs/ENGINE.md, "Limit-aware claims"): each key not already holding a place is given
   * the next place in each bucket's queue, in the order given, and keeps it as `reserve` keeps
   * one; answers the ms until each key's place (a kept place as moved by any slip since it was
   * given). Nothing is admitted: each send still asks `reserve` at its place, and the window
   * decides.
   */
  queue(buckets: Bucket[], keys: string[]): Promise<number[]>;
  close(): Promise<void>;
}

/** A place in a queue not asked for again within this long is forgotten (its enrollment went away). */
export const FORGET_RESERVATION_MS = 3_600_000;
/** How early a place may be used (clock granularity between the engine and the limiter). */
export const EARLY_MS = 2;
/**
 * A slip shorter than this is left to the window queue (see reserve): the window recovers it by
 * itself (the sends it turned back go in the room the stall left), at the cost of some sends
 * asking twice, held with their claims; moving the queue back for it would lose its length for
 * good. Measured in bench G (docs/BENCHMARKS.md, "Issue 21, part 5"): moving the queue for every
 * slip cost the texts 1–4 % of their rate at `--quick` (the first batch's texts go a round,
 * 50–100 ms, late, and their echo moved the queue); from 900 ms, G's full size read 40.7 texts/s
 * and 0.83× for the emails (one run, beside another bench), against 47.8 and 1.01× from 250 ms. Known cost of 250 ms: one text held ~600 ms among 2,000 emails moves the whole queue.
 */
export const SLIP_MIN_MS = 250;

/** A bucket's window: at most `sends` sends in any `ms` (the rate, with the headroom). */
export function windowOf(perSecond: number): { sends: number; ms: number } {
  const sends = Math.max(1, Math.floor(perSecond));
  return { sends, ms: ((1000 * sends) / perSecond) * HEADROOM };
}

/** A place kept for a visit key: where it was given, and each bucket's slip total at that moment. */
interface KeptPlace {
  place: number;
  shifts: number[];
}

export class MemoryLimiter implements Limiter {
  private readonly next = new Map<string, number>();
  /** Each bucket's queue end (the next free place), for sends told to come back later. */
  private readonly frontier = new Map<string, number>();
  /** Each bucket's latest sends let through by `reserve` (at most its window's count). */
  private readonly sent = new Map<string, number[]>();
  /** Places held by sends told to come back, by visit key. */
  private readonly reserved = new Map<string, KeptPlace>();
  /** Each bucket's next place for a send its window turned back (see reserve). */
  private readonly windowQueue = new Map<string, number>();
  /** Each bucket's slips so far, in ms: every place kept before a slip moves back by it (see reserve). */
  private readonly slipped = new Map<string, number>();
  /** Each bucket's furthest place of a send let through: how far its queue has gone. */
  private readonly passed = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}
  async acquire(buckets: Bucket[]): Promise<number> {
    const now = this.now();
    const wait = Math.max(0, ...buckets.map(([key]) => (this.next.get(key) ?? 0) - now));
    if (wait > 0) return Math.ceil(wait);
    for (const [key, perSecond] of buckets) this.next.set(key, now + (1000 / perSecond) * HEADROOM);
    return 0;
  }
  async reserve(buckets: Bucket[], key: string): Promise<number> {
    const now = this.now();
    const place = this.placeOf(buckets, key) ?? this.nextPlace(buckets, now);
    if (place - now > EARLY_MS) {
      this.keep(buckets, key, place);
      return Math.ceil(place - now);
    }
    const wait = this.windowWait(buckets, now);
    if (wait > 0) {
      // Sends the window turns back (they came back late, or bunched after a stall) queue for
      // it one interval apart, so they come back one by one rather than all at the instant it
      // opens, to be turned back again but one.
      const at = Math.max(now + wait, ...buckets.map(([b]) => this.windowQueue.get(b) ?? 0));
      for (const [b, perSecond] of buckets) this.windowQueue.set(b, at + (1000 / perSecond) * HEADROOM);
      // The slip: this send goes `at - now` later than it asked, and so does every place kept
      // behind it, moved back together (and the queue's end), so the sends behind it find the
      // window open at their places instead of each being turned back by the same slip. It is
      // measured from when the send asked, not from its place: a send asks a round after its
      // place, and so do the sends behind it, so that part of its lateness is theirs too and is
      // no reason to move them. Only a send at the head of its queue moves it: one whose place
      // the queue has already passed (it came back late on its own: a crash, a lease run out) is
      // a straggler and moves nothing.
      const slip = at - Math.max(now, place);
      for (const [b, perSecond] of buckets) {
        if (slip < SLIP_MIN_MS || place <= (this.passed.get(b) ?? -Infinity)) continue;
        this.slipped.set(b, (this.slipped.get(b) ?? 0) + slip);
        this.frontier.set(b, Math.max((this.frontier.get(b) ?? 0) + slip, at + (1000 / perSecond) * HEADROOM));
        // The sends still due before `at` once moved (late with this one: a stall's bunch) are
        // behind it in the window queue; they move nothing more.
        this.passed.set(b, at);
      }
      this.keep(buckets, key, at);
      return Math.ceil(at - now);
    }
    this.reserved.delete(key);
    for (const [b, perSecond] of buckets) {
      this.passed.set(b, Math.max(this.passed.get(b) ?? -Infinity, place));
      const log = this.sent.get(b) ?? [];
      log.push(now);
      if (log.length > windowOf(perSecond).sends) log.shift();
      this.sent.set(b, log);
    }
    return 0;
  }
  async queue(buckets: Bucket[], keys: string[]): Promise<number[]> {
    const now = this.now();
    return keys.map((key) => {
      const place = this.placeOf(buckets, key) ?? this.nextPlace(buckets, now);
      this.keep(buckets, key, place);
      return Math.max(0, Math.ceil(place - now));
    });
  }
  /** The place kept for `key`, moved back by the slips of its buckets since it was given. */
  private placeOf(buckets: Bucket[], key: string): number | undefined {
    const kept = this.reserved.get(key);
    if (!kept) return undefined;
    const moved = Math.max(0, ...buckets.map(([b], i) => (this.slipped.get(b) ?? 0) - (kept.shifts[i] ?? Infinity)));
    return kept.place + moved;
  }
  /** The next place in every bucket's queue (taken). */
  private nextPlace(buckets: Bucket[], now: number): number {
    const place = Math.max(now, ...buckets.map(([b]) => this.frontier.get(b) ?? 0));
    for (const [b, perSecond] of buckets) this.frontier.set(b, place + (1000 / perSecond) * HEADROOM);
    if (this.reserved.size > 100_000) this.forget(now);
    return place;
  }
  private keep(buckets: Bucket[], key: string, place: number): void {
    this.reserved.set(key, { place, shifts: buckets.map(([b]) => this.slipped.get(b) ?? 0) });
  }
  /** How long until every bucket's window has room for one more send. */
  private windowWait(buckets: Bucket[], now: number): number {
    let wait = 0;
    for (const [b, perSecond] of buckets) {
      const { sends, ms } = windowOf(perSecond);
      const log = this.sent.get(b) ?? [];
      if (log.length >= sends) wait = Math.max(wait, log[log.length - sends]! + ms - now);
    }
    return wait;
  }
  private forget(now: number): void {
    for (const [key, kept] of this.reserved) if (now - kept.place > FORGET_RESERVATION_MS) this.reserved.delete(key);
  }
  async close(): Promise<void> {}
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
      if (waitMs === 0) return { kind: 'now' };
      // The sends behind this one on the same buckets queue after it, each keeping its place.
      return { kind: 'later', afterMs: waitMs, reason: 'rate_limited', queueBehind: (keys) => limiter.queue(buckets, keys) };
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
