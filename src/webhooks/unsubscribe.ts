/**
 * One-click unsubscribe (RFC 8058) served by Touchpoint. Every email names its execution in a
 * signed token, so the link needs no login and cannot be forged for another address; the
 * execution leads to the workspace, the lead and the address to suppress.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import type { Db } from '../db/db.ts';
import { findExecutionLeadEmail } from '../db/executionLeads.ts';
import type { Engine } from '../engine/engine.ts';

const UUID = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;

export class UnsubscribeTokens {
  constructor(private readonly secret: string) {}

  /** `<execution id, 22 chars>.<mac, 22 chars>`: short enough for a footer line. */
  sign(executionId: string): string {
    const match = UUID.exec(executionId);
    if (!match) throw new Error(`Not an execution id: ${executionId}`);
    const id = Buffer.from(match.slice(1).join(''), 'hex').toString('base64url');
    return `${id}.${this.mac(id)}`;
  }

  /** The execution id, or undefined for anything we did not sign. */
  verify(token: string): string | undefined {
    const [id, mac, extra] = token.split('.');
    if (!id || !mac || extra !== undefined || !/^[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
    const expected = Buffer.from(this.mac(id));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const hex = Buffer.from(id, 'base64url').toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  private mac(id: string): string {
    return createHmac('sha256', this.secret).update(`unsubscribe:${id}`).digest().subarray(0, 16).toString('base64url');
  }
}

/** The base every public link starts with: PUBLIC_URL, or the local API under mock delivery. */
export function publicBaseUrl(config: Config): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, '');
  if (!config.USE_MOCK_SEQUENCE_DELIVERY) {
    throw new ConfigError(
      'USE_MOCK_SEQUENCE_DELIVERY is false but PUBLIC_URL is not set; set it to the https address providers and recipients reach Touchpoint at (webhooks and one-click unsubscribe links use it).',
    );
  }
  return `http://localhost:${config.PORT}`;
}

const generated = new WeakMap<Config, string>();

/**
 * The secret public links are signed with (unsubscribe, and tracking under a key derived from
 * it). Live email needs one that outlives the process, or links in sent mail break on restart.
 * Mock delivery reaches no one, so a per-process secret is enough there; it is kept per config
 * object so the engine (signing) and the routes (verifying) of one runtime share it.
 */
export function linkSecret(config: Config): string {
  if (config.UNSUBSCRIBE_SECRET) return config.UNSUBSCRIBE_SECRET;
  if (!config.USE_MOCK_SEQUENCE_DELIVERY) {
    throw new ConfigError(
      'USE_MOCK_SEQUENCE_DELIVERY is false but UNSUBSCRIBE_SECRET is not set; set it to a long random string (e.g. `openssl rand -hex 32`) shared by every Touchpoint process.',
    );
  }
  let secret = generated.get(config);
  if (!secret) generated.set(config, (secret = randomBytes(32).toString('hex')));
  return secret;
}

export function unsubscribeTokens(config: Config): UnsubscribeTokens {
  return new UnsubscribeTokens(linkSecret(config));
}

/** The EngineDeps hook: the link each email carries in its footer and List-Unsubscribe header. */
export function unsubscribeLinks(baseUrl: string, tokens: UnsubscribeTokens) {
  return ({ executionId }: { executionId: string }): string | undefined =>
    UUID.test(executionId) ? `${baseUrl}/unsubscribe/${tokens.sign(executionId)}` : undefined;
}

export interface UnsubscribeRouteDeps {
  db: Db;
  engine: Engine;
  tokens: UnsubscribeTokens;
  logger?: Logger;
}

/**
 * GET shows a confirmation form and changes nothing (mail scanners open every link); POST is
 * the RFC 8058 one-click request, or the form. Registered in the raw-body scope of the webhooks,
 * so any body (`List-Unsubscribe=One-Click`, form or multipart) is accepted as is.
 */
export function registerUnsubscribeRoutes(scope: FastifyInstance, deps: UnsubscribeRouteDeps): void {
  scope.get<{ Params: { token: string } }>('/unsubscribe/:token', async (request, reply) => {
    if (!deps.tokens.verify(request.params.token)) return page(reply, 404, 'This unsubscribe link is not valid.');
    return page(
      reply,
      200,
      'Unsubscribe from these emails?',
      `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    );
  });

  scope.post<{ Params: { token: string } }>('/unsubscribe/:token', async (request, reply) => {
    const executionId = deps.tokens.verify(request.params.token);
    if (!executionId) return page(reply, 404, 'This unsubscribe link is not valid.');
    try {
      const email = await findExecutionLeadEmail(deps.db, executionId);
      if (!email) return page(reply, 404, 'This unsubscribe link is no longer valid.');
      // One event per message: a second click (or the mail client's retry) is a duplicate.
      await deps.engine.ingest({
        type: 'email.unsubscribed',
        providerEventId: `touchpoint:unsubscribe:${executionId}`,
        provider: 'touchpoint',
        occurredAt: deps.engine.deps.clock.now(),
        executionId,
        address: { channel: 'email', value: email },
        suppress: true,
        data: { source: 'list-unsubscribe' },
      });
    } catch (error) {
      deps.logger?.error({ err: error, executionId }, 'unsubscribe failed');
      return page(reply, 503, 'We could not record that just now; please try again in a minute.');
    }
    return page(reply, 200, 'You are unsubscribed. You will not get further emails from us.');
  });
}

/** The pages run no script and load nothing; their one form posts back to the same address. */
export const UNSUBSCRIBE_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function page(reply: FastifyReply, status: number, message: string, extra = ''): FastifyReply {
  const html = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>Unsubscribe</title></head><body style="font-family:sans-serif;max-width:32rem;margin:4rem auto">` +
    `<p>${message}</p>${extra}</body></html>`;
  return reply.status(status).header('content-security-policy', UNSUBSCRIBE_PAGE_CSP).type('text/html; charset=utf-8').send(html);
}
