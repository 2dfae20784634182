/**
 * The REST API's error answers: every problem of a rejected request with where it is, Fastify's
 * own client errors (bad JSON, wrong content type, too large, too many requests) in the same
 * shape, and the database's complaints about a value kept from ever becoming a 500.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { formatPath } from '../core/validate.ts';
import { errorBody } from '../http/errors.ts';

export interface RequestProblem {
  in: string;
  path: string;
  message: string;
}

function pathOf(instancePath: string): Array<string | number> {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const CLIENT_CODES: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

export function apiErrorHandler(error: FastifyError & { cause?: unknown }, request: FastifyRequest, reply: FastifyReply) {
  const send = (status: number, code: string, message: string, details?: unknown) =>
    reply.status(status).send(errorBody(code, message, details));

  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'body';
    const problems: RequestProblem[] = error.validation.map((v) => ({ in: where, path: formatPath(pathOf(v.instancePath)), message: v.message ?? 'is not valid' }));
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    // "params" is the address to a person; a message that ends its own sentence keeps one period.
    const part = where === 'params' ? 'address' : where === 'querystring' ? 'query' : where;
    const sentence = `${first.path}: ${first.message}`.replace(/[.\s]+$/, '');
    return send(400, 'validation_failed', `The request ${part} is not valid: ${sentence}${more}.`, { problems });
  }
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError) {
    return send(400, 'invalid_json', `The body is not valid JSON: ${error.message}`);
  }
  if (error.code === 'json_too_deep') return send(400, 'json_too_deep', error.message);
  const status = error.statusCode;
  if (status && status >= 400 && status < 500) return send(status, CLIENT_CODES[status] ?? 'bad_request', error.message);

  // A value Postgres refused (class 22: out of range, bad syntax) came from the client.
  const sqlState = typeof error.code === 'string' ? error.code : '';
  if (/^22[0-9A-Z]{3}$/.test(sqlState)) return send(400, 'invalid_value', `A value in the request is out of range or malformed: ${error.message}`);
  if (sqlState === '23505') return send(409, 'conflict', 'That would duplicate something that must be unique.');

  if (isResponseSerializationError(error)) {
    request.log.error({ err: error, issues: (error.cause as { issues?: unknown })?.issues }, 'response does not match its schema');
  } else {
    request.log.error({ err: error }, 'request failed');
  }
  return send(500, 'internal', 'Something went wrong on our side; it has been logged.');
}
