/**
 * The HTTP piece every live adapter shares: one JSON POST with a deadline, and one classifier
 * that turns a provider's refusal into a `failed` result. Keeping the retry policy here means
 * SendGrid, Postmark and Telnyx can never disagree about what "retryable" means.
 */
import type { DeliveryResult } from './types.ts';

export type FetchLike = typeof globalThis.fetch;

export type DeliveryFailure = Extract<DeliveryResult, { kind: 'failed' }>;

/** What came back from one POST: an HTTP answer of any status, or no answer at all. */
export type HttpOutcome =
  | { kind: 'response'; status: number; headers: Headers; body: unknown }
  | {
      kind: 'transport';
      code: 'timeout' | 'network';
      detail: string;
      timeoutMs: number;
      /**
       * Whether the request may have reached the provider. Only failures that prove it never
       * left are `false`: the deadline passed before it was made, the name did not resolve, the
       * connection was refused or unreachable, the TLS handshake failed. A timeout or a reset
       * once the request was under way is `true` — the provider may have taken the message.
       */
      mayHaveSent: boolean;
    };

export interface PostJsonOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  /**
   * An absolute end the request may not outlive, whatever `timeoutMs` says: the engine's send
   * deadline, safely before its lease runs out (docs/ENGINE.md, "Crashes: at most once").
   */
  deadline?: Date;
  /** The clock the deadline is measured by: the engine's (a manual one in tests); else the wall clock. */
  now?: () => number;
  fetch?: FetchLike;
}

/**
 * POSTs `body` as JSON. Never throws: a refused connection or a deadline is an outcome, because
 * the adapters must return a value for every send. The deadline covers reading the body too.
 */
export async function postJson(url: string, body: unknown, options: PostJsonOptions): Promise<HttpOutcome> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = Math.min(options.timeoutMs, options.deadline ? options.deadline.getTime() - (options.now ?? Date.now)() : Infinity);
  // Past the deadline the request is not made at all: nothing went out, so a plain timeout.
  if (timeoutMs <= 0) return { kind: 'transport', code: 'timeout', detail: 'send deadline passed before the request', timeoutMs: 0, mayHaveSent: false };
  try {
    const response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return { kind: 'response', status: response.status, headers: response.headers, body: parseBody(text) };
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      // fetch does not say how far the request got: once it may have been written, it may have been taken.
      return { kind: 'transport', code: 'timeout', detail: 'deadline passed', timeoutMs, mayHaveSent: true };
    }
    const detail = networkDetail(error);
    return { kind: 'transport', code: 'network', detail, timeoutMs, mayHaveSent: !NEVER_SENT.test(detail) };
  }
}

/**
 * Connection errors that happen before a byte of the request leaves: name resolution, a refused
 * or unreachable peer, a connect timeout, a TLS handshake or certificate failure. Anything else
 * (a reset, a closed socket, an unknown error) may come after the request was written.
 */
const NEVER_SENT =
  /^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|EHOSTDOWN|EADDRNOTAVAIL|UND_ERR_CONNECT_TIMEOUT|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_.*|ERR_TLS_.*|CERT_.*|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_.*)$/;

export function isSuccess(outcome: HttpOutcome): outcome is Extract<HttpOutcome, { kind: 'response' }> {
  return outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300;
}

/**
 * How a provider reports errors. `rateLimitReset` exists because the same header name means
 * two things: SendGrid sends an epoch instant, Telnyx a number of seconds from now.
 */
export interface ProviderProfile {
  /** Used in messages: "Postmark rejected the message …". */
  name: string;
  rateLimitReset?: 'epoch-seconds' | 'seconds-until-reset';
  readError(body: unknown): { code?: string; detail?: string };
  /** Codes that are final whatever the HTTP status: an opt-out stays an opt-out on a 5xx. */
  permanentCodes?: readonly string[];
}

export const SENDGRID_PROFILE: ProviderProfile = {
  name: 'SendGrid',
  rateLimitReset: 'epoch-seconds',
  // SendGrid has no error codes; the HTTP status stands in and the first message explains it.
  readError(body) {
    const first = firstOf(field(body, 'errors'));
    const message = stringOf(field(first, 'message'));
    const where = stringOf(field(first, 'field'));
    return { detail: message && where ? `${where}: ${message}` : message };
  },
};

