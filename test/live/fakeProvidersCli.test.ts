/** `touchpoint fake-providers` starts the fakes and writes an environment `serve` accepts. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { waitFor } from '../helpers/waitFor.ts';

test('prints and writes the environment, and the fakes answer at the printed base URLs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-fakes-'));
  const envFile = join(dir, 'fakes.env');
  const child = spawn(process.execPath, ['bin/touchpoint.mjs', 'fake-providers', '--no-engage', '--env-out', envFile], {
    env: { ...process.env, PORT: '3999' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  try {
    await waitFor(() => output.includes('Ctrl-C'), 'fake-providers to start', 30_000);
    const env = Object.fromEntries(
      readFileSync(envFile, 'utf8').trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const config = parseConfig(env);
    expect(config).toMatchObject({ USE_MOCK_SEQUENCE_DELIVERY: false, PUBLIC_URL: 'http://localhost:3999', EMAIL_PROVIDER: 'sendgrid' });
    expect(output).toContain(`SENDGRID_BASE_URL=${config.SENDGRID_BASE_URL}`);
    const response = await fetch(`${config.TELNYX_BASE_URL}/v2/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.TELNYX_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15550001111', to: '+15550002222', text: 'hi' }),
    });
    expect(response.status).toBe(200);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
