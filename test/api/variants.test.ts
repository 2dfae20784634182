/**
 * A/B variants end to end, on both stores: every send stores the variant the core's hash picks
 * and sends its content; a retry keeps its variant even after a winner is decided; stats count
 * each variant by hand-countable events; and the automatic winner is decided from the figures,
 * recorded with them, and given to new assignments.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailStepSchema } from '../../src/core/definition.ts';
import type { InboundEvent } from '../../src/core/events.ts';
import { assignVariant } from '../../src/core/variants.ts';
import { recordAbDecision } from '../../src/db/variantStats.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

const intro = {
  id: 'intro',
  type: 'email',
  subject: 'Hello {{ lead.firstName }}',
  body: 'Hi',
  variants: [
    { id: 'a', subject: 'Subject A' },
    { id: 'b', weight: 1, body: 'Body B' },
  ],
};
const definition = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  ...OPEN_ALL_DAY,
  exitOn: [],
  steps: [{ ...intro, ...extra }, { id: 'hold', type: 'wait', duration: 'P30D' }],
});

type Row = { id: string; leadId: string; enrollmentId: string; variant: string | null; status: string; rendered: { subject?: string; text?: string } };

describe.each(kinds)('A/B variants on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const ingest = (event: Partial<InboundEvent> & Pick<InboundEvent, 'type'>) =>
    kit.runtime.engine.ingest({ providerEventId: `test:${randomUUID()}`, provider: 'sendgrid', occurredAt: kit.clock.now(), data: {}, ...event });

  async function start(name: string, leads: number, extra: Record<string, unknown> = {}) {
    const id = (await kit.call('POST', '/api/sequences', { body: definition(name, extra) })).body.id;
    expect(id).toBeDefined();
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    const leadIds = await enroll(id, name, leads);
    return { id, leadIds };
  }
  async function enroll(id: string, prefix: string, leads: number, offset = 0) {
    const csv = ['email,first_name', ...Array.from({ length: leads }, (_, i) => `${prefix}-${kind}-${offset + i}@acme.test,Ann`)].join('\n');
    const leadIds: string[] = (await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body.leadIds;
    expect((await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds } })).status).toBeLessThan(300);
    await kit.runtime.engine.dispatcher.drain();
    return leadIds;
  }
  const rows = (sequenceId: string) =>
    kit.db.query<Row>(
      `select id, lead_id as "leadId", enrollment_id as "enrollmentId", variant, status, rendered from sequence_executions where sequence_id = $1 and step_id = 'intro'`,
      [sequenceId],
    );
  const step = emailStepSchema.parse(intro);

  it("stores the hash's pick on every send and sends that variant's content", async () => {
    const { id } = await start('Pick', 12);
    const sent = await rows(id);
    expect(sent).toHaveLength(12);
    for (const row of sent) {
      expect(row.variant).toBe(assignVariant(step, row.enrollmentId)!.variantId);
      expect(row.rendered.subject).toBe(row.variant === 'a' ? 'Subject A' : 'Hello Ann');
      expect(row.rendered.text).toContain(row.variant === 'a' ? 'Hi' : 'Body B');
    }
    // The preview of an enrolled lead names its own variant; of an inline lead, the split.
    const preview = await kit.call('POST', `/api/sequences/${id}/preview`, { token: kit.tokens.viewer, body: { leadId: sent[0]!.leadId } });
    expect(preview.status).toBe(200);
    expect(preview.body.entries.find((e: { action: string }) => e.action === 'send')).toMatchObject({ variant: sent[0]!.variant });
    const inline = await kit.call('POST', `/api/sequences/${id}/preview`, { token: kit.tokens.viewer, body: { lead: { email: 'x@acme.test', firstName: 'X' } } });
    expect(inline.body.entries.find((e: { action: string }) => e.action === 'send').detail).toContain('a 50 %, b 50 %');
    // The timeline shows the variant too.
    const timeline = await kit.call('GET', `/api/leads/${sent[0]!.leadId}/timeline`);
    expect(JSON.stringify(timeline.body)).toContain(`"variant":"${sent[0]!.variant}"`);
  });

  it('keeps a retried send on its first variant, even once a winner is decided', async () => {
    const id = (await kit.call('POST', '/api/sequences', { body: definition('Retry') })).body.id;
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    kit.runtime.mock!.failNext({ retryable: true, code: '503' }, { channel: 'email', recipient: `retry-${kind}-0@acme.test` });
    await enroll(id, 'retry', 1);
    const [first] = await rows(id);
    expect(first!.status).toBe('retry_scheduled');
    const other = first!.variant === 'a' ? 'b' : 'a';
    const workspaceId = (await kit.db.query<{ w: string }>('select workspace_id as w from sequences where id = $1', [id]))[0]!.w;
    await recordAbDecision(kit.db, { sequenceId: id, stepId: 'intro', workspaceId, variant: other, decidedAt: kit.clock.now(), figures: {} });
    kit.clock.advance(10 * 60_000);
    await kit.runtime.engine.dispatcher.drain();
    const [retried] = await rows(id);
    expect(retried).toMatchObject({ id: first!.id, status: 'succeeded', variant: first!.variant });
    // A new enrollment gets the winner.
    await enroll(id, 'retry', 1, 1);
    const latest = (await rows(id)).find((r) => r.id !== first!.id)!;
    expect(latest.variant).toBe(other);
  });

  it('counts each variant against a hand-counted fixture, with the verdict', async () => {
    const { id } = await start('Counts', 16);
    const sent = await rows(id);
    const a = sent.filter((r) => r.variant === 'a');
    const b = sent.filter((r) => r.variant === 'b');
    expect(a.length + b.length).toBe(16);
    // Every a delivered, two reply, one opens twice; b: all but one delivered, one bounces, one replies.
    for (const r of a) await ingest({ type: 'email.delivered', executionId: r.id });
    for (const r of a.slice(0, 2)) await ingest({ type: 'email.replied', executionId: r.id });
    if (a[0]) for (const _ of [1, 2]) await ingest({ type: 'email.opened', executionId: a[0].id });
    for (const r of b.slice(1)) await ingest({ type: 'email.delivered', executionId: r.id });
    if (b[0]) await ingest({ type: 'email.bounced', executionId: b[0].id });
    if (b[1]) await ingest({ type: 'email.replied', executionId: b[1].id });

    const stats = await kit.call('GET', `/api/sequences/${id}/stats`, { token: kit.tokens.viewer });
    expect(stats.status).toBe(200);
    const test = stats.body.steps.find((s: { stepId: string }) => s.stepId === 'intro').abTest;
    const variant = (v: string) => test.variants.find((x: { id: string }) => x.id === v);
    expect(test.variants.map((v: { id: string }) => v.id)).toEqual(['a', 'b']);
    expect(variant('a')).toMatchObject({
      weight: 1, reached: a.length, sent: a.length, delivered: a.length,
      replied: Math.min(2, a.length), opened: a.length > 0 ? 1 : 0, bounced: 0,
    });
    expect(variant('b')).toMatchObject({
      weight: 1, reached: b.length, sent: b.length, delivered: Math.max(0, b.length - 1),
      replied: b.length > 1 ? 1 : 0, bounced: b.length > 0 ? 1 : 0,
    });
    if (a.length > 0) expect(variant('a').rates.reply).toBeCloseTo(Math.min(2, a.length) / a.length);
    // 16 leads are far below the default 100 deliveries per variant: no call.
    expect(test.verdict).toMatchObject({ status: 'insufficient_data', minDeliveries: 100, confidence: 0.95 });
    expect(test.decision).toBeNull();
    const hold = stats.body.steps.find((s: { stepId: string }) => s.stepId === 'hold');
    expect(hold.abTest).toBeNull();
  });

  it('decides the automatic winner from the figures, records them, and gives it to new enrollments', async () => {
    const auto = { abTest: { autoWinner: { minDeliveriesPerVariant: 10, confidence: 0.9 } } };
    const { id } = await start('Auto', 60, auto);
    const sent = await rows(id);
    const a = sent.filter((r) => r.variant === 'a');
    const b = sent.filter((r) => r.variant === 'b');
    // 60 enrollments split by a fair hash: each side has at least 10 but for one chance in millions.
    expect(Math.min(a.length, b.length)).toBeGreaterThanOrEqual(10);
    for (const r of sent) await ingest({ type: 'email.delivered', executionId: r.id });
    for (const r of b.slice(0, Math.ceil(b.length / 2))) await ingest({ type: 'email.replied', executionId: r.id });
    for (const r of a.slice(0, 1)) await ingest({ type: 'email.replied', executionId: r.id });

    // The first evaluation (during the first sends, nothing delivered) was a minute ago at most: wait it out.
    kit.clock.advance(61_000);
    await enroll(id, 'Auto', 5, 60);
    const after = (await rows(id)).filter((r) => !sent.some((s) => s.id === r.id));
    expect(after).toHaveLength(5);
    expect(after.every((r) => r.variant === 'b')).toBe(true);

    const stats = await kit.call('GET', `/api/sequences/${id}/stats`, { token: kit.tokens.viewer });
    const test = stats.body.steps.find((s: { stepId: string }) => s.stepId === 'intro').abTest;
    expect(test.decision).toMatchObject({ variant: 'b', decidedAt: kit.clock.now().toISOString() });
    expect(test.decision.figures).toMatchObject({
      status: 'winner',
      winner: 'b',
      variants: [
        { id: 'a', delivered: a.length, replied: 1 },
        { id: 'b', delivered: b.length, replied: Math.ceil(b.length / 2) },
      ],
    });
    expect(test.decision.figures.comparisons[0].confidence).toBeGreaterThanOrEqual(0.9);
  });
});
