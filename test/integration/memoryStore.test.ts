import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openMemoryDatabase, templatePath } from '../../src/db/memoryStore.ts';
import { loadMigrations } from '../../src/db/migrate.ts';

// Fresh in-memory stores start from a dumped template instead of initdb + migrations.
describe('in-memory stores from a template', () => {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-template-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const applied = async (db: Awaited<ReturnType<typeof openMemoryDatabase>>) =>
    (await db.query<{ version: number }>('select version from schema_migrations order by version')).map((r) => r.version);

  it('writes the template once, and every store from it is migrated and its own', async () => {
    const first = await openMemoryDatabase({ templateDir: dir });
    const path = templatePath(dir);
    expect(statSync(path).size).toBeGreaterThan(1_000_000);
    const second = await openMemoryDatabase({ templateDir: dir });
    try {
      const versions = loadMigrations().map((m) => m.version);
      expect(await applied(first)).toEqual(versions);
      expect(await applied(second)).toEqual(versions);
      await first.query(`insert into workspaces (name) values ('only in the first')`);
      expect(await second.query('select name from workspaces')).toEqual([]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("removes other schemas' templates older than a day when it writes one, and keeps newer ones", async () => {
    const pruneDir = mkdtempSync(join(dir, 'prune-'));
    const stale = join(pruneDir, 'aaaaaaaaaaaaaaaa.tar');
    const recent = join(pruneDir, 'bbbbbbbbbbbbbbbb.tar');
    const unrelated = join(pruneDir, 'notes.txt');
    for (const file of [stale, recent, unrelated]) writeFileSync(file, 'x');
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(stale, twoDaysAgo, twoDaysAgo);
    utimesSync(unrelated, twoDaysAgo, twoDaysAgo);
    const db = await openMemoryDatabase({ templateDir: pruneDir });
    await db.close();
    expect(existsSync(templatePath(pruneDir))).toBe(true);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(unrelated)).toBe(true);
  });

  it('replaces a damaged template with a sound one', async () => {
    const damagedDir = mkdtempSync(join(dir, 'damaged-'));
    const path = templatePath(damagedDir);
    writeFileSync(path, 'not a tarball');
    const db = await openMemoryDatabase({ templateDir: damagedDir });
    try {
      expect(await applied(db)).toEqual(loadMigrations().map((m) => m.version));
      expect(readFileSync(path).subarray(0, 13).toString()).not.toBe('not a tarball');
      expect(statSync(path).size).toBeGreaterThan(1_000_000);
    } finally {
      await db.close();
    }
  });
});
