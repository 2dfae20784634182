/**
 * The session cookie and the CSRF rule for cookie callers. The cookie is HttpOnly (no script
 * reads it), SameSite=Lax (not sent on cross-site posts) and Secure when PUBLIC_URL is https.
 * A write with a cookie must also come from our own origin: its Origin (or, failing that,
 * Referer) must match PUBLIC_URL, or the request's own host when PUBLIC_URL is unset.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'tp_session';
/** The header a cookie caller names its workspace with (the dashboard's switcher sets it). */
export const WORKSPACE_HEADER = 'x-touchpoint-workspace';

export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  // Our value is base64url: no quoting or decoding needed, and anything else names no session.
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) {
      const value = part.slice(at + 1).trim();
      return /^[A-Za-z0-9_-]{1,100}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

function serializeCookie(value: string, maxAge: number, publicUrl: string | undefined): string {
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax${isHttps(publicUrl) ? '; Secure' : ''}`;
}

export function setSessionCookie(reply: FastifyReply, value: string, expiresAt: Date, publicUrl: string | undefined, now: Date): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
  reply.header('set-cookie', serializeCookie(value, maxAge, publicUrl));
}

export function clearSessionCookie(reply: FastifyReply, publicUrl: string | undefined): void {
  reply.header('set-cookie', serializeCookie('', 0, publicUrl));
}

const isHttps = (url: string | undefined) => url?.startsWith('https:') ?? false;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Undefined when the request may go on; otherwise why it is refused as a possible forgery. */
export function csrfProblem(request: FastifyRequest, publicUrl: string | undefined): string | undefined {
  if (SAFE_METHODS.has(request.method)) return undefined;
  const claimed = originOf(request.headers.origin) ?? originOf(request.headers.referer);
  if (!claimed) return 'A write signed in with a cookie must send an Origin (or Referer) header; browsers do. Scripts should use an API token.';
  const expected = publicUrl ? originOf(publicUrl) : originOf(`${request.protocol}://${request.host}`);
  if (publicUrl ? claimed.origin === expected?.origin : claimed.host === expected?.host) return undefined;
  return `This request comes from ${claimed.origin}, not from Touchpoint's own address; it is refused as a possible cross-site request forgery.`;
}

function originOf(value: string | string[] | undefined): URL | undefined {
  if (typeof value !== 'string' || value === 'null') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
