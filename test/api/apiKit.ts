/**
 * The REST API on a test database: the real runtime assembly (`createRuntime`) with a manual
 * clock, no background worker (tests drive `engine.dispatcher.drain()`), and tokens of every
 * role in two workspaces, so tenancy can be checked from the outside.
 */
import type { InjectOptions } from 'fastify';
import type { Logger } from 'pino';
import { parseConfig } from '../../src/config.ts';
import type { Db } from '../../src/db/db.ts';
import { createToken, ensureWorkspace, type Role } from '../../src/db/workspaces.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import type { PartsOptions } from '../../src/app/parts.ts';

export type Tokens = Record<Role, string>;

export interface ApiKit {
  runtime: Runtime;
  clock: ManualClock;
  db: Db;
  /** Tokens in the main workspace and in another one. */
  tokens: Tokens;
  other: Tokens;
  /** `session`: a session cookie's value, sent instead of a token (with a same-origin Origin). */
  call(method: InjectOptions['method'], url: string, options?: { token?: string | null; session?: string; body?: unknown; headers?: Record<string, string> }): Promise<{
    status: number;
    body: any;
    headers: Record<string, unknown>;
  }>;
  close(): Promise<void>;
}

async function tokensFor(db: Db, workspace: string): Promise<Tokens> {
  const ws = await ensureWorkspace(db, workspace);
  const [viewer, operator, admin] = await Promise.all(
    (['viewer', 'operator', 'admin'] as const).map(async (role) => (await createToken(db, ws.id, role, `${role} of ${workspace}`)).token),
  );
  return { viewer: viewer!, operator: operator!, admin: admin! };
}

export async function createApiKit(db: Db, options: { env?: Record<string, string>; start?: string; logger?: Logger; parts?: PartsOptions } = {}): Promise<ApiKit> {
  const clock = new ManualClock(options.start ?? '2026-03-04T15:00:00Z');
  // A fixed key for stored credentials (mailboxes), so no key file is made in the working folder.
  const env = { LOG_LEVEL: 'silent', TOUCHPOINT_SECRET_KEY: 'ab'.repeat(32), ...options.env };
  const runtime = await createRuntime(parseConfig(env), { db, clock, worker: false, logger: options.logger, parts: options.parts });
  await runtime.app.ready();
  const tokens = await tokensFor(db, `main-${Math.random().toString(36).slice(2, 8)}`);
  const other = await tokensFor(db, `other-${Math.random().toString(36).slice(2, 8)}`);
  return {
    runtime,
    clock,
    db,
    tokens,
    other,
    call: async (method, url, opts = {}) => {
      const token = opts.token === undefined && !opts.session ? tokens.admin : opts.token;
      const credentials: Record<string, string> = opts.session
        ? { cookie: `tp_session=${opts.session}`, origin: 'http://localhost' }
        : token
          ? { authorization: `Bearer ${token}` }
          : {};
      const headers: Record<string, string> = { ...credentials, ...opts.headers };
      const body = opts.body;
      const response = await runtime.app.inject({
        method,
        url,
        headers,
        ...(body === undefined ? {} : typeof body === 'string' ? { payload: body } : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }),
      });
      let parsed: unknown = response.body;
      try {
        parsed = response.body ? JSON.parse(response.body) : null;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.statusCode, body: parsed, headers: response.headers };
    },
    close: () => runtime.close(),
  };
}

/** Every day, all day, no quiet hours: tests about the API, not about windows. */
export const OPEN_ALL_DAY = {
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
  quietHours: { start: '00:00', end: '00:00', channels: [] },
} as const;
