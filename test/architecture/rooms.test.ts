/**
 * The allowed directions between rooms (docs/ARCHITECTURE.md), checked on every import of every
 * file under src/ and of the dashboard (web/src). A rule broken names the file, the line and the
 * import, and says which rooms that room may use. Type-only imports count: a type is a rule too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

/**
 * Each room and the rooms it may import from (its own room is always allowed). A room is the
 * first folder under src/; config.ts is the room `config`. A new room must be
 * added here (and to docs/ARCHITECTURE.md) before its first file lands.
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  http: [],
  config: ['core'],
  db: ['core'],
  secrets: ['core', 'config'],
  delivery: ['core', 'config'],
  accounts: ['core', 'config', 'db'],
  telemetry: ['core', 'db', 'delivery'],
  engine: ['core', 'db', 'delivery', 'telemetry'],
  outbound: ['core', 'config', 'db', 'engine', 'telemetry'],
  api: ['core', 'config', 'db', 'engine', 'http', 'secrets', 'telemetry', 'outbound', 'accounts'],
  webhooks: ['core', 'config', 'db', 'delivery', 'engine', 'http', 'telemetry'],
  // The IMAP watcher: reads rows, calls the engine's ingest, shares the pure header readers of webhooks.
  inbox: ['core', 'config', 'db', 'delivery', 'engine', 'secrets', 'telemetry', 'webhooks'],
  web: ['core', 'config', 'http'],
  app: ['core', 'config', 'db', 'secrets', 'delivery', 'engine', 'telemetry', 'http', 'outbound', 'accounts', 'api', 'webhooks', 'inbox', 'web'],
  devtools: ['core', 'config', 'db', 'secrets', 'delivery', 'engine', 'telemetry', 'http', 'outbound', 'accounts', 'api', 'webhooks', 'inbox', 'web', 'app'],
  cli: ['core', 'config', 'db', 'secrets', 'delivery', 'engine', 'telemetry', 'http', 'outbound', 'accounts', 'api', 'webhooks', 'inbox', 'web', 'app', 'devtools'],
};

/** Packages the pure core may use outside its tests: no database, network, clock or env. */
// Pure libraries only: calendars, schemas, templates, phone numbers, Markdown → HTML → text — none does IO.
const CORE_PACKAGES = new Set(['luxon', 'zod', 'liquidjs', 'libphonenumber-js', 'marked', 'html-to-text']);

/**
 * Imports that break a rule today, each in a file another part of issue 15 is rewriting. They
 * are listed rather than fixed so the parts do not collide; the integrator removes each entry
 * once the part that owns its file is merged (the test fails on an entry that no longer matches,
 * so none outlives its import).
 */
const KNOWN: ReadonlyArray<{ file: string; imports: string; owner: string }> = [
];

interface Import {
  file: string;
  line: number;
  specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  // preProcessFile sees static imports, re-exports and import() calls, and skips comments.
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => ({
    file: relative(ROOT, file).split(sep).join('/'),
    line: text.slice(0, f.pos).split('\n').length,
    specifier: f.fileName,
  }));
}

/** The file a relative specifier names, repo-relative with `/`; `.js` means the `.ts` beside it. */
function target(from: Import): string {
  const path = resolve(ROOT, dirname(from.file), from.specifier).replace(/\.js$/, '.ts');
  return relative(ROOT, path).split(sep).join('/');
}

function roomOf(repoPath: string): string | undefined {
  if (!repoPath.startsWith('src/')) return undefined;
  const [first, second] = repoPath.slice('src/'.length).split('/');
  if (second !== undefined) return first;
  if (first === 'config.ts') return 'config';
  return first;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const isTest = (file: string) => /\.test\.tsx?$/.test(file) || file.endsWith('.fixtures.ts');
const known = (file: string, imports: string) => KNOWN.some((k) => k.file === file && k.imports === imports);

/** Every broken rule of the files under src/, as `file:line imports 'x' — why`. */
function srcViolations(): { problems: string[]; usedKnown: Set<string> } {
  const problems: string[] = [];
  const usedKnown = new Set<string>();
  for (const file of sourceFiles(SRC)) {
    for (const imp of importsOf(file)) {
      const where = `${imp.file}:${imp.line} imports '${imp.specifier}'`;
      const room = roomOf(imp.file)!;
      if (!(room in ALLOWED)) {
        problems.push(`${where} — ${imp.file} is in room '${room}', which docs/ARCHITECTURE.md does not list; add its directions there and here`);
        continue;
      }
      if (!imp.specifier.startsWith('.')) {
        const pkg = packageOf(imp.specifier);
        if (room === 'core' && !isTest(imp.file) && !CORE_PACKAGES.has(pkg)) {
          problems.push(`${where} — core stays pure; it may use only ${[...CORE_PACKAGES].join(', ')}`);
        }
        continue;
      }
      const to = target(imp);
      if (to.startsWith('test/')) {
        problems.push(`${where} — nothing under src/ imports from test/`);
        continue;
      }
      const toRoom = roomOf(to);
      if (toRoom === undefined) {
        problems.push(`${where} — src/ imports only src/ and packages (it names ${to})`);
        continue;
      }
      if (toRoom === room || ALLOWED[room]!.includes(toRoom)) continue;
      if (known(imp.file, to)) {
        usedKnown.add(`${imp.file} -> ${to}`);
        continue;
      }
      const may = ALLOWED[room]!.length > 0 ? ALLOWED[room]!.join(', ') : 'no other room';
      problems.push(`${where} — ${room} may import ${may}, not ${toRoom}`);
    }
  }
  return { problems, usedKnown };
}

describe('rooms (docs/ARCHITECTURE.md)', () => {
  it('every import under src/ goes in an allowed direction, and none reaches into test/', () => {
    const { problems } = srcViolations();
    expect(problems, `\n${problems.join('\n')}\n`).toEqual([]);
  });

  it('every listed exception still exists (remove an entry once its import is gone)', () => {
    const { usedKnown } = srcViolations();
    const stale = KNOWN.filter((k) => !usedKnown.has(`${k.file} -> ${k.imports}`)).map((k) => `${k.file} -> ${k.imports} (${k.owner})`);
    expect(stale, `\n${stale.join('\n')}\n`).toEqual([]);
  });

  it('the dashboard imports from src/ only the pure core', () => {
    const problems = sourceFiles(join(ROOT, 'web/src'))
      .flatMap(importsOf)
      .filter((imp) => imp.specifier.startsWith('.'))
      .filter((imp) => {
        const to = target(imp);
        return to.startsWith('src/') && roomOf(to) !== 'core';
      })
      .map((imp) => `${imp.file}:${imp.line} imports '${imp.specifier}' — web/ may import from src/ only src/core`);
    expect(problems, `\n${problems.join('\n')}\n`).toEqual([]);
  });

  it('finds what it is meant to find', () => {
    // A guard on the guard: the parser sees multi-line, type-only, re-exported and dynamic imports.
    const seen = importsOf(join(SRC, 'webhooks/sendgrid.ts')).map((i) => i.specifier);
    expect(seen).toEqual(expect.arrayContaining(['../core/events.ts', './parse.ts', './mailHeaders.ts']));
    expect(roomOf('src/app/runtime.ts')).toBe('app');
    expect(roomOf('src/config.ts')).toBe('config');
    expect(target({ file: 'src/cli/fakeProviders.ts', line: 1, specifier: '../../test/fakes/x.js' })).toBe('test/fakes/x.ts');
  });
});
