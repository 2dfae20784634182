/**
 * The one way the dashboard talks to the REST API: JSON in and out, and the API's
 * `{error: {code, message, details}}` turned into an ApiError whose message can be shown to the
 * operator as is. A person is signed in by the session cookie (HttpOnly: the browser sends it,
 * no script sees it) and names the workspace they act in with `X-Touchpoint-Workspace`; an API
 * token pasted for automation goes as `Authorization: Bearer` instead.
 */
const TOKEN_KEY = 'touchpoint.token';

export function storedToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}
export function storeToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** The workspace a signed-in person acts in, sent with every request (auth.tsx chooses it). */
let activeWorkspace: string | null = null;
export function setActiveWorkspace(id: string | null): void {
  activeWorkspace = id;
}

/** Called when a request answers 401 outside `/api/auth`: the session ended, back to sign-in. */
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

export interface ProblemDetail {
  path?: string;
  message?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Problems listed in an error's details (validation errors), whatever key the API used. */
export function problemsOf(error: unknown): ProblemDetail[] {
  if (!(error instanceof ApiError)) return [];
  const d = error.details as { problems?: unknown; issues?: unknown } | unknown[] | undefined;
  const list = Array.isArray(d) ? d : (d?.problems ?? d?.issues);
  return Array.isArray(list) ? (list as ProblemDetail[]) : [];
}

type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Who is asking: the pasted token, or the workspace a signed-in person acts in (their cookie goes by itself). */
export function credentialHeaders(options: { anyWorkspace?: boolean } = {}): Record<string, string> {
  const token = storedToken();
  if (token) return { authorization: `Bearer ${token}` };
  return activeWorkspace && !options.anyWorkspace ? { 'x-touchpoint-workspace': activeWorkspace } : {};
}

export async function api<T>(method: string, path: string, body?: unknown, init: { raw?: string; contentType?: string; anyWorkspace?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...credentialHeaders(init) };
  let payload: string | undefined;
  if (init.raw !== undefined) {
    payload = init.raw;
    headers['content-type'] = init.contentType ?? 'text/plain';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Is `npm start` still running?');
  }
  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/api/auth/')) onUnauthorized?.();
    const error = (data as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const fallback =
      response.status === 401
        ? 'You are not signed in (the session ended, or the token is not valid).'
        : response.status === 403
          ? 'Your role does not allow this action.'
          : `The server answered ${response.status}.`;
    throw new ApiError(response.status, error?.code ?? String(response.status), error?.message ?? fallback, error?.details);
  }
  return data as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', withQuery(path, query));
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, body ?? {});
export const patch = <T>(path: string, body?: unknown) => api<T>('PATCH', path, body ?? {});
export const del = <T>(path: string) => api<T>('DELETE', path);
