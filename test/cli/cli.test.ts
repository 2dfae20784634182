import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/waitFor.ts';

const BIN = join(import.meta.dirname, '../../bin/touchpoint.mjs');
/**
 * A fresh data folder migrates an on-disk store before the server listens: seconds on an idle
 * machine, and more than 90 s was seen with two cores at load 20. The tests that start a server
 * get the start-up wait on top of their own.
 */
const STARTUP_WAIT_MS = 150_000;
const SERVER_TEST_TIMEOUT_MS = STARTUP_WAIT_MS + 90_000;
const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-cli-'));
  dirs.push(dir);
  return dir;
}

function touchpoint(args: string[], env: Record<string, string> = {}, input = '') {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000, input });
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('touchpoint command', () => {
  it('simulate --json prints the projected timeline in time order', () => {
    const result = touchpoint([
      'simulate',
      'examples/demo-sequence.json',
      '--lead',
      'examples/lead.json',
      '--events',
      'examples/events.json',
      '--start',
      '2026-03-26T05:00:00Z',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    const entries = JSON.parse(result.stdout) as Array<{ at: string; stepId: string; type: string; action: string; detail: string }>;
    expect(entries.map((e) => [e.at, e.stepId, e.action])).toEqual([
      ['2026-03-26T05:00:00.000Z', 'intro', 'wait'],
      ['2026-03-26T08:00:00.000Z', 'intro', 'send'], // 09:00 CET in Berlin
      ['2026-03-26T08:00:00.000Z', 'pause', 'wait'],
      ['2026-03-30T07:00:00.000Z', 'opened', 'branch'], // Mon 09:00 CEST, after the DST change
      ['2026-03-30T07:00:00.000Z', 'call', 'send'],
      ['2026-03-30T07:00:00.000Z', 'outcome', 'branch'],
      ['2026-03-30T09:30:00.000Z', 'outcome', 'branch'],
      ['2026-03-30T09:30:00.000Z', 'done', 'end'],
    ]);
    expect(new Set(entries.map((e) => e.action)).size).toBeGreaterThan(2);
  });

  it('simulate explains a broken definition with paths, and exits 2', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'x', steps: [{ id: 'a', type: 'emial' }, { id: 'b', type: 'wait', duration: '2 days' }] }));
    const result = touchpoint(['simulate', join(dir, 'bad.json'), '--lead', 'examples/lead.json']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('$.steps[0].type');
    expect(result.stderr).toContain('$.steps[1].duration');
  });

  it('tokens create prints the token alone on stdout', () => {
    const dir = tempDir();
    const result = touchpoint(['tokens', 'create', '--workspace', 'acme', '--role', 'operator'], { DATA_DIR: dir });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^tp_[A-Za-z0-9_-]{32}$/);
    const list = touchpoint(['tokens', 'list'], { DATA_DIR: dir });
    expect(list.stdout).toContain('acme\toperator');
  });

  it('users create reads the password from stdin, or prints a set-password link; reset-password prints a link', () => {
    const dir = tempDir();
    const withPassword = touchpoint(['users', 'create', '--email', 'Ada@Team.test', '--workspace', 'default', '--role', 'admin'], { DATA_DIR: dir }, 'a long enough password\n');
    expect(withPassword.stderr).toBe('');
    expect(withPassword.status).toBe(0);
    expect(withPassword.stdout).toContain('Ada@Team.test is an admin of workspace "default"');
    expect(withPassword.stdout).not.toContain('#token=');
    const withLink = touchpoint(['users', 'create', '--email', 'bob@team.test', '--role', 'operator'], { DATA_DIR: dir });
    expect(withLink.status).toBe(0);
    expect(withLink.stdout).toMatch(/http:\/\/localhost:3000\/reset-password#token=[A-Za-z0-9_-]{43}/);
    const weak = touchpoint(['users', 'create', '--email', 'cy@team.test'], { DATA_DIR: dir }, 'short\n');
    expect(weak.status).toBe(2);
    expect(weak.stderr).toContain('at least 10 characters');
    const reset = touchpoint(['users', 'reset-password', '--email', 'ada@team.test'], { DATA_DIR: dir, PUBLIC_URL: 'https://tp.example.com' });
    expect(reset.stdout).toMatch(/https:\/\/tp\.example\.com\/reset-password#token=/);
    expect(touchpoint(['users', 'reset-password', '--email', 'nobody@team.test'], { DATA_DIR: dir }).status).toBe(2);
  });

  it('serve answers /healthz on a fresh data folder and prints a first-admin link and a first admin token', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (chunk) => (out += String(chunk)));
    const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], 'the server to print its address', STARTUP_WAIT_MS);
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(out).toMatch(/tp_[A-Za-z0-9_-]{32}/);
    // The link names the port actually bound, and opens an invite to be the admin of "default".
    const link = /(http:\/\/localhost:\d+)\/accept-invite#token=([A-Za-z0-9_-]{43})/.exec(out);
    expect(link, out).not.toBeNull();
    expect(link![1]).toBe(url.replace('127.0.0.1', 'localhost'));
    const invite = await fetch(`${url}/api/auth/invites/${link![2]}`);
    expect(await invite.json()).toMatchObject({ workspace: 'default', role: 'admin', email: null });
    // A second process on the same embedded store is refused with a sentence, not corruption.
    const busy = touchpoint(['tokens', 'list'], { DATA_DIR: dir });
    expect(busy.status).toBe(2);
    expect(busy.stderr).toContain('in use by process');
    child.kill('SIGTERM');
    await waitFor(() => child.exitCode !== null, 'the server to stop', 15_000);
    expect(child.exitCode).toBe(0);
  }, SERVER_TEST_TIMEOUT_MS);

  it('serve on a busy port says so in one sentence and creates nothing', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const dir = join(tempDir(), 'store'); // does not exist yet
      const result = touchpoint(['serve'], { DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
      expect(result.status).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toContain(`port ${port}`);
      expect(lines[0]).toMatch(/PORT/);
      expect(result.stdout).not.toMatch(/tp_/);
      expect(existsSync(dir)).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  /** A server with one request that never finishes: its body is promised but never sent. */
  async function serveWithStuckRequest(env: Record<string, string>) {
    const dir = tempDir();
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'info', POSTMARK_WEBHOOK_USER: 'pm', POSTMARK_WEBHOOK_PASSWORD: 'stuck-request-password', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (chunk) => (out += String(chunk)));
    child.stderr!.on('data', (chunk) => (out += String(chunk)));
    const url = new URL(await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], 'the server to print its address', STARTUP_WAIT_MS));
    const socket: Socket = connect(Number(url.port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.on('error', () => undefined);
    // Authentic headers (webhooks refuse anything else before reading a byte of the body), then
    // a body that never comes.
    const basic = Buffer.from('pm:stuck-request-password').toString('base64');
    socket.write(`POST /webhooks/postmark HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic ${basic}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"RecordType":`);
    // A request the server has not read yet is no in-flight work: on a loaded machine the signal
    // could overtake it, and the server would stop at once with nothing to wait for. A request
    // sent after it and answered means the server's loop has read the stuck one's headers too.
    const health = await fetch(new URL('/healthz', url));
    expect(health.status).toBe(200);
    return { child, output: () => out, socket };
  }

  it('SIGTERM gives in-flight work SHUTDOWN_TIMEOUT_SECONDS, then gives back leases and exits', async () => {
    const { child, output, socket } = await serveWithStuckRequest({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
    try {
      const asked = Date.now();
      child.kill('SIGTERM');
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, 'the server to give up waiting and exit', 60_000).catch((error: Error) => {
        // Say what the server was doing: a timeout alone hides whether it hung, or died of the signal.
        throw new Error(`${error.message} (signal: ${child.signalCode ?? 'none'}); its output:\n${output()}`);
      });
      expect(child.signalCode, output()).toBeNull();
      expect(Date.now() - asked).toBeGreaterThanOrEqual(900);
      expect(child.exitCode).toBe(1);
      expect(output()).toContain('shutdown deadline');
    } finally {
      socket.destroy();
    }
  }, SERVER_TEST_TIMEOUT_MS);

  it('a second signal exits at once', async () => {
    const { child, output, socket } = await serveWithStuckRequest({ SHUTDOWN_TIMEOUT_SECONDS: '600' });
    try {
      child.kill('SIGTERM');
      await waitFor(() => output().includes('stopping'), 'the server to start stopping', 30_000);
      child.kill('SIGINT');
      await waitFor(() => child.exitCode !== null, 'the server to exit on the second signal', 30_000);
      expect(child.exitCode).toBe(130);
    } finally {
      socket.destroy();
    }
  }, SERVER_TEST_TIMEOUT_MS);
});
