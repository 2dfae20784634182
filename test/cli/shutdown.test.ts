/**
 * A shutdown past its deadline gives back the leases of the batch still running: the step is
 * due again at once, so the next process runs it without waiting out LEASE_SECONDS.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { systemClock } from '../../src/engine/clock.ts';
import { createRuntime } from '../../src/app/runtime.ts';
import { OPEN_ALL_DAY } from '../api/apiKit.ts';
import { openTestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/waitFor.ts';

describe('a shutdown past its deadline', () => {
  it('gives back the leases of steps still running', async () => {
    // An AI writer that takes the request and never answers: the step hangs mid-flight.
    const asked: IncomingMessage[] = [];
    const sockets = new Set<Socket>();
    const writer: Server = createServer((request) => void asked.push(request));
    writer.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => writer.listen(0, '127.0.0.1', resolve));
    const port = (writer.address() as AddressInfo).port;

    const database = await openTestDatabase('pglite');
    const runtime = await createRuntime(
      parseConfig({ LOG_LEVEL: 'silent', AI_WRITER_API_KEY: 'k', AI_WRITER_BASE_URL: `http://127.0.0.1:${port}/v1`, AI_WRITER_TIMEOUT_MS: '120000' }),
      { db: database.db, clock: systemClock, worker: true },
    );
    try {
      const workspace = await ensureWorkspace(database.db, 'stopping');
      const { token } = await createToken(database.db, workspace.id, 'admin');
      const call = async (method: 'POST' | 'PATCH', url: string, body: unknown) =>
        JSON.parse((await runtime.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) })).body);
      const lead = await call('POST', '/api/leads', { email: 'slow@acme.test' });
      const sequence = await call('POST', '/api/sequences', {
        name: 'Hangs in the writer',
        ...OPEN_ALL_DAY,
        steps: [{ id: 'intro', type: 'email', subject: 'Hello', body: 'Hello there', useAiWriter: true }],
      });
      await call('PATCH', `/api/sequences/${sequence.id}`, { status: 'active' });
      const enrolled = await call('POST', `/api/sequences/${sequence.id}/enrollments`, { leadIds: [lead.id] });
      const enrollmentId = enrolled.enrolled[0].enrollmentId as string;

      await waitFor(() => asked.length > 0, 'the step to reach the writer', 15_000);
      const row = async () =>
        (await database.db.query<{ leaseId: string | null; next: Date }>('select lease_id as "leaseId", next_execution_at as next from enrollments where id = $1', [enrollmentId]))[0]!;
      expect((await row()).leaseId).not.toBeNull();
      expect((await row()).next.getTime()).toBeGreaterThan(Date.now());

      expect(await runtime.releaseLeases()).toBe(1);
      const after = await row();
      expect(after.leaseId).toBeNull();
      expect(after.next.getTime()).toBeLessThanOrEqual(Date.now());
    } finally {
      for (const socket of sockets) socket.destroy();
      await runtime.close();
      await database.close();
      await new Promise((resolve) => writer.close(resolve));
    }
  }, 60_000);
});
