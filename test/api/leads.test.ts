/** Leads over HTTP: normalisation, uniqueness, search, filters, cursor pages, patch and delete. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';

let database: TestDatabase;
let kit: ApiKit;

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  kit = await createApiKit(database.db);
});
afterAll(async () => {
  await kit?.close();
  await database?.close();
});

describe('leads', () => {
  it('normalises emails and phones, and keeps emails unique per workspace regardless of case', async () => {
    const created = await kit.call('POST', '/api/leads', { token: kit.tokens.operator, body: { email: '  Grace@Navy.MIL ', phone: '+1 (202) 555-0143' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'grace@navy.mil', phone: '+12025550143', status: 'new' });
    const again = await kit.call('POST', '/api/leads', { body: { email: 'GRACE@navy.mil' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('duplicate_email');
    const elsewhere = await kit.call('POST', '/api/leads', { token: kit.other.admin, body: { email: 'grace@navy.mil' } });
    expect(elsewhere.status).toBe(201);
    const nothing = await kit.call('POST', '/api/leads', { body: { firstName: 'No Address' } });
    expect(nothing.status).toBe(400);
    const badPhone = await kit.call('POST', '/api/leads', { body: { phone: '12' } });
    expect(badPhone.body.error.details.problems[0]).toMatchObject({ in: 'body', path: '$.phone' });
  });

  it('searches name, email and company; filters by status; pages with a cursor', async () => {
    const csv = ['email,first_name,last_name,company,status', ...Array.from({ length: 30 }, (_, i) => `p${i}@globex.test,Pat${i},Page,Globex,${i % 3 === 0 ? 'qualified' : 'new'}`)].join('\n');
    expect((await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body.imported).toBe(30);
    expect((await kit.call('GET', '/api/leads?q=GLOBEX&limit=200', { token: kit.tokens.viewer })).body.items).toHaveLength(30);
    expect((await kit.call('GET', '/api/leads?q=pat7%20page')).body.items.map((l: { email: string }) => l.email)).toEqual(['p7@globex.test']);
    // `status` is the lifecycle; a CSV `status` column is the importer's own label, kept as a custom field.
    const fresh = (await kit.call('GET', '/api/leads?q=globex&status=new&limit=200')).body.items as Array<{ customFields: Record<string, unknown> }>;
    expect(fresh).toHaveLength(30);
    expect(fresh.filter((l) => l.customFields.status === 'qualified')).toHaveLength(10);
    expect((await kit.call('GET', '/api/leads?q=globex&status=contacted&limit=200')).body.items).toHaveLength(0);
    expect((await kit.call('GET', '/api/leads?q=%25')).body.items).toHaveLength(0); // `%` is a character, not a wildcard

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Array<{ id: string }>; nextCursor: string | null } } = await kit.call('GET', `/api/leads?q=globex&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((l) => l.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });

  it('patches only the fields sent, clears with null, and refuses a duplicate email', async () => {
    const lead = (await kit.call('POST', '/api/leads', { body: { email: 'patch@acme.test', title: 'CTO', company: 'Acme' } })).body;
    const patched = await kit.call('PATCH', `/api/leads/${lead.id}`, { token: kit.tokens.operator, body: { title: null, timezone: 'Asia/Tokyo', customFields: { tier: 'gold' } } });
    expect(patched.body).toMatchObject({ title: null, company: 'Acme', timezone: 'Asia/Tokyo', customFields: { tier: 'gold' } });
    const clash = await kit.call('PATCH', `/api/leads/${lead.id}`, { body: { email: 'GRACE@navy.mil' } });
    expect(clash.status).toBe(409);
    expect((await kit.call('PATCH', `/api/leads/${lead.id}`, { body: { timezone: 'Mars/Base' } })).status).toBe(400);
    expect((await kit.call('DELETE', `/api/leads/${lead.id}`, { token: kit.tokens.operator })).status).toBe(204);
    expect((await kit.call('GET', `/api/leads/${lead.id}`)).status).toBe(404);
  });

  it('reports CSV problems per line and refuses a file it cannot read', async () => {
    const csv = 'email,phone,timezone\nok@acme.test,,\n,,\nbad@,555,Nowhere/Land\nok@acme.test,,\n';
    const result = await kit.call('POST', '/api/leads/import?dryRun=true', { body: csv, headers: { 'content-type': 'text/csv' } });
    expect(result.body).toMatchObject({ rows: 4, imported: 1, duplicates: 1, failed: 2, dryRun: true, leadIds: [] });
    expect(result.body.errors.map((e: { line: number }) => e.line)).toEqual([3, 4, 4, 4]);
    const broken = await kit.call('POST', '/api/leads/import', { body: 'email\n"unclosed', headers: { 'content-type': 'text/csv' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_csv');
    // A quote the parser refuses on the first line (while the route still reads the workspace's
    // members): a 400, never an uncaught parser error.
    const badQuote = await kit.call('POST', '/api/leads/import', { body: '"email"R,phone\nx@acme.test,1\n', headers: { 'content-type': 'text/csv' } });
    expect(badQuote.status).toBe(400);
    expect(badQuote.body.error.message).toMatch(/Invalid Closing Quote/);
    const noAddress = await kit.call('POST', '/api/leads/import', { body: 'name,company\nA,B', headers: { 'content-type': 'text/csv' } });
    expect(noAddress.body.error.message).toContain('no email or phone column');
  });
});
