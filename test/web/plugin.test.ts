/** The dashboard's HTTP side: the app shell, fingerprinted assets, deep links, and the API's JSON 404s. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webPlugin } from '../../src/web/plugin.ts';

async function appWith(distDir: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.get('/api/leads', async () => ({ items: [] }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  await webPlugin({ distDir })(app);
  return app;
}

describe('web plugin', () => {
  let dist: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'touchpoint-web-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = await appWith(dist);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it('serves the shell at / and for deep links', async () => {
    for (const url of ['/', '/leads', '/leads/8c1f0000-0000-4000-8000-000000000000', '/sequences/new?x=1']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toContain('<div id="root">');
      expect(res.headers['cache-control']).toContain('max-age=0');
    }
  });

  it('serves fingerprinted assets for a year', async () => {
    const res = await app.inject({ url: '/assets/index-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('javascript');
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it('leaves API, webhook and operational routes alone', async () => {
    expect((await app.inject({ url: '/api/leads' })).json()).toEqual({ items: [] });
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    for (const url of ['/api/nope', '/api', '/webhooks/unknown']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it('refuses to climb out of the build folder', async () => {
    const res = await app.inject({ url: '/..%2f..%2fetc%2fpasswd' });
    expect(res.body).not.toContain('root:');
  });

  it('explains how to build when web/dist is missing', async () => {
    const bare = await appWith(join(dist, 'missing'));
    const res = await bare.inject({ url: '/leads' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('npm run build:web');
    expect((await bare.inject({ url: '/api/nope' })).statusCode).toBe(404);
    await bare.close();
  });
});
