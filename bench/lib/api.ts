/** The REST API on a bench database, listening on a free local port, with an admin token. */
import type { Db } from '../../src/db/db.ts';
import { createToken } from '../../src/db/workspaces.ts';
import { parseConfig } from '../../src/config.ts';
import { createRuntime } from '../../src/app/runtime.ts';

export interface BenchApi {
  baseUrl: string;
  token: string;
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function startApi(db: Db, workspaceId: string): Promise<BenchApi> {
  // The bench's token makes thousands of requests a minute; lift the per-token limit.
  const config = parseConfig({ LOG_LEVEL: 'silent', API_RATE_LIMIT: '1000000', PORT: '0' });
  const runtime = await createRuntime(config, { db, worker: false });
  const address = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
  const { token } = await createToken(db, workspaceId, 'admin', 'bench');
  return {
    baseUrl: address,
    token,
    request: async <T>(method: string, path: string, body?: unknown) => {
      const response = await fetch(`${address}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text.slice(0, 300)}`);
      return JSON.parse(text) as T;
    },
    close: () => runtime.close(),
  };
}
