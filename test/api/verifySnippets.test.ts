/**
 * The verification snippets of docs/INTEGRATIONS.md ("Verifying a delivery") are code that runs:
 * this test takes the TypeScript and the Python block out of the page, starts each as the
 * receiver of a webhook endpoint, and has Touchpoint deliver a real signed event to it (answered
 * 204 and logged delivered); then it posts a tampered body and a foreign signature straight to
 * the snippet, which must answer 401. The Python one uses the standard library only; without
 * python3 the test is skipped on a laptop and fails under CI=true.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const page = readFileSync(join(ROOT, 'docs', 'INTEGRATIONS.md'), 'utf8');
const section = page.slice(page.indexOf('### Verifying a delivery'), page.indexOf('**Rotation.**'));

function block(language: string): string {
  const found = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section);
  if (!found) throw new Error(`docs/INTEGRATIONS.md has no \`\`\`${language} block under "Verifying a delivery"`);
  return found[1]!;
}

const hasPython = spawnSync('python3', ['--version']).status === 0;
const underCi = process.env.CI === 'true';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

interface Snippet {
  language: 'ts' | 'python';
  /** The command that runs the snippet's file. */
  command(file: string): [string, string[]];
  /** The source as it stands on the page (the TypeScript import pointed at this repository's copy). */
  source(): string;
}

const snippets: Snippet[] = [
  {
    language: 'ts',
    command: (file) => [process.execPath, ['--import', 'tsx', file]],
    // The file runs from a temporary folder, which has no node_modules: name the package by its path.
    source: () => block('ts').replace("from 'standardwebhooks'", `from '${import.meta.resolve('standardwebhooks')}'`),
  },
  { language: 'python', command: (file) => ['python3', [file]], source: () => block('python') },
];

describe('the verification snippets of docs/INTEGRATIONS.md', () => {
  let database: TestDatabase;
  let kit: ApiKit;
  let folder: string;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    kit = await createApiKit(database.db, { env: { WEBHOOKS_ALLOW_PRIVATE: 'true' }, start: new Date().toISOString() });
    folder = mkdtempSync(join(tmpdir(), 'touchpoint-snippets-'));
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('the Python snippet needs nothing beyond the standard library', () => {
    const imports = block('python').match(/^(?:from|import) (\w+)/gm) ?? [];
    const modules = imports.map((line) => line.split(' ')[1]);
    expect(modules.sort()).toEqual(['base64', 'hashlib', 'hmac', 'http', 'json', 'os', 'time']);
    expect(block('python')).not.toContain('standardwebhooks');
  });

  for (const snippet of snippets) {
    const skip = snippet.language === 'python' && !hasPython && !underCi;
    it.skipIf(skip)(`${snippet.language}: accepts a real signed delivery, refuses a tampered body and a foreign signature`, async () => {
      const port = await freePort();
      const created = await kit.call('POST', '/api/webhook-endpoints', {
        body: { url: `http://127.0.0.1:${port}/touchpoint`, events: ['custom.*'], description: `snippet ${snippet.language}` },
      });
      expect(created.status).toBe(201);
      const { id, secret } = created.body as { id: string; secret: string };
      const file = join(folder, snippet.language === 'ts' ? 'receiver.ts' : 'receiver.py');
      writeFileSync(file, snippet.source());
      const [command, args] = snippet.command(file);
      // Under CI a missing python3 fails here (spawn's error), never a skip.
      const child: ChildProcess = spawn(command, args, { cwd: ROOT, env: { ...process.env, TOUCHPOINT_WEBHOOK_SECRET: secret, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const failed = new Promise<never>((_, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`the ${snippet.language} snippet exited (${code}): ${output}`)));
      });
      failed.catch(() => undefined);
      try {
        await Promise.race([waitFor(() => accepts(port), `the ${snippet.language} snippet listening on ${port}`, 30_000), failed]);

        // A real delivery: the endpoint's test event and a custom event, posted and signed by the deliverer.
        const test = await kit.call('POST', `/api/webhook-endpoints/${id}/test`);
        expect(test.status).toBe(202);
        const lead = await kit.call('POST', '/api/leads', { body: { email: `snippet-${snippet.language}@acme.test` } });
        expect((await kit.call('POST', '/api/events', { body: { leadId: lead.body.id, type: 'custom.snippet_checked' } })).status).toBe(201);
        await kit.runtime.deliverer.drain();
        const log = (await kit.call('GET', `/api/webhook-endpoints/${id}/deliveries`)).body.items as Array<{ eventType: string; status: string; lastStatusCode: number | null; lastError: string | null }>;
        expect(log.map((d) => [d.eventType, d.status, d.lastStatusCode]).sort()).toEqual([
          ['custom.snippet_checked', 'delivered', 204],
          ['webhook.test', 'delivered', 204],
        ]);
        await waitFor(() => output.includes('verified custom.snippet_checked') && output.includes('verified webhook.test'), `the ${snippet.language} snippet to print what it verified`, 10_000);

        // Straight to the snippet: the same kind of post, tampered or signed under another secret.
        const body = JSON.stringify({ type: 'custom.snippet_checked', timestamp: new Date().toISOString(), data: {} });
        const signed = (key: string, payload: string) => {
          const at = new Date();
          return {
            'content-type': 'application/json',
            'webhook-id': 'msg_snippet',
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': new Webhook(key).sign('msg_snippet', at, payload),
          };
        };
        const url = `http://127.0.0.1:${port}/touchpoint`;
        expect((await fetch(url, { method: 'POST', headers: signed(secret, body), body })).status).toBe(204);
        expect((await fetch(url, { method: 'POST', headers: signed(secret, body), body: body.replace('{}', '{"x":1}') })).status).toBe(401);
        expect((await fetch(url, { method: 'POST', headers: signed('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', body), body })).status).toBe(401);
        expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
      } finally {
        child.kill('SIGTERM');
        await kit.call('PATCH', `/api/webhook-endpoints/${id}`, { body: { enabled: false } });
      }
    }, 60_000);
  }
});