export const POSTMARK_PROFILE: ProviderProfile = {
  name: 'Postmark',
  readError(body) {
    const code = field(body, 'ErrorCode');
    // ErrorCode 0 means "OK"; an error answer carrying it has no code of its own.
    return {
      code: (typeof code === 'number' || typeof code === 'string') && String(code) !== '0' ? String(code) : undefined,
      detail: stringOf(field(body, 'Message')),
    };
  },
};

export const TELNYX_PROFILE: ProviderProfile = {
  name: 'Telnyx',
  rateLimitReset: 'seconds-until-reset',
  readError(body) {
    const first = firstOf(field(body, 'errors'));
    const code = field(first, 'code');
    const title = stringOf(field(first, 'title'));
    const detail = stringOf(field(first, 'detail'));
    return {
      code: typeof code === 'number' || typeof code === 'string' ? String(code) : undefined,
      detail: title && detail && detail !== title ? `${title}: ${detail}` : (detail ?? title),
    };
  },
  // 40300: the recipient texted STOP. 10016: not an E.164 number. 90018: the call has ended.
  permanentCodes: ['40300', '10016', '90018'],
};

export interface ClassifyOptions {
  /** Values that must never reach a message, whatever the provider echoed (API keys). */
  secrets?: readonly string[];
  now?: number;
}

/**
 * The retry policy. No answer (timeout, refused connection) and 408/429/5xx are worth retrying;
 * any other 4xx will fail the same way again. The provider's own code is kept when it gave one,
 * else the HTTP status is the code. No answer after the request may have left is marked
 * `mayHaveSent`: the engine then records the delivery unknown instead of retrying it, since
 * SendGrid and Postmark take no idempotency key and a retry would be a second message.
 */
export function classifyFailure(
  outcome: HttpOutcome,
  profile: ProviderProfile,
  options: ClassifyOptions = {},
): DeliveryFailure {
  const secrets = options.secrets ?? [];
  if (outcome.kind === 'transport') {
    const message =
      outcome.code === 'timeout'
        ? `${profile.name} did not answer within ${outcome.timeoutMs} ms.`
        : `${profile.name} could not be reached (${outcome.detail}).`;
    const failure: DeliveryFailure = { kind: 'failed', retryable: true, code: outcome.code, message: redact(message, secrets) };
    return outcome.mayHaveSent ? { ...failure, mayHaveSent: true } : failure;
  }

  const { status, headers, body } = outcome;
  const error = profile.readError(body);
  const code = error.code ?? String(status);
  const finalCode = profile.permanentCodes?.includes(code) ?? false;
  const rateLimited = status === 429;
  const retryable = !finalCode && (rateLimited || status === 408 || status >= 500);
  const now = options.now ?? Date.now();
  const retryAfterMs = retryable ? retryDelay(headers, rateLimited ? profile.rateLimitReset : undefined, now) : undefined;

  const sentence = rateLimited
    ? `${profile.name} is rate limiting requests`
    : status >= 500
      ? `${profile.name} had a server error`
      : status === 401
        ? `${profile.name} refused the credentials`
        : `${profile.name} rejected the request`;
  const codeNote = error.code ? `, code ${error.code}` : '';
  const detail = error.detail ? `: ${truncate(error.detail, 200)}` : '.';
  const message = redact(`${sentence} (HTTP ${status}${codeNote})${detail}`, secrets);
  return retryAfterMs === undefined
    ? { kind: 'failed', retryable, code, message }
    : { kind: 'failed', retryable, code, message, retryAfterMs };
}

/**
 * `Retry-After` first (delta seconds or an HTTP date), then the rate-limit reset header in the
 * provider's own convention. The reset header is only read on a 429: elsewhere it describes the
 * current window, not a block.
 */
export function retryDelay(
  headers: Headers,
  reset: ProviderProfile['rateLimitReset'],
  now: number,
): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const resetValue = headers.get('x-ratelimit-reset')?.trim();
  if (reset && resetValue && /^\d+(\.\d+)?$/.test(resetValue)) {
    const seconds = Number(resetValue);
    return reset === 'epoch-seconds' ? Math.max(0, Math.ceil(seconds * 1000 - now)) : Math.ceil(seconds * 1000);
  }
  return undefined;
}

/** Strips trailing slashes so `${baseUrl}/v3/…` never doubles one. */
export function trimBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function networkDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function firstOf(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => (secret ? out.split(secret).join('[redacted]') : out), text);
}
