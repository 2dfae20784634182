/**
 * Migration 034 on a store that already has history: executions written before it take their
 * lead's owner of the moment of the upgrade (unowned leads' stay null), and the rollups are
 * emptied, to be built again with the owners' rollup. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.ts';
import { loadMigrations, migrate } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open.ts';
import { databaseKinds, freshSchemaUrl } from '../helpers/databases.ts';

const kinds = await databaseKinds();

describe.each(kinds)('migration 034 on %s', (kind) => {
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
    await migrate(db, loadMigrations().filter((m) => m.version < 34));
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it("stamps the executions written before it with their lead's owner now, and empties the rollups to build them again by owner", async () => {
    const [ws] = await db.query<{ id: string }>(`insert into workspaces (name) values ('before-034') returning id`);
    const w = ws!.id;
    const [user] = await db.query<{ id: string }>(`insert into users (email) values ('rep@before.test') returning id`);
    const rep = user!.id;
    await db.query(`insert into memberships (workspace_id, user_id, role) values ($1, $2, 'operator')`, [w, rep]);
    const [seq] = await db.query<{ id: string }>(`insert into sequences (workspace_id, name) values ($1, 's') returning id`, [w]);
    await db.query(`insert into sequence_versions (sequence_id, version, definition) values ($1, 1, '{}')`, [seq!.id]);
    const executionOf = async (email: string, ownerId: string | null) => {
      const [lead] = await db.query<{ id: string }>(`insert into leads (workspace_id, email, owner_id) values ($1, $2, $3) returning id`, [w, email, ownerId]);
      const [enrollment] = await db.query<{ id: string }>(
        `insert into enrollments (workspace_id, sequence_id, sequence_version, lead_id, status, step_entered_at, enrolled_at, updated_at)
         values ($1, $2, 1, $3, 'active', now(), now(), now()) returning id`,
        [w, seq!.id, lead!.id],
      );
      const [execution] = await db.query<{ id: string }>(
        `insert into sequence_executions (workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel, visit, idempotency_key, status, started_at)
         values ($1, $2, $3, $4, 'intro', 'email', 'email', 1, $5, 'succeeded', now() - interval '3 days') returning id`,
        [w, enrollment!.id, lead!.id, seq!.id, `${enrollment!.id}:intro:1`],
      );
      return execution!.id;
    };
    const owned = await executionOf('owned@before.test', rep);
    const unowned = await executionOf('unowned@before.test', null);
    const key = `$1, current_date - 3, $2, 'intro', '', 'email', ''`;
    await db.query(`insert into report_days (workspace_id, day, sequence_id, step_id, variant, channel, mailbox, sent) values (${key}, 2)`, [w, seq!.id]);
    await db.query(`insert into report_days_built (workspace_id, day, built_at) values ($1, current_date - 3, now())`, [w]);

    await migrate(db, loadMigrations().filter((m) => m.version <= 34));

    const stamps = await db.query<{ id: string; owner: string | null }>(`select id, owner_id as owner from sequence_executions where workspace_id = $1`, [w]);
    expect(Object.fromEntries(stamps.map((s) => [s.id, s.owner]))).toEqual({ [owned]: rep, [unowned]: null });
    const [left] = await db.query<{ days: number; built: number }>(
      `select (select count(*) from report_days where workspace_id = $1)::int as days, (select count(*) from report_days_built where workspace_id = $1)::int as built`,
      [w],
    );
    expect(left).toEqual({ days: 0, built: 0 });
    // The owners' rollup keys by owner, and today's kept hours too: two owners of one day are two rows.
    for (const owner of ['', rep]) {
      await db.query(`insert into report_day_owners (workspace_id, day, sequence_id, channel, owner, sent) values ($1, current_date - 3, $2, 'email', $3, 1)`, [w, seq!.id, owner]);
      await db.query(`insert into report_day_prefixes (workspace_id, day, sequence_id, step_id, variant, channel, mailbox, owner, sent) values (${key}, $3, 1)`, [w, seq!.id, owner]);
    }
  });
});
