/**
 * Migration 008 on a store that already has history: each lead's status is backfilled from what
 * happened to it, free labels written before are kept as a custom field, and a workspace created
 * afterwards inherits the provider opt-outs. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.ts';
import { loadMigrations, migrate } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open.ts';
import { databaseKinds, freshSchemaUrl } from '../helpers/databases.ts';

const kinds = await databaseKinds();

describe.each(kinds)('migration 008 on %s', (kind) => {
  let db: Db;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (kind === 'pglite') {
      db = await openDatabase({ migrate: false });
    } else {
      const schema = await freshSchemaUrl();
      drop = schema.drop;
      db = await openDatabase({ databaseUrl: schema.url, poolSize: 2, migrate: false });
    }
    await migrate(db, loadMigrations().filter((m) => m.version < 8));
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('backfills every lead from its history and keeps old labels as a custom field', async () => {
    const [ws] = await db.query<{ id: string }>(`insert into workspaces (name) values ('before-008') returning id`);
    const w = ws!.id;
    const lead = async (email: string, status = 'new', phone: string | null = null) =>
      (await db.query<{ id: string }>(`insert into leads (workspace_id, email, phone, status) values ($1, $2, $3, $4) returning id`, [w, email, phone, status]))[0]!.id;
    const [seq] = await db.query<{ id: string }>(`insert into sequences (workspace_id, name) values ($1, 's') returning id`, [w]);
    await db.query(`insert into sequence_versions (sequence_id, version, definition) values ($1, 1, '{}')`, [seq!.id]);
    const enroll = async (leadId: string, status: string) =>
      (
        await db.query<{ id: string }>(
          `insert into enrollments (workspace_id, sequence_id, sequence_version, lead_id, status, step_entered_at, enrolled_at, updated_at)
           values ($1, $2, 1, $3, $4, now(), now(), now()) returning id`,
          [w, seq!.id, leadId, status],
        )
      )[0]!.id;

    const labelled = await lead('labelled@x.test', 'qualified');
    const untouched = await lead('untouched@x.test');
    const contacted = await lead('contacted@x.test');
    const failedOnly = await lead('failed@x.test');
    const replied = await lead('replied@x.test');
    const bounced = await lead('bounced@x.test');
    const optedOut = await lead('stop@x.test', 'new', '+14155550123');
    const converted = await lead('won@x.test', 'customer');

    for (const [leadId, status] of [
      [contacted, 'succeeded'],
      [failedOnly, 'failed'],
      [replied, 'succeeded'],
    ] as const) {
      const e = await enroll(leadId, 'active');
      await db.query(
        `insert into sequence_executions (workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel, visit, idempotency_key, status, started_at)
         values ($1, $2, $3, $4, 'intro', 'email', 'email', 1, $6, $5, now())`,
        [w, e, leadId, seq!.id, status, `${e}:intro:1`],
      );
    }
    await db.query(
      `insert into events (workspace_id, lead_id, type, channel, provider, provider_event_id, occurred_at, received_at)
       values ($1, $2, 'email.replied', 'email', 'sendgrid', 'r1', now(), now())`,
      [w, replied],
    );
    await db.query(
      `insert into suppressions (workspace_id, channel, address, reason, source) values
         ($1, 'email', 'bounced@x.test', 'email.bounced', 'sendgrid'), ($1, 'sms', '+14155550123', 'sms.opted_out', 'telnyx')`,
      [w],
    );
    await enroll(converted, 'converted');

    await migrate(db, loadMigrations().filter((m) => m.version <= 8));

    const rows = await db.query<{ id: string; status: string; customFields: Record<string, unknown> }>(
      `select id, status, custom_fields as "customFields" from leads where workspace_id = $1`,
      [w],
    );
    const statusOf = new Map(rows.map((r) => [r.id, r.status]));
    expect(Object.fromEntries([labelled, untouched, contacted, failedOnly, replied, bounced, optedOut, converted].map((id) => [id, statusOf.get(id)]))).toEqual({
      [labelled]: 'new',
      [untouched]: 'new',
      [contacted]: 'contacted',
      [failedOnly]: 'new',
      [replied]: 'replied',
      [bounced]: 'bounced',
      [optedOut]: 'opted_out',
      [converted]: 'converted',
    });
    expect(rows.find((r) => r.id === labelled)!.customFields).toEqual({ status: 'qualified' });
    expect(rows.find((r) => r.id === converted)!.customFields).toEqual({ status: 'customer' });

    // A workspace created now inherits the provider's opt-out (not a touchpoint unsubscribe).
    const [later] = await db.query<{ id: string }>(`insert into workspaces (name) values ('after-008') returning id`);
    const inherited = await db.query<{ channel: string; address: string }>(
      `select channel, address from suppressions where workspace_id = $1 order by channel`,
      [later!.id],
    );
    expect(inherited).toEqual([
      { channel: 'email', address: 'bounced@x.test' },
      { channel: 'sms', address: '+14155550123' },
    ]);
    // The lifecycle is the only status there is now.
    await expect(db.query(`update leads set status = 'qualified' where id = $1`, [untouched])).rejects.toThrow();
  });
});
