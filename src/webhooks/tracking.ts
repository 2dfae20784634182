/**
 * Open and click tracking served by Touchpoint (docs/SEQUENCES.md, "Tracking"; docs/SECURITY.md,
 * "Tracking links"). Every link names its execution (and, for a click, the destination) in a
 * token signed with HMAC-SHA256 under a key derived from UNSUBSCRIBE_SECRET, so nothing is
 * guessable: a token cannot be made for another execution or another destination, and a
 * redirect only ever goes to the http(s) URL signed into it. A hit becomes `email.opened` /
 * `email.clicked` through the engine's ingest, like a provider's webhook.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isHttpLink } from '../core/emailBody.ts';
import type { Engine } from '../engine/engine.ts';
import type { FailureLimiter } from './guard.ts';

const UUID = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;
const ID22 = /^[A-Za-z0-9_-]{22}$/;
/** A token longer than this was not made by us (a long URL is a few hundred characters). */
export const MAX_TRACKING_TOKEN_CHARS = 4096;
/** URLs longer than this are sent untracked: a redirect link must stay a sane length. */
export const MAX_TRACKED_URL_CHARS = 2048;

export type TrackedHit = { kind: 'open'; executionId: string } | { kind: 'click'; executionId: string; url: string };

export class TrackingTokens {
  /** A key of its own, derived from the link secret, so an unsubscribe MAC is never a tracking MAC. */
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('touchpoint tracking v1').digest();
  }

  /** `<execution id, 22 chars>.<mac, 22 chars>` */
  open(executionId: string): string {
    const id = compactId(executionId);
    return `${id}.${this.mac(`open:${id}`)}`;
  }

  /** `<execution id>.<url, base64url>.<mac>`; the MAC covers both. */
  click(executionId: string, url: string): string {
    const id = compactId(executionId);
    const target = Buffer.from(url, 'utf8').toString('base64url');
    return `${id}.${target}.${this.mac(`click:${id}:${target}`)}`;
  }

  /** What a token says, or undefined for anything we did not sign (tampered, truncated, another kind). */
  verify(kind: 'open' | 'click', token: string): TrackedHit | undefined {
    if (token.length > MAX_TRACKING_TOKEN_CHARS) return undefined;
    const parts = token.split('.');
    if (kind === 'open') {
      const [id, mac] = parts;
      if (parts.length !== 2 || !id || !mac || !ID22.test(id) || !this.matches(`open:${id}`, mac)) return undefined;
      return { kind, executionId: expandId(id) };
    }
    const [id, target, mac] = parts;
    if (parts.length !== 3 || !id || !target || !mac || !ID22.test(id) || !/^[A-Za-z0-9_-]+$/.test(target)) return undefined;
    if (!this.matches(`click:${id}:${target}`, mac)) return undefined;
    const url = Buffer.from(target, 'base64url').toString('utf8');
    // Signed by us, yet only ever an http(s) destination: never a redirect to another scheme.
    if (!isHttpLink(url)) return undefined;
    return { kind, executionId: expandId(id), url };
  }

  private mac(data: string): string {
    return createHmac('sha256', this.key).update(data).digest().subarray(0, 16).toString('base64url');
  }

  private matches(data: string, mac: string): boolean {
    const expected = Buffer.from(this.mac(data));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function compactId(executionId: string): string {
  const match = UUID.exec(executionId);
  if (!match) throw new Error(`Not an execution id: ${executionId}`);
  return Buffer.from(match.slice(1).join(''), 'hex').toString('base64url');
}

function expandId(id: string): string {
  const hex = Buffer.from(id, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The EngineDeps hook: the pixel and redirect links of an email execution under `baseUrl`. */
export function trackingLinks(baseUrl: string, tokens: TrackingTokens) {
  return {
    openUrl: (executionId: string) => `${baseUrl}/t/o/${tokens.open(executionId)}`,
    clickUrl: (executionId: string, url: string) =>
      url.length > MAX_TRACKED_URL_CHARS ? url : `${baseUrl}/t/c/${tokens.click(executionId, url)}`,
  };
}

/** A transparent 1×1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export interface TrackingRouteDeps {
  engine: Engine;
  tokens: TrackingTokens;
  /** Shared with the webhooks: an address that keeps presenting bad tokens waits (429). */
  limiter: FailureLimiter;
  logger?: Logger;
}

/**
 * `GET /t/o/<token>` answers the pixel, `GET /t/c/<token>` a 302 to the signed URL. A bad token
 * is a 404 with no detail (and counts against the address, like a failed webhook signature).
 * Recording a hit never holds up the reader: if the store is down the pixel and the redirect
 * are served anyway and the hit is lost (logged).
 */
export function registerTrackingRoutes(scope: FastifyInstance, deps: TrackingRouteDeps): void {
  const { limiter } = deps;
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    limiter.fail(request.ip);
    return reply.status(404).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('Not found');
  };
  const throttled = (request: FastifyRequest, reply: FastifyReply) => {
    const wait = limiter.retryAfter(request.ip);
    if (wait === undefined) return false;
    void reply.status(429).header('retry-after', String(wait)).type('text/plain; charset=utf-8').send('Too many requests');
    return true;
  };

  scope.get<{ Params: { token: string } }>('/t/o/:token', async (request, reply) => {
    if (throttled(request, reply)) return reply;
    const hit = deps.tokens.verify('open', request.params.token);
    if (!hit) return notFound(request, reply);
    await record(deps, hit);
    return reply
      .status(200)
      .header('cache-control', 'no-store, no-cache, must-revalidate, private')
      .type('image/gif')
      .send(PIXEL);
  });

  // A wildcard, not a parameter: a click token carries its URL and outgrows a parameter's length limit.
  scope.get<{ Params: { '*': string } }>('/t/c/*', async (request, reply) => {
    if (throttled(request, reply)) return reply;
    const hit = deps.tokens.verify('click', request.params['*']);
    if (!hit || hit.kind !== 'click') return notFound(request, reply);
    await record(deps, hit);
    return reply.status(302).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(hit.url);
  });
}

/**
 * One `email.opened` per email (the first open) and one `email.clicked` per email and link (the
 * first click on it): the event id makes every repeat a duplicate, as a provider's retry is.
 */
async function record(deps: TrackingRouteDeps, hit: TrackedHit): Promise<void> {
  const { engine } = deps;
  const providerEventId =
    hit.kind === 'open'
      ? `touchpoint:open:${hit.executionId}`
      : `touchpoint:click:${hit.executionId}:${createHash('sha256').update(hit.url).digest('base64url').slice(0, 22)}`;
  try {
    await engine.ingest({
      type: hit.kind === 'open' ? 'email.opened' : 'email.clicked',
      providerEventId,
      provider: 'touchpoint',
      occurredAt: engine.deps.clock.now(),
      executionId: hit.executionId,
      data: hit.kind === 'click' ? { source: 'tracking', url: hit.url } : { source: 'tracking' },
    });
  } catch (error) {
    deps.logger?.error({ err: error, executionId: hit.executionId, kind: hit.kind }, 'tracking hit could not be recorded');
  }
}
