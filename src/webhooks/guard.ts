/**
 * The webhook routes' front door, run in `onRequest`, before a byte of the body is read:
 * an address that keeps failing authentication waits (429), a request whose headers cannot
 * pass is refused (401, or 503 when we lack the key), and a declared length over the route's
 * cap is refused (413). Only what survives is read, and only up to the cap.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, onResponseAsyncHookHandler } from 'fastify';
import { errorBody } from '../http/errors.ts';
import type { VerifyResult } from './verify.ts';

export type Check = VerifyResult | { ok: false; reason: 'unconfigured'; setting: string };

const WINDOW_MS = 60_000;
/** Enough for every address of a real attack; past it the oldest are forgotten first. */
const MAX_ADDRESSES = 10_000;

/**
 * Failed authentications per client address in a fixed one-minute window that opens at the
 * address's first failure. Past the limit the address is refused until its window closes.
 * Only failures count, and only the failing address's: a provider that signs correctly from
 * its own address is never slowed by anyone else. Per process (several API processes each
 * count their own), in memory, bounded.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { opened: number; failures: number }>();

  constructor(private readonly options: { perMinute: number; now: () => Date }) {}

  /** Seconds until this address may try again, or undefined when it may now. */
  retryAfter(address: string): number | undefined {
    if (this.options.perMinute <= 0) return undefined;
    const window = this.current(address);
    if (!window || window.failures < this.options.perMinute) return undefined;
    return Math.max(1, Math.ceil((window.opened + WINDOW_MS - this.now()) / 1000));
  }

  fail(address: string): void {
    if (this.options.perMinute <= 0) return;
    const window = this.current(address);
    if (window) {
      window.failures += 1;
      return;
    }
    if (this.windows.size >= MAX_ADDRESSES) this.evict();
    this.windows.set(address, { opened: this.now(), failures: 1 });
  }

  private now(): number {
    return this.options.now().getTime();
  }

  private current(address: string) {
    const window = this.windows.get(address);
    if (window && this.now() - window.opened >= WINDOW_MS) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  private evict(): void {
    for (const [address, window] of this.windows) if (this.now() - window.opened >= WINDOW_MS) this.windows.delete(address);
    // Insertion order is age order: drop the oldest until there is room.
    for (const address of this.windows.keys()) {
      if (this.windows.size < MAX_ADDRESSES) break;
      this.windows.delete(address);
    }
  }
}

/**
 * Bytes of bodies being read that no one has verified yet (a signature is over the body, so a
 * forged request with well-formed headers is read before it can fail). Each such request
 * reserves its declared length (its route's cap without one) until its response is done; past
 * the budget, or past half of it for one address, the answer is 503 with Retry-After, which
 * every provider retries. Bounds what forged posts can hold in memory at once.
 */
export class UnverifiedBudget {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** The release function, or undefined when the bytes do not fit now. */
  reserve(address: string, bytes: number): (() => void) | undefined {
    const perAddress = Math.floor(this.limit / 2);
    // One request on its own always fits: a budget below a route's cap must not refuse it forever.
    const need = Math.min(bytes, perAddress);
    const mine = this.byAddress.get(address) ?? 0;
    if (this.total + need > this.limit || mine + need > perAddress) return undefined;
    this.total += need;
    this.byAddress.set(address, mine + need);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= need;
      const left = (this.byAddress.get(address) ?? need) - need;
      if (left > 0) this.byAddress.set(address, left);
      else this.byAddress.delete(address);
    };
  }

  inFlight(): number {
    return this.total;
  }
}

const REASONS: Record<string, string> = {
  missing_headers: 'The signature or credential headers are missing.',
  stale_timestamp: 'The signature timestamp is more than 300 seconds from our clock.',
  bad_signature: 'The signature does not match the body.',
  bad_key: 'The configured verification key is not usable.',
  bad_credentials: 'The credentials do not match.',
};

/** 401 for a failed check, 503 naming the setting when we cannot check at all. */
export function refuse(reply: FastifyReply, verdict: Exclude<Check, { ok: true }>, path: string): FastifyReply {
  if (verdict.reason === 'unconfigured') {
    return reply
      .status(503)
      .send(errorBody('webhook_not_configured', `${path} is not configured: set ${verdict.setting} (see docs/PROVIDERS.md).`));
  }
  return reply.status(401).send(errorBody('unauthorized', REASONS[verdict.reason] ?? 'The request is not authentic.'));
}

export function tooLarge(path: string, limit: number): ReturnType<typeof errorBody> {
  return errorBody(
    'payload_too_large',
    `The body is larger than ${limit} bytes, the most ${path} accepts (more than the provider sends); see docs/PROVIDERS.md to raise it.`,
  );
}

/**
 * Refusals here close the connection: the client has not sent its body yet, and keeping the
 * connection alive would make the server read (and discard) all of it first.
 */
export function frontDoor(args: {
  path: string;
  bodyLimit: number;
  limiter: FailureLimiter;
  headers: (request: FastifyRequest) => Check;
  /** For routes whose body must be read before it can be verified. */
  budget?: UnverifiedBudget;
}): onRequestAsyncHookHandler {
  const { path, bodyLimit, limiter, headers, budget } = args;
  return async (request, reply) => {
    const wait = limiter.retryAfter(request.ip);
    if (wait !== undefined) {
      return reply
        .header('connection', 'close')
        .header('retry-after', String(wait))
        .status(429)
        .send(errorBody('rate_limited', `Too many webhook requests from ${request.ip} failed authentication; retry in ${wait} s.`));
    }
    const verdict = headers(request);
    if (!verdict.ok) return refuse(reply.header('connection', 'close'), verdict, path);
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > bodyLimit) {
      return reply.header('connection', 'close').status(413).send(tooLarge(path, bodyLimit));
    }
    if (budget) {
      const release = budget.reserve(request.ip, Number.isFinite(declared) ? declared : bodyLimit);
      if (!release) {
        return reply
          .header('connection', 'close')
          .header('retry-after', '5')
          .status(503)
          .send(errorBody('busy', `Too many unverified webhook bodies are being read now; deliver ${path} again in 5 s.`));
      }
      // 'close' fires once the response is sent or the connection dies, whichever comes first.
      reply.raw.once('close', release);
    }
    return undefined;
  };
}

/** A refused credential or an oversize body counts against the address (a provider sends neither). */
export function countFailures(limiter: FailureLimiter): onResponseAsyncHookHandler {
  return async (request, reply) => {
    if (reply.statusCode === 401 || reply.statusCode === 413) limiter.fail(request.ip);
  };
}
