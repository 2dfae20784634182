/**
 * Exports (docs/API.md, "Exports") on PGlite and PostgreSQL: leads and enrollments as CSV,
 * filtered like the lists, formula-safe; a lead's timeline as JSON; another workspace's rows
 * never appear; and a 20,000-lead export that is answered before the whole file is built
 * (its second page is held back until the first bytes have arrived).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../src/api/exports.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';
import { buildWorld, type World } from './fixtures.ts';

/** RFC 4180 rows (quoted cells, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), (i += 1);
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), (i += 1);
    else cell += c;
  }
  return rows;
}

describe('csvCell', () => {
  it('prefixes formula starts with a quote, keeps E.164 numbers, quotes what needs quoting', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+cmd')).toBe("'+cmd");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=x')).toBe("'\t=x");
    expect(csvCell('+14155550100')).toBe('+14155550100');
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvCell({ plan: 'pro' })).toBe('"{""plan"":""pro""}"');
  });
});

describe.each(await databaseKinds())('exports on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let world: World;
  let workspaceId: string;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
    world = await buildWorld(kit);
    [{ workspaceId }] = (await kit.db.query<{ workspaceId: string }>('select workspace_id as "workspaceId" from leads where id = $1', [world.leadId])) as [{ workspaceId: string }];
    await kit.call('POST', '/api/leads', { body: { email: 'formula@acme.test', firstName: '=HYPERLINK("http://evil","x")', company: '@SUM(1)', title: '-2+3', phone: '+14155550199' } });
    // Another workspace's lead and sequence: never in this workspace's exports.
    await kit.call('POST', '/api/leads', { token: kit.other.admin, body: { email: 'stranger@other.test' } });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('leads: CSV with a header, formula-safe cells, filters like the list, viewer may, another workspace never appears', async () => {
    const answer = await kit.call('GET', '/api/leads/export', { token: kit.tokens.viewer });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/csv/);
    expect(answer.headers['content-disposition']).toMatch(/attachment; filename="leads-/);
    const rows = parseCsv(answer.body);
    expect(rows[0]).toEqual(['id', 'email', 'phone', 'firstName', 'lastName', 'company', 'title', 'timezone', 'status', 'customFields', 'createdAt', 'updatedAt', 'externalId', 'owner']);
    const formula = rows.find((r) => r[1] === 'formula@acme.test')!;
    expect(formula.slice(2, 7)).toEqual(['+14155550199', `'=HYPERLINK("http://evil","x")`, '', "'@SUM(1)", "'-2+3"]);
    expect(answer.body).not.toContain('stranger@other.test');
    expect(parseCsv((await kit.call('GET', '/api/leads/export?q=formula', { token: kit.tokens.viewer })).body).map((r) => r[1])).toEqual(['email', 'formula@acme.test']);
    expect(parseCsv((await kit.call('GET', '/api/leads/export?status=converted')).body)).toHaveLength(1);
    expect((await kit.call('GET', '/api/leads/export', { token: null })).status).toBe(401);
  });

  it('enrollments: CSV of one sequence, filtered by status; another workspace gets 404', async () => {
    const answer = await kit.call('GET', `/api/sequences/${world.sequenceId}/enrollments/export`, { token: kit.tokens.viewer });
    expect(answer.status).toBe(200);
    const rows = parseCsv(answer.body);
    expect(rows[0]!.slice(0, 3)).toEqual(['id', 'leadId', 'leadEmail']);
    expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([[world.enrollmentId, world.leadId]]);
    expect(parseCsv((await kit.call('GET', `/api/sequences/${world.sequenceId}/enrollments/export?status=completed`)).body)).toHaveLength(1);
    expect((await kit.call('GET', `/api/sequences/${world.sequenceId}/enrollments/export`, { token: kit.other.admin })).status).toBe(404);
  });

  it('timeline: the whole of it as JSON, newest first; another workspace gets 404', async () => {
    await kit.call('POST', `/api/leads/${world.leadId}/activities`, { body: { kind: 'note', body: '=not a formula here, JSON is not a spreadsheet' } });
    const answer = await kit.call('GET', `/api/leads/${world.leadId}/timeline/export`, { token: kit.tokens.viewer });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.body.lead.id).toBe(world.leadId);
    const page = await kit.call('GET', `/api/leads/${world.leadId}/timeline?limit=200`);
    expect(answer.body.items.map((i: { id: string }) => i.id)).toEqual(page.body.items.map((i: { id: string }) => i.id));
    expect(answer.body.items.some((i: { kind: string }) => i.kind === 'activity')).toBe(true);
    expect((await kit.call('GET', `/api/leads/${world.leadId}/timeline/export`, { token: kit.other.viewer })).status).toBe(404);
  });

  it('20,000 leads stream: the first bytes arrive while the second page is still held back', async () => {
    await kit.db.query(
      `insert into leads (workspace_id, email, first_name, created_at, updated_at)
       select $1, 'bulk' || i || '@acme.test', 'Bulk ' || i, timestamptz '2025-01-01' + i * interval '1 second', now()
       from generate_series(1, 20000) i`,
      [workspaceId],
    );
    const url = await kit.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const db = kit.db as { query: typeof kit.db.query };
    const original = db.query.bind(kit.db);
    let leadPages = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    db.query = (async (sql: string, params?: readonly unknown[]) => {
      if (/from leads\s+where workspace_id = \$1/.test(sql) && /order by created_at desc, id desc/.test(sql)) {
        leadPages += 1;
        if (leadPages === 2) await gate;
      }
      return original(sql, params);
    }) as typeof db.query;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const response = await fetch(`${url}/api/leads/export`, { headers: { authorization: `Bearer ${kit.tokens.viewer}` } });
      expect(response.status).toBe(200);
      reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      // Rows of the first page arrive while the second page's query waits at the gate: were the
      // file built whole before answering, this loop would wait for ever (and the test time out).
      while (text.split('\r\n').length < 500) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
      expect(text.startsWith('id,email,')).toBe(true);
      expect(text.split('\r\n').length).toBeGreaterThanOrEqual(500);
      expect(leadPages).toBeLessThanOrEqual(2);
      release();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true });
      const rows = parseCsv(text);
      const emails = new Set(rows.slice(1).map((r) => r[1]));
      expect(rows.length - 1).toBe(emails.size);
      expect(emails.has('bulk1@acme.test') && emails.has('bulk20000@acme.test')).toBe(true);
      expect(emails.has('stranger@other.test')).toBe(false);
      expect(rows.length - 1).toBeGreaterThanOrEqual(20_002);
      expect(leadPages).toBeGreaterThanOrEqual(21);
    } finally {
      release();
      await reader?.cancel().catch(() => undefined);
      db.query = original;
    }
  }, 120_000);
});
