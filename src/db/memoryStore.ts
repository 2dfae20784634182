/**
 * Fresh in-memory stores, fast. Tests and benchmarks open dozens of them, and a new PGlite runs
 * initdb and then every migration inside the WASM: 3–5 s of CPU each on a 2-core machine. The
 * first fresh store a machine opens is dumped once to a template file, keyed by PGlite's
 * version and the text of the migrations and of the database functions; every later one loads
 * that template (under a second) and shares the process's compiled WebAssembly. The on-disk embedded store (`npm start`) never
 * uses this: it runs initdb once, in its own directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';
import { loadFunctions, loadMigrations, migrate } from './migrate.ts';
import { openPglite, type PgliteDb, type PgliteWasmModule } from './pglite.ts';

// Node has WebAssembly built in; the ES2023 lib and @types/node don't declare it.
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<PgliteWasmModule> };

const PGLITE_DIST = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));

let wasmModule: Promise<PgliteWasmModule> | undefined;
/** Each template file as read (or just written) by this process. */
const templates = new Map<string, Promise<Blob | undefined>>();

export const TEMPLATE_DIR = join(tmpdir(), 'touchpoint-pglite-templates');

/** Where the template lives: a name that changes whenever PGlite or a migration does. */
export function templatePath(dir = TEMPLATE_DIR): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(PGLITE_DIST, '..', 'package.json')));
  for (const m of loadMigrations()) hash.update(`\0${m.version}\0${m.sql}`);
  // The functions' live text is theirs, not the migrations': a change to one is a new schema.
  for (const f of loadFunctions()) hash.update(`\0${f.name}\0${f.sql}`);
  return join(dir, `${hash.digest('hex').slice(0, 16)}.tar`);
}

/** A brand-new, migrated, in-memory PGlite store. */
export async function openMemoryDatabase(options: { templateDir?: string } = {}): Promise<PgliteDb> {
  wasmModule ??= WebAssembly.compile(readFileSync(join(PGLITE_DIST, 'pglite.wasm')));
  const module = await wasmModule;
  const path = templatePath(options.templateDir);
  if (!templates.has(path)) templates.set(path, Promise.resolve(existsSync(path) ? new Blob([readFileSync(path)]) : undefined));
  const blob = await templates.get(path);
  if (blob) {
    let loaded: PgliteDb | undefined;
    try {
      loaded = await openPglite(undefined, { loadDataDir: blob, wasmModule: module });
      // A no-op on a sound template; on any other it brings the store up to date.
      await migrate(loaded);
      return loaded;
    } catch {
      // A damaged template (a write cut short): build it again below.
      await loaded?.close().catch(() => undefined);
      rmSync(path, { force: true });
    }
  }
  const db = await openPglite(undefined, { wasmModule: module });
  await migrate(db);
  await saveTemplate(db, path);
  return db;
}

/** Written whole under another name, then renamed: a reader never sees half a template. */
async function saveTemplate(db: PgliteDb, path: string): Promise<void> {
  const bytes = new Uint8Array(await (await db.dumpDataDir()).arrayBuffer());
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, bytes);
  renameSync(partial, path);
  templates.set(path, Promise.resolve(new Blob([bytes])));
  pruneStaleTemplates(dirname(path), path);
}

/**
 * Each schema change leaves its predecessor's template (~40 MB) behind; those written more than
 * a day ago go when a new one is written. A checkout still on an older schema rebuilds its
 * template once.
 */
function pruneStaleTemplates(dir: string, keep: string): void {
  const dayAgo = Date.now() - 86_400_000;
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (file === keep || !/\.tar(\.\d+\.partial)?$/.test(name)) continue;
    try {
      if (statSync(file).mtimeMs < dayAgo) rmSync(file, { force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
