/**
 * The one shape of every error answer over HTTP — the REST API, the webhooks, health checks and
 * the dashboard's routes alike: `{error: {code, message, details?}}`. It sits in its own room,
 * beside none of them, so each may use it without importing another.
 */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
