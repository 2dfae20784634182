#!/usr/bin/env node
/**
 * Builds the dashboard (web/ → web/dist) when the build is missing or older than its sources.
 * Runs before `npm start` and before the browser tests, so a fresh clone shows the dashboard.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = resolve(fileURLToPath(new URL('.', import.meta.url)), '../web');
const INDEX = join(WEB, 'dist', 'index.html');

function newestSource(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'dist' || entry === 'node_modules') continue;
    newest = Math.max(newest, newestSource(join(path, entry)));
  }
  return newest;
}

/** True when web/dist is missing or any source under web/ is newer than it. */
export function webBuildIsStale() {
  if (!existsSync(INDEX)) return true;
  return newestSource(WEB) > statSync(INDEX).mtimeMs;
}

export async function buildWebIfNeeded({ force = false, quiet = false } = {}) {
  if (!force && !webBuildIsStale()) return false;
  let vite;
  try {
    vite = await import('vite');
  } catch {
    if (existsSync(INDEX)) return false; // a production install without dev tools: keep the old build
    console.warn('touchpoint: the dashboard is not built and Vite is not installed; run `npm install` then `npm run build:web`.');
    return false;
  }
  if (!quiet) console.log('touchpoint: building the dashboard (web/ → web/dist)…');
  await vite.build({ root: WEB, configFile: join(WEB, 'vite.config.ts'), logLevel: quiet ? 'warn' : 'info' });
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWebIfNeeded({ force: process.argv.includes('--force') }).catch((error) => {
    console.error(`touchpoint: the dashboard build failed: ${error.message}`);
    process.exit(1);
  });
}
