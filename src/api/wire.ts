/**
 * Wire shapes shared by every REST resource: ids, pages, cursors, the error body. zod is the
 * single source; handler types and the OpenAPI document are both derived from these.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Role } from '../db/workspaces.ts';

/** The `/api` scope with zod types on every route. */
export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The lowest role that may call the route; absent on the few public routes. */
    minRole?: Role;
  }
}

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'ApiError' });

/** The error answers every authenticated route can give, for the OpenAPI document. */
export const commonErrors = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  429: errorSchema,
} as const;

export function fail(reply: FastifyReply, status: 400 | 401 | 403 | 404 | 409 | 410 | 422 | 423 | 429 | 502, code: string, message: string, details?: unknown) {
  return reply
    .status(status)
    .send({ error: details === undefined ? { code, message } : { code, message, details } } as never);
}

// Any 8-4-4-4-12 hex id: Postgres accepts every such value, so the schema need not be stricter.
export const id = z.guid({ error: 'is not an id this API gives out (a UUID)' }).describe('A uuid');
export const idParams = z.object({ id });

export const isoTime = z.iso.datetime({ offset: true });

/** An opaque keyset cursor: the (time, id) of the last row of the previous page. */
export interface Cursor {
  at: Date;
  id: string;
}

export function encodeCursor(row: { at: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.at.toISOString(), row.id])).toString('base64url');
}

export function decodeCursor(text: string | undefined): Cursor | undefined | 'invalid' {
  if (text === undefined) return undefined;
  try {
    const [at, rowId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown];
    const date = typeof at === 'string' ? new Date(at) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime()) || !id.safeParse(rowId).success) return 'invalid';
    return { at: date, id: rowId as string };
  } catch {
    return 'invalid';
  }
}

export const pageQuery = {
  cursor: z.string().max(200).optional().describe('`nextCursor` of the previous page'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
};

export function pageOf<T extends { id: string }>(rows: T[], limit: number, atOf: (row: T) => Date) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor({ at: atOf(last), id: last.id }) : null };
}

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
