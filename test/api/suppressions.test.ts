/**
 * The suppression list over HTTP: add (email, phone, domain; channels by kind), idempotent
 * adds, clear 400s, filters and pages, delete with its audit row, CSV export and import — and
 * that enrollment and the executor honour hand-made suppressions, a domain included, as they
 * do webhook-made ones. Roles and tenancy are test/api/routes.test.ts's table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSuppression } from '../../src/db/events.ts';
import { listSuppressionChanges } from '../../src/db/suppressions.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();
let database: TestDatabase;
let kit: ApiKit;
const csv = { 'content-type': 'text/csv' };

describe.each(kinds)('suppression list on %s', (kind) => {
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('adds an email, a phone on both its channels and a domain, naming who added them; a second add is 200 with the same rows', async () => {
    const email = await kit.call('POST', '/api/suppressions', { token: kit.tokens.operator, body: { email: '  Ada@Example.TEST ', reason: 'Asked by phone' } });
    expect(email.status).toBe(201);
    expect(email.body.items).toEqual([
      expect.objectContaining({ kind: 'email', channel: 'email', address: 'ada@example.test', reason: 'Asked by phone', source: 'manual', addedBy: expect.stringContaining(`operator of ${await workspaceName()} (`) }),
    ]);
    const again = await kit.call('POST', '/api/suppressions', { body: { email: 'ADA@example.test', reason: 'twice' } });
    expect(again.status).toBe(200);
    expect(again.body.items).toEqual([expect.objectContaining({ id: email.body.items[0].id, reason: 'Asked by phone' })]);

    const phone = await kit.call('POST', '/api/suppressions', { body: { phone: '+1 (415) 555-0199', reason: 'Legal' } });
    expect(phone.status).toBe(201);
    expect(phone.body.items.map((s: { channel: string; address: string }) => `${s.channel}:${s.address}`)).toEqual(['sms:+14155550199', 'voice:+14155550199']);
    const voiceOnly = await kit.call('POST', '/api/suppressions', { body: { phone: '+14155550198', channels: ['voice'], reason: 'No calls' } });
    expect(voiceOnly.body.items.map((s: { channel: string }) => s.channel)).toEqual(['voice']);

    const domain = await kit.call('POST', '/api/suppressions', { body: { domain: 'Competitor.TEST', reason: 'A competitor' } });
    expect(domain.status).toBe(201);
    expect(domain.body.items).toEqual([expect.objectContaining({ kind: 'domain', channel: 'email', address: '@competitor.test' })]);
  });

  it('answers 400 with a sentence for a bad address, a channel the kind has not, two addresses or no reason', async () => {
    const cases: Array<[unknown, string]> = [
      [{ email: 'not-an-email', reason: 'x' }, 'is not an email address'],
      [{ phone: '12', reason: 'x' }, 'is not a valid phone number'],
      [{ domain: 'no spaces.test', reason: 'x' }, 'is not a domain'],
      [{ email: 'a@b.test', channels: ['sms'], reason: 'x' }, 'can be suppressed on email, not sms'],
      [{ domain: 'b.test', channels: ['voice'], reason: 'x' }, 'not voice'],
      [{ email: 'a@b.test', phone: '+14155550100', reason: 'x' }, 'exactly one of email, phone or domain'],
      [{ email: 'a@b.test', reason: '  ' }, 'says why'],
      [{ email: 'a@b.test', channels: ['fax'], reason: 'x' }, 'channels'],
    ];
    for (const [body, message] of cases) {
      const response = await kit.call('POST', '/api/suppressions', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.message, JSON.stringify(body)).toContain(message);
    }
    expect((await kit.call('POST', '/api/suppressions', { token: kit.tokens.viewer, body: { email: 'v@b.test', reason: 'x' } })).status).toBe(403);
  });

  it('lists newest first, filters by channel, kind and part of the address, and pages with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      kit.clock.advance(1000);
      await kit.call('POST', '/api/suppressions', { body: { email: `page${i}@pages.test`, reason: 'paging' } });
    }
    const all = await kit.call('GET', '/api/suppressions?q=PAGES.test', { token: kit.tokens.viewer });
    expect(all.body.items.map((s: { address: string }) => s.address)).toEqual([4, 3, 2, 1, 0].map((i) => `page${i}@pages.test`));
    const first = await kit.call('GET', '/api/suppressions?q=pages.test&limit=3');
    expect(first.body.items).toHaveLength(3);
    const rest = await kit.call('GET', `/api/suppressions?q=pages.test&limit=3&cursor=${first.body.nextCursor}`);
    expect(rest.body.items.map((s: { address: string }) => s.address)).toEqual(['page1@pages.test', 'page0@pages.test']);
    expect(rest.body.nextCursor).toBeNull();
    expect((await kit.call('GET', '/api/suppressions?kind=domain')).body.items.map((s: { address: string }) => s.address)).toEqual(['@competitor.test']);
    const voice = (await kit.call('GET', '/api/suppressions?channel=voice')).body.items.map((s: { address: string }) => s.address);
    expect(voice.sort()).toEqual(['+14155550198', '+14155550199']);
    expect((await kit.call('GET', '/api/suppressions?kind=fax')).status).toBe(400);
    expect((await kit.call('GET', '/api/suppressions?cursor=nonsense')).status).toBe(400);
    // Another workspace sees none of them.
    expect((await kit.call('GET', '/api/suppressions', { token: kit.other.admin })).body.items).toEqual([]);
  });

  it('deletes any suppression (a webhook-made one too) with an audit row naming who; 404 for another workspace', async () => {
    const added = (await kit.call('POST', '/api/suppressions', { body: { email: 'gone@delete.test', reason: 'mistake' } })).body.items[0];
    expect((await kit.call('DELETE', `/api/suppressions/${added.id}`, { token: kit.other.admin })).status).toBe(404);
    expect((await kit.call('DELETE', `/api/suppressions/${added.id}`, { token: kit.tokens.viewer })).status).toBe(403);
    kit.clock.advance(1000); // the audit rows in order
    expect((await kit.call('DELETE', `/api/suppressions/${added.id}`, { token: kit.tokens.operator })).status).toBe(204);
    expect((await kit.call('DELETE', `/api/suppressions/${added.id}`)).status).toBe(404);
    expect((await kit.call('GET', '/api/suppressions?q=delete.test')).body.items).toEqual([]);
    const changes = await listSuppressionChanges(kit.db, await workspaceId());
    const name = await workspaceName();
    expect(changes.filter((c) => c.address === 'gone@delete.test').map((c) => [c.action, c.actor.split(' (')[0]])).toEqual([
      ['removed', `operator of ${name}`],
      ['added', `admin of ${name}`],
    ]);
    // A provider's bounce is on the list too, and a person may lift it.
    await addSuppression(kit.db, { workspaceId: await workspaceId(), channel: 'email', address: 'Bounced@Delete.test', reason: 'email.bounced', source: 'postmark' });
    const bounced = (await kit.call('GET', '/api/suppressions?q=bounced@delete')).body.items;
    expect(bounced).toEqual([expect.objectContaining({ kind: 'email', address: 'bounced@delete.test', source: 'postmark', addedBy: null })]);
    expect((await kit.call('DELETE', `/api/suppressions/${bounced[0].id}`, { token: kit.tokens.operator })).status).toBe(204);
  });

  it('exports CSV that imports back; the import reports bad rows by line and keeps existing ones', async () => {
    const exported = await kit.call('GET', '/api/suppressions/export?kind=domain');
    expect(exported.status).toBe(200);
    expect(exported.headers['content-type']).toContain('text/csv');
    // A cell starting with @ is written as '@… (spreadsheet formulas), and read back as the domain.
    expect(exported.body).toContain("'@competitor.test,email,A competitor,domain,manual,");

    const file = [
      'address,channel,reason',
      'new1@import.test,,From the CRM',
      '+14155550177,sms,',
      "'@imported.test,email,Whole company",
      'not-an-address,,',
      'new2@import.test,voice,',
      'x@y.test,fax,',
      ',,',
      'NEW1@import.test,email,repeated',
    ].join('\n');
    const imported = await kit.call('POST', '/api/suppressions/import', { token: kit.tokens.operator, body: file, headers: csv });
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ rows: 8, added: 3, existing: 1, failed: 4 });
    expect(imported.body.errors.map((e: { line: number }) => e.line)).toEqual([5, 6, 7, 8]);
    expect(imported.body.errors[2].message).toContain('"fax" is not a channel');
    const round = await kit.call('POST', '/api/suppressions/import', { body: exported.body, headers: csv });
    expect(round.body).toMatchObject({ added: 0, existing: 1, failed: 0 });
    const sms = (await kit.call('GET', '/api/suppressions?q=5550177')).body.items;
    expect(sms).toEqual([expect.objectContaining({ channel: 'sms', reason: 'Imported', source: 'import' })]);
    // The first of a repeated address wins.
    expect((await kit.call('GET', '/api/suppressions?q=new1@import')).body.items).toEqual([expect.objectContaining({ reason: 'From the CRM' })]);
    expect((await kit.call('GET', '/api/suppressions?q=imported.test')).body.items[0]).toMatchObject({ kind: 'domain', reason: 'Whole company' });

    const noAddress = await kit.call('POST', '/api/suppressions/import', { body: 'email,reason\na@b.test,x\n', headers: csv });
    expect(noAddress.status).toBe(400);
    expect(noAddress.body.error.message).toContain('has no address column');
    const broken = await kit.call('POST', '/api/suppressions/import', { body: 'address\n"unclosed', headers: csv });
    expect(broken.body.error.code).toBe('invalid_csv');
    const many = ['address', ...Array.from({ length: 5001 }, (_, i) => `m${i}@many.test`)].join('\n');
    const tooMany = await kit.call('POST', '/api/suppressions/import', { body: many, headers: csv });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('too_many_rows');
    expect((await kit.call('GET', '/api/suppressions?q=many.test')).body.items).toEqual([]);
  });

  it('refuses to enroll a lead whose email or domain is on the list, and skips a send to a domain suppressed after enrolling', async () => {
    const sequence = await kit.call('POST', '/api/sequences', {
      body: { name: 'Suppression check', ...OPEN_ALL_DAY, steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: 'Hello' }] },
    });
    await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { body: { status: 'active' } });
    const lead = async (email: string) => (await kit.call('POST', '/api/leads', { body: { email } })).body.id as string;
    const byEmail = await lead('ADA@example.test');
    const byDomain = await lead('someone@Competitor.test');
    const later = await lead('later@acquired.test');
    const clean = await lead('fine@acquired-not.test');
    const enrolled = await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { body: { leadIds: [byEmail, byDomain, later, clean] } });
    expect(enrolled.body.skipped.map((s: { leadId: string; reason: string }) => [s.leadId, s.reason]).sort()).toEqual([[byEmail, 'suppressed'], [byDomain, 'suppressed']].sort());
    const enrollmentOf = (leadId: string) => enrolled.body.enrolled.find((e: { leadId: string }) => e.leadId === leadId).enrollmentId as string;

    // Suppressed after enrolling: the send is skipped as for a webhook's suppression.
    expect((await kit.call('POST', '/api/suppressions', { body: { domain: '@acquired.test', reason: 'Acquired' } })).status).toBe(201);
    await kit.runtime.engine.dispatcher.drain();
    const step = async (enrollmentId: string) =>
      (await kit.db.query<{ status: string; metadata: { reason?: string } }>(`select status, metadata from sequence_executions where enrollment_id = $1`, [enrollmentId]))[0];
    expect(await step(enrollmentOf(later))).toMatchObject({ status: 'skipped', metadata: { reason: 'suppressed' } });
    expect(await step(enrollmentOf(clean))).toMatchObject({ status: 'succeeded' });
  });

  it('keeps a hand-made suppression when the provider reports a START for the number', async () => {
    const phone = '+14155550166';
    await kit.call('POST', '/api/suppressions', { body: { phone, reason: 'Do not call, ever' } });
    await kit.runtime.engine.ingest({
      type: 'sms.opted_in', provider: 'telnyx', providerEventId: `start-${Math.random()}`, occurredAt: kit.clock.now(),
      address: { channel: 'sms', value: phone }, unsuppress: true, data: { text: 'START' },
    });
    expect((await kit.call('GET', `/api/suppressions?q=5550166`)).body.items.map((s: { channel: string }) => s.channel).sort()).toEqual(['sms', 'voice']);
  });

  it('concurrent adds of one phone each answer both channels (a row another call inserted is read back, not left out)', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => kit.call('POST', '/api/suppressions', { token: kit.tokens.operator, body: { phone: '+1 415 555 0177', reason: `race ${i}` } })),
    );
    for (const answer of answers) {
      expect([200, 201]).toContain(answer.status);
      expect(answer.body.items.map((s: { channel: string }) => s.channel)).toEqual(['sms', 'voice']);
    }
    const ids = new Set(answers.flatMap((a) => a.body.items.map((s: { id: string }) => s.id)));
    expect(ids.size).toBe(2);
  });
});

async function workspaceName(): Promise<string> {
  return (await kit.call('GET', '/api/me')).body.workspace.name;
}
async function workspaceId(): Promise<string> {
  return (await kit.call('GET', '/api/me')).body.workspace.id;
}
