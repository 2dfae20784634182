/**
 * Serves the dashboard (the React app built into `web/dist`) at `/`. Any GET that is not an
 * API, webhook or operational route and names no built file answers `index.html`, so deep
 * links such as `/leads/123` work after a reload. Unknown `/api` and `/webhooks` paths keep
 * their JSON 404.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorBody } from '../http/errors.ts';

export const WEB_DIST = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../web/dist');

/** Paths that belong to the API side: never answered with the app shell. */
const RESERVED = /^\/(api|webhooks)(\/|$)/;

/**
 * The dashboard's Content-Security-Policy: scripts only from our own files (Vite emits no inline
 * script), requests only to our own API, never framed. Styles allow inline because Mantine
 * writes its theme variables into a <style> element at run time; a style cannot run code.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Touchpoint</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Touchpoint</h1><p>The API is running, but the dashboard has not been built yet.</p>
<p>Run <code>npm run build:web</code> (or restart with <code>npm start</code>, which builds it when missing), then reload.</p>`;

export function webPlugin(options: { distDir?: string } = {}) {
  const root = options.distDir ?? WEB_DIST;
  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      const built = existsSync(join(root, 'index.html'));
      if (built) await scope.register(fastifyStatic, { root, serve: false });
      scope.addHook('onSend', async (_request, reply) => {
        reply.header('content-security-policy', DASHBOARD_CSP);
      });

      const shell = (reply: FastifyReply) =>
        built
          ? reply.sendFile('index.html', { maxAge: 0 })
          : reply.type('text/html; charset=utf-8').send(NOT_BUILT);

      scope.get('/', async (_request, reply) => shell(reply));
      scope.get('/*', async (request, reply) => {
        const path = request.url.split('?')[0] ?? '/';
        if (RESERVED.test(path)) {
          return reply.status(404).send(errorBody('not_found', `No route ${request.method} ${path}.`));
        }
        const file = (request.params as { '*': string })['*'];
        if (built && file && !file.includes('..') && existsSync(join(root, file))) {
          // Vite fingerprints everything under assets/, so those can be cached for good.
          return file.startsWith('assets/') ? reply.sendFile(file, { maxAge: '365d', immutable: true }) : reply.sendFile(file);
        }
        return shell(reply);
      });
    });
  };
}
